"""A municipality that did not answer theme 7 is recorded as such, traced, and leaves N."""
from __future__ import annotations

import pytest
from sqlmodel import Session, select

from audit.models import Audit, AuditLog
from audit.review.answers import NotEditable, municipality_answers
from audit.review.save import save_answer
from audit.review.assignment import municipality_review
from audit.review.workflow import complete_municipality, set_municipality_not_answered
from audit.statistics.dataset import load_municipality_frame
from tests.review.fill import fill_municipality


def test_not_answered_leaves_the_frame_is_traced_and_can_be_taken_back(engine, world):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        audit = s.get(Audit, world.audit_id)
        odense = municipality_review(s, audit, "Odense")
        fill_municipality(s, odense, world.auditor)
        assert complete_municipality(s, odense, world.auditor) == []
        kbh = municipality_review(s, audit, "København")
        set_municipality_not_answered(s, kbh, world.admin, reason="svarede ikke")
        s.commit()
        frame = load_municipality_frame(s, audit)
        assert frame["municipality"].tolist() == ["Odense"]
        assert frame.attrs["not_answered"] == ("København",)
        assert frame.attrs["municipalities"] >= 2
        answers = municipality_answers(s, odense.id)
        assert frame.loc[0, "supervision"] == answers["supervision"]
        entries = s.exec(select(AuditLog).where(AuditLog.entity == "municipality_review",
                                                AuditLog.entity_id == str(kbh.id))).all()
        assert any("not_answered" in str(e.new_value) and e.reason == "svarede ikke" for e in entries)
        with pytest.raises(NotEditable):
            save_answer(s, owner=kbh, item="supervision", value="ja", user=world.admin)
        set_municipality_not_answered(s, kbh, world.admin, not_answered=False)
        s.commit()
        assert kbh.status == "in_progress"
        assert load_municipality_frame(s, audit).attrs["not_answered"] == ()
