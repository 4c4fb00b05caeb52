"""Import a validated register extract into the database, all or nothing.

`import_population` is the one entry point for the CLI and (later) the admin
upload page: it takes a path or a file-like object plus its file name, and
either returns an `ImportResult` or raises `RegisterError` (every row problem)
or `PopulationError` (the audit's state forbids the import). Nothing is written
unless the whole file is valid; the rows and the audit-trail entry are added in
the caller's transaction so they commit or roll back together.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from itertools import repeat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select
from sqlmodel import Session
from tqdm import tqdm

from audit.i18n import _
from audit.auditlog import record
from audit.bulk import indexes_built_after, insert_batches
from audit.dataversion import bump_data_version, new_token
from audit.models import Audit, Case, Person, User
from audit.population.register import (RegisterError, Source, read_table, validate_register,
                                       validate_spells)
from audit.population.spells import seniority_frame
from audit.sampling.bands import assign_bands, audit_bands, band_labels

CHUNK_ROWS = 50_000


class PopulationError(Exception):
    """The import is refused because of the audit's state (not because of the file)."""


@dataclass
class ImportResult:
    audit: str
    file: str
    rows: int
    per_municipality: dict[str, int]
    per_band: dict[str, int]
    seniority_from_spells: bool
    replaced: int = 0
    warnings: list[str] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)   # the declared optional columns stored


def _digest(source: Source) -> tuple[Source, str]:
    """sha256 of the file, logged so the protocol names exactly which extract was used."""
    if hasattr(source, "read"):
        data = source.read()  # type: ignore[union-attr]
        if isinstance(data, str):
            data = data.encode("utf-8")
        import io
        return io.BytesIO(data), hashlib.sha256(data).hexdigest()
    h = hashlib.sha256()
    with Path(source).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return source, h.hexdigest()


