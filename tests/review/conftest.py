"""A review audit bound to the real instrument (questionnaires/kontanthjaelp_2022.yaml)
with a few sampled cases in two municipalities, and an auditor, a second
auditor, an admin and a municipality user."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session

from audit.instrument import Instrument
from audit.models import Audit, Case, Person, User

ROOT = Path(__file__).resolve().parents[2]
QUESTIONNAIRE = ROOT / "questionnaires" / "kontanthjaelp_2022.yaml"


def real_instrument():  # type: ignore[no-untyped-def]
    from audit.instrument import load_instrument

    return load_instrument(QUESTIONNAIRE)


@dataclass
class ReviewWorld:
    audit_id: int
    case_ids: list[int]          # Odense cases 0..2 assigned to bo, København 3..4 to cy
    admin: User
    auditor: User
    auditor2: User
    municipality_user: User
    instrument: Instrument


def fresh_instrument_cache() -> None:
    import audit.review.instrument as ri

    ri.clear_cache()


def make_review_audit(engine, make_user, name: str = "Revision 2022", per_municipality=(3, 2)) -> ReviewWorld:  # type: ignore[no-untyped-def]
    from audit.review.assignment import assign

    inst = real_instrument()
    admin = make_user("ada", "admin")
    bo = make_user("bo", "auditor")
    cy = make_user("cy", "auditor")
    odense = make_user("odense", "municipality", "Odense")
    ids = []
    with Session(engine) as s:
        audit = Audit(name=name, period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                      reference_date=date(2020, 3, 1), municipalities_json=json.dumps(["Odense", "København"]),
                      instrument_name="kontanthjaelp_2022.yaml", instrument_version=inst.version,
                      instrument_json=json.dumps(inst.to_dict(), ensure_ascii=False))
        s.add(audit)
        s.flush()
        n = 0
        for municipality, count in zip(("Odense", "København"), per_municipality):
            for k in range(count):
                n += 1
                person = Person(audit_id=audit.id, person_id=f"p{n}", municipality=municipality,
                                seniority_years=6.0 + k, seniority_band=("5-7", "7-10", "10+")[k % 3],
                                sex=("kvinde", "mand")[k % 2], age=38 + 7 * k, origin="dansk")
                s.add(person)
                s.flush()
                case = Case(audit_id=audit.id, person_pk=person.id, municipality=municipality,
                            seniority_band=person.seniority_band, stratum_population=10, stratum_sample=5,
                            inclusion_probability=0.5, weight=2.0)
                s.add(case)
                s.flush()
                ids.append(case.id)
        assign(s, audit, bo, ["Odense"], admin)
        assign(s, audit, cy, ["København"], admin)
        s.commit()
        audit_id = audit.id
    return ReviewWorld(audit_id, ids, admin, bo, cy, odense, inst)


@pytest.fixture
def world(engine, make_user) -> ReviewWorld:  # type: ignore[no-untyped-def]
    fresh_instrument_cache()
    return make_review_audit(engine, make_user)
