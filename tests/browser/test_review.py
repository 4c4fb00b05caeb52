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
from tests.review.conftest import make_review_audit, use_stand_in_if_needed


@pytest.fixture
def world(engine, make_user, monkeypatch):  # type: ignore[no-untyped-def]
    w = make_review_audit(engine, make_user)
    use_stand_in_if_needed(monkeypatch, w.instrument)
    return w


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

    concrete = page.locator("#item-plan_job_goal_concrete")
    expect(concrete).to_be_hidden()
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

    # everything but two required items filled in the database; the auditor answers the last two here
    with Session(engine) as s:
        from tests.review.fill import fill_required
        from audit.review.answers import case_answers
        from audit.review.instrument import instrument_for
        from audit.models import Audit
        case = s.get(Case, cid)
        inst = instrument_for(s.get(Audit, case.audit_id))
        todo = [n for n in inst.missing_required(case_answers(s, cid))
                if inst.item(n).level == "case" and _is_choice(inst.item(n))]
        leave = tuple(todo[:2])
        fill_required(s, case, skip=leave)
        s.commit()
    page.reload()
    for name in leave:
        page.locator(f"#item-{name} input[name=value]").first.check()
        _saved(page, name)
    page.get_by_test_id("complete").click()
    expect(page.get_by_test_id("case-status")).to_have_text("completed")
    expect(page.get_by_test_id("readonly")).to_be_visible()


def _is_choice(item) -> bool:  # type: ignore[no-untyped-def]
    from audit.review.instrument import kind
    return kind(item) in ("yes_no", "yes_no_na", "single", "multiple") and len(item.choices or "xx") <= 8


def test_second_tab_gets_a_clear_conflict_and_overwrites_nothing(live_server, page, world):
    cid = world.case_ids[0]
    browser_login(page, live_server, "bo", PASSWORD)
    page.goto(f"{live_server}/review/cases/{cid}")
    other = page.context.new_page()
    other.goto(f"{live_server}/review/cases/{cid}")
    _radio(page, "plan_job_goal", "ja").check()
    _saved(page, "plan_job_goal")
    _radio(other, "plan_job_goal", "nej").check()
    expect(other.get_by_test_id("conflict")).to_be_visible()
    expect(other.locator("#status-plan_job_goal")).to_contain_text("Not saved")
    page.reload()
    expect(_radio(page, "plan_job_goal", "ja")).to_be_checked()
    other.close()


def test_municipality_user_cannot_open_the_form(live_server, page, world):
    browser_login(page, live_server, "odense", PASSWORD)
    own, foreign = world.case_ids[0], world.case_ids[3]
    response = page.goto(f"{live_server}/review/cases/{own}")
    assert response.status in (403, 404)
    expect(page.locator("form.answer")).to_have_count(0)
    response = page.goto(f"{live_server}/review/cases/{foreign}")
    assert response.status == 404