def load_register(source: Source, filename: str | None = None, *, audit: Audit,
                  spells: Source | None = None, spells_filename: str | None = None,
                  ignore_extra: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """Read and validate (no database writes). Returns the clean frame with `seniority_band`
    and the declared optional columns the file carries (typed after the audit's register
    definition); an undeclared column is an error unless `ignore_extra`."""
    from audit.population.binding import definition_for
    from audit.population.register import extra_columns

    definition = definition_for(audit)
    bands = audit_bands(audit)
    allowed = json.loads(audit.municipalities_json or "[]") or None
    frame, name = read_table(source, filename)
    warnings: list[str] = []
    seniority = None
    spells_name = None
    if spells is not None:
        sframe, spells_name = read_table(spells, spells_filename)
        spell_rows = validate_spells(sframe, spells_name)
        seniority = seniority_frame(spell_rows, audit.reference_date)
        if "seniority_years" in frame.columns:
            warnings.append("the seniority_years column was ignored: seniority is computed from the spells file")
            frame = frame.drop(columns=["seniority_years"])
        if "person_id" in frame.columns:
            # tolist() first: iterating a pandas string column element by element is slow
            extra = set(spell_rows["person_id"].tolist()) - set(frame["person_id"].tolist())
            if extra:
                warnings.append(f"{len(extra)} person id(s) in {spells_name} are not in {name} and were ignored")
    extra = extra_columns(frame, definition)
    clean = validate_register(frame, name, municipalities=allowed, min_seniority=float(bands[0]),
                              seniority=seniority, seniority_source=spells_name, definition=definition,
                              ignore_extra=ignore_extra)
    if extra:
        warnings.append(_("column(s) not in the register definition were not imported: {columns}").format(columns=", ".join(extra)))
    clean["seniority_band"] = assign_bands(clean["seniority_years"], bands)
    return clean, warnings


PERSON_COLUMNS = ("audit_id", "person_id", "municipality", "seniority_years", "seniority_band", "sex", "age",
                  "origin", "values_json")
BASE_COLUMNS = PERSON_COLUMNS[1:-1]


def values_json(part: pd.DataFrame, codes: list[str]) -> list[str | None]:
    """One JSON object per row of the declared optional columns `codes` (missing left out;
    whole numbers written as integers); None for every row when there are none."""
    if not codes:
        return [None] * len(part)
    columns = []
    for code in codes:
        col = part[code]
        if pd.api.types.is_float_dtype(col):
            whole = col.dropna()
            if len(whole) and (whole % 1 == 0).all():
                col = col.astype("Int64")
            col = col.astype(object).where(col.notna(), None)
        columns.append([None if v is None or v is pd.NA or (isinstance(v, float) and v != v)
                        else (int(v) if isinstance(v, np.integer) else v) for v in col.tolist()])
    out: list[str | None] = []
    dumps = json.dumps
    for values in zip(*columns):
        row = {k: v for k, v in zip(codes, values) if v is not None}
        out.append(dumps(row, ensure_ascii=False, separators=(",", ":")) if row else None)
    return out


def _person_order(clean: pd.DataFrame) -> np.ndarray:
    """Row order by person id. Written in this order, every row goes to the end of the
    primary key and of the unique (audit_id, person_id) index instead of a random page of it;
    the stratum index is built after the rows (`indexes_built_after`)."""
    return clean["person_id"].argsort(kind="stable").to_numpy()


def _chunk_values(col: pd.Series) -> Callable[[np.ndarray], list]:
    """idx -> the column's values at those rows as Python objects (None when missing). A text
    column of few distinct values (municipality, band, sex, origin) is factorised once, so each
    row gets the one str object of its value rather than a new one."""
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        values = col.to_numpy()
        return lambda idx: values[idx].tolist()
    if col.name == "person_id":  # all distinct
        return lambda idx: col.take(idx).tolist()
    codes, uniques = pd.factorize(col)
    names = np.array([str(u) for u in uniques] + [None], dtype=object)  # code -1 (missing) -> None
    return lambda idx: names[codes[idx]].tolist()


def write_persons(session: Session, audit_id: int, clean: pd.DataFrame, *, progress: bool | None = False,
                  chunk_rows: int = CHUNK_ROWS) -> np.ndarray:
    """Write the validated register in bulk (audit.bulk: COPY on PostgreSQL, executemany of
    tuples on SQLite) in the caller's transaction, in person id order (`_person_order`).
    Returns that order: row `order[k]` of `clean` got the k-th id written."""
    order = _person_order(clean)
    optional = [c for c in clean.columns if c not in BASE_COLUMNS and c != "row"]
    columns = [_chunk_values(clean[c]) for c in BASE_COLUMNS]
    # Python objects only for one batch at a time: a million rows of str objects at once
    # would double the import's memory
    with tqdm(total=len(clean), unit="rows", desc="importing",
              disable=(not progress) if progress is not None else None) as bar:
        extra = clean[optional] if optional else None   # the optional columns, selected once

        def batches() -> Iterator[Iterator[tuple]]:
            for lo in range(0, len(clean), chunk_rows):
                idx = order[lo:lo + chunk_rows]
                yield zip(repeat(audit_id), *(values(idx) for values in columns),
                          values_json(extra.iloc[idx], optional) if extra is not None else repeat(None, len(idx)))
                bar.update(len(idx))
        insert_batches(session, Person.__table__, PERSON_COLUMNS, batches())
    return order


# The register just imported, kept for a draw in the same process (the web app: import,
# then draw): (database, audit) -> (data version written by the import, persons with their
# ids). Used only while the audit's data version is still the import's own, so it is exactly
# what the database holds; one register at a time.
_IMPORTED: dict[tuple[str, int], tuple[int, pd.DataFrame]] = {}


def _remember(session: Session, audit_id: int, token: int, clean: pd.DataFrame, order: np.ndarray) -> None:
    _IMPORTED.clear()
    low, high, n = session.execute(select(func.min(Person.id), func.max(Person.id), func.count())
                                   .where(Person.audit_id == audit_id)).one()
    if not n or n != len(clean) or high - low + 1 != n:
        return  # ids not one run in insertion order (another writer in between): the draw reads them
    pk = np.empty(len(order), dtype=np.int64)
    pk[order] = np.arange(low, high + 1, dtype=np.int64)  # the id each row of `clean` was written with
    # only what the draw reads (the columns are shared with `clean`, not copied)
    frame = pd.DataFrame({"person_pk": pk, "person_id": clean["person_id"], "municipality": clean["municipality"],
                          "stored_band": clean["seniority_band"], "seniority_years": clean["seniority_years"]})
    _IMPORTED[(session.get_bind().url.render_as_string(hide_password=True), audit_id)] = (token, frame)


def imported_population(session: Session, audit_id: int) -> pd.DataFrame | None:
    """The persons of the audit as its last import in this process wrote them, when nothing has
    changed since (same data version, no pending change); else None. Handed out once."""
    from audit.dataversion import data_version, has_pending

    key = (session.get_bind().url.render_as_string(hide_password=True), audit_id)
    entry = _IMPORTED.get(key)
    if entry is None or has_pending(session, audit_id) or data_version(session, audit_id) != entry[0]:
        return None
    del _IMPORTED[key]
    return entry[1]


def _stratum_index_after(session: Session, audit_id: int, rows: int) -> AbstractContextManager[None]:
    """On SQLite, build the stratum index after the rows (one sort instead of a B-tree insert per
    row) when the import's rows are most of the table; beside more of other audits' persons,
    keep it (a rebuild would sort those again). Not on PostgreSQL: the app's role owns no table
    (audit.dbroles) and may not drop an index, and DROP INDEX would hold every reader of the
    table until the import commits; COPY fills the indexes as it goes."""
    if session.get_bind().dialect.name != "sqlite":
        return nullcontext()
    others = session.scalar(select(func.count()).select_from(Person).where(Person.audit_id != audit_id)) or 0
    if others > rows:
        return nullcontext()
    return indexes_built_after(session, Person.__table__, ["ix_person_stratum"])


def import_population(session: Session, audit: Audit, source: Source, filename: str | None = None, *,
                      spells: Source | None = None, spells_filename: str | None = None,
                      replace: bool = False, user: User | None = None, progress: bool | None = False,
                      chunk_rows: int = CHUNK_ROWS, ignore_extra: bool = False) -> ImportResult:
    """Validate the whole file, then insert every person of it for `audit`.

    Refused when the audit already has cases (the frame of a drawn sample must
    never change) or, unless `replace`, when it already has a population.
    `progress=None` shows a bar only on a terminal."""
    n_cases = session.scalar(select(func.count()).select_from(Case).where(Case.audit_id == audit.id))
    if n_cases:
        raise PopulationError(_('audit {audit_name} has already been sampled ({n_cases} cases); its population can no longer be replaced').format(
                                  audit_name=repr(audit.name), n_cases=n_cases))
    existing = session.scalar(select(func.count()).select_from(Person).where(Person.audit_id == audit.id)) or 0
    if existing and not replace:
        raise PopulationError(_('audit {audit_name} already has a population of {existing} persons; choose to replace it to import a new one').format(
                                  audit_name=repr(audit.name), existing=existing))
    name = filename or (Path(source).name if isinstance(source, (str, Path)) else getattr(source, "name", "upload"))
    source, digest = _digest(source)
    from audit.population.binding import bind_register

    if not audit.register_version:  # the first import binds the audit to today's definition
        bind_register(session, audit, user=user)
    clean, warnings = load_register(source, name, audit=audit, spells=spells, spells_filename=spells_filename,
                                    ignore_extra=ignore_extra)

    if existing:
        session.execute(delete(Person).where(Person.audit_id == audit.id))
    with _stratum_index_after(session, audit.id, len(clean)):
        order = write_persons(session, audit.id, clean, progress=progress, chunk_rows=chunk_rows)
    token = new_token()
    bump_data_version(session, audit.id, token=token)
    _remember(session, audit.id, token, clean, order)
    # in band order (5-7, 7-10, 10+), every band, so a band nobody fell in shows as 0
    bands = audit_bands(audit)
    band_counts = clean["seniority_band"].value_counts()
    result = ImportResult(
        audit=audit.name, file=name, rows=len(clean),
        per_municipality={k: int(v) for k, v in clean["municipality"].value_counts().sort_index().items()},
        per_band={b: int(band_counts.get(b, 0)) for b in band_labels(bands)},
        seniority_from_spells=spells is not None, replaced=int(existing), warnings=warnings,
        variables=[c for c in clean.columns if c not in BASE_COLUMNS and c != "row"])
    record(session, user=user, entity="population", entity_id=audit.id, field="import",
           old={"rows": int(existing)} if existing else None,
           new={"file": name, "sha256": digest, "rows": result.rows,
                "seniority_from_spells": result.seniority_from_spells,
                "register_definition": audit.register_version,
                "variables": [c for c in clean.columns if c not in BASE_COLUMNS and c != "row"],
                "spells_file": spells_filename or (Path(spells).name if isinstance(spells, (str, Path)) else None)},
           reason="population replaced" if existing else "population imported", audit_id=audit.id)
    return result


__all__ = ["ImportResult", "PopulationError", "RegisterError", "import_population", "load_register"]
