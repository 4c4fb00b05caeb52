"""Snapshots: further extracts of the register at other dates, and the population frame.

The sampling frame (table person) is the extract at the audit's reference date. An audit
may also hold extracts at other dates (`audit population import --as-of YYYY-MM-DD`), each
a `RegisterSnapshot` with one `SnapshotPerson` per person, linked to the other extracts by
person_id (a person may be in one extract and not another: a group that grows or shrinks).

`population_frame` reads one extract as a frame, one row per person, with every declared
variable it carries and the derived bands; `with_snapshot` takes a variable at another
snapshot onto a frame (column `code@YYYY-MM-DD`); `snapshot_change` is the change of a
category between two snapshots (persons and shares at each, differences in persons and
percentage points), seed 000's Table 2.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import delete, select
from sqlmodel import Session

from audit.auditlog import record
from audit.bulk import insert_rows
from audit.dataversion import bump_data_version
from audit.i18n import _
from audit.models import Audit, Person, RegisterSnapshot, SnapshotPerson, User
from audit.population.binding import bind_register, definition_for
from audit.population.definition import RegisterDefinition
from audit.population.register import (RegisterError, RowError, Source, _Errors, _by_value, _duplicates,
                                       _person_id_text, municipality_lookup, read_table, validate_declared)

SNAPSHOT_REQUIRED = ("person_id", "municipality")


class SnapshotError(LookupError):
    """No such snapshot, or a variable it does not carry."""


@dataclass
class SnapshotResult:
    audit: str
    file: str
    as_of: dt.date
    rows: int
    linked: int
    variables: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _read(source: Source, filename: str | None) -> tuple[pd.DataFrame, str, str]:
    if hasattr(source, "read"):
        data = source.read()  # type: ignore[union-attr]
        data = data.encode("utf-8") if isinstance(data, str) else data
        import io

        frame, name = read_table(io.BytesIO(data), filename or getattr(source, "name", "upload"))
        return frame, name, hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    frame, name = read_table(source, filename)
    return frame, name, digest


def validate_snapshot(frame: pd.DataFrame, file: str, definition: RegisterDefinition, *,
                      municipalities: list[str] | None, ignore_extra: bool) -> pd.DataFrame:
    """person_id and municipality checked as in the sampling frame; every other declared
    register column the file carries typed after the definition. All problems at once."""
    errs = _Errors(file)
    for col in SNAPSHOT_REQUIRED:
        if col not in frame.columns:
            errs.whole_file(f"required column {col!r} is missing", col)
    if errs:
        errs.raise_errors(SNAPSHOT_REQUIRED)
    if frame.empty:
        errs.whole_file("the file has no data rows")
        errs.raise_errors(SNAPSHOT_REQUIRED)
    for col in SNAPSHOT_REQUIRED:
        errs.add(frame, frame[col] == "", col, "empty cell")
    pid = frame["person_id"]
    errs.add(frame, pid.str.len() > 64, "person_id", "person_id is longer than 64 characters")
    _person_id_text(pid, frame, errs)
    _duplicates(frame, errs)
    lookup = municipality_lookup(municipalities)
    canon = _by_value(frame["municipality"], lambda s: s.str.casefold().map(lookup))
    errs.add(frame, canon.isna() & (frame["municipality"] != ""), "municipality",
             "not one of the audit's municipalities" if municipalities else "unknown municipality")
    others = [c for c in definition.register_columns if c not in SNAPSHOT_REQUIRED]
    declared, _extra = validate_declared(frame, file, definition, ignore_extra=ignore_extra, errs=errs,
                                         columns=others)
    if errs:
        errs.raise_errors(list(frame.columns))
    out = pd.DataFrame({"person_id": pid.to_numpy(), "municipality": canon.to_numpy()})
    for code in declared.columns:
        out[code] = declared[code].to_numpy()
    return out


def import_snapshot(session: Session, audit: Audit, source: Source, filename: str | None = None, *,
                    as_of: dt.date, replace: bool = False, ignore_extra: bool = False,
                    user: User | None = None) -> SnapshotResult:
    """Validate the whole file, then store it as the audit's extract at `as_of` (all or nothing,
    in the caller's transaction). A second file for the same date needs `replace`."""
    from audit.population.importer import PopulationError, values_json

    existing = session.scalar(select(RegisterSnapshot).where(RegisterSnapshot.audit_id == audit.id,
                                                             RegisterSnapshot.as_of == as_of))
    if existing is not None and not replace:
        raise PopulationError(_('audit {audit_name} already has a snapshot at {as_of}; choose to replace it').format(
            audit_name=repr(audit.name), as_of=as_of.isoformat()))
    if not audit.register_version:
        bind_register(session, audit, user=user)
    definition = definition_for(audit)
    frame, name, digest = _read(source, filename)
    allowed = json.loads(audit.municipalities_json or "[]") or None
    clean = validate_snapshot(frame, name, definition, municipalities=allowed, ignore_extra=ignore_extra)
    extra = [c for c in frame.columns if c != "_row" and c not in definition.register_columns]
    warnings = [_("column(s) not in the register definition were not imported: {columns}").format(columns=", ".join(extra))] if extra else []
    frame_ids = set(session.scalars(select(Person.person_id).where(Person.audit_id == audit.id)))
    linked = int(clean["person_id"].isin(frame_ids).sum()) if frame_ids else 0
    if existing is not None:
        session.execute(delete(SnapshotPerson).where(SnapshotPerson.snapshot_id == existing.id))
        session.delete(existing)
        session.flush()
    snap = RegisterSnapshot(audit_id=audit.id, as_of=as_of, file=name[:255], sha256=digest, rows=len(clean))
    session.add(snap)
    session.flush()
    variables = [c for c in clean.columns if c not in SNAPSHOT_REQUIRED]
    rows = zip([snap.id] * len(clean), clean["person_id"].tolist(), clean["municipality"].tolist(),
               values_json(clean, variables))
    insert_rows(session, SnapshotPerson.__table__, ("snapshot_id", "person_id", "municipality", "values_json"),
                rows)
    bump_data_version(session, audit.id)
    record(session, user=user, entity="population", entity_id=audit.id, field="snapshot",
           new={"file": name, "sha256": digest, "as_of": as_of, "rows": len(clean), "variables": variables,
                "register_definition": audit.register_version},
           reason="snapshot replaced" if existing is not None else "snapshot imported", audit_id=audit.id)
    return SnapshotResult(audit.name, name, as_of, len(clean), linked, variables, warnings)


