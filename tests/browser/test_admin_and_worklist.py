"""In Chromium, in Danish: the admin creates an audit and a user without the command line;
an auditor filters the work list, goes to the next case, and sees a refused choice revert;
a slow download shows it is being prepared. axe-core on the new pages in Danish and English."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from audit.models import Audit, User
from tests.browser.conftest import browser_login
from tests.browser.test_accessibility import axe_violations, describe
from tests.conftest import PASSWORD
from tests.review.conftest import fresh_instrument_cache, make_review_audit

pytestmark = pytest.mark.danish
NEW_PASSWORD = "Grøn-Kaffekande-17"


@pytest.fixture
def world(engine, make_user):  # type: ignore[no-untyped-def]
    fresh_instrument_cache()
    return make_review_audit(engine, make_user)


def _no_violations(page) -> None:  # type: ignore[no-untyped-def]
    found = axe_violations(page)
    assert found == [], f"{page.url}\n{describe(found)}"


def test_admin_creates_an_audit_and_a_user_in_danish(live_server, page, world, engine):  # type: ignore[no-untyped-def]
    browser_login(page, live_server, world.admin.username, PASSWORD)
    page.goto(f"{live_server}/admin")
    assert page.locator("html").get_attribute("lang") == "da"
    _no_violations(page)
    form = page.get_by_test_id("new-audit-form")
    form.locator("input[name=name]").fill("Kontanthjælp 2026")
    form.locator("input[name=period_start]").fill("2024-03-01")
    form.locator("input[name=period_end]").fill("2026-02-28")
    form.locator("input[name=reference_date]").fill("2025-01-01")      # before the period's end: refused
    form.get_by_test_id("municipalities").select_option(["Odense", "Vejle"])
    form.get_by_role("button", name="Opret revision").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("audit-refused")).to_contain_text("skæringsdato")   # in Danish
    expect(page.locator("input[name=name]")).to_have_value("Kontanthjælp 2026")    # what was typed is kept
    assert page.get_by_test_id("municipalities").evaluate(
        "s => Array.from(s.selectedOptions).map(o => o.value)") == ["Odense", "Vejle"]
    _no_violations(page)
    page.locator("input[name=reference_date]").fill("2026-03-01")
    page.get_by_role("button", name="Opret revision").click()
    page.wait_for_load_state("networkidle")
    assert "/sampling?audit_id=" in page.url                                         # next step: the register
    expect(page.locator("main")).to_contain_text("Revisionen Kontanthjælp 2026 er oprettet")
    with Session(engine) as s:
        audit = s.exec(select(Audit).where(Audit.name == "Kontanthjælp 2026")).one()
        assert audit.instrument_version and audit.municipalities_json == '["Odense", "Vejle"]'
    page.goto(f"{live_server}/admin/audits/{audit.id}")
    _no_violations(page)

    page.goto(f"{live_server}/admin/users")
    assert "audit users" not in page.locator("main").inner_text()
    _no_violations(page)
    form = page.get_by_test_id("new-user-form")
    form.locator("input[name=username]").fill("vejle1")
    form.locator("input[name=full_name]").fill("Vera Vejle")
    form.get_by_test_id("role").select_option("municipality")
    form.get_by_test_id("municipality").select_option("Vejle")
    form.locator("input[name=password]").fill("sommerfugl2024")
    form.locator("input[name=confirm]").fill("sommerfugl2024")
    form.get_by_role("button", name="Opret bruger").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("user-refused")).to_be_visible()                     # a common password
    expect(page.locator("input[name=username]")).to_have_value("vejle1")
    _no_violations(page)
    page.locator("input[name=password]").fill(NEW_PASSWORD)
    page.locator("input[name=confirm]").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Opret bruger").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("main")).to_contain_text("Brugeren vejle1 er oprettet")
    _no_violations(page)                                                             # the user's page
    with Session(engine) as s:
        vejle = s.exec(select(User).where(User.username == "vejle1")).one()
        assert (vejle.role, vejle.municipality) == ("municipality", "Vejle")
    # and in English
    page.get_by_test_id("language-en").click()
    page.wait_for_load_state("networkidle")
    for url in ("/admin", f"/admin/audits/{audit.id}", "/admin/users", f"/admin/users/{vejle.id}"):
        page.goto(live_server + url)
        assert page.locator("html").get_attribute("lang") == "en"
        _no_violations(page)


def test_auditor_filters_goes_to_the_next_case_and_a_refused_choice_reverts(live_server, page, world):  # type: ignore[no-untyped-def]
    first, second, third = world.case_ids[:3]          # bo's Odense cases: bands 5-7, 7-10, 10+
    browser_login(page, live_server, world.auditor.username, PASSWORD)
    page.goto(f"{live_server}/review")
    _no_violations(page)
    page.get_by_test_id("filter-band").select_option("7-10")
    page.get_by_test_id("filters").get_by_role("button", name="Vis").click()
    page.wait_for_load_state("networkidle")
    links = page.get_by_test_id("worklist").locator("a[href^='/review/cases/']")
    expect(links).to_have_count(1)
    expect(page.get_by_test_id("row-count")).to_have_text("(1)")
    _no_violations(page)
    page.get_by_test_id("filter-band").select_option("")
    page.get_by_test_id("sort").select_option("case")
    page.get_by_test_id("filters").get_by_role("button", name="Vis").click()
    page.wait_for_load_state("networkidle")
    expect(links).to_have_count(3)
    links.first.click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("h1")).to_contain_text(f"Sag {first}")
    expect(page.get_by_test_id("overall")).to_contain_text("obligatoriske")
    page.get_by_test_id("next-case").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("h1")).to_contain_text(f"Sag {second}")
    _no_violations(page)

    # the rules refuse a main challenge that is not among the ticked ones: the choice reverts
    page.locator("#item-has_challenges input[value=ja]").check()
    expect(page.locator("#status-has_challenges")).to_contain_text("Gemt")
    page.locator("#item-challenges input[value=misbrug]").check()
    expect(page.locator("#status-challenges")).to_contain_text("Gemt")
    page.locator("#item-main_challenge input[value=misbrug]").check()
    expect(page.locator("#status-main_challenge")).to_contain_text("Gemt")
    page.locator("#item-main_challenge input[value=psykiske]").check()
    expect(page.locator("#status-main_challenge")).to_contain_text("Ikke gemt")
    expect(page.locator("#item-main_challenge input[value=psykiske]")).not_to_be_checked()
    expect(page.locator("#item-main_challenge input[value=misbrug]")).to_be_checked()
    # the reverted control still saves
    page.locator("#item-challenges input[value=psykiske]").check()
    expect(page.locator("#status-challenges")).to_contain_text("Gemt")
    page.locator("#item-main_challenge input[value=psykiske]").check()
    expect(page.locator("#status-main_challenge")).to_contain_text("Gemt")
    page.reload()
    expect(page.locator("#item-main_challenge input[value=psykiske]")).to_be_checked()
    # English
    page.get_by_test_id("language-en").click()
    page.wait_for_load_state("networkidle")
    for url in ("/review", f"/review/cases/{third}"):
        page.goto(live_server + url)
        assert page.locator("html").get_attribute("lang") == "en"
        _no_violations(page)


def test_a_download_shows_it_is_being_prepared(live_server, page, world):  # type: ignore[no-untyped-def]
    browser_login(page, live_server, world.admin.username, PASSWORD)
    page.goto(f"{live_server}/exports")
    _no_violations(page)
    button = page.get_by_test_id(f"download-{world.audit_id}-data.csv")
    # hold the response back so the waiting state can be seen
    page.route(re.compile(r".*/exports/\d+/data\.csv$"),
               lambda route: (page.wait_for_timeout(800), route.continue_()))
    with page.expect_download() as info:
        button.click()
        expect(button).to_be_disabled()
        expect(button).to_have_attribute("aria-busy", "true")
        expect(button.locator("xpath=following-sibling::span[@role='status']")).to_have_text("Filen forberedes…")
    assert info.value.suggested_filename.endswith(".csv")
    expect(button).to_be_enabled()
    expect(button).not_to_have_attribute("aria-busy", "true")
    expect(button.locator("xpath=following-sibling::span[@role='status']")).to_have_text("Hentet.")
