"""The whole comment round in Chromium, for two municipalities at once: the admin
opens it, Odense and København (separate browser contexts) each see only their
own cases, write a remark (Odense with a proposed answer), save it as a draft and
submit; the auditor accepts one and maintains the other; each municipality sees
its response; the admin closes the round and locks the audit; the answer can then
no longer be changed through set_answer or the API."""
from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from audit.models import Audit, Case, HearingRound, Remark
from audit.review.answers import LockedError, case_answers, set_answer
from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD
from tests.hearing.world import make_world, use_instrument


def _context_page(browser, base: str, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    browser_login(page, base, username, PASSWORD)
    return context, page


def _remark(page, base: str, case_id: int, item: str | None, text: str, proposed: str | None = None) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/hearing/cases/{case_id}")
    if item:
        page.locator(f"[data-testid=item-{item}] summary", has_text="Add a remark").click()
        form = page.get_by_test_id(f"remark-form-{item}")
        form.locator("textarea[name=text]").fill(text)
        if proposed:
            form.locator("select[name=proposed]").select_option(proposed)
    else:
        form = page.get_by_test_id("remark-form-case")
        form.locator("textarea[name=text]").fill(text)
    form.get_by_role("button", name="Save draft").click()
    page.wait_for_load_state("networkidle")
    assert "Remark saved as a draft" in page.get_by_test_id("flash").inner_text()


def _submit_all(page, base: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/hearing")
    messages = []
    page.once("dialog", lambda d: (messages.append(d.message), d.accept()))
    page.get_by_test_id("submit-all").click()
    page.wait_for_load_state("networkidle")
    assert "Submit 1 remark to the auditors?" in messages[0]
    assert "1 remark(s) submitted" in page.get_by_test_id("flash").inner_text()
    assert page.get_by_test_id("submitted").is_visible()


def test_whole_round_for_two_municipalities(live_server, browser, engine, make_user, monkeypatch):
    world = make_world(engine, make_user)
    use_instrument(monkeypatch, world.instrument)
    base = live_server
    contexts = []
    try:
        # --- admin opens the round for both municipalities
        ctx, admin = _context_page(browser, base, "ada")
        contexts.append(ctx)
        admin.goto(f"{base}/hearing/admin?audit_id={world.audit_id}")
        assert admin.locator("h1").inner_text() == "Comment rounds"
        form = admin.get_by_test_id("open-round")
        form.get_by_label("Odense").check()
        form.get_by_label("København").check()
        assert form.get_by_label("Aarhus").count() == 0      # no completed cases: not offered
        form.locator("input[name=deadline]").fill("2099-06-01")
        form.get_by_role("button", name="Open round").click()
        admin.wait_for_load_state("networkidle")
        assert "Round 1 is open for København, Odense until 2099-06-01 23:59 UTC" in admin.get_by_test_id("flash").inner_text()
        assert "not yet" in admin.get_by_test_id("status-Odense").inner_text()

        # --- both municipalities log in at the same time, each sees only its own cases
        ctx, odense = _context_page(browser, base, "odense")
        contexts.append(ctx)
        ctx, kbh = _context_page(browser, base, "kbh")
        contexts.append(ctx)
        assert odense.url == f"{base}/hearing" and kbh.url == f"{base}/hearing"
        od_links = odense.get_by_test_id("cases").locator("a").all_inner_texts()
        kbh_links = kbh.get_by_test_id("cases").locator("a").all_inner_texts()
        assert od_links == [f"Case {i}" for i in world.odense]
        assert kbh_links == [f"Case {i}" for i in world.kbh]
        # a guessed URL of the other municipality's case is not found
        assert odense.goto(f"{base}/hearing/cases/{world.kbh[0]}").status == 404
        assert kbh.goto(f"{base}/hearing/cases/{world.odense[0]}").status == 404

        # --- Odense: a remark on one item with a proposed answer; København: one on the whole case
        odense.goto(f"{base}/hearing/cases/{world.odense[0]}")
        assert odense.get_by_test_id("value-direction").inner_text() == "Job-oriented towards the ordinary labour market"
        assert odense.get_by_test_id("value-plan_job_goal_concrete").inner_text() == "No"
        _remark(odense, base, world.odense[0], "plan_job_goal_concrete",
                "Jobmålet 'butiksassistent' er konkret, se plan af 3.2.2020", proposed="ja")
        assert odense.get_by_test_id("drafts").is_visible()
        _remark(kbh, base, world.kbh[1], None, "Borgeren deltog i praktik i 2019, det fremgår af journalen")
        _submit_all(odense, base)
        _submit_all(kbh, base)
        odense.goto(f"{base}/hearing/cases/{world.odense[0]}")
        assert "can no longer be changed" in odense.get_by_test_id("closed-why").inner_text()
        assert odense.get_by_test_id("remark-form-case").count() == 0

        admin.goto(f"{base}/hearing/admin?audit_id={world.audit_id}")
        assert "submitted" in admin.get_by_test_id("status-Odense").inner_text()
        assert "submitted" in admin.get_by_test_id("status-København").inner_text()

        # --- the auditor answers: accepts Odense's, maintains København's
        with Session(engine) as s:
            od_remark = s.exec(select(Remark).where(Remark.case_id == world.odense[0])).one()
            kbh_remark = s.exec(select(Remark).where(Remark.case_id == world.kbh[1])).one()
        ctx, auditor = _context_page(browser, base, "bo")
        contexts.append(ctx)
        auditor.goto(f"{base}/hearing/remarks")
        assert auditor.get_by_test_id(f"current-{od_remark.id}").inner_text() == "No"
        assert auditor.get_by_test_id(f"proposed-{od_remark.id}").inner_text() == "Yes"
        form = auditor.get_by_test_id(f"respond-{od_remark.id}")
        form.get_by_label("Accept").check()
        assert form.locator("select[name=value]").input_value() == "ja"   # the proposal, editable
        form.locator("textarea[name=response]").fill("Enig, jobmålet er konkret")
        form.get_by_role("button", name="Send answer").click()
        auditor.wait_for_load_state("networkidle")
        assert f"Remark {od_remark.id} answered: accepted" in auditor.get_by_test_id("flash").inner_text()
        form = auditor.get_by_test_id(f"respond-{kbh_remark.id}")
        form.get_by_label("Maintain the assessment").check()
        form.get_by_role("button", name="Send answer").click()               # no reason: refused
        auditor.wait_for_load_state("networkidle")
        assert "needs a reason" in auditor.get_by_test_id("flash").inner_text()
        form = auditor.get_by_test_id(f"respond-{kbh_remark.id}")
        form.get_by_label("Maintain the assessment").check()
        form.locator("textarea[name=response]").fill("Praktikken lå før revisionsperioden")
        form.get_by_role("button", name="Send answer").click()
        auditor.wait_for_load_state("networkidle")
        assert auditor.get_by_test_id("queue-empty").is_visible()
        with Session(engine) as s:
            assert case_answers(s, world.odense[0])["plan_job_goal_concrete"] == "ja"

        # --- each municipality sees its response (and only its own)
        odense.goto(f"{base}/hearing/cases/{world.odense[0]}")
        assert odense.get_by_test_id(f"response-{od_remark.id}").inner_text() == "Auditor: Accepted: Enig, jobmålet er konkret"
        assert odense.get_by_test_id("value-plan_job_goal_concrete").inner_text() == "Yes"
        kbh.goto(f"{base}/hearing/cases/{world.kbh[1]}")
        assert kbh.get_by_test_id(f"response-{kbh_remark.id}").inner_text() == \
            "Auditor: Assessment maintained: Praktikken lå før revisionsperioden"
        assert "Enig, jobmålet" not in kbh.content()

        # --- the admin closes the round and locks the audit
        admin.goto(f"{base}/hearing/admin?audit_id={world.audit_id}")
        admin.once("dialog", lambda d: d.accept())
        admin.get_by_test_id("close-1").click()
        admin.wait_for_load_state("networkidle")
        assert "Round 1 is closed." in admin.get_by_test_id("flash").inner_text()
        admin.once("dialog", lambda d: d.accept())
        admin.get_by_test_id("lock").click()
        admin.wait_for_load_state("networkidle")
        assert "is locked; its answers are final" in admin.get_by_test_id("flash").inner_text()
        assert admin.get_by_test_id("locked").is_visible()

        # --- the answer can no longer change: not through set_answer, not through the API
        with Session(engine) as s:
            assert s.get(Audit, world.audit_id).locked_at is not None
            assert s.exec(select(HearingRound)).one().closed_at is not None
            case = s.get(Case, world.odense[0])
            assert case.status == "final"
            with pytest.raises(LockedError):
                set_answer(s, case=case, item="plan_job_goal_concrete", value="nej", user=world.admin)
        token = json.loads(admin.locator("body").get_attribute("hx-headers"))["X-CSRF-Token"]
        resp = admin.request.post(f"{base}/api/hearing/remarks/{od_remark.id}/respond",
                                  data={"decision": "accepted", "value": "nej"},
                                  headers={"X-CSRF-Token": token, "accept": "application/json"})
        assert resp.status == 409 and "locked" in resp.json()["detail"]
        with Session(engine) as s:
            assert case_answers(s, world.odense[0])["plan_job_goal_concrete"] == "ja"
        # the municipality's page now says the assessment is final; the feedback workbook is there
        odense.goto(f"{base}/hearing/cases/{world.odense[0]}")
        assert "locked" in odense.get_by_test_id("closed-why").inner_text()
        odense.goto(f"{base}/hearing")
        with odense.expect_download() as dl:
            odense.get_by_role("link", name="feedback workbook").first.click()
        assert dl.value.suggested_filename == "Revision_2022_Odense_tilbagemelding.xlsx"
    finally:
        for ctx in contexts:
            ctx.close()
