"""In Chromium, in Danish: the admin asks for the report workbook in the background, sees it
become ready on the same page (htmx polling, no reload, no inline script), and downloads it;
the file holds what the direct download holds. axe-core on the page while the job runs and
once it is ready."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from audit.exports import jobs
from tests.browser.conftest import browser_login
from tests.browser.test_accessibility import axe_violations, describe
from tests.conftest import PASSWORD

pytestmark = pytest.mark.danish


@pytest.fixture
def report_audit(engine):  # type: ignore[no-untyped-def]
    from tests.exports.conftest import store_audit
    from tests.exports.test_figures import MUNICIPALITIES, REVIEWED, _source

    audit = store_audit(engine, _source(), "Jobtest 2022", completed=REVIEWED, municipalities=MUNICIPALITIES)
    yield audit
    assert jobs.wait_idle(180)


def _no_violations(page) -> None:  # type: ignore[no-untyped-def]
    found = axe_violations(page)
    assert found == [], f"{page.url}\n{describe(found)}"


def _cells(body: bytes) -> dict[str, list[list[object]]]:
    wb = load_workbook(io.BytesIO(body))
    return {name: [[c.value for c in row] for row in wb[name].iter_rows()] for name in wb.sheetnames}


def test_the_report_workbook_is_made_in_the_background_and_downloaded(live_server, page, report_audit,  # type: ignore[no-untyped-def]
                                                                      make_user, tmp_path):
    admin = make_user("chef", "admin")
    browser_login(page, live_server, admin.username, PASSWORD)
    page.goto(f"{live_server}/exports")
    assert page.locator("html").get_attribute("lang") == "da"
    aid = report_audit.id
    state = page.get_by_test_id(f"job-state-{aid}-report.xlsx")
    expect(state).to_have_text("Ikke lavet endnu.")
    _no_violations(page)
    page.evaluate("window.__sameDocument = 'yes'")  # gone if the page reloads
    page.get_by_test_id(f"job-start-{aid}-report.xlsx").click()
    # the answer to the click: queued (then running), with a progress bar
    expect(state).to_have_attribute("data-state", re.compile("^(queued|running)$"))
    expect(page.locator(f"#job-{aid}-report-xlsx progress")).to_be_visible()
    _no_violations(page)
    # the fragment polls itself until the file is ready
    expect(state).to_have_attribute("data-state", "ready", timeout=180_000)
    expect(state).to_contain_text("Klar, lavet")
    assert page.evaluate("window.__sameDocument") == "yes"  # no reload happened
    link = page.get_by_test_id(f"job-file-{aid}-report.xlsx")
    expect(link).to_contain_text("Hent filen")
    expect(link).to_contain_text("kB")
    _no_violations(page)
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "jobtest_2022_report.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    direct = page.request.get(f"{live_server}/exports/{aid}/report.xlsx")
    assert direct.status == 200
    from_job, from_route = _cells(saved.read_bytes()), _cells(direct.body())
    assert list(from_job) == list(from_route) and "Tabel 4" in from_job
    for name in list(from_job)[1:]:  # the contents sheet carries the time it was made
        assert from_job[name] == from_route[name], name
