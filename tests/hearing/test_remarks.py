"""Drafting, submitting once, the deadline, and the auditor's responses."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from audit.hearing.lock import lock_audit
from audit.hearing.remarks import delete_draft, respond, save_draft, submit, update_draft
from audit.hearing.rounds import HearingError, close_round, open_round, round_status
from audit.models import Audit, AuditLog, Case, Remark
from audit.review.answers import LockedError, case_answers

SOON = datetime.now(timezone.utc) + timedelta(days=14)


def _open(s, world, municipalities=("Odense", "København"), deadline=SOON):  # type: ignore[no-untyped-def]
    rnd = open_round(s, s.get(Audit, world.audit_id), municipalities, deadline, world.admin)
    s.commit()
    return rnd


def test_draft_edit_delete_then_submit_once(engine, world):
    with Session(engine) as s:
        rnd = _open(s, world)
        case = s.get(Case, world.odense[0])
        r1 = save_draft(s, case=case, user=world.odense_user, item="plan_job_goal_concrete",
                        text="Jobmålet er konkret: butiksassistent", proposed_value="ja")
        r2 = save_draft(s, case=case, user=world.odense_user, text="Sagen er ikke fuldt belyst")
        r3 = save_draft(s, case=s.get(Case, world.odense[1]), user=world.odense_user, text="slet mig")
        s.commit()
        update_draft(s, r2, user=world.odense_user, text="Sagen er ikke fuldt belyst, se journal 12.3.2019")
        delete_draft(s, r3, user=world.odense_user)
        s.commit()
        [st_kbh, st_od] = round_status(s, rnd)
        assert (st_od.municipality, st_od.drafts, st_od.submitted, st_od.responded) == ("Odense", 2, 0, False)
        assert st_kbh.drafts == 0
        submitted = submit(s, rnd, "Odense", world.odense_user)
        s.commit()
        assert [r.id for r in submitted] == [r1.id, r2.id]
        assert {r.status for r in s.exec(select(Remark)).all()} == {"submitted"}
        [_, st_od] = round_status(s, rnd)
        assert st_od.responded and st_od.submitted == 2 and st_od.drafts == 0
        with pytest.raises(HearingError, match="already submitted"):
            submit(s, rnd, "Odense", world.odense_user)
        with pytest.raises(HearingError, match="can no longer be changed"):
            save_draft(s, case=case, user=world.odense_user, text="for sent")
        with pytest.raises(HearingError, match="only drafts"):
            update_draft(s, r1, user=world.odense_user, text="ændret")
        fields = [e.field for e in s.exec(select(AuditLog).where(AuditLog.entity == "remark")).all()]
        assert fields.count("draft") == 4 and "deleted" in fields and fields.count("status") == 2


def test_remark_validation(engine, world):
    with Session(engine) as s:
        _open(s, world)
        case = s.get(Case, world.odense[0])
        with pytest.raises(HearingError, match="write the remark"):
            save_draft(s, case=case, user=world.odense_user, text="  ")
        with pytest.raises(HearingError, match="not an item"):
            save_draft(s, case=case, user=world.odense_user, item="nope", text="x")
        with pytest.raises(HearingError, match="not an item"):
            save_draft(s, case=case, user=world.odense_user, item="political_focus", text="theme 7 is per municipality")
        with pytest.raises(HearingError, match="proposed answer for direction"):
            save_draft(s, case=case, user=world.odense_user, item="direction", text="x", proposed_value="måske")
        with pytest.raises(HearingError, match="choose the item"):
            save_draft(s, case=case, user=world.odense_user, text="x", proposed_value="ja")
        # another municipality's user, and a case outside any open round
        with pytest.raises(HearingError):
            save_draft(s, case=case, user=world.kbh_user, text="x")
        with pytest.raises(HearingError, match="not in an open comment round"):
            save_draft(s, case=s.get(Case, world.aarhus[0]), user=None, text="x")


def test_after_the_deadline_no_new_remarks_and_no_submission(engine, world):
    with Session(engine) as s:
        rnd = _open(s, world, deadline=datetime.now(timezone.utc) + timedelta(days=1))
        case = s.get(Case, world.kbh[0])
        save_draft(s, case=case, user=world.kbh_user, text="i tide")
        s.commit()
        later = datetime.now(timezone.utc) + timedelta(days=2)
        with pytest.raises(HearingError, match="deadline of round 1 .* has passed"):
            save_draft(s, case=case, user=world.kbh_user, text="for sent", now=later)
        with pytest.raises(HearingError, match="has passed"):
            submit(s, rnd, "København", world.kbh_user, now=later)
        assert s.exec(select(Remark)).one().status == "draft"


def test_accepting_revises_the_answer_and_the_trail_keeps_old_new_and_remark(engine, world):
    with Session(engine) as s:
        rnd = _open(s, world)
        case = s.get(Case, world.odense[0])
        r = save_draft(s, case=case, user=world.odense_user, item="plan_job_goal_concrete",
                       text="Jobmålet er konkret: butiksassistent", proposed_value="ja")
        submit(s, rnd, "Odense", world.odense_user)
        s.commit()
        version = case.version
        respond(s, r, "accepted", "Enig, jobmålet er konkret", world.auditor)
        s.commit()
        assert case_answers(s, case.id)["plan_job_goal_concrete"] == "ja"
        assert s.get(Case, case.id).version == version + 1
        entry = s.exec(select(AuditLog).where(AuditLog.entity == "answer",
                                              AuditLog.entity_id == f"{case.id}/plan_job_goal_concrete")
                       .order_by(AuditLog.id.desc())).first()
        assert (entry.old_value, entry.new_value, entry.username) == ("nej", "ja", "bo")
        assert entry.reason == f"remark {r.id}: Jobmålet er konkret: butiksassistent"
        r = s.get(Remark, r.id)
        assert (r.status, r.decision, r.response, r.responded_by) == ("answered", "accepted",
                                                                      "Enig, jobmålet er konkret", world.auditor.id)
        with pytest.raises(HearingError, match="only submitted"):
            respond(s, r, "maintained", "igen", world.auditor)


def test_accepting_with_an_edited_value_and_maintaining_needs_a_reason(engine, world):
    with Session(engine) as s:
        rnd = _open(s, world)
        c1, c2 = s.get(Case, world.kbh[0]), s.get(Case, world.kbh[1])
        a = save_draft(s, case=c1, user=world.kbh_user, item="direction", text="Borgeren er jobrettet",
                       proposed_value="jobrettet")
        b = save_draft(s, case=c2, user=world.kbh_user, item="stable_participation", text="Deltager stabilt")
        c = save_draft(s, case=c2, user=world.kbh_user, text="Generel bemærkning")
        submit(s, rnd, "København", world.kbh_user)
        s.commit()
        respond(s, a, "accepted", "Delvist enig: rehabiliterende", world.auditor, new_value="rehabiliterende")
        assert case_answers(s, c1.id)["direction"] == "rehabiliterende"
        with pytest.raises(HearingError, match="needs a reason"):
            respond(s, b, "maintained", " ", world.auditor)
        with pytest.raises(HearingError, match="needs the revised answer"):
            respond(s, b, "accepted", "", world.auditor)  # no proposed value, no edited value
        with pytest.raises(HearingError, match="decision must be"):
            respond(s, b, "ignored", "x", world.auditor)
        respond(s, b, "maintained", "Journalen viser udeblivelser", world.auditor)
        with pytest.raises(HearingError, match="needs a response"):
            respond(s, c, "accepted", "", world.auditor)
        respond(s, c, "accepted", "Noten er præciseret", world.auditor)
        s.commit()
        assert case_answers(s, c2.id)["stable_participation"] == "ja"   # maintained: unchanged
        assert {r.decision for r in s.exec(select(Remark)).all()} == {"accepted", "maintained"}


def test_lock_refuses_while_round_open_or_remarks_unanswered_then_answers_are_final(engine, world):
    from audit.review.answers import set_answer

    with Session(engine) as s:
        rnd = _open(s, world)
        r = save_draft(s, case=s.get(Case, world.odense[0]), user=world.odense_user, text="x")
        submit(s, rnd, "Odense", world.odense_user)
        s.commit()
        audit = s.get(Audit, world.audit_id)
        with pytest.raises(HearingError, match="round 1 is still open; 1 submitted remark"):
            lock_audit(s, audit, world.admin)
        close_round(s, rnd, world.admin)
        with pytest.raises(HearingError, match="not answered"):
            lock_audit(s, audit, world.admin)
        respond(s, r, "maintained", "fastholdt", world.auditor)
        assert lock_audit(s, audit, world.admin) == []
        s.commit()
        assert audit.locked_at is not None and audit.locked_by == "ada"
        statuses = {c.id: c.status for c in s.exec(select(Case)).all()}
        assert all(statuses[i] == "final" for i in world.odense + world.kbh)
        assert statuses[world.aarhus[0]] == "not_started"
        case = s.get(Case, world.odense[0])
        with pytest.raises(LockedError):
            set_answer(s, case=case, item="direction", value="fritaget", user=world.admin)
        with pytest.raises(HearingError, match="locked"):
            open_round(s, audit, ["Aarhus"], SOON, world.admin)
        with pytest.raises(HearingError, match="already locked"):
            lock_audit(s, audit, world.admin)
        entry = s.exec(select(AuditLog).where(AuditLog.entity == "audit", AuditLog.field == "locked_at")).one()
        assert entry.username == "ada" and entry.reason is None


def test_forced_lock_closes_open_rounds_and_records_why(engine, world):
    with Session(engine) as s:
        rnd = _open(s, world)
        save_draft(s, case=s.get(Case, world.odense[0]), user=world.odense_user, text="x")
        submit(s, rnd, "Odense", world.odense_user)
        audit = s.get(Audit, world.audit_id)
        overridden = lock_audit(s, audit, world.admin, force=True)
        s.commit()
        assert overridden == ["round 1 is still open", "1 submitted remark(s) are not answered"]
        assert s.get(type(rnd), rnd.id).closed_at is not None
        entry = s.exec(select(AuditLog).where(AuditLog.entity == "audit", AuditLog.field == "locked_at")).one()
        assert entry.reason.startswith("forced: round 1 is still open")
        r = s.exec(select(Remark)).one()
        with pytest.raises(LockedError):
            respond(s, r, "accepted", "", world.auditor, new_value="fritaget")
        with pytest.raises(HearingError, match="locked"):
            save_draft(s, case=s.get(Case, world.kbh[0]), user=world.kbh_user, text="x")
        assert r.decision is None and r.status == "submitted"
