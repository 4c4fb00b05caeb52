"""An auditor reviews a case end to end in headless Chromium: skip logic live,
autosave, reload, completion; a second tab gets a clear conflict; a
municipality user cannot open the form."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from audit.models import Case
from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD
from tests.review.conftest import fresh_instrument_cache, make_review_audit


@pytest.fixture
def world(engine, make_user):  # type: ignore[no-untyped-def]
    fresh_instrument_cache()
    return make_review_audit(engine, make_user)


def _radio(page, item: str, value: str):  # type: ignore[no-untyped-def]
    return page.locator(f"#item-{item} input[type=radio][value={value}]")


def _saved(page, item: str) -> None:  # type: ignore[no-untyped-def]
    expect(page.locator(f"#status-{item}")).to_contain_text("Saved")


def test_auditor_reviews_a_case_end_to_end(live_server, page, world, engine):
    cid = world.case_ids[0]
    browser_login(page, live_server, "bo", PASSWORD)
    page.get_by_role("link", name=f"Case {cid}").click()
    expect(page.locator("h1")).to_contain_text(f"Case {cid}")
    expect(page.get_by_test_id("facts")).to_contain_text("Odense")

    goal = page.locator("#item-plan_job_goal")
    concrete = page.locator("#item-plan_job_goal_concrete")
    expect(goal).to_be_hidden()
    expect(concrete).to_be_hidden()
    _radio(page, "plan_exists", "ja").check()             # the citizen has a plan: the job-goal item appears
    _saved(page, "plan_exists")
    expect(goal).to_be_visible()
    _radio(page, "plan_job_goal", "ja").check()
    _saved(page, "plan_job_goal")
    expect(concrete).to_be_visible()                      # the skipped item appears
    _radio(page, "plan_job_goal_concrete", "ja").check()
    _saved(page, "plan_job_goal_concrete")
    # a note typed in one go, then answers in quick succession: no keystroke and no answer lost
    note = page.locator("#item-plan_job_goal details.note")
    note.locator("summary").click()
    page.locator("#note-plan_job_goal").press_sequentially("Jobmål: lagerarbejde, aftalt 2019-05", delay=15)
    expect(page.locator("#status-plan_job_goal")).to_contain_text("Saved")
    page.wait_for_timeout(1200)
    _radio(page, "plan_job_goal", "nej").check()
    _saved(page, "plan_job_goal")
    expect(concrete.locator("input")).to_have_count(0)     # the item disappears from the form ...
    expect(concrete).to_contain_text("Answer kept but not counted: this item does not apply")  # ... kept, said so
    _radio(page, "plan_job_goal", "ja").check()
    _saved(page, "plan_job_goal")
    expect(_radio(page, "plan_job_goal_concrete", "ja")).to_be_checked()   # comes back with its kept answer
    expect(page.get_by_test_id("conflict")).to_have_count(0)

    page.reload()
    expect(_radio(page, "plan_exists", "ja")).to_be_checked()
    expect(_radio(page, "plan_job_goal", "ja")).to_be_checked()
    expect(_radio(page, "plan_job_goal_concrete", "ja")).to_be_checked()
    expect(page.locator("#note-plan_job_goal")).to_have_value("Jobmål: lagerarbejde, aftalt 2019-05")

    # complete with required items missing: listed with links
    page.get_by_test_id("complete").click()
    missing = page.get_by_test_id("missing")
    expect(missing).to_be_visible()
    links = missing.locator("a")
    assert links.count() >= 1
    first_missing = links.first.get_attribute("href")
    assert first_missing.startswith("#item-")

    # every required item filled in the database, then two that nothing else depends on cleared
    # again: the auditor answers those two here
    with Session(engine) as s:
        from audit.models import Audit
        from audit.review.answers import case_answers, set_answer
        from audit.review.instrument import instrument_for
        from tests.review.fill import fill_required
        case = s.get(Case, cid)
        inst = instrument_for(s.get(Audit, case.audit_id))
        fill_required(s, case)
        answers = case_answers(s, cid)
        leave = {}
        for name, value in answers.items():
            item = inst.item(name)
            if not (item.required and _is_single_choice(item)) or name.startswith("plan_"):
                continue
            rest = {k: v for k, v in answers.items() if k != name and k not in leave}
            missing = {n for n in inst.missing_required(rest) if inst.item(n).level == "case"}
            if missing == {*leave, name}:
                leave[name] = value
            if len(leave) == 2:
                break
        assert len(leave) == 2, "two independent required choice items"
        for name in leave:
            set_answer(s, case=case, item=name, value=None, user=None, instrument=inst)
        s.commit()
    page.reload()
    for name, value in leave.items():
        _radio(page, name, value).check()
        _saved(page, name)
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("case-status")).to_have_text("completed")
    expect(page.get_by_test_id("readonly")).to_be_visible()


def _is_single_choice(item) -> bool:  # type: ignore[no-untyped-def]
    return item.kind in ("yes_no", "yes_no_na", "single") and len(item.codes) <= 8


def test_second_tab_gets_a_clear_conflict_and_overwrites_nothing(live_server, page, world):
    cid = world.case_ids[0]
    browser_login(page, live_server, "bo", PASSWORD)
    page.goto(f"{live_server}/review/cases/{cid}")
    other = page.context.new_page()
    other.goto(f"{live_server}/review/cases/{cid}")
    _radio(page, "plan_exists", "ja").check()
    _saved(page, "plan_exists")
    _radio(other, "plan_exists", "nej").check()
    expect(other.get_by_test_id("conflict")).to_be_visible()
    expect(other.locator("#status-plan_exists")).to_contain_text("Not saved")
    page.reload()
    expect(_radio(page, "plan_exists", "ja")).to_be_checked()
    other.close()


def test_municipality_user_cannot_open_the_form(live_server, page, world):
    browser_login(page, live_server, "odense", PASSWORD)
    own, foreign = world.case_ids[0], world.case_ids[3]
    response = page.goto(f"{live_server}/review/cases/{own}")
    assert response.status in (403, 404)
    expect(page.locator("form.answer")).to_have_count(0)
    response = page.goto(f"{live_server}/review/cases/{foreign}")
    assert response.status == 404
