"""The whole audit in headless Chromium, in Danish, through the pages only (issue 17's
done-when line). Only the first admin account is set up directly; everything else is
done by clicking: the admin creates the audit and its users, imports a register file,
draws and assigns; the auditor completes one case of each of two municipalities through
the form; the admin opens a comment round for both; each municipality sees only its own
case and submits a remark; the auditor answers; the admin closes the round, locks the
audit past the warning about unreviewed cases, and downloads every export: the slow files
(annex, report, figure book, raw workbook) made as background jobs and fetched from the link
the page shows when each is ready, the others through their buttons, then the municipalities'
workbooks. axe-core on every kind of page visited. One line per step with its time on stderr
(`pytest -s`); every wait has a timeout."""
from __future__ import annotations

import csv
import io
import random
import re
import sys
import time
import zipfile

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlmodel import Session, select

from audit.exports import jobs
from audit.models import Audit, Case, User
from tests.browser.conftest import browser_login
from tests.browser.test_accessibility import axe_violations, describe
from tests.conftest import PASSWORD, PG_URL, fresh_database

pytestmark = pytest.mark.danish


@pytest.fixture(params=["postgres" if PG_URL else "sqlite"])
def db_url(request, tmp_path, _sqlite_template):  # type: ignore[no-untyped-def]
    """The other browser tests run on SQLite only; this one runs the whole audit on PostgreSQL
    when the suite has it (scripts/test.sh), on SQLite otherwise: once, not twice, because it
    takes minutes."""
    yield from fresh_database(request.param, request, tmp_path, _sqlite_template)


NEW_PASSWORD = "Grøn-Kaffekande-17"
MUNIS = {"Odense": (7, 8, 6), "Vejle": (6, 7, 9)}      # persons per band 5-7, 7-10, 10+
PEOPLE = sum(sum(v) for v in MUNIS.values())           # 43
PER_STRATUM = 5
CASES = PER_STRATUM * 6                                 # every stratum has at least 5 persons
SAVED = re.compile(r"^\s*(Gemt|Ikke gemt)")