def snapshots(session: Session, audit: Audit) -> list[RegisterSnapshot]:
    return list(session.scalars(select(RegisterSnapshot).where(RegisterSnapshot.audit_id == audit.id)
                                .order_by(RegisterSnapshot.as_of)))


def _expand(frame: pd.DataFrame, raw: list[str | None], definition: RegisterDefinition) -> pd.DataFrame:
    """Add the declared variables from their JSON objects, typed, plus the derived bands."""
    parsed = [json.loads(t) if t else {} for t in raw]
    seen = set().union(*parsed) if parsed else set()
    codes = [c for c in definition.register_columns if c in seen]
    for code in codes:
        if code in frame.columns:
            continue
        values = [p.get(code) for p in parsed]
        var = definition.variable(code)
        frame[code] = (pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy()
                       if var.type in ("integer", "number") else np.array(values, dtype=object))
    return add_derived(frame, definition)


def add_derived(frame: pd.DataFrame, definition: RegisterDefinition) -> pd.DataFrame:
    """Every derived variable whose source column the frame has, banded by its definition."""
    for var in definition.variables:
        if var.source != "derived" or var.derived_from not in frame.columns or var.code in frame.columns:
            continue
        if var.code == "seniority_band":
            continue  # the audit's own bands (audits.bands_json), written at import
        frame[var.code] = var.bands.assign(pd.to_numeric(frame[var.derived_from], errors="coerce"))
    return frame


def register_columns(frame: pd.DataFrame, raw: list[str | None], audit: Audit) -> pd.DataFrame:
    """The case frame with the declared register variables of each case's person (and their
    bands) after its columns; kinds and orders from the audit's register definition."""
    definition = definition_for(audit)
    before = set(frame.columns)
    frame = _expand(frame, raw, definition)
    added = [c for c in frame.columns if c not in before]
    if added:
        orders = dict(frame.attrs.get("orders", {}))
        kinds = dict(frame.attrs.get("kinds", {}))
        for code in added:
            var = definition.variable(code)
            if var.codes:
                orders[code] = tuple(var.codes)
            kinds[code] = "numeric" if var.type in ("integer", "number") else "categorical"
        from audit.statistics.dataset import FrozenDict

        frame.attrs["orders"] = FrozenDict(orders)
        frame.attrs["kinds"] = FrozenDict(kinds)
    return frame


