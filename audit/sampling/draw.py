"""Stratified simple random sampling without replacement, with reserves.

Strata are municipality x seniority band. Within a stratum every person gets a
key sha256(f"{seed}:{municipality}:{band}:{person_id}") and the stratum's
random order is the persons sorted by that key. The first n_h are the sample
(draw_order 1..n_h), the next ones the reserves (reserve_rank 1..r).

Why a keyed hash rather than numpy's generator: the order depends only on the
seed and on who is in the stratum, never on the row order of the file, the
Python or numpy version, or the platform (sha256 is fixed by a standard).
numpy only promises a stable stream for a bit generator, not for every method
built on it across releases, and a generator's output would still depend on
the order of the rows it is fed. Sorting by a uniformly distributed key is an
exact simple random sample without replacement: every ordering of the stratum
is equally likely.

Weights: n_h = number of active sampled cases in the stratum (a replacement
keeps the count), inclusion probability n_h / N_h and design weight N_h / n_h.
A stratum with fewer persons than asked takes all of them (weight 1) and is a
shortfall; it is reported, never hidden.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from itertools import repeat
from operator import methodcaller

import numpy as np
import pandas as pd
from sqlalchemy import case as sql_case
from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from audit.i18n import _
from audit.auditlog import record
from audit.bulk import insert_rows
from audit.dataversion import bump_data_version
from audit.models import Answer, Audit, Case, Person, Remark, User, utcnow
from audit.sampling.bands import assign_bands, audit_bands, band_labels, parse_bands


class SamplingError(Exception):
    """The draw or a replacement is refused; the message says why and what to do."""


@dataclass
class Stratum:
    municipality: str
    band: str
    population: int  # N_h
    requested: int
    drawn: int  # n_h
    reserves: int  # reserves drawn

    @property
    def shortfall(self) -> int:
        return self.requested - self.drawn


def stratum_key(seed: int, municipality: str, band: str, person_id: str) -> str:
    """The sort key that fixes a person's place in its stratum's random order."""
    return hashlib.sha256(f"{seed}:{municipality}:{band}:{person_id}".encode("utf-8")).hexdigest()


HASH_ROWS = 100_000


def stratum_order(seed: int, municipality: Any, band: Any, person_id: Any) -> tuple[np.ndarray, np.ndarray]:
    """The draw's order of every row: strata sorted by municipality then band (as text), each
    stratum's persons by their key `stratum_key`. The three columns are array-likes of text
    of one length (numpy arrays, lists or pandas Series of any string dtype). Returns (row
    order, stratum code per row).

    The sha256 of each person is taken once (hashlib, in C, called through `map` without a
    Python frame per person); the order compares the first 8 bytes of the digests as
    big-endian integers, which is the order of the hex keys, and the rare persons whose first
    8 bytes tie are put in order by their whole digest."""
    def codes_of(values: Any) -> tuple[np.ndarray, list[str]]:
        codes, names = pd.factorize(values if isinstance(values, pd.Series) else pd.Series(values, dtype=object),
                                    sort=True)
        return codes, [str(n) for n in names]

    m_codes, m_names = codes_of(municipality)
    b_codes, b_names = codes_of(band)
    width = max(len(b_names), 1)
    stratum = m_codes.astype(np.int64) * width + b_codes
    prefixes = np.array([f"{seed}:{m}:{b}:" for m in m_names for b in b_names] or [""], dtype=object)
    pids = person_id if isinstance(person_id, pd.Series) else pd.Series(list(person_id), dtype=object)
    sha = hashlib.sha256
    head = np.empty(len(stratum), dtype=np.uint64)
    # in slices, so only one slice's keys and digests exist as Python objects at a time
    for lo in range(0, len(stratum), HASH_ROWS):
        hi = min(lo + HASH_ROWS, len(stratum))
        keys = map(str.encode, map(str.__add__, prefixes[stratum[lo:hi]].tolist(), pids.iloc[lo:hi].tolist()))
        digests = b"".join(map(methodcaller("digest"), map(sha, keys)))
        # the first 8 bytes of each 32-byte digest as a big-endian integer: the order of the hex keys
        head[lo:hi] = np.frombuffer(digests, dtype=">u8")[::4]
    order = np.lexsort((head, stratum))
    s_sorted, h_sorted = stratum[order], head[order]
    same = (s_sorted[1:] == s_sorted[:-1]) & (h_sorted[1:] == h_sorted[:-1])
    if same.any():  # ties in the first 8 bytes: order those runs by the whole digest
        def digest(i: int) -> bytes:
            return sha((prefixes[stratum[i]] + str(pids.iloc[i])).encode("utf-8")).digest()
        for start in np.flatnonzero(same & ~np.concatenate([[False], same[:-1]])):
            end = start + 1
            while end < len(same) and same[end]:
                end += 1
            run = order[start:end + 1]
            order[start:end + 1] = sorted(run.tolist(), key=digest)
    return order, stratum


def plan_draw(frame: pd.DataFrame, *, seed: int, per_stratum: int, reserves: int = 0,
              strata: Iterable[tuple[str, str]] | None = None) -> tuple[pd.DataFrame, list[Stratum]]:
    """Pure draw over a frame with `person_id`, `municipality`, `seniority_band`
    (rows with no band are outside the strata and ignored).

    Returns (selected rows with draw_order, is_reserve, reserve_rank, stratum_population,
    stratum_sample, inclusion_probability, weight; one Stratum per stratum, including
    empty ones named in `strata`)."""
    if per_stratum < 1:
        raise SamplingError(_('per-stratum must be at least 1'))
    if reserves < 0:
        raise SamplingError(_('reserves cannot be negative'))
    banded = frame["seniority_band"].notna()
    df = frame if banded.all() else frame.loc[banded]  # no copy of a million rows when all are banded
    order, stratum = stratum_order(seed, df["municipality"], df["seniority_band"], df["person_id"].astype(str))
    s_sorted = stratum[order]
    n = len(order)
    starts = np.flatnonzero(np.concatenate([[True], s_sorted[1:] != s_sorted[:-1]])) if n else np.zeros(0, int)
    sizes = np.diff(np.append(starts, n))
    group = np.repeat(np.arange(len(starts)), sizes)
    draw_order = np.arange(n) - starts[group] + 1
    population = sizes[group]
    sample = np.minimum(population, per_stratum)
    keep = draw_order <= sample + reserves
    chosen = df.iloc[order[keep]].reset_index(drop=True)
    chosen["draw_order"] = draw_order[keep].astype(np.int64)
    chosen["stratum_population"] = population[keep].astype(np.int64)
    chosen["stratum_sample"] = sample[keep].astype(np.int64)
    chosen["is_reserve"] = chosen["draw_order"] > chosen["stratum_sample"]
    chosen["reserve_rank"] = (chosen["draw_order"] - chosen["stratum_sample"]).where(chosen["is_reserve"])
    chosen["inclusion_probability"] = chosen["stratum_sample"] / chosen["stratum_population"]
    chosen["weight"] = chosen["stratum_population"] / chosen["stratum_sample"]

    first = order[starts] if n else np.zeros(0, int)
    found = {(str(m), str(b)): int(k) for m, b, k in zip(df["municipality"].iloc[first].tolist(),
                                                         df["seniority_band"].iloc[first].tolist(),
                                                         sizes.tolist())}
    names = list(strata) if strata is not None else []
    names += [k for k in found if k not in set(names)]
    summary = []
    for m, b in names:
        n_pop = int(found.get((m, b), 0))
        drawn = min(per_stratum, n_pop)
        summary.append(Stratum(m, b, n_pop, per_stratum, drawn, min(reserves, n_pop - drawn)))
    return chosen, summary


def _read_population(session: Session, audit: Audit, with_seniority: bool) -> pd.DataFrame:
    """The audit's persons as plain columns, read in one query by the driver itself (no
    SQLAlchemy row objects): a million rows in a second, not ten."""
    t = Person.__table__
    cols = [t.c.id, t.c.person_id, t.c.municipality, t.c.seniority_band]
    if with_seniority:
        cols.append(t.c.seniority_years)
    conn = session.connection()
    sql = str(select(*cols).where(t.c.audit_id == int(audit.id)).compile(
        dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    ids: list[np.ndarray] = []
    pids: list[str] = []
    texts: list[dict[str, int]] = [{}, {}]  # municipality, band -> code (the driver makes a str per row)
    codes: list[list[np.ndarray]] = [[], []]
    years: list[np.ndarray] = []
    try:
        cursor.execute(sql)
        while True:
            rows = cursor.fetchmany(100_000)
            if not rows:
                break
            ids.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
            pids.extend(r[1] for r in rows)
            for k, col in ((0, 2), (1, 3)):
                known = texts[k]
                codes[k].append(np.fromiter((known.setdefault(r[col], len(known)) for r in rows),
                                            dtype=np.int64, count=len(rows)))
            if with_seniority:
                years.append(np.fromiter((r[4] for r in rows), dtype=float, count=len(rows)))
    finally:
        cursor.close()
    names = ["person_pk", "person_id", "municipality", "stored_band"] + (["seniority_years"] if with_seniority else [])
    if not pids:
        return pd.DataFrame({c: [] for c in names})
    data: dict[str, Any] = {"person_pk": np.concatenate(ids), "person_id": np.array(pids, dtype=object)}
    for k, name in ((0, "municipality"), (1, "stored_band")):
        values = np.empty(len(texts[k]), dtype=object)
        for text, code in texts[k].items():
            values[code] = text
        data[name] = values[np.concatenate(codes[k])]
    if with_seniority:
        data["seniority_years"] = np.concatenate(years)
    # object columns stay object (no conversion of a million strings to Arrow and back)
    return pd.DataFrame({k: pd.Series(v, dtype=object) if v.dtype == object else v for k, v in data.items()})


def order_strata(municipalities: Sequence[str], bands: Sequence[float]) -> list[tuple[str, str]]:
    return [(m, b) for m in municipalities for b in band_labels(bands)]


@dataclass
class DrawResult:
    audit: str
    seed: int
    bands: list[float]
    per_stratum: int
    reserves: int
    strata: list[Stratum]
    sampled: int
    reserve_cases: int
    outside_bands: int
    forced: bool

    @property
    def shortfalls(self) -> list[Stratum]:
        return [s for s in self.strata if s.shortfall > 0]


def has_sample(session: Session, audit: Audit) -> bool:
    """Whether the audit has drawn cases (the same test the draw uses to refuse a re-draw)."""
    return session.scalar(select(Case.id).where(Case.audit_id == audit.id).limit(1)) is not None


def has_answers(session: Session, case_ids: Sequence[int] | None = None, audit_id: int | None = None) -> bool:
    q = select(func.count()).select_from(Answer).join(Case, Case.id == Answer.case_id)
    q = q.where(Case.audit_id == audit_id) if audit_id is not None else q.where(Case.id.in_(case_ids or []))
    return bool(session.scalar(q))


def draw_sample(session: Session, audit: Audit, *, per_stratum: int, seed: int,
                bands: str | Sequence[float] | None = None, reserves: int = 0, force: bool = False,
                user: User | None = None, by: str | None = None) -> DrawResult:
    """Draw (or with `force`, re-draw) the audit's sample and store cases with weights.

    A re-draw throws away the previous sample, so it needs `force`, is refused
    once any case has answers or remarks, and is logged with the old and new seed."""
    if audit.locked_at is not None:
        raise SamplingError(_('audit {audit_name} is locked').format(audit_name=repr(audit.name)))
    bands_t = parse_bands(bands) if bands is not None else audit_bands(audit)
    n_cases = session.scalar(select(func.count()).select_from(Case).where(Case.audit_id == audit.id)) or 0
    old = None
    if n_cases:
        if not force:
            raise SamplingError(_('audit {audit_name} has already been sampled (seed {audit_seed}, {n_cases} cases); choose to discard that sample to draw again').format(
                                    audit_name=repr(audit.name), audit_seed=audit.seed, n_cases=n_cases))
        remarks = session.scalar(select(func.count()).select_from(Remark).join(Case, Case.id == Remark.case_id)
                                 .where(Case.audit_id == audit.id))
        if has_answers(session, audit_id=audit.id) or remarks:
            raise SamplingError(_('audit {audit_name} has cases with answers or remarks; its sample cannot be re-drawn').format(
                                    audit_name=repr(audit.name)))
        old = {"seed": audit.seed, "per_stratum": audit.per_stratum, "reserves": audit.reserves,
               "bands": list(audit_bands(audit)), "cases": n_cases}
        session.execute(update(Case).where(Case.audit_id == audit.id).values(replaced_by_case_id=None))
        session.execute(delete(Case).where(Case.audit_id == audit.id))

    # the stored bands are those of the audit's bands (set by the import, restamped by a draw
    # with other bands); only a draw with other bands needs the seniority to band again
    same_bands = tuple(bands_t) == tuple(audit_bands(audit))
    from audit.population.importer import imported_population

    frame = imported_population(session, audit.id)  # just imported by this process: no second read
    if frame is None:
        frame = _read_population(session, audit, with_seniority=not same_bands)
    if frame.empty:
        raise SamplingError(_('audit {audit_name} has no population; import the register extract first').format(
                                audit_name=repr(audit.name)))
    if same_bands:
        frame["seniority_band"] = frame["stored_band"]
    else:
        frame["seniority_band"] = assign_bands(frame["seniority_years"], bands_t)
        # compare values, not dtypes: the stored column is text, the computed one object
        if (frame["seniority_band"].fillna("") != frame["stored_band"].fillna("")).any():
            _restamp_bands(session, audit, bands_t)

    listed = json.loads(audit.municipalities_json or "[]") or sorted(frame["municipality"].unique())
    chosen, strata = plan_draw(frame, seed=seed, per_stratum=per_stratum, reserves=reserves,
                               strata=order_strata(listed, bands_t))
    audit_id = audit.id
    rows = zip(repeat(audit_id), chosen["person_pk"].tolist(), chosen["municipality"].tolist(),
               chosen["seniority_band"].tolist(), chosen["stratum_population"].tolist(),
               chosen["stratum_sample"].tolist(), chosen["inclusion_probability"].tolist(),
               chosen["weight"].tolist(), chosen["is_reserve"].tolist(),
               [None if pd.isna(r) else int(r) for r in chosen["reserve_rank"].tolist()],
               chosen["draw_order"].tolist(), (not r for r in chosen["is_reserve"].tolist()),
               repeat("not_started"), repeat(0))
    insert_rows(session, Case.__table__, ("audit_id", "person_pk", "municipality", "seniority_band",
                                          "stratum_population", "stratum_sample", "inclusion_probability",
                                          "weight", "is_reserve", "reserve_rank", "draw_order", "active",
                                          "status", "version"), rows)
    bump_data_version(session, audit.id)
    audit.seed = seed
    audit.per_stratum = per_stratum
    audit.reserves = reserves
    audit.bands_json = json.dumps(list(bands_t))
    audit.sampled_at = utcnow()
    audit.sampled_by = by or (user.username if user else None)
    session.add(audit)
    result = DrawResult(audit.name, seed, list(bands_t), per_stratum, reserves, strata,
                        sampled=int((~chosen["is_reserve"]).sum()), reserve_cases=int(chosen["is_reserve"].sum()),
                        outside_bands=int(frame["seniority_band"].isna().sum()), forced=old is not None)
    record(session, user=user, entity="sample", entity_id=audit.id, field="draw", old=old, new={
        "seed": seed, "per_stratum": per_stratum, "reserves": reserves, "bands": list(bands_t),
        "cases": result.sampled, "reserve_cases": result.reserve_cases,
        "shortfalls": [asdict(s) for s in result.shortfalls]},
        reason="forced re-draw" if old is not None else "sample drawn", audit_id=audit.id)
    return result


def _restamp_bands(session: Session, audit: Audit, bands: Sequence[float]) -> None:
    """Store the band of every person under the bands this draw uses (one SQL statement)."""
    labels = band_labels(bands)
    whens = [(Person.seniority_years >= bands[i], labels[i]) for i in range(len(labels) - 1, -1, -1)]
    session.execute(update(Person).where(Person.audit_id == audit.id)
                    .values(seniority_band=sql_case(*whens, else_=None)))