def register_file() -> bytes:
    """A small register extract as Danish Excel writes it (BOM, semicolons, decimal commas)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";")
    w.writerow(["person_id", "municipality", "seniority_years", "sex", "age", "origin"])
    i = 0
    for m, counts in MUNIS.items():
        for (lo, hi), n in zip(((5, 7), (7, 10), (10, 20)), counts):
            for k in range(n):
                i += 1
                years = lo + (hi - lo) * (k + 1) / (n + 1)
                w.writerow([f"x{i}", m, f"{years:.2f}".replace(".", ","), "kvinde" if i % 2 else "mand",
                            str(25 + i % 35), "dansk"])
    return buf.getvalue().encode("utf-8-sig")


_T0 = [time.monotonic()]


def _step(text: str) -> None:
    """One line per step with the seconds since the test started (run with -s to see them)."""
    print(f"[whole audit {time.monotonic() - _T0[0]:7.1f} s] {text}", file=sys.stderr, flush=True)


def _new_page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _flash(page) -> str:  # type: ignore[no-untyped-def]
    return page.get_by_test_id("flash").inner_text()


# --- filling a case through the form, as an auditor would: every required item that applies

def _post_answer(page, name: str, act) -> bool:  # type: ignore[no-untyped-def]
    """Do `act` (one change of the item's control) and say whether the server saved it."""
    with page.expect_response(lambda r: r.request.method == "POST" and "/answer?" in r.url) as info:
        act()
    saved = 'class="status ok"' in info.value.text()
    expect(page.locator(f"#status-{name}")).to_have_text(SAVED)
    return saved


def _set_value(locator, value: str) -> None:  # type: ignore[no-untyped-def]
    """Type a value and leave the field: one change event, as a blur after typing gives."""
    locator.evaluate("(el, v) => { el.value = v; el.dispatchEvent(new Event('change', {bubbles: true})); }", value)


def _answer(page, name: str, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    item = page.locator(f"#item-{name}")
    radios = item.locator(".choices input[type=radio]")
    boxes = item.locator(".choices input[type=checkbox]")
    select_ = item.locator(f"select#in-{name}")
    field = item.locator(f"#in-{name}")
    acts = []
    if radios.count():
        acts = [lambda i=i: radios.nth(i).check() for i in range(radios.count())]
    elif boxes.count():
        acts = [lambda i=i: boxes.nth(i).check() for i in range(boxes.count())]
    elif select_.count():
        values = [v for v in select_.locator("option").evaluate_all("os => os.map(o => o.value)") if v]
        acts = [lambda v=v: select_.select_option(v) for v in values]
    elif field.get_attribute("type") == "date":
        acts = [lambda v=v: _set_value(field, v) for v in ("2019-06-01", "2020-01-15", "2018-06-01")]
    elif field.evaluate("el => el.tagName") == "TEXTAREA":
        acts = [lambda: _set_value(field, "Fremgår af journalen; gennemgået af revisor.")]
    else:
        acts = [lambda v=v: _set_value(field, v) for v in ("1", "0", "2", "4", "12", "52")]
    rng.shuffle(acts)  # answers vary between cases, as real reviews do (see _complete_case)
    for act in acts:
        if _post_answer(page, name, act):
            return
    raise AssertionError(f"no answer to {name} was accepted through the form")


def _complete_case(page, base: str, case_id: int, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Answer every applicable required item, each with an option picked at random (seeded)
    among those the rules accept. Not always the first option: two cases answered alike make
    every table of the annex a column of N beside columns of structural zeros, and the
    suppression then cannot protect its hidden counts (the annex, report and figure book
    answer 409); varied answers are what an audit's data look like."""
    rng = random.Random(seed)
    page.goto(f"{base}/review/cases/{case_id}")
    expect(page.locator("h1")).to_contain_text(f"Sag {case_id}")
    todo = page.locator(".item[data-applicable=yes]:not([hidden]):has(abbr.req):has(span.status:empty)")
    answered: set[str] = set()
    for _ in range(400):
        if todo.count() == 0:
            break
        name = todo.first.get_attribute("id").removeprefix("item-")
        assert name not in answered, f"{name} asked for twice"
        _answer(page, name, rng)
        answered.add(name)
    assert todo.count() == 0 and len(answered) >= 10
    required = re.fullmatch(r"(\d+)/(\d+) obligatoriske.*", page.get_by_test_id("overall").inner_text(), re.S)
    assert required and required.group(1) == required.group(2), page.get_by_test_id("overall").inner_text()
    page.get_by_test_id("complete").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("missing")).to_have_count(0)
    expect(page.get_by_test_id("case-status")).to_have_text("afsluttet")
    expect(page.get_by_test_id("readonly")).to_be_visible()
    if seed == 1:
        _no_violations(page)


# --- the downloads

def _check_file(kind: str, body: bytes) -> None:
    assert body, kind
    if kind.endswith(".xlsx"):
        wb = load_workbook(io.BytesIO(body))
        assert wb.sheetnames, kind
        if kind == "annex.xlsx":
            assert len(wb.sheetnames) >= 2, wb.sheetnames          # contents and the tables
    elif kind.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            names = z.namelist()
            assert z.testzip() is None
        assert any(n.endswith(".png") for n in names) and any(n.endswith(".svg") for n in names), names
    elif kind.endswith(".csv"):
        text = body.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text), delimiter=";"))
        assert len(rows) >= 2, kind
    elif kind.endswith(".sav"):
        assert body[:4] in (b"$FL2", b"$FL3"), body[:4]
    else:
        raise AssertionError(f"unexpected export {kind}")


def _save(download, tmp_path) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    assert download.failure() is None, (download.suggested_filename, download.failure())
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    return download.suggested_filename, path.read_bytes()


def _download_button(page, button, url_part: str, tmp_path) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    """A direct download button (static/app.js fetches the file and hands it over as a blob).
    The server's answer is checked first: on an error the page shows a message and no
    download comes, so waiting for one would only time out. (Never ask Playwright for the
    body of that error response: the page does not read it, and `response.text()` then
    waits for ever.)"""
    status = button.locator("xpath=following-sibling::span[@role='status']")
    with page.expect_download(timeout=120_000) as dl:
        with page.expect_response(lambda r: r.url.endswith(url_part), timeout=120_000) as resp:
            button.click()
        if resp.value.status != 200:
            expect(status).not_to_have_text(re.compile(r"^(|Filen forberedes…)$"))
            raise AssertionError(f"{url_part}: the server answered {resp.value.status}; "
                                 f"the page says {status.inner_text()!r}")
    name, body = _save(dl.value, tmp_path)
    expect(status).to_have_text("Hentet.")
    return name, body


def _download_link(page, link, tmp_path) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    with page.expect_download(timeout=60_000) as dl:
        link.click()
    return _save(dl.value, tmp_path)


def _no_violations(page) -> None:  # type: ignore[no-untyped-def]
    found = axe_violations(page)
    assert found == [], f"{page.url}\n{describe(found)}"


