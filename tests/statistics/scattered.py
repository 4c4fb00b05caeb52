"""A small audit spread over many municipalities, from a synthetic one: used by
tests/statistics/test_scattered_report.py and bench/bench_disclosure.py."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import update
from sqlmodel import Session

from audit.dataversion import bump_data_version
from audit.models import Case


def scatter(session: Session, audit_id: int, cases: int, municipalities: int) -> list[int]:
    """Keep `cases` reviewed cases, dealt round robin over the `municipalities` municipalities
    with most of them; every other case of the audit goes back to "not started". The kept ids."""
    c = Case.__table__.c
    rows = session.connection().execute(Case.__table__.select().where(
        c.audit_id == audit_id, c.active.is_(True), c.status.in_(["completed", "in_hearing", "final"]))
        .order_by(c.id)).mappings().all()
    by_m: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        by_m[r["municipality"]].append(r["id"])
    chosen = sorted(by_m, key=lambda m: (-len(by_m[m]), m))[:municipalities]  # those with most cases
    keep: list[int] = []
    assert sum(len(by_m[m]) for m in chosen) >= cases
    while len(keep) < cases:  # round robin: every chosen municipality gets cases
        for m in chosen:
            if by_m[m] and len(keep) < cases:
                keep.append(by_m[m].pop(0))
    session.connection().execute(update(Case.__table__).where(c.audit_id == audit_id, c.id.notin_(keep))
                                 .values(status="not_started"))
    bump_data_version(session, audit_id)
    return keep
