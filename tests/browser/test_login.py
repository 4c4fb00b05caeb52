"""Each role logs in through the real login page and lands on its own start page."""
from __future__ import annotations

from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD


def test_each_role_lands_on_its_page(live_server, page, make_user):
    make_user("ada", "admin")
    make_user("bo", "auditor")
    make_user("odense", "municipality", "Odense")
    expected = {"ada": ("/admin", "Audits"), "bo": ("/review", "My cases"),
                "odense": ("/hearing", "Odense: assessments for comment")}
    for username, (path, heading) in expected.items():
        browser_login(page, live_server, username, PASSWORD)
        assert page.url == live_server + path
        assert page.locator("h1").inner_text() == heading
        assert username in page.get_by_test_id("whoami").inner_text()
        page.click("text=Log out")
        page.wait_for_url(f"{live_server}/login")


def test_wrong_password_shows_error_and_keeps_username(live_server, page, make_user):
    make_user("ada", "admin")
    browser_login(page, live_server, "ada", "not-the-password")
    assert page.get_by_role("alert").inner_text() == "Wrong username or password."
    assert page.input_value("input[name=username]") == "ada"


def test_municipality_user_cannot_open_admin_page(live_server, page, make_user):
    make_user("odense", "municipality", "Odense")
    browser_login(page, live_server, "odense", PASSWORD)
    response = page.goto(f"{live_server}/admin")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "Not allowed"