def test_a_whole_audit_through_the_pages_in_danish(live_server, browser, engine, make_user, tmp_path):  # type: ignore[no-untyped-def]
    base = live_server
    _T0[0] = time.monotonic()
    _step(f"on {engine.url.get_backend_name()}")
    make_user("ada", "admin")                       # the only thing set up directly
    contexts = []
    try:
        ctx, admin = _new_page(browser)
        contexts.append(ctx)
        browser_login(admin, base, "ada", PASSWORD)

        _step("the audit")
        # --- the audit
        admin.goto(f"{base}/admin")
        assert admin.locator("html").get_attribute("lang") == "da"
        _no_violations(admin)
        form = admin.get_by_test_id("new-audit-form")
        form.locator("input[name=name]").fill("Helhedstest 2020")
        form.locator("input[name=period_start]").fill("2018-03-01")
        form.locator("input[name=period_end]").fill("2020-02-29")
        form.locator("input[name=reference_date]").fill("2020-03-01")
        form.get_by_test_id("municipalities").select_option(["Odense", "Vejle"])
        form.get_by_role("button", name="Opret revision").click()
        admin.wait_for_load_state("networkidle")
        expect(admin.locator("main")).to_contain_text("Revisionen Helhedstest 2020 er oprettet")
        match = re.search(r"/sampling\?audit_id=(\d+)$", admin.url)
        assert match, admin.url
        aid = int(match.group(1))

        _step("users")
        # --- its users: one auditor, two municipality users bound to two municipalities
        for username, full_name, role, municipality in (
                ("revisor1", "Rita Revisor", "auditor", None),
                ("odense1", "Ole Odense", "municipality", "Odense"),
                ("vejle1", "Vera Vejle", "municipality", "Vejle")):
            admin.goto(f"{base}/admin/users")
            form = admin.get_by_test_id("new-user-form")
            form.locator("input[name=username]").fill(username)
            form.locator("input[name=full_name]").fill(full_name)
            form.get_by_test_id("role").select_option(role)
            if municipality:
                form.get_by_test_id("municipality").select_option(municipality)
            form.locator("input[name=password]").fill(NEW_PASSWORD)
            form.locator("input[name=confirm]").fill(NEW_PASSWORD)
            form.get_by_role("button", name="Opret bruger").click()
            admin.wait_for_load_state("networkidle")
            expect(admin.locator("main")).to_contain_text(f"Brugeren {username} er oprettet")
        _no_violations(admin)
        with Session(engine) as s:
            users = {u.username: (u.role, u.municipality) for u in s.exec(select(User)).all()}
        assert users == {"ada": ("admin", None), "revisor1": ("auditor", None),
                         "odense1": ("municipality", "Odense"), "vejle1": ("municipality", "Vejle")}

        _step("register and draw")
        # --- the register and the draw
        admin.goto(f"{base}/sampling?audit_id={aid}")
        expect(admin.get_by_test_id("no-population")).to_be_visible()
        form = admin.get_by_test_id("upload-form")
        form.locator("input[name=register]").set_input_files(
            {"name": "register.csv", "mimeType": "text/csv", "buffer": register_file()})
        form.get_by_role("button", name="Indlæs").click()
        admin.wait_for_load_state("networkidle")
        expect(admin.get_by_test_id("flash")).to_contain_text(f"Indlæste {PEOPLE} personer fra register.csv")
        expect(admin.get_by_test_id("population-total")).to_have_text(str(PEOPLE))
        draw = admin.get_by_test_id("draw-form")
        draw.locator("input[name=per_stratum]").fill(str(PER_STRATUM))
        draw.locator("input[name=seed]").fill("2020")
        draw.get_by_role("button", name="Udtræk").click()
        admin.wait_for_load_state("networkidle")
        expect(admin.get_by_test_id("flash")).to_contain_text(f"Udtrak {CASES} sager")
        expect(admin.get_by_test_id("flash")).to_contain_text("i 6 strata (startværdi 2020)")
        expect(admin.get_by_test_id("protocol-table").locator("tbody tr")).to_have_count(6)
        _no_violations(admin)
        with Session(engine) as s:
            sampled = s.exec(select(Case).where(Case.audit_id == aid, Case.is_reserve == False)).all()  # noqa: E712
        assert len(sampled) == CASES
        assert {m: sum(c.municipality == m for c in sampled) for m in MUNIS} == {"Odense": 15, "Vejle": 15}

        _step("assignment")
        # --- assignment: all municipalities to the auditor
        admin.goto(f"{base}/review/assign?audit_id={aid}")
        deal = admin.locator("form", has=admin.locator("input[name=round_robin]"))
        deal.locator("input[name=round_robin]").fill("revisor1")
        deal.get_by_role("button", name="Fordel alle kommuner").click()
        admin.wait_for_load_state("networkidle")
        rows = admin.get_by_test_id("assignment").locator("tbody tr")
        expect(rows).to_have_count(2)
        for i in range(2):
            cells = rows.nth(i).locator("td").all_inner_texts()
            assert cells[1:] == ["revisor1", "0", "15"], cells
        _no_violations(admin)

        _step("auditor reviews")
        # --- the auditor completes one case of each municipality through the form
        ctx, auditor = _new_page(browser)
        contexts.append(ctx)
        browser_login(auditor, base, "revisor1", NEW_PASSWORD)
        reviewed = {}
        for m in MUNIS:
            auditor.goto(f"{base}/review?audit_id={aid}")
            auditor.get_by_test_id("filter-municipality").select_option(m)
            auditor.get_by_test_id("filters").get_by_role("button", name="Vis").click()
            auditor.wait_for_load_state("networkidle")
            links = auditor.get_by_test_id("worklist").locator("a[href^='/review/cases/']")
            expect(links).to_have_count(15)
            if not reviewed:
                _no_violations(auditor)
            reviewed[m] = int(links.first.get_attribute("href").rsplit("/", 1)[1])
            _complete_case(auditor, base, reviewed[m], seed=len(reviewed))
        with Session(engine) as s:
            assert {m: s.get(Case, cid).status for m, cid in reviewed.items()} == \
                {"Odense": "completed", "Vejle": "completed"}

        _step("round opened")
        # --- the admin opens a comment round for both municipalities
        admin.goto(f"{base}/hearing/admin?audit_id={aid}")
        form = admin.get_by_test_id("open-round")
        form.get_by_label("Odense").check()
        form.get_by_label("Vejle").check()
        form.locator("input[name=deadline]").fill("2099-06-01")
        form.get_by_role("button", name="Åbn runden").click()
        admin.wait_for_load_state("networkidle")
        assert "Runde 1 er åben for Odense, Vejle" in _flash(admin)
        _no_violations(admin)

        _step("municipalities remark")
        # --- each municipality sees only its own case and submits a remark
        texts = {"Odense": "Borgeren var i virksomhedspraktik i 2019, se journalnotat 14.5.2019",
                 "Vejle": "Planen blev revideret i januar 2020; det fremgår af journalen"}
        muni_pages = {}
        for m, username in (("Odense", "odense1"), ("Vejle", "vejle1")):
            ctx, pg = _new_page(browser)
            contexts.append(ctx)
            muni_pages[m] = pg
            browser_login(pg, base, username, NEW_PASSWORD)
            pg.goto(f"{base}/hearing")
            assert pg.locator("html").get_attribute("lang") == "da"
            assert pg.get_by_test_id("cases").locator("a").all_inner_texts() == [f"Sag {reviewed[m]}"]
            if m == "Odense":
                _no_violations(pg)
            other = reviewed["Vejle" if m == "Odense" else "Odense"]
            assert pg.goto(f"{base}/hearing/cases/{other}").status in (403, 404)
            assert pg.goto(f"{base}/review/cases/{other}").status in (403, 404)
            pg.goto(f"{base}/hearing/cases/{reviewed[m]}")
            form = pg.get_by_test_id("remark-form-case")
            form.locator("textarea[name=text]").fill(texts[m])
            form.get_by_role("button", name="Gem kladde").click()
            pg.wait_for_load_state("networkidle")
            assert "Bemærkningen er gemt som kladde" in _flash(pg)
            if m == "Odense":
                _no_violations(pg)
            pg.goto(f"{base}/hearing")
            messages = []
            pg.once("dialog", lambda d: (messages.append(d.message), d.accept()))
            pg.get_by_test_id("submit-all").click()
            pg.wait_for_load_state("networkidle")
            assert "Indsend 1 bemærkning til revisorerne?" in messages[0]
            assert "1 bemærkning(er) er indsendt til revisorerne" in _flash(pg)
        admin.goto(f"{base}/hearing/admin?audit_id={aid}")
        for m in MUNIS:
            assert "indsendt" in admin.get_by_test_id(f"status-{m}").inner_text()

        _step("auditor answers")
        # --- the auditor answers both remarks
        auditor.goto(f"{base}/hearing/remarks")
        forms = auditor.locator("form[data-testid^=respond-]")
        expect(forms).to_have_count(2)
        _no_violations(auditor)
        remark_ids = [f.removeprefix("respond-") for f in
                      forms.evaluate_all("fs => fs.map(f => f.dataset.testid)")]
        for rid in remark_ids:
            form = auditor.get_by_test_id(f"respond-{rid}")
            form.locator("input[name=decision][value=maintained]").check()
            form.locator("textarea[name=response]").fill("Vurderingen fastholdes: forholdet lå uden for perioden")
            form.get_by_role("button", name="Send svar").click()
            auditor.wait_for_load_state("networkidle")
            assert f"Bemærkning {rid} er besvaret" in _flash(auditor)
        expect(auditor.get_by_test_id("queue-empty")).to_be_visible()
        for m, pg in muni_pages.items():
            pg.goto(f"{base}/hearing/cases/{reviewed[m]}")
            body = pg.locator("main").inner_text()
            assert texts[m] in body and "Vurderingen fastholdes" in body
            assert texts["Vejle" if m == "Odense" else "Odense"] not in pg.content()

        _step("close and lock")
        # --- the admin closes the round and locks the audit past the warning
        admin.goto(f"{base}/hearing/admin?audit_id={aid}")
        admin.once("dialog", lambda d: d.accept())
        admin.get_by_test_id("close-1").click()
        admin.wait_for_load_state("networkidle")
        assert "Runde 1 er lukket." in _flash(admin)
        unreviewed = CASES - 2
        expect(admin.get_by_test_id("unreviewed")).to_contain_text(f"{unreviewed} sager")
        expect(admin.get_by_test_id("unreviewed-never")).to_contain_text(str(unreviewed))
        messages = []
        admin.once("dialog", lambda d: (messages.append(d.message), d.accept()))
        admin.get_by_test_id("lock").click()
        admin.wait_for_load_state("networkidle")
        assert f"{unreviewed}" in messages[0] and "Helhedstest 2020" in messages[0], messages
        assert "Revisionen Helhedstest 2020 er låst" in _flash(admin)
        expect(admin.get_by_test_id("locked")).to_be_visible()
        _no_violations(admin)
        with Session(engine) as s:
            assert s.get(Audit, aid).locked_at is not None
            assert {s.get(Case, cid).status for cid in reviewed.values()} == {"final"}

        _step("exports")
        # --- every export on the exports page
        admin.goto(f"{base}/exports")
        assert admin.locator("html").get_attribute("lang") == "da"
        section = admin.get_by_test_id(f"exports-audit-{aid}")
        buttons = section.locator("button[data-testid^=download-]")
        kinds = [t.removeprefix(f"download-{aid}-") for t in
                 buttons.evaluate_all("bs => bs.map(b => b.dataset.testid)")]
        assert {"annex.xlsx", "report.xlsx", "figures.zip", "data.xlsx", "data.csv", "data.sav",
                "codebook.csv"} <= set(kinds), kinds
        # the slow files as a user makes them: in the background, then the ready file's link
        for kind in jobs.JOB_KINDS:
            admin.get_by_test_id(f"job-start-{aid}-{kind}").click()
            expect(admin.get_by_test_id(f"job-state-{aid}-{kind}")).to_have_attribute(
                "data-state", re.compile("^(queued|running|ready)$"))
        _no_violations(admin)
        for kind in kinds:
            if kind in jobs.JOB_KINDS:
                continue
            _step(f"download {kind}")
            button = section.get_by_test_id(f"download-{aid}-{kind}")
            name, body = _download_button(admin, button, f"/exports/{aid}/{kind}", tmp_path)
            assert name.endswith("." + kind.rsplit(".", 1)[1]), (kind, name)
            _check_file(kind, body)
        for kind in jobs.JOB_KINDS:
            _step(f"wait for the job {kind}")
            state = admin.get_by_test_id(f"job-state-{aid}-{kind}")
            expect(state).to_have_attribute("data-state", re.compile("^(ready|failed)$"), timeout=300_000)
            assert state.get_attribute("data-state") == "ready", (kind, state.inner_text())
            expect(state).to_contain_text("Klar, lavet")
            name, body = _download_link(admin, admin.get_by_test_id(f"job-file-{aid}-{kind}"), tmp_path)
            assert name.endswith("." + kind.rsplit(".", 1)[1]), (kind, name)
            _check_file(kind, body)
        _no_violations(admin)
        _step("municipality workbooks")
        workbooks = section.get_by_test_id("municipality-workbooks")
        links = workbooks.locator("a[href$='.xlsx']")
        expect(links).to_have_count(4)                  # hearing and feedback workbooks of both
        for i in range(links.count()):
            name, body = _download_link(admin, links.nth(i), tmp_path)
            assert name.endswith(".xlsx"), name
            _check_file("workbook.xlsx", body)
        _step("done")
    finally:
        for ctx in contexts:
            ctx.close()
        assert jobs.wait_idle(180)  # no job left running on the database the test removes
