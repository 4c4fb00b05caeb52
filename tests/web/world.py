"""A small audit that reaches every room's code: the hearing world (real instrument,
completed cases in Odense and København, an open case in Aarhus, users of each role)
plus a second auditor, a second-review subsample, an open comment round for Odense with
a submitted remark, a register population, and an empty audit with no instrument."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlmodel import Session, select

from audit.models import Audit, Case, Remark, User
from tests.hearing.world import HearingWorld, make_world


@dataclass
class WebWorld:
    hearing: HearingWorld
    audit_id: int
    empty_audit_id: int
    remark_id: int
    round_id: int
    auditor2: User

    @property
    def admin(self) -> User:
        return self.hearing.admin

    @property
    def auditor(self) -> User:
        return self.hearing.auditor

    @property
    def municipality(self) -> User:
        return self.hearing.odense_user

    @property
    def case_ids(self) -> list[int]:
        return self.hearing.odense + self.hearing.kbh + self.hearing.aarhus


def make_web_world(engine, make_user) -> WebWorld:  # type: ignore[no-untyped-def]
    from audit.hearing.remarks import save_draft, submit
    from audit.hearing.rounds import open_round
    from audit.review.assignment import assign, mark_second_review

    w = make_world(engine, make_user)
    cy = make_user("cy", "auditor")
    with Session(engine) as s:
        audit = s.get(Audit, w.audit_id)
        admin = s.get(User, w.admin.id)
        assign(s, audit, s.get(User, w.auditor.id), ["Odense", "København", "Aarhus"], admin)
        mark_second_review(s, audit, 0.5, 7, [s.get(User, cy.id)], admin)
        rnd = open_round(s, audit, ["Odense"], datetime.now(timezone.utc) + timedelta(days=30), admin)
        odense = s.get(User, w.odense_user.id)
        case = s.get(Case, w.odense[0])
        save_draft(s, case=case, user=odense, text="Planen har et konkret jobmål", item="plan_job_goal_concrete",
                   proposed_value="ja")
        save_draft(s, case=case, user=odense, text="Sagen som helhed")
        submit(s, rnd, "Odense", odense)
        s.commit()
        remark_id = s.exec(select(Remark.id).order_by(Remark.id)).first()
        round_id = rnd.id
        empty = Audit(name="Tom revision", period_start=date(2021, 1, 1), period_end=date(2021, 12, 31),
                      reference_date=date(2022, 1, 1), municipalities_json=json.dumps(["Aarhus"]))
        s.add(empty)
        s.commit()
        empty_id = empty.id
    return WebWorld(w, w.audit_id, empty_id, remark_id, round_id, cy)
