"""The imported population of an audit at a glance: persons per municipality and seniority band."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlmodel import Session

from audit.models import Audit, Person
from audit.sampling.bands import audit_band_labels


@dataclass
class PopulationSummary:
    bands: list[str]                                   # band labels in order
    rows: list[tuple[str, dict[str, int], int]]        # (municipality, persons per band, total in the bands)
    per_band: dict[str, int] = field(default_factory=dict)
    outside_bands: int = 0                             # persons below the first band (not sampled)
    total: int = 0                                     # every imported person, outside_bands included


def stratum_counts(session: Session, audit: Audit) -> list[tuple[str, str | None, int]]:
    """(municipality, stored band or None below the first band, persons): the frame's strata,
    for this summary and the sampling protocol's N_h."""
    return [(m, b, int(n)) for m, b, n in session.execute(
        select(Person.municipality, Person.seniority_band, func.count())
        .where(Person.audit_id == audit.id)
        .group_by(Person.municipality, Person.seniority_band)).all()]


def population_summary(session: Session, audit: Audit) -> PopulationSummary:
    """One row per municipality with the persons in each of the audit's bands (empty when
    nothing is imported). The bands are those the persons are stored under: the audit's,
    re-stamped by a draw with other bands."""
    counts = stratum_counts(session, audit)
    labels = audit_band_labels(audit)
    labels += sorted({b for _, b, _ in counts if b is not None and b not in labels})
    table: dict[str, dict[str, int]] = {}
    outside = 0
    for municipality, band, n in counts:
        if band is None:
            outside += n
        table.setdefault(municipality, {})
        if band is not None:
            table[municipality][band] = table[municipality].get(band, 0) + int(n)
    rows = [(m, {b: table[m].get(b, 0) for b in labels}, sum(table[m].values())) for m in sorted(table)]
    per_band = {b: sum(r[1][b] for r in rows) for b in labels}
    return PopulationSummary(labels, rows, per_band, outside, sum(per_band.values()) + outside)
