"""WCAG 2.1 A/AA on every page of every role, checked by axe-core in headless Chromium.

axe-core (Deque, MPL-2.0) comes with the `axe-playwright-python` package (its `axe.min.js`),
evaluated into each page through the browser's devtools protocol, so the app's
Content-Security-Policy (no inline or foreign script) stays as it is. A page passes when axe
reports no violation of a rule tagged wcag2a, wcag2aa, wcag21a or wcag21aa. The pages run in
the interface's default language, Danish; a few again in English after the switch.

Also here: the skip link is the first thing Tab reaches, and the footer links every page
to the accessibility statement.
"""
from __future__ import annotations

from importlib.resources import files

import pytest

from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD
from tests.hearing.world import use_instrument
from tests.web.world import make_web_world

pytestmark = pytest.mark.danish

AXE = files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[dict]:  # type: ignore[no-untyped-def]
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    return result["violations"]


def describe(violations: list[dict]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']}: "
                     + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5]) for v in violations)


def check(page, url: str, failures: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.wait_for_load_state("networkidle")
    found = axe_violations(page)
    if found:
        failures[url] = describe(found)


@pytest.fixture
def world(engine, make_user, monkeypatch):  # type: ignore[no-untyped-def]
    w = make_web_world(engine, make_user)
    use_instrument(monkeypatch, w.hearing.instrument)
    return w


def _pages(w, role: str) -> list[str]:  # type: ignore[no-untyped-def]
    a, h = w.audit_id, w.hearing
    case = h.odense[0]
    if role == "admin":
        return ["/admin", f"/sampling?audit_id={a}", f"/sampling?audit_id={w.empty_audit_id}", "/review",
                "/review/assign", f"/review/cases/{case}", f"/review/cases/{h.aarhus[0]}",
                f"/review/municipalities/{a}/Odense", f"/review/agreement/{a}",
                "/hearing/admin", "/hearing/remarks?status=all", f"/stats?audit_id={a}",
                f"/stats?audit_id={a}&row=direction&col=stable_participation&weighted=true&suppress=true",
                "/exports", "/admin/users", f"/admin/users/{h.auditor.id}", "/admin/log", "/admin/log/verify",
                "/admin/access", "/admin/access?person=p0", "/account", "/account/password", "/accessibility",
                "/no-such-page"]
    if role == "auditor":
        return ["/review", f"/review/cases/{case}", f"/review/cases/{h.aarhus[0]}",
                f"/review/municipalities/{a}/Aarhus", "/hearing/remarks", f"/stats?audit_id={a}", "/account",
                "/admin"]  # the last one: the "not allowed" page
    return ["/hearing", f"/hearing/cases/{case}", "/account", "/accessibility"]


@pytest.mark.parametrize("role", ["anonymous", "admin", "auditor", "municipality"])
def test_every_page_has_no_wcag_violation(live_server, page, world, role):  # type: ignore[no-untyped-def]
    failures: dict[str, str] = {}
    if role == "anonymous":
        for url in ("/login", "/accessibility", "/no-such-page"):
            check(page, live_server + url, failures)
        page.goto(live_server + "/login")
        page.fill("input[name=username]", "nobody")
        page.fill("input[name=password]", "wrong password")
        page.click("main button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert axe_violations(page) == [], describe(axe_violations(page))  # the refused log-in
    else:
        user = {"admin": world.admin, "auditor": world.auditor, "municipality": world.municipality}[role]
        browser_login(page, live_server, user.username, PASSWORD)
        for url in _pages(world, role):
            check(page, live_server + url, failures)
    assert failures == {}, "\n\n".join(f"{url}\n{text}" for url, text in failures.items())


def test_pages_after_switching_to_english(live_server, page, world):  # type: ignore[no-untyped-def]
    browser_login(page, live_server, world.admin.username, PASSWORD)
    page.get_by_test_id("language-en").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    failures: dict[str, str] = {}
    for url in (f"/review/cases/{world.hearing.odense[0]}", f"/sampling?audit_id={world.audit_id}",
                f"/stats?audit_id={world.audit_id}", "/hearing/admin", "/accessibility"):
        check(page, live_server + url, failures)
        assert page.locator("html").get_attribute("lang") == "en"
    assert failures == {}, "\n\n".join(f"{url}\n{text}" for url, text in failures.items())


def test_refused_forms_have_no_wcag_violation(live_server, page, world):  # type: ignore[no-untyped-def]
    """Pages in their error states: a case completed with items missing, a refused draw."""
    browser_login(page, live_server, world.auditor.username, PASSWORD)
    page.goto(f"{live_server}/review/cases/{world.hearing.aarhus[0]}")
    page.get_by_test_id("complete").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_test_id("missing").is_visible()
    assert axe_violations(page) == [], describe(axe_violations(page))


def test_skip_link_is_the_first_stop_and_the_footer_links_the_statement(live_server, page, world):  # type: ignore[no-untyped-def]
    for url, user in (("/login", None), ("/review", world.auditor), ("/hearing", world.municipality)):
        if user is not None:
            browser_login(page, live_server, user.username, PASSWORD)
        page.goto(live_server + url)
        first = page.evaluate("""() => { const el = document.querySelector(
            'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])');
            return [el.textContent.trim(), el.getAttribute('href')]; }""")
        assert first == ["Gå til indhold", "#content"], url  # first in the order Tab follows
        # from the top of the page (the login page focuses its field; a bare blur() would leave
        # Chromium's starting point for Tab at that field)
        page.evaluate("document.body.tabIndex = -1; document.body.focus(); document.body.removeAttribute('tabindex')")
        page.keyboard.press("Tab")
        focused = page.evaluate("[document.activeElement.textContent.trim(), document.activeElement.getAttribute('href')]")
        assert focused == ["Gå til indhold", "#content"], url
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "content"
        footer = page.locator("footer a[href='/accessibility']")
        assert footer.inner_text() == "Tilgængelighedserklæring"
        page.context.clear_cookies()  # the next user logs in afresh
    page.goto(live_server + "/accessibility")
    statement = page.get_by_test_id("accessibility-statement")
    assert "WCAG 2.1" in statement.inner_text() and "Digitaliseringsstyrelsen" in statement.inner_text()


def test_the_check_finds_a_violation(live_server, page):  # type: ignore[no-untyped-def]
    """The harness itself: a picture without a text alternative and a field without a label are found."""
    page.goto(live_server + "/login")
    page.evaluate("""() => { const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend', '<img src="/static/favicon.svg"><input name="x">'); }""")
    assert {"image-alt", "label"} <= {v["id"] for v in axe_violations(page)}
