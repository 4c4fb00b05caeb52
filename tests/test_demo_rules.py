"""The demo obeys its own instrument: every completed synthetic case (in hearing too) has
every applicable required item answered, and the theme-7 answers belong to their
municipality reviews, each completed review complete, three municipalities without answers."""
from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, select


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # as before: the demo on SQLite
def test_demo_cases_and_theme7_reviews_obey_the_instrument(engine, built_once):
    from audit.audits import instrument_for
    from audit.demo import THEME7_NOT_ANSWERED
    from audit.models import Answer, Audit, Case, MunicipalityReview
    from audit.review.workflow import missing_for_case, missing_for_municipality
    from tests.conftest import build_demo_world

    built_once("demo", build_demo_world)  # SQLite: a copy of the session's demo
    with Session(engine) as s:
        audit = s.exec(select(Audit)).one()
        inst = instrument_for(audit)
        done = s.exec(select(Case).where(Case.audit_id == audit.id, Case.active == True,  # noqa: E712
                                         Case.status.in_(("completed", "in_hearing", "final")))).all()
        assert len(done) > 250
        incomplete = {c.id: missing_for_case(s, c, 1, inst) for c in done}
        assert {k: v for k, v in incomplete.items() if v} == {}
        # free text is filled where a completed review needs it
        text_items = {i.name for i in inst.items if i.type == "text"}
        assert s.exec(select(func.count()).select_from(Answer).where(Answer.item.in_(text_items))).one() > 0
        orphans = s.exec(select(func.count()).select_from(Answer).where(
            Answer.case_id == None, Answer.municipality_review_id == None)).one()  # noqa: E711
        assert orphans == 0
        reviews = s.exec(select(MunicipalityReview).where(MunicipalityReview.audit_id == audit.id)).all()
        assert len(reviews) == 25
        answered = dict(s.exec(select(Answer.municipality_review_id, func.count()).where(
            Answer.municipality_review_id != None).group_by(Answer.municipality_review_id)).all())  # noqa: E711
        completed = [r for r in reviews if r.status == "completed"]
        assert len(completed) == 25 - THEME7_NOT_ANSWERED == 22
        for r in completed:
            assert answered.get(r.id, 0) > 0, r.municipality
            assert missing_for_municipality(s, r, inst) == [], r.municipality
        assert all(answered.get(r.id, 0) == 0 for r in reviews if r.status != "completed")
        # the others are recorded as not answering, so the report's notes say "3 af 25"
        assert sorted(r.status for r in reviews if r.status != "completed") == ["not_answered"] * THEME7_NOT_ANSWERED
