"""The hearing pages through the real app: the admin's rounds page, the portal,
the queue, downloads, and isolation between two municipalities in one round."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from io import BytesIO

from openpyxl import load_workbook
from sqlmodel import Session, select

from audit.models import Audit, AuditLog, Case, HearingRound, Remark
from audit.review.answers import case_answers

SOON = (datetime.now(timezone.utc) + timedelta(days=14)).date().isoformat()


def _open_round(client_for, world, municipalities=("Odense", "København")):  # type: ignore[no-untyped-def]
    admin, token = client_for(world.admin)
    resp = admin.post(f"/hearing/admin/{world.audit_id}/rounds",
                      data={"csrf_token": token, "deadline": SOON, "municipality": list(municipalities)})
    assert resp.status_code == 200, resp.text  # redirected back to the page
    assert "Round 1 is open for" in resp.text
    return admin, token


def _round_id(engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(HearingRound)).one().id


def test_admin_opens_sees_status_closes_and_locks(engine, world, client_for):
    admin, token = _open_round(client_for, world)
    page = admin.get(f"/hearing/admin?audit_id={world.audit_id}").text
    assert 'data-testid="status-Odense"' in page and 'data-testid="status-København"' in page
    assert "not yet" in page and "round 1 is still open" in page
    rid = _round_id(engine)
    resp = admin.post(f"/hearing/admin/{world.audit_id}/lock", data={"csrf_token": token})
    assert "cannot lock: round 1 is still open" in resp.text
    resp = admin.post(f"/hearing/admin/rounds/{rid}/close", data={"csrf_token": token})
    assert "Round 1 is closed." in resp.text
    resp = admin.post(f"/hearing/admin/{world.audit_id}/lock", data={"csrf_token": token})
    assert "is locked; its answers are final" in resp.text and 'data-testid="locked"' in resp.text
    # the API reports the round; forms to open rounds are gone
    rounds = admin.get(f"/api/hearing/audits/{world.audit_id}/rounds").json()
    assert rounds[0]["open"] is False and {m["municipality"] for m in rounds[0]["municipalities"]} == {"Odense", "København"}
    assert 'data-testid="open-round"' not in resp.text


def test_open_round_form_reports_refusals(world, client_for):
    admin, token = client_for(world.admin)
    resp = admin.post(f"/hearing/admin/{world.audit_id}/rounds",
                      data={"csrf_token": token, "deadline": SOON, "municipality": ["Aarhus"]})
    assert "Round not opened: Aarhus has no completed cases" in resp.text


def test_rounds_page_queue_and_portal_need_their_roles(world, client_for):
    auditor, _ = client_for(world.auditor)
    assert auditor.get("/hearing/admin").status_code == 403
    assert auditor.get("/hearing").status_code == 403
    assert auditor.get("/hearing/remarks").status_code == 200
    muni, _ = client_for(world.odense_user)
    assert muni.get("/hearing/admin").status_code == 403
    assert muni.get("/hearing/remarks").status_code == 403
    admin, _ = client_for(world.admin)
    assert admin.get(f"/hearing/cases/{world.odense[0]}").status_code == 403   # the portal is the municipality's


def test_portal_case_page_remark_submit_and_response(engine, world, client_for):
    _open_round(client_for, world)
    od, token = client_for(world.odense_user)
    portal = od.get("/hearing").text
    assert all(f"/hearing/cases/{cid}" in portal for cid in world.odense)
    assert not any(f"/hearing/cases/{cid}\"" in portal for cid in world.kbh)
    page = od.get(f"/hearing/cases/{world.odense[0]}").text
    assert "Theme 1: Characteristics of the target group" in page  # the instrument's English texts
    assert "Job-oriented towards the ordinary labour market" in page               # choice label, not code
    assert "Physical challenges, Mental-health challenges" in page                  # in the reader's language
    assert 'data-testid="item-political_focus"' not in page                          # theme 7: per municipality
    page2 = od.get(f"/hearing/cases/{world.odense[1]}").text
    assert 'data-testid="item-plan_job_goal_concrete"' not in page2   # not applicable without a job goal
    resp = od.post(f"/hearing/cases/{world.odense[0]}/remarks",
                   data={"csrf_token": token, "item": "plan_job_goal_concrete", "text": "Konkret jobmål",
                         "proposed": "ja"})
    assert "Remark saved as a draft" in resp.text
    resp = od.post(f"/hearing/cases/{world.odense[0]}/remarks",
                   data={"csrf_token": token, "item": "direction", "text": "x", "proposed": "måske"})
    assert "Remark not saved" in resp.text
    resp = od.post(f"/hearing/cases/{world.odense[0]}/remarks", data={"csrf_token": token, "text": "Helheden"})
    assert "Remark saved" in resp.text
    resp = od.post(f"/hearing/rounds/{_round_id(engine)}/submit", data={"csrf_token": token})
    assert "2 remark(s) submitted" in resp.text and 'data-testid="submitted"' in resp.text
    page = od.get(f"/hearing/cases/{world.odense[0]}").text
    assert 'data-testid="closed-why"' in page and "can no longer be changed" in page
    assert 'data-testid="remark-form-case"' not in page
    resp = od.post(f"/hearing/rounds/{_round_id(engine)}/submit", data={"csrf_token": token})
    assert "already submitted" in resp.text

    auditor, atoken = client_for(world.auditor)
    queue = auditor.get("/hearing/remarks").text
    with Session(engine) as s:
        item_remark, case_remark = s.exec(select(Remark).order_by(Remark.id)).all()
    assert f'data-testid="current-{item_remark.id}">No<' in queue and f'data-testid="proposed-{item_remark.id}">Yes<' in queue  # labels in the reader's language
    resp = auditor.post(f"/hearing/remarks/{case_remark.id}/respond",
                        data={"csrf_token": atoken, "decision": "maintained", "response": ""})
    assert "needs a reason" in resp.text
    auditor.post(f"/hearing/remarks/{item_remark.id}/respond",
                 data={"csrf_token": atoken, "decision": "accepted", "value": "ja", "response": "Enig"})
    auditor.post(f"/hearing/remarks/{case_remark.id}/respond",
                 data={"csrf_token": atoken, "decision": "maintained", "response": "Vurderingen står ved magt"})
    with Session(engine) as s:
        assert case_answers(s, world.odense[0])["plan_job_goal_concrete"] == "ja"
        entry = s.exec(select(AuditLog).where(AuditLog.entity == "answer", AuditLog.username == "bo",
                                              AuditLog.reason.like("remark%"))).one()
        assert (entry.old_value, entry.new_value) == ("nej", "ja")
    page = od.get(f"/hearing/cases/{world.odense[0]}").text
    assert "Accepted</strong>: Enig" in page and "Assessment maintained</strong>: Vurderingen står ved magt" in page
    assert 'data-testid="value-plan_job_goal_concrete">Yes<' in page


def test_after_the_deadline_the_forms_are_gone_and_posts_are_refused(engine, world, client_for):
    _open_round(client_for, world)
    with Session(engine) as s:
        rnd = s.exec(select(HearingRound)).one()
        rnd.deadline = datetime.now(timezone.utc) - timedelta(minutes=1)
        s.add(rnd)
        s.commit()
    od, token = client_for(world.odense_user)
    page = od.get(f"/hearing/cases/{world.odense[0]}").text
    assert "has passed; no new remarks can be written" in page and "remark-form" not in page
    assert 'data-testid="deadline-passed"' in od.get("/hearing").text
    resp = od.post(f"/hearing/cases/{world.odense[0]}/remarks", data={"csrf_token": token, "text": "for sent"})
    assert "has passed" in resp.text
    resp = od.post(f"/hearing/rounds/{_round_id(engine)}/submit", data={"csrf_token": token})
    assert "has passed" in resp.text
    with Session(engine) as s:
        assert s.exec(select(Remark)).all() == []


def test_isolation_between_two_municipalities_in_the_same_round(engine, world, client_for):
    _open_round(client_for, world)
    kbh, ktoken = client_for(world.kbh_user)
    kbh.post(f"/hearing/cases/{world.kbh[0]}/remarks", data={"csrf_token": ktoken, "text": "Københavns kladde"})
    with Session(engine) as s:
        kbh_remark = s.exec(select(Remark)).one()
    od, token = client_for(world.odense_user)
    rid = _round_id(engine)
    b_case = world.kbh[0]
    # pages, remark posts (forged case id), edits/deletes of B's remark, downloads: all 404
    assert od.get(f"/hearing/cases/{b_case}").status_code == 404
    assert od.get(f"/hearing/cases/{b_case + 1000}").status_code == 404
    assert "København" not in od.get(f"/hearing/cases/{b_case}").text
    assert od.post(f"/hearing/cases/{b_case}/remarks",
                   data={"csrf_token": token, "text": "forged", "item": "direction"}).status_code == 404
    assert od.post(f"/hearing/remarks/{kbh_remark.id}/edit",
                   data={"csrf_token": token, "text": "overwritten"}).status_code == 404
    assert od.post(f"/hearing/remarks/{kbh_remark.id}/delete", data={"csrf_token": token}).status_code == 404
    assert od.get(f"/hearing/export/{world.audit_id}/København/hearing.xlsx").status_code == 404
    assert od.get(f"/hearing/export/{world.audit_id}/K%C3%B8benhavn/feedback.xlsx").status_code == 404
    # Aarhus is not in the round at all: its case does not exist for Odense either
    assert od.get(f"/hearing/cases/{world.aarhus[0]}").status_code == 404
    # Odense's submission submits Odense's drafts only; København's draft stays a draft
    od.post(f"/hearing/cases/{world.odense[0]}/remarks", data={"csrf_token": token, "text": "Odense"})
    od.post(f"/hearing/rounds/{rid}/submit", data={"csrf_token": token})
    with Session(engine) as s:
        remarks = {r.text: r.status for r in s.exec(select(Remark)).all()}
    assert remarks == {"Københavns kladde": "draft", "Odense": "submitted"}
    # the portal and the workbook show only Odense's cases and remarks
    portal = od.get("/hearing").text
    assert "Københavns kladde" not in portal and f"/hearing/cases/{b_case}\"" not in portal
    resp = od.get(f"/hearing/export/{world.audit_id}/Odense/hearing.xlsx")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/vnd.openxml")
    wb = load_workbook(BytesIO(resp.content))
    assert wb.sheetnames == ["Assessments", "Remarks"]        # the reader's language (English here)
    case_ids = {r[0] for r in wb["Assessments"].iter_rows(min_row=5, values_only=True)}
    assert case_ids == set(world.odense)
    assert "Københavns" not in str(list(wb["Remarks"].values))
    # a municipality not in the round cannot submit in it
    assert kbh.post(f"/hearing/rounds/{rid + 99}/submit", data={"csrf_token": ktoken}).status_code == 404


def test_downloads_admin_gets_all_auditor_none_feedback_only_after_lock(engine, world, client_for):
    admin, token = _open_round(client_for, world)
    for m in ("Odense", "København"):
        assert admin.get(f"/hearing/export/{world.audit_id}/{m}/hearing.xlsx").status_code == 200
    resp = admin.get(f"/hearing/export/{world.audit_id}/København/hearing.xlsx")
    assert "Revision_2022_Koebenhavn_hoering.xlsx" in resp.headers["content-disposition"]
    assert admin.get(f"/hearing/export/{world.audit_id}/Odense/feedback.xlsx").status_code == 409
    auditor, _ = client_for(world.auditor)
    assert auditor.get(f"/hearing/export/{world.audit_id}/Odense/hearing.xlsx").status_code == 403
    admin.post(f"/hearing/admin/{world.audit_id}/lock", data={"csrf_token": token, "force": "1"})
    od, otoken = client_for(world.odense_user)
    resp = od.get(f"/hearing/export/{world.audit_id}/Odense/feedback.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(BytesIO(resp.content))["Feedback"]
    assert ws["A1"].value == "Revision 2022: feedback to Odense"
    # a reader who chose Danish gets it in Danish (the language of the session, docs/i18n.md)
    od.post("/account/language", data={"csrf_token": otoken, "language": "da"})
    ws = load_workbook(BytesIO(od.get(f"/hearing/export/{world.audit_id}/Odense/feedback.xlsx").content)).active
    assert ws.title == "Tilbagemelding" and ws["A1"].value == "Revision 2022: tilbagemelding til Odense"


def test_locked_answers_cannot_change_through_the_api_or_the_queue(engine, world, client_for):
    import pytest

    from audit.review.answers import LockedError, set_answer

    _open_round(client_for, world)
    od, token = client_for(world.odense_user)
    od.post(f"/hearing/cases/{world.odense[0]}/remarks",
            data={"csrf_token": token, "item": "direction", "text": "fritaget", "proposed": "fritaget"})
    od.post(f"/hearing/rounds/{_round_id(engine)}/submit", data={"csrf_token": token})
    admin, atoken = client_for(world.admin)
    admin.post(f"/hearing/admin/{world.audit_id}/lock", data={"csrf_token": atoken, "force": "1"})
    with Session(engine) as s:
        remark = s.exec(select(Remark)).one()
        assert s.get(Audit, world.audit_id).locked_at is not None
        case = s.get(Case, world.odense[0])
        with pytest.raises(LockedError):
            set_answer(s, case=case, item="direction", value="fritaget", user=world.admin)
    resp = admin.post(f"/api/hearing/remarks/{remark.id}/respond", json={"decision": "accepted", "value": "fritaget"},
                      headers={"X-CSRF-Token": atoken, "accept": "application/json"})
    assert resp.status_code == 409 and "locked" in resp.json()["detail"]
    resp = admin.post(f"/hearing/remarks/{remark.id}/respond",
                      data={"csrf_token": atoken, "decision": "accepted", "value": "fritaget"})
    assert "locked" in resp.text
    with Session(engine) as s:
        assert case_answers(s, world.odense[0])["direction"] == "jobrettet"
        assert s.get(Remark, remark.id).status == "submitted"
    # the case page says why there is no form
    page = od.get(f"/hearing/cases/{world.odense[0]}").text
    assert "was locked on" in page and "remark-form" not in page
    assert re.search(r"Case \d+: the auditor", page)


def test_lock_page_warns_about_cases_not_reviewed_with_links(engine, world, client_for):
    """Cases never reviewed and cases begun are counted and linked (the work list filtered by
    status); they warn, the lock does not need force for them, and the CLI prints them too."""
    from click.testing import CliRunner

    from audit.cli import main

    all_ids = world.odense + world.kbh + world.aarhus
    with Session(engine) as s:
        case_ids = world.kbh            # one begun, one never reviewed
        for case_id, status in zip(case_ids, ("in_progress", "not_started")):
            case = s.get(Case, case_id)
            case.status = status
            s.add(case)
        s.commit()
        statuses = [s.get(Case, i).status for i in all_ids]
    never = statuses.count("not_started")
    assert never >= 1
    admin, token = client_for(world.admin)
    page = admin.get(f"/hearing/admin?audit_id={world.audit_id}").text
    assert f"{never + 1} cases are not reviewed." in page
    assert re.search(rf'href="/review\?audit_id={world.audit_id}&amp;status=not_started" '
                     rf'data-testid="unreviewed-never">{never} cases? never reviewed', page)
    assert re.search(r'data-testid="unreviewed-begun">1 case begun but not completed', page)
    assert f"with {never + 1} cases not reviewed?" in page          # the confirmation says so too
    listed = admin.get(f"/review?audit_id={world.audit_id}&status=not_started").text
    assert listed.count('href="/review/cases/') >= never
    result = CliRunner().invoke(main, ["hearing", "lock", "--audit", "Revision 2022"])
    assert result.exit_code == 0, result.output
    assert f"warning: {never} case(s) never reviewed" in result.output
    assert f"warning: 1 case(s) begun but not completed: {case_ids[0]}" in result.output


def test_portal_shows_own_citizens_ids_logged_confirms_in_place_and_keeps_closed_rounds(engine, world, client_for):
    from audit.models import AccessCase, AccessLog

    _open_round(client_for, world)
    od, token = client_for(world.odense_user)
    portal = od.get("/hearing").text
    # Odense's persons are p0..p2, København's p3, p4 (tests/hearing/world.py)
    for k, cid in enumerate(world.odense):
        assert f'data-testid="person-{cid}">p{k}<' in portal
    assert ">p3<" not in portal and ">p4<" not in portal
    with Session(engine) as s:
        entry = s.exec(select(AccessLog).where(AccessLog.what == "hearing overview (person ids)")
                       .order_by(AccessLog.id.desc())).first()   # each view of the portal is an entry
        assert (entry.username, entry.kind, entry.n_cases) == ("odense", "view", 3)
        logged = s.exec(select(AccessCase.person_id).where(AccessCase.access_id == entry.id)).all()
        assert sorted(logged) == ["p0", "p1", "p2"]
    page = od.get(f"/hearing/cases/{world.odense[0]}").text
    assert re.search(r'data-testid="person-id">[^<]*<strong>p0</strong>', page)
    # a saved draft is confirmed next to its item (announced, focusable), not at the top
    resp = od.post(f"/hearing/cases/{world.odense[0]}/remarks",
                   data={"csrf_token": token, "item": "plan_job_goal_concrete", "text": "Konkret jobmål", "proposed": "ja"})
    row = resp.text.split('data-testid="item-plan_job_goal_concrete"', 1)[1].split("</tr>", 1)[0]
    assert "Remark saved as a draft" in row and "data-confirmation" in row and 'role="status"' in row
    assert resp.text.count("Remark saved as a draft") == 1
    assert 'data-unsaved-warning' in resp.text          # a half-typed remark warns before leaving (app.js)
    # the round closes: it stays on the portal with its cases, readable, not writable
    admin, atoken = client_for(world.admin)
    admin.post(f"/hearing/admin/rounds/{_round_id(engine)}/close", data={"csrf_token": atoken})
    portal = od.get("/hearing").text
    assert 'data-testid="open-round"' not in portal
    earlier = portal.split('data-testid="earlier-round"', 1)[1].split("</section>", 1)[0]
    assert all(f'href="/hearing/cases/{cid}"' in earlier for cid in world.odense) and ">p0<" in earlier
    page = od.get(f"/hearing/cases/{world.odense[0]}")
    assert page.status_code == 200 and 'data-testid="closed-why"' in page.text
    assert "Konkret jobmål" in page.text and 'data-testid="remark-form-case"' not in page.text
    # the other municipality never sees Odense's citizens
    kb, _ = client_for(world.kbh_user)
    assert ">p0<" not in kb.get("/hearing").text
    assert kb.get(f"/hearing/cases/{world.odense[0]}").status_code == 404
