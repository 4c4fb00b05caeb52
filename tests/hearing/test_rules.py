"""Who-may rules of the comment rounds (issue 12), one copy each in `audit.permissions`:

- who may answer a remark: the case's auditor or an admin; an auditor refused the
  case cannot change its answer by accepting a remark on it (page, API, domain);
- the municipality's "may I still write" window: the page, saving a draft and
  submitting follow one rule, which also knows that a replaced (inactive) case is
  out of the round.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from audit import permissions
from audit.hearing.remarks import respond, save_draft, submit
from audit.hearing.rounds import HearingError, open_round
from audit.models import Audit, Case, HearingRound, Remark, RoundMunicipality, utcnow
from audit.review.answers import case_answers

SOON = datetime.now(timezone.utc) + timedelta(days=14)


def _submitted_remark(engine, world) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        rnd = open_round(s, s.get(Audit, world.audit_id), ["Odense"], SOON, world.admin)
        remark = save_draft(s, case=s.get(Case, world.odense[0]), user=world.odense_user,
                            item="plan_job_goal_concrete", text="Jobmålet er konkret", proposed_value="ja")
        submit(s, rnd, "Odense", world.odense_user)
        s.commit()
        return remark.id


def test_an_auditor_refused_the_case_cannot_accept_a_remark_on_it(engine, world, make_user, client_for):
    cy = make_user("cy", "auditor")                     # not the auditor of Odense's cases (bo is)
    rid = _submitted_remark(engine, world)
    cid = world.odense[0]
    with Session(engine) as s:
        before = case_answers(s, cid)["plan_job_goal_concrete"]
    assert before == "nej"
    c, token = client_for(cy)
    assert c.get(f"/review/cases/{cid}").status_code == 403          # refused the case ...
    r = c.post(f"/hearing/remarks/{rid}/respond", data={"csrf_token": token, "decision": "accepted",
                                                        "value": "ja", "response": "Enig"})
    assert r.status_code == 403                                      # ... and its remarks
    r = c.post(f"/api/hearing/remarks/{rid}/respond", headers={"X-CSRF-Token": token},
               json={"decision": "accepted", "value": "ja", "response": "Enig"})
    assert r.status_code == 403
    r = c.post(f"/api/hearing/remarks/{rid}/respond", headers={"X-CSRF-Token": token},
               json={"decision": "maintained", "response": "Nej"})
    assert r.status_code == 403
    assert f"/hearing/remarks/{rid}/respond" not in c.get("/hearing/remarks").text   # not in cy's queue
    with Session(engine) as s:
        with pytest.raises(HearingError, match="answered by the case's auditor"):
            respond(s, s.get(Remark, rid), "accepted", "Enig", cy, new_value="ja")
        s.rollback()
        assert case_answers(s, cid)["plan_job_goal_concrete"] == "nej"
        assert s.get(Remark, rid).status == "submitted"
    # the case's auditor may
    bo, btoken = client_for(world.auditor)
    r = bo.post(f"/api/hearing/remarks/{rid}/respond", headers={"X-CSRF-Token": btoken},
                json={"decision": "accepted", "value": "ja", "response": "Enig"})
    assert r.status_code == 200 and r.json()["answer"] == "ja", r.text


def _states(s, world):  # type: ignore[no-untyped-def]
    """Put the audit through the states the window knows, yielding a label each time."""
    case = s.get(Case, world.odense[0])
    yield "no round"
    rnd = open_round(s, s.get(Audit, world.audit_id), ["Odense"], SOON, world.admin)
    s.flush()
    yield "open"
    case.active = False
    s.add(case)
    s.flush()
    yield "inactive case"
    case.active = True
    s.add(case)
    rnd.deadline = utcnow() - timedelta(minutes=1)
    s.add(rnd)
    s.flush()
    yield "deadline passed"
    rnd.deadline = SOON
    member = s.exec(select(RoundMunicipality).where(RoundMunicipality.round_id == rnd.id)).one()
    member.submitted_at = utcnow()
    s.add_all([rnd, member])
    s.flush()
    yield "submitted"
    member.submitted_at = None
    s.add(member)
    audit = s.get(Audit, world.audit_id)
    audit.locked_at = utcnow()
    s.add(audit)
    s.flush()
    yield "locked"


def test_the_writing_window_is_one_rule_for_page_draft_and_submit(engine, world):
    from audit.hearing.rounds import comment_window

    expected = {"no round": False, "open": True, "inactive case": False, "deadline passed": False,
                "submitted": False, "locked": False}
    seen = {}
    with Session(engine) as s:
        for state in _states(s, world):
            case = s.get(Case, world.odense[0])
            window = comment_window(s, case)
            allowed = permissions.can(world.odense_user, "remark.write", window)
            seen[state] = allowed
            # the domain function follows the same rule
            point = s.begin_nested()
            try:
                save_draft(s, case=case, user=world.odense_user, text="en bemærkning")
                saved = True
            except HearingError as exc:
                saved = False
                reason = permissions.decide(world.odense_user, "remark.write", window).reason
                assert str(exc) == reason, state
            point.rollback()
            assert saved == allowed, state
            rnd = s.exec(select(HearingRound)).first()
            if rnd is not None and state != "inactive case":
                whole = comment_window(s, rnd=rnd, municipality="Odense")
                point = s.begin_nested()
                try:
                    submit(s, rnd, "Odense", world.odense_user)
                    submitted = True
                except HearingError:
                    submitted = False
                point.rollback()
                assert submitted == permissions.can(world.odense_user, "remark.write", whole) == allowed, state
    assert seen == expected
    # another municipality's user never may, and a foreign case does not exist for it (404)
    window = permissions.CommentWindow(municipality="Odense", audit_name="x", locked_at=None, round_number=1,
                                       member=True, submitted_at=None, deadline=SOON, now=utcnow(), case_id=1)
    assert permissions.can(world.odense_user, "remark.write", window)
    assert permissions.decide(world.kbh_user, "remark.write", window).status == 404
    assert not permissions.can(world.odense_user, "remark.write", replace(window, case_active=False))


def test_the_case_page_shows_the_form_exactly_when_the_rule_allows(engine, world, client_for):
    from audit.hearing.rounds import comment_window

    od, _ = client_for(world.odense_user)
    with Session(engine) as s:
        open_round(s, s.get(Audit, world.audit_id), ["Odense"], SOON, world.admin)
        s.commit()
    page = od.get(f"/hearing/cases/{world.odense[0]}").text
    assert 'data-testid="remark-form-case"' in page and 'data-testid="closed-why"' not in page
    with Session(engine) as s:
        rnd = s.exec(select(HearingRound)).one()
        rnd.deadline = utcnow() - timedelta(minutes=1)
        s.add(rnd)
        s.commit()
        reason = permissions.decide(world.odense_user, "remark.write",
                                    comment_window(s, s.get(Case, world.odense[0]))).reason
    page = od.get(f"/hearing/cases/{world.odense[0]}").text
    assert 'data-testid="remark-form-case"' not in page
    assert reason[:1].upper() + reason[1:] in page.replace("&#39;", "'")
