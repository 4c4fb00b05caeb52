"""Case form view-model, completion, versions, locks (domain functions, no web)."""
from __future__ import annotations

import pytest
from sqlmodel import Session

from audit.models import Audit, Case, MunicipalityReview, utcnow
from audit.review.answers import LockedError, VersionConflict, AnswerError, set_answer, set_municipality_answer
from audit.review.assignment import municipality_review
from audit.review.form import case_form, municipality_form
from audit.review.instrument import instrument_for
from audit.review.workflow import complete_case, reopen_case, complete_municipality


def _answer(s, case, item, value, user=None, **kw):  # type: ignore[no-untyped-def]
    inst = instrument_for(s.get(Audit, case.audit_id))
    return set_answer(s, case=case, item=item, value=value, user=user, instrument=inst, **kw)


def test_skipped_item_appears_and_disappears_and_kept_answer_is_not_counted(engine, world):
    with Session(engine) as s:
        case = s.get(Case, world.case_ids[0])
        form = case_form(s, case, actor=None)
        assert not form.item("plan_job_goal").applicable          # applies once the citizen has a plan
        _answer(s, case, "plan_exists", "ja")
        form = case_form(s, case, actor=None)
        assert form.item("plan_job_goal").applicable
        assert not form.item("plan_job_goal_concrete").applicable
        theme = next(t for t in form.themes if any(i.name == "plan_job_goal" for i in t.items))
        before, answered = theme.applicable, theme.answered
        _answer(s, case, "plan_job_goal", "ja")
        form = case_form(s, case, actor=None)
        assert form.item("plan_job_goal_concrete").applicable
        theme = next(t for t in form.themes if t.number == theme.number)
        assert theme.applicable > before and theme.answered == answered + 1
        _answer(s, case, "plan_job_goal_concrete", "ja")
        _answer(s, case, "plan_job_goal", "nej")
        form = case_form(s, case, actor=None)
        concrete = form.item("plan_job_goal_concrete")
        assert not concrete.applicable and concrete.kept and concrete.value == "ja"
        theme = next(t for t in form.themes if t.number == theme.number)
        assert theme.applicable == before and theme.answered == answered + 1 and theme.kept == 1


def test_case_form_holds_no_municipality_items_and_theme7_form_only_those(engine, world):
    with Session(engine) as s:
        case = s.get(Case, world.case_ids[0])
        inst = instrument_for(s.get(Audit, case.audit_id))
        muni = {i.name for i in inst.items if i.level == "municipality"}
        assert muni, "the instrument has municipality-level items (theme 7)"
        names = {i.name for i in case_form(s, case, actor=None).items}
        assert not names & muni
        review = municipality_review(s, s.get(Audit, world.audit_id), "Odense")
        assert {i.name for i in municipality_form(s, review).items} == muni


def test_completion_lists_missing_required_items_then_completes(engine, world):
    with Session(engine) as s:
        case = s.get(Case, world.case_ids[0])
        missing = complete_case(s, case, world.auditor)
        assert "plan_exists" in missing and "plan_job_goal" not in missing
        assert case.status == "not_started"
        _fill_required(s, case)
        assert complete_case(s, case, world.auditor) == []
        assert case.status == "completed" and case.completed_at is not None
        reopen_case(s, case, world.admin)
        assert case.status == "in_progress"


def _fill_required(s, case):  # type: ignore[no-untyped-def]
    from tests.review.fill import fill_required

    fill_required(s, case)


def test_stale_version_is_refused_and_writes_nothing(engine, world):
    with Session(engine) as s:
        case = s.get(Case, world.case_ids[0])
        v0 = case.version
        _answer(s, case, "plan_job_goal", "ja", expected_version=v0)
        assert case.version == v0 + 1
        s.commit()
        with pytest.raises(VersionConflict) as err:
            _answer(s, case, "plan_job_goal", "nej", expected_version=v0)
        assert err.value.current_version == v0 + 1
        s.rollback()
        assert case_form(s, s.get(Case, case.id), actor=None).item("plan_job_goal").value == "ja"


def test_invalid_value_is_refused(engine, world):
    with Session(engine) as s:
        case = s.get(Case, world.case_ids[0])
        with pytest.raises(AnswerError, match="plan_job_goal"):
            _answer(s, case, "plan_job_goal", "måske")
        with pytest.raises(AnswerError, match="not an item"):
            _answer(s, case, "no_such_item", "ja")


def test_locked_audit_refuses_answers_and_completion(engine, world):
    with Session(engine) as s:
        audit = s.get(Audit, world.audit_id)
        audit.locked_at = utcnow()
        s.add(audit)
        s.commit()
        case = s.get(Case, world.case_ids[0])
        with pytest.raises(LockedError):
            _answer(s, case, "plan_job_goal", "ja")
        with pytest.raises(LockedError):
            complete_case(s, case, world.auditor)
        review = municipality_review(s, audit, "Odense")
        item = next(i.name for i in instrument_for(audit).items if i.level == "municipality")
        with pytest.raises(LockedError):
            set_municipality_answer(s, review=review, item=item, value="ja", user=None)


def test_municipality_answers_share_versioning_and_completion(engine, world):
    with Session(engine) as s:
        audit = s.get(Audit, world.audit_id)
        inst = instrument_for(audit)
        review = municipality_review(s, audit, "Odense")
        missing = complete_municipality(s, review, world.auditor)
        assert missing
        from tests.review.fill import fill_municipality
        assert set(missing) <= set(fill_municipality(s, review, world.auditor))
        assert complete_municipality(s, review, world.auditor) == []
        assert review.status == "completed"
        with pytest.raises(VersionConflict):
            set_municipality_answer(s, review=review, item=missing[0], value=None, user=None, expected_version=0)
        assert isinstance(review, MunicipalityReview) and review.status in ("completed", "in_progress")
