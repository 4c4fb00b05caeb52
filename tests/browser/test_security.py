"""In headless Chromium under the app's own Content-Security-Policy: the pages run
without a single CSP violation or script error (every script is a file; htmx injects
no style), Swagger UI works behind login, and a free-text answer shaped like markup is
shown as text on /stats: no element is injected and nothing runs."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from audit.models import Case
from audit.review.answers import set_answer
from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD
from tests.hearing.world import use_instrument
from tests.web.world import make_web_world

PAYLOAD = "<img src=x onerror=alert(1)>"


@pytest.fixture
def world(engine, make_user, monkeypatch):  # type: ignore[no-untyped-def]
    w = make_web_world(engine, make_user)
    use_instrument(monkeypatch, w.hearing.instrument)
    return w


def _watch(page) -> list[str]:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" or "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    return problems


def test_pages_run_under_the_csp_without_violations(live_server, page, world):
    problems = _watch(page)
    browser_login(page, live_server, "ada", PASSWORD)
    aarhus = world.hearing.aarhus[0]
    for path in ("/admin", "/review", f"/review/cases/{aarhus}", f"/review/municipalities/{world.audit_id}/Aarhus",
                 "/hearing/admin", "/hearing/remarks", "/stats", "/sampling", "/exports", "/admin/log"):
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
    # htmx autosave works, and keeps working with no inline script or style
    page.goto(f"{live_server}/review/cases/{aarhus}")
    page.locator("#item-direction input[type=radio][value=jobrettet]").check()
    expect(page.locator("#status-direction")).to_contain_text("Saved")
    assert page.locator("head style").count() == 0          # htmx was told not to add its indicator style
    # the audit picker submits on change through the script file, not an onchange attribute
    page.goto(f"{live_server}/hearing/admin")
    with page.expect_navigation():
        page.locator("select[name=audit_id]").select_option(str(world.empty_audit_id))
    assert f"audit_id={world.empty_audit_id}" in page.url
    assert problems == []


def test_swagger_ui_works_behind_login_under_the_csp(live_server, page, world):
    problems = _watch(page)
    page.goto(f"{live_server}/docs")
    expect(page.locator("input[name=username]")).to_be_visible()     # sent to the login page first
    page.fill("input[name=username]", "odense")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Case-file audit", timeout=20_000)
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert [p for p in problems if "Content Security Policy" in p or "page error" in p] == []


def test_markup_typed_as_an_answer_stays_text_on_stats(live_server, page, world, engine):
    with Session(engine) as s:
        case = s.get(Case, world.hearing.kbh[0])
        set_answer(s, case=case, item="has_challenges", value="ja", user=None)
        set_answer(s, case=case, item="challenges", value=["andet"], user=None)
        set_answer(s, case=case, item="challenges_other_text", value=PAYLOAD, user=None)
        s.commit()
    problems = _watch(page)
    browser_login(page, live_server, "ada", PASSWORD)
    for row, col in (("challenges_other_text", "stable_participation"),
                     ("stable_participation", "challenges_other_text")):
        page.goto(f"{live_server}/stats?audit_id={world.audit_id}&row={row}&col={col}")
        chart = page.locator("svg[role=img]")
        expect(chart).to_be_visible()
        assert PAYLOAD in chart.text_content()
        assert page.locator("img").count() == 0 and page.locator("svg img, svg foreignObject").count() == 0
    assert problems == []
