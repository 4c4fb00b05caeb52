"""The admin imports the register and draws the sample in headless Chromium: from the
audit list to the sampling page, a bad file's error table (nothing imported, the
checkbox kept), a good file, a draw with a seed, and the protocol table."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import func
from sqlmodel import Session, select

from audit.models import Case, Person
from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD
from tests.sampling.files import BAD_ERRORS, BAD_REGISTER, CASES, PEOPLE, RESERVES, make_audit, register_csv


def _count(engine, model) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_admin_imports_the_register_and_draws_the_sample(live_server, page, engine, make_user):
    make_user("ada", "admin")
    audit_id = make_audit(engine)
    browser_login(page, live_server, "ada", PASSWORD)
    page.goto(f"{live_server}/admin")
    page.get_by_test_id("audits").get_by_role("link", name="sample", exact=True).click()
    expect(page).to_have_url(f"{live_server}/sampling?audit_id={audit_id}")
    expect(page.locator("h1")).to_have_text("Population and sample")
    expect(page.get_by_test_id("no-population")).to_be_visible()

    # a bad file: refused whole, every error in the table, the checkbox as the user left it
    form = page.get_by_test_id("upload-form")
    form.locator("input[name=register]").set_input_files(
        {"name": "bad.csv", "mimeType": "text/csv", "buffer": BAD_REGISTER})
    form.get_by_label("Replace the population (or the snapshot at that date) imported before").check()
    form.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("import-refused")).to_contain_text("Nothing was imported: 4 error(s) in the file.")
    rows = page.get_by_test_id("import-errors").locator("tbody tr")
    expect(rows).to_have_count(len(BAD_ERRORS))
    shown = {(int(rows.nth(i).locator("td").nth(1).inner_text()), rows.nth(i).locator("td").nth(2).inner_text())
             for i in range(rows.count())}
    assert shown == BAD_ERRORS
    expect(page.get_by_test_id("import-errors")).to_contain_text("Atlantis")
    expect(page.get_by_test_id("upload-form").get_by_label("Replace the population (or the snapshot at that date) imported before")).to_be_checked()
    assert _count(engine, Person) == 0

    # a good file
    form = page.get_by_test_id("upload-form")
    form.get_by_label("Replace the population (or the snapshot at that date) imported before").uncheck()
    form.locator("input[name=register]").set_input_files(
        {"name": "register.csv", "mimeType": "text/csv", "buffer": register_csv()})
    form.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("flash")).to_contain_text(f"Imported {PEOPLE} persons from register.csv")
    expect(page.get_by_test_id("population-total")).to_have_text(str(PEOPLE))
    expect(page.get_by_test_id("import-errors")).to_have_count(0)
    assert _count(engine, Person) == PEOPLE

    # the draw with a seed, then the protocol
    draw = page.get_by_test_id("draw-form")
    expect(draw.get_by_label("Cases per stratum")).to_have_value("5")
    expect(draw.get_by_label("Bands")).to_have_value("5,7,10")
    draw.get_by_label("Seed").fill("42")
    draw.get_by_role("button", name="Draw").click()
    expect(page.get_by_test_id("flash")).to_contain_text(
        f"Drew {CASES} cases and {RESERVES} reserves in 6 strata (seed 42)")
    expect(page.get_by_test_id("protocol-facts")).to_contain_text("Seed42")
    table = page.get_by_test_id("protocol-table")
    expect(table.locator("tbody tr")).to_have_count(6)
    shortfall = page.get_by_test_id("shortfall-Odense-10+")
    expect(shortfall).to_contain_text("short by 2")
    expect(shortfall.locator("td").first).to_have_css("background-color", "rgb(255, 244, 224)")
    expect(page.get_by_test_id("sample-csv")).to_have_attribute("href", f"/sampling/{audit_id}/sample.csv")
    assert _count(engine, Case) == CASES + RESERVES

    # the confirmation is in view after the draw, and so is a refusal further down the long page
    expect(page.get_by_test_id("flash")).to_be_in_viewport()
    replace = page.get_by_test_id("replace-form")
    replace.get_by_label("Case id").fill("1")
    replace.get_by_label("Reason").fill("   ")  # only spaces: the browser lets it through, the room refuses
    replace.get_by_role("button", name="Replace").click()
    refused = page.get_by_test_id("replace-refused")
    expect(refused).to_contain_text("Not replaced: a replacement needs a reason")
    expect(refused).to_be_in_viewport()
    expect(page.get_by_test_id("table12")).to_contain_text("Woman")  # labels in the reader's language
