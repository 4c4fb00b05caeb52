"""Test data for comment rounds: one audit bound to the real instrument
(questionnaires/kontanthjaelp_2022.yaml, frozen as a snapshot), completed cases with
answers in Odense (3) and København (2), an unfinished case in Aarhus, and a
user of each role (two municipality users)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session

from audit.instrument import Instrument
from audit.models import Audit, Case, Person, User

ROOT = Path(__file__).resolve().parents[2]
QUESTIONNAIRE = ROOT / "questionnaires" / "kontanthjaelp_2022.yaml"

# answers per case, in order: Odense 1-3, København 1-2
ANSWERS = [
    {"direction": "jobrettet", "stable_participation": "ja", "plan_exists": "ja", "plan_job_goal": "ja",
     "plan_job_goal_concrete": "nej", "has_challenges": "ja", "challenges": ["fysiske", "psykiske"]},
    {"direction": "rehabiliterende", "stable_participation": "nej", "plan_exists": "ja", "plan_job_goal": "nej"},
    {"direction": "jobrettet", "stable_participation": "ja", "plan_exists": "ja", "plan_job_goal": "ja",
     "plan_job_goal_concrete": "ja"},
    {"direction": "fritaget", "stable_participation": "nej", "plan_exists": "ja", "plan_job_goal": "nej"},
    {"direction": "jobrettet", "stable_participation": "ja", "plan_exists": "ja", "plan_job_goal": "ja",
     "plan_job_goal_concrete": "ja"},
]


def instrument() -> Instrument:
    from audit.instrument import load_instrument

    return load_instrument(QUESTIONNAIRE)


def use_instrument(monkeypatch, inst) -> None:  # type: ignore[no-untyped-def]
    """Forget snapshots cached by an earlier test (audit ids repeat across test databases)."""
    import audit.hearing.instrument as hi

    hi.clear_cache()


@dataclass
class HearingWorld:
    audit_id: int
    odense: list[int]
    kbh: list[int]
    aarhus: list[int]
    admin: User
    auditor: User
    odense_user: User
    kbh_user: User
    instrument: Instrument


def make_world(engine, make_user, name: str = "Revision 2022") -> HearingWorld:  # type: ignore[no-untyped-def]
    from audit.review.answers import set_answer

    inst = instrument()
    admin = make_user("ada", "admin")
    bo = make_user("bo", "auditor")
    ou = make_user("odense", "municipality", "Odense")
    ku = make_user("kbh", "municipality", "København")
    ids: dict[str, list[int]] = {"Odense": [], "København": [], "Aarhus": []}
    with Session(engine) as s:
        audit = Audit(name=name, period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                      reference_date=date(2020, 3, 1),
                      municipalities_json=json.dumps(["Odense", "København", "Aarhus"]),
                      instrument_name="kontanthjaelp_2022.yaml", instrument_version=inst.version,
                      instrument_json=json.dumps(inst.to_dict(), ensure_ascii=False))
        s.add(audit)
        s.flush()
        n = 0
        for municipality, count in (("Odense", 3), ("København", 2), ("Aarhus", 1)):
            for k in range(count):
                person = Person(audit_id=audit.id, person_id=f"p{n}", municipality=municipality,
                                seniority_years=6.0 + 2 * k, seniority_band=("5-7", "7-10", "10+")[k % 3],
                                sex=("kvinde", "mand")[k % 2], age=38 + 7 * k, origin="dansk")
                s.add(person)
                s.flush()
                case = Case(audit_id=audit.id, person_pk=person.id, municipality=municipality,
                            seniority_band=person.seniority_band, stratum_population=10, stratum_sample=5,
                            inclusion_probability=0.5, weight=2.0, assigned_to=bo.id)
                s.add(case)
                s.flush()
                if municipality != "Aarhus":
                    for item, value in ANSWERS[n].items():
                        set_answer(s, case=case, item=item, value=value, user=bo, instrument=inst)
                    case.status = "completed"
                    s.add(case)
                ids[municipality].append(case.id)
                n += 1
        s.commit()
        audit_id = audit.id
    return HearingWorld(audit_id, ids["Odense"], ids["København"], ids["Aarhus"], admin, bo, ou, ku, inst)