def population_frame(session: Session, audit: Audit, as_of: dt.date | str | None = None) -> pd.DataFrame:
    """One extract as a frame, one row per person (a census: no weights). Without `as_of` the
    sampling frame (person_id, municipality, seniority, sex, age, origin, the bands and every
    declared variable the extract carried); with it, that snapshot's persons and variables."""
    definition = definition_for(audit)
    if as_of is None:
        rows = session.execute(select(Person.person_id, Person.municipality, Person.seniority_years,
                                      Person.seniority_band, Person.sex, Person.age, Person.origin,
                                      Person.values_json).where(Person.audit_id == audit.id)
                               .order_by(Person.id)).all()
        cols = ["person_id", "municipality", "seniority_years", "seniority_band", "sex", "age", "origin"]
        frame = pd.DataFrame([r[:7] for r in rows], columns=cols)
        raw = [r[7] for r in rows]
    else:
        day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
        snap = session.scalar(select(RegisterSnapshot).where(RegisterSnapshot.audit_id == audit.id,
                                                             RegisterSnapshot.as_of == day))
        if snap is None:
            raise SnapshotError(_('audit {audit_name} has no snapshot at {as_of}').format(
                audit_name=repr(audit.name), as_of=day.isoformat()))
        rows = session.execute(select(SnapshotPerson.person_id, SnapshotPerson.municipality,
                                      SnapshotPerson.values_json).where(SnapshotPerson.snapshot_id == snap.id)
                               .order_by(SnapshotPerson.id)).all()
        frame = pd.DataFrame([r[:2] for r in rows], columns=["person_id", "municipality"])
        raw = [r[2] for r in rows]
    if "age" in frame.columns:
        frame["age_band"] = definition.variable("age_band").bands.assign(frame["age"])
    if "municipality" in frame.columns and "seniority_band" in frame.columns:
        frame["stratum"] = frame["municipality"].astype(str) + "|" + frame["seniority_band"].astype(str)
    frame = _expand(frame, raw, definition)
    from audit.sampling.bands import audit_bands, band_labels
    from audit.statistics.dataset import FrozenDict

    orders: dict[str, tuple[str, ...]] = {}
    kinds: dict[str, str] = {}
    for var in definition.variables:
        if var.code not in frame.columns or var.code in ("person_id", "stratum"):
            continue
        kinds[var.code] = "numeric" if var.type in ("integer", "number") else "categorical"
        if var.type in ("category", "yes_no") and var.codes and var.code != "municipality":
            orders[var.code] = tuple(var.codes)
    orders["seniority_band"] = tuple(band_labels(audit_bands(audit)))
    if "municipality" in frame.columns:  # the audit's municipalities, not all 98 of the reference list
        listed = json.loads(audit.municipalities_json or "[]")
        orders["municipality"] = tuple(listed) or tuple(sorted(frame["municipality"].dropna().unique()))
    frame.attrs["kinds"] = FrozenDict(kinds)
    frame.attrs["orders"] = FrozenDict(orders)
    frame.attrs["labels"] = FrozenDict({v.code: v.label("da") for v in definition.variables if v.code in frame})
    frame.attrs["frame"] = "population"
    return frame


def with_snapshot(frame: pd.DataFrame, session: Session, audit: Audit, code: str,
                  as_of: dt.date | str) -> pd.DataFrame:
    """`frame` with the variable `code` as it was at the snapshot `as_of`, joined by person_id,
    as column `code@YYYY-MM-DD` (missing for a person the snapshot does not hold)."""
    snap = population_frame(session, audit, as_of)
    day = as_of if isinstance(as_of, str) else as_of.isoformat()
    if code not in snap.columns:
        raise SnapshotError(_('the snapshot at {as_of} has no variable {code}').format(as_of=day, code=code))
    column = f"{code}@{day}"
    out = frame.copy()
    out[column] = out["person_id"].map(snap.set_index("person_id")[code])
    out.attrs = dict(frame.attrs)
    orders = dict(frame.attrs.get("orders", {}))
    if code in snap.attrs.get("orders", {}):
        orders[column] = snap.attrs["orders"][code]
    out.attrs["orders"] = orders
    return out


def snapshot_change(session: Session, audit: Audit, code: str, before: dt.date | str,
                    after: dt.date | str) -> pd.DataFrame:
    """The change of category `code` between two snapshots: per category (in the definition's
    order) and in total, persons and percent at each date, and the differences in persons and
    percentage points (from the unrounded shares). Persons are counted at each date, so a
    group that grows is compared as it was at each date (seed 000, Table 2)."""
    definition = definition_for(audit)
    var = definition.find(code)
    if var is None or var.type not in ("category", "yes_no"):
        raise SnapshotError(_('{code} is not a category of the register definition').format(code=code))
    frames = [population_frame(session, audit, day) for day in (before, after)]
    for f, day in zip(frames, (before, after)):
        if code not in f.columns:
            raise SnapshotError(_('the snapshot at {as_of} has no variable {code}').format(as_of=day, code=code))
    order = list(var.codes)
    counts = [f[code].value_counts().reindex(order, fill_value=0) for f in frames]
    totals = [int(c.sum()) for c in counts]
    table = pd.DataFrame({
        "n_before": counts[0].astype(int), "pct_before": 100 * counts[0] / (totals[0] or np.nan),
        "n_after": counts[1].astype(int), "pct_after": 100 * counts[1] / (totals[1] or np.nan)})
    table["diff_persons"] = table["n_after"] - table["n_before"]
    table["diff_pp"] = table["pct_after"] - table["pct_before"]
    table.loc["total"] = [totals[0], 100.0, totals[1], 100.0, totals[1] - totals[0], np.nan]
    table.index.name = code
    table.attrs["before"], table.attrs["after"] = str(before), str(after)
    return table


__all__ = ["RegisterError", "RowError", "SnapshotError", "import_snapshot", "population_frame",
           "snapshot_change", "with_snapshot", "add_derived"]
