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

import numpy as np
import pandas as pd
from sqlalchemy import case as sql_case
from sqlalchemy import delete, func, insert, select, update
from sqlmodel import Session

from audit.i18n import _
from audit.auditlog import record
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
    df = frame.loc[frame["seniority_band"].notna()].copy()
    # Sorted by municipality, band, key. The hex keys become fixed-width bytes for numpy's
    # sort (same order as the text: they are ASCII), and the columns are iterated as
    # Python lists, which is several times faster than iterating pandas string arrays.
    keys = np.array([stratum_key(seed, m, b, p) for m, b, p in
                     zip(df["municipality"].tolist(), df["seniority_band"].tolist(),
                         df["person_id"].astype(str).tolist())], dtype="S64")
    municipality_rank = pd.factorize(df["municipality"], sort=True)[0]
    band_rank = pd.factorize(df["seniority_band"], sort=True)[0]
    df = df.iloc[np.lexsort((keys, band_rank, municipality_rank))]
    grouped = df.groupby(["municipality", "seniority_band"], sort=False)
    df["draw_order"] = grouped.cumcount() + 1
    df["stratum_population"] = grouped["person_id"].transform("size")
    df["stratum_sample"] = df["stratum_population"].clip(upper=per_stratum)
    chosen = df.loc[df["draw_order"] <= df["stratum_sample"] + reserves].copy()
    chosen["is_reserve"] = chosen["draw_order"] > chosen["stratum_sample"]
    chosen["reserve_rank"] = (chosen["draw_order"] - chosen["stratum_sample"]).where(chosen["is_reserve"])
    chosen["inclusion_probability"] = chosen["stratum_sample"] / chosen["stratum_population"]
    chosen["weight"] = chosen["stratum_population"] / chosen["stratum_sample"]
    chosen = chosen.reset_index(drop=True)

    sizes = df.groupby(["municipality", "seniority_band"]).size().to_dict()
    names = list(strata) if strata is not None else []
    names += [k for k in sizes if k not in set(names)]
    summary = []
    for m, b in names:
        n_pop = int(sizes.get((m, b), 0))
        drawn = min(per_stratum, n_pop)
        summary.append(Stratum(m, b, n_pop, per_stratum, drawn, min(reserves, n_pop - drawn)))
    return chosen, summary


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

    # pandas builds the frame from the cursor's tuples: twice as fast as from SQLAlchemy Row objects
    frame = pd.read_sql(select(Person.id.label("person_pk"), Person.person_id, Person.municipality,
                               Person.seniority_years, Person.seniority_band.label("stored_band"))
                        .where(Person.audit_id == audit.id), session.connection())
    if frame.empty:
        raise SamplingError(_('audit {audit_name} has no population; import the register extract first').format(
                                audit_name=repr(audit.name)))
    frame["seniority_band"] = assign_bands(frame["seniority_years"], bands_t)
    # compare values, not dtypes: the stored column is pandas' string dtype, the computed one object
    if (frame["seniority_band"].fillna("") != frame["stored_band"].fillna("")).any():
        _restamp_bands(session, audit, bands_t)

    listed = json.loads(audit.municipalities_json or "[]") or sorted(frame["municipality"].unique())
    chosen, strata = plan_draw(frame, seed=seed, per_stratum=per_stratum, reserves=reserves,
                               strata=order_strata(listed, bands_t))
    records = [
        {"audit_id": audit.id, "person_pk": int(pk), "municipality": m, "seniority_band": b,
         "stratum_population": int(N), "stratum_sample": int(n), "inclusion_probability": float(p),
         "weight": float(w), "is_reserve": bool(r), "reserve_rank": None if pd.isna(rr) else int(rr),
         "draw_order": int(o), "active": not bool(r), "status": "not_started", "version": 0}
        for pk, m, b, N, n, p, w, r, rr, o in zip(
            chosen["person_pk"], chosen["municipality"], chosen["seniority_band"], chosen["stratum_population"],
            chosen["stratum_sample"], chosen["inclusion_probability"], chosen["weight"], chosen["is_reserve"],
            chosen["reserve_rank"], chosen["draw_order"])
    ]
    if records:
        session.connection().execute(insert(Case.__table__), records)
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
