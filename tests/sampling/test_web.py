"""The admins' sampling page through the real app: register upload (all or nothing, every
error shown), draw with its refusals, protocol, replacement, the CSV downloads, and
that nobody but an admin reaches any of it."""
from __future__ import annotations

import html
import re
from io import BytesIO

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, select

from audit.models import Audit, AuditLog, Case, Person
from audit.sampling.protocol import export_sample
from tests.sampling.files import (BAD_ERRORS, BAD_REGISTER, CASES, EXPORT_HEADER, PEOPLE, RESERVES,
                                  make_audit, register_csv)

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def audit_id(engine) -> int:  # type: ignore[no-untyped-def]
    return make_audit(engine)


@pytest.fixture
def admin(make_user, client_for):  # type: ignore[no-untyped-def]
    return client_for(make_user("ada", "admin"))


def _count(engine, model, *where) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def _upload(client, token, audit_id, data: bytes, name: str = "register.csv", **fields):  # type: ignore[no-untyped-def]
    return client.post(f"/sampling/{audit_id}/population", data={"csrf_token": token, **fields},
                       files={"register": (name, data, CSV)})


def _draw(client, token, audit_id, **fields):  # type: ignore[no-untyped-def]
    values = {"per_stratum": "5", "seed": "42", "bands": "5,7,10", "reserves": "2"} | fields
    return client.post(f"/sampling/{audit_id}/draw", data={"csrf_token": token, **values})


def _error_rows(page: str) -> list[tuple[int, str, str]]:
    """(row, column, why) of every row of the page's import-error table."""
    table = page.split('data-testid="import-errors"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr><td>[^<]*</td><td class="num">(\d+)</td><td>([^<]*)</td>\s*'
                      r'<td><code>[^<]*</code></td><td>([^<]*)</td></tr>', table)
    return [(int(r), c, html.unescape(m)) for r, c, m in rows]


def _field(page: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)


def test_admin_uploads_a_register_and_sees_the_population(engine, audit_id, admin):
    client, token = admin
    page = client.get(f"/sampling?audit_id={audit_id}")
    assert page.status_code == 200 and 'data-testid="no-population"' in page.text
    resp = client.post(f"/sampling/{audit_id}/population", data={"csrf_token": token},
                       files={"register": ("register.csv", register_csv(), CSV)}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith(f"/sampling?audit_id={audit_id}")
    page = client.get(resp.headers["location"]).text
    assert (f"Imported {PEOPLE} persons from register.csv: 52 in 5-7 years, 39 in 7-10 years, "
            "23 in 10+ years.") in page
    assert _count(engine, Person, Person.audit_id == audit_id) == PEOPLE
    odense = re.search(r"<tr><td>Odense</td>(.*?)</tr>", page).group(1)
    assert re.findall(r'class="num">(\d+)<', odense) == ["40", "30", "3", "73"]
    with Session(engine) as s:
        entry = s.exec(select(AuditLog).where(AuditLog.entity == "population")).one()
        assert entry.username == "ada" and '"file": "register.csv"' in entry.new_value


def test_bad_register_is_refused_whole_with_every_error_and_the_checkbox_kept(engine, audit_id, admin):
    client, token = admin
    resp = _upload(client, token, audit_id, BAD_REGISTER, name="bad.csv", replace="1")
    assert resp.status_code == 422
    assert "Nothing was imported:</strong> 4 error(s) in the file." in resp.text
    rows = _error_rows(resp.text)
    assert {(r, c) for r, c, _ in rows} == BAD_ERRORS and len(rows) == len(BAD_ERRORS)
    whys = {(r, c): m for r, c, m in rows}
    assert whys[(3, "municipality")].startswith("unknown municipality")
    assert whys[(5, "age")].startswith("impossible age")
    assert whys[(2, "person_id")] == "duplicate person_id (rows 2, 4)"
    assert re.search(r'name="replace" value="1" checked', resp.text)  # the user's choice survives
    assert _count(engine, Person) == 0
    assert _count(engine, AuditLog, AuditLog.entity == "population") == 0


def test_a_rejected_replacement_keeps_the_old_population(engine, audit_id, admin):
    client, token = admin
    assert _upload(client, token, audit_id, register_csv()).status_code == 200
    with Session(engine) as s:
        before = sorted(s.exec(select(Person.id)).all())
    # the audit has a population: without "replace" the room refuses, with the reason
    resp = _upload(client, token, audit_id, register_csv())
    assert resp.status_code == 422 and "already has a population of 114 persons" in resp.text
    assert "Nothing was imported.</strong>" in resp.text
    assert not re.search(r'name="replace" value="1" checked', resp.text)
    # with "replace" and a bad file: nothing deleted, nothing added
    resp = _upload(client, token, audit_id, BAD_REGISTER, replace="1")
    assert resp.status_code == 422
    with Session(engine) as s:
        assert sorted(s.exec(select(Person.id)).all()) == before
    # with "replace" and a good file: the new population, said so
    resp = _upload(client, token, audit_id, register_csv({"Odense": (6, 0, 0)}), replace="1")
    assert resp.status_code == 200 and "Imported 6 persons from register.csv (replacing 114)" in resp.text
    assert _count(engine, Person) == 6


def test_error_table_is_capped_with_the_rest_counted(engine, audit_id, admin):
    client, token = admin
    body = "person_id,municipality,seniority_years,sex,age,origin\n" + "".join(
        f"p{i},Odense,6,mand,7,dansk\n" for i in range(620))
    resp = _upload(client, token, audit_id, body.encode())
    assert resp.status_code == 422
    assert len(_error_rows(resp.text)) == 500
    assert "... and 120 more" in resp.text and "620 error(s) in the file" in resp.text
    assert _count(engine, Person) == 0


def test_missing_register_file_is_refused(engine, audit_id, admin):
    client, token = admin
    resp = client.post(f"/sampling/{audit_id}/population", data={"csrf_token": token, "replace": "1"},
                       files={"register": ("", b"", "application/octet-stream")})
    assert resp.status_code == 422 and "Choose a register file" in resp.text


def test_spells_file_gives_the_seniority(engine, audit_id, admin):
    client, token = admin
    register = b"person_id;municipality;sex;age;origin\nq1;Odense;mand;40;dansk\nq2;Nordfyn;kvinde;50;dansk\n"
    spells = b"person_id,benefit,start,end\nq1,kontanthjaelp,2014-01-01,\nq2,kontanthjaelp,2008-06-01,\n"
    resp = client.post(f"/sampling/{audit_id}/population", data={"csrf_token": token},
                       files={"register": ("reg.csv", register, CSV), "spells": ("spells.csv", spells, CSV)})
    assert resp.status_code == 200, resp.text
    assert "Imported 2 persons from reg.csv: 1 in 5-7 years, 0 in 7-10 years, 1 in 10+ years." in resp.text
    with Session(engine) as s:
        assert {p.person_id: p.seniority_band for p in s.exec(select(Person)).all()} == {"q1": "5-7", "q2": "10+"}


def test_xlsx_register_is_read_as_excel(engine, audit_id, admin):
    client, token = admin
    wb = Workbook()
    ws = wb.active
    ws.append(["person_id", "municipality", "seniority_years", "sex", "age", "origin"])
    ws.append(["x1", "Odense", 6.5, "mand", 40, "dansk"])
    ws.append(["x2", "Nordfyn", 12, "kvinde", 17, "vestlig"])
    buf = BytesIO()
    wb.save(buf)
    resp = client.post(f"/sampling/{audit_id}/population", data={"csrf_token": token},
                       files={"register": ("extract.xlsx", buf.getvalue(), XLSX)})
    assert resp.status_code == 422 and _error_rows(resp.text) == [
        (3, "age", "impossible age for the target group (must be 18-80)")]
    ws["E3"] = 45
    buf = BytesIO()
    wb.save(buf)
    resp = client.post(f"/sampling/{audit_id}/population", data={"csrf_token": token},
                       files={"register": ("extract.xlsx", buf.getvalue(), XLSX)})
    assert resp.status_code == 200 and "Imported 2 persons from extract.xlsx" in resp.text


def test_draw_shows_the_protocol_and_a_redraw_needs_force(engine, audit_id, admin):
    client, token = admin
    _upload(client, token, audit_id, register_csv())
    resp = _draw(client, token, audit_id)
    assert resp.status_code == 200
    assert f"Drew {CASES} cases and {RESERVES} reserves in 6 strata (seed 42)." in resp.text
    assert "Shortfall: Odense 10+ years: 3 of 5 (N_h=3)" in resp.text
    assert _count(engine, Case, Case.is_reserve == False) == CASES  # noqa: E712
    assert _count(engine, Case, Case.is_reserve == True) == RESERVES  # noqa: E712
    # the protocol: facts and one row per stratum, the shortfall marked
    facts = resp.text.split('data-testid="protocol-facts"', 1)[1].split("</dl>", 1)[0]
    assert "<dt>Seed</dt><dd>42</dd>" in facts and "<dt>Drawn by</dt><dd>ada</dd>" in facts
    assert f"<dt>Population (N)</dt><dd>{PEOPLE}</dd>" in facts and f"<dt>Sample (n)</dt><dd>{CASES}</dd>" in facts
    table = resp.text.split('data-testid="protocol-table"', 1)[1].split("</table>", 1)[0]
    strata = re.findall(r"<td>(\w+)</td><td>([^<]+) years</td>", table)
    assert strata == [(m, b) for m in ("Nordfyn", "Odense") for b in ("5-7", "7-10", "10+")]  # bands in order
    assert "1 stratum has fewer persons than asked" in resp.text
    short = re.search(r'<tr class="shortfall" data-testid="shortfall-Odense-10\+">(.*?)</tr>', table, re.S).group(1)
    assert re.findall(r'class="num">(?:<strong>)?([^<]+)<', short) == ["3", "5", "3", "short by 2", "0", "0"]
    assert table.count('class="shortfall"') == 1

    # a second draw without force: refused with the room's reason, every typed value kept
    resp = _draw(client, token, audit_id, seed="4711", per_stratum="4", bands="5,8", reserves="1")
    assert resp.status_code == 422
    assert "has already been sampled (seed 42, 38 cases)" in resp.text and "Not drawn:" in resp.text
    assert (_field(resp.text, "seed"), _field(resp.text, "per_stratum"), _field(resp.text, "bands"),
            _field(resp.text, "reserves")) == ("4711", "4", "5,8", "1")
    with Session(engine) as s:
        assert s.exec(select(Audit)).one().seed == 42
    # with force: re-drawn and logged as such
    resp = _draw(client, token, audit_id, seed="4711", force="1")
    assert resp.status_code == 200 and "(seed 4711). The previous sample was discarded." in resp.text
    with Session(engine) as s:
        log = s.exec(select(AuditLog).where(AuditLog.entity == "sample").order_by(AuditLog.id)).all()
        assert [(e.reason, e.username) for e in log] == [("sample drawn", "ada"), ("forced re-draw", "ada")]


@pytest.mark.parametrize("fields,message", [
    ({"seed": ""}, "the seed is required"),
    ({"seed": "abc"}, "the seed must be a whole number, got &#39;abc&#39;"),
    ({"bands": "7,5"}, "band boundaries must be non-negative and strictly increasing"),
    ({"per_stratum": "0"}, "per-stratum must be at least 1"),
])
def test_draw_refusals_keep_the_typed_values(engine, audit_id, admin, fields, message):
    client, token = admin
    _upload(client, token, audit_id, register_csv())
    resp = _draw(client, token, audit_id, reserves="3", force="1", **fields)
    assert resp.status_code == 422 and message in resp.text
    for name, value in fields.items():
        assert _field(resp.text, name) == value
    assert _field(resp.text, "reserves") == "3" and re.search(r'name="force" value="1" checked', resp.text)
    assert _count(engine, Case) == 0


def test_a_forced_redraw_refused_midway_keeps_the_old_sample(engine, audit_id, admin):
    """The room deletes the old cases before it checks per-stratum; the route must roll that back."""
    client, token = admin
    _upload(client, token, audit_id, register_csv())
    _draw(client, token, audit_id)
    with Session(engine) as s:
        before = sorted(s.exec(select(Case.id)).all())
    resp = _draw(client, token, audit_id, seed="7", per_stratum="0", force="1")
    assert resp.status_code == 422 and "per-stratum must be at least 1" in resp.text
    with Session(engine) as s:
        assert sorted(s.exec(select(Case.id)).all()) == before and s.exec(select(Audit)).one().seed == 42
    assert 'data-testid="protocol-table"' in resp.text


def test_draw_with_other_bands_restamps_the_population_table(engine, audit_id, admin):
    client, token = admin
    _upload(client, token, audit_id, register_csv())
    resp = _draw(client, token, audit_id, bands="7,10")
    assert resp.status_code == 200
    assert "52 persons fall below the first band and were not sampled." in resp.text  # the flash
    table = resp.text.split('data-testid="population-table"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<th class="num">([^<]+) years</th>', table) == ["7-10", "10+"]
    assert f'data-testid="population-total">{PEOPLE - 52}<' in table
    assert "52 persons fall below the first band and are not sampled." in resp.text  # under the table
    assert _field(resp.text, "bands") == "7,10"  # the next draw starts from the audit's bands


def test_draw_without_population_is_refused(engine, audit_id, admin):
    client, token = admin
    resp = _draw(client, token, audit_id)
    assert resp.status_code == 422 and "has no population" in resp.text


def _stratum_cases(engine, municipality: str, band: str) -> tuple[list[Case], list[Case]]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        cases = s.exec(select(Case).where(Case.municipality == municipality, Case.seniority_band == band)
                       .order_by(Case.draw_order)).all()
    return [c for c in cases if not c.is_reserve], [c for c in cases if c.is_reserve]


def test_replace_activates_the_next_reserve_with_the_reason_logged(engine, audit_id, admin):
    client, token = admin
    _upload(client, token, audit_id, register_csv())
    _draw(client, token, audit_id)
    sampled, reserves = _stratum_cases(engine, "Nordfyn", "7-10")
    case, first = sampled[0], reserves[0]
    resp = client.post(f"/sampling/{audit_id}/replace",
                       data={"csrf_token": token, "case_id": str(case.id), "reason": "sagen findes ikke"})
    assert resp.status_code == 200
    assert f"Case {case.id} replaced by reserve case {first.id} (rank 1)" in resp.text
    assert f"Case {case.id} → reserve case {first.id}: sagen findes ikke" in resp.text
    with Session(engine) as s:
        assert s.get(Case, first.id).active and not s.get(Case, case.id).active
        entries = s.exec(select(AuditLog).where(AuditLog.entity == "case")).all()
        assert {(e.entity_id, e.field, e.username) for e in entries} == {
            (str(case.id), "replaced_by", "ada"), (str(first.id), "active", "ada")}
        assert all("sagen findes ikke" in e.reason for e in entries)
    table = resp.text.split('data-testid="protocol-table"', 1)[1].split("</table>", 1)[0]
    row = re.search(r"<td>Nordfyn</td><td>7-10 years</td>(.*?)</tr>", table, re.S).group(1)
    assert re.findall(r'class="num">([^<]+)<', row)[-2:] == ["2", "1"]  # reserves drawn, used


@pytest.mark.parametrize("which,reason,message", [
    ("sampled", "  ", "a replacement needs a reason"),
    ("reserve", "moved", "is not an active case"),
    ("nonsense", "moved", "the case id must be a whole number"),
])
def test_replace_refusals_keep_the_typed_values(engine, audit_id, admin, which, reason, message):
    client, token = admin
    _upload(client, token, audit_id, register_csv())
    _draw(client, token, audit_id)
    sampled, reserves = _stratum_cases(engine, "Odense", "5-7")
    case_id = {"sampled": str(sampled[0].id), "reserve": str(reserves[0].id), "nonsense": "x1"}[which]
    resp = client.post(f"/sampling/{audit_id}/replace",
                       data={"csrf_token": token, "case_id": case_id, "reason": reason, "force": "1"})
    assert resp.status_code == 422 and message in resp.text and "Not replaced:" in resp.text
    assert _field(resp.text, "case_id") == case_id and _field(resp.text, "reason") == reason
    assert re.search(r'name="force" value="1" checked', resp.text.split('data-testid="replace-form"')[1])
    assert _count(engine, Case, Case.replacement_reason != None) == 0  # noqa: E711


def test_downloads_are_the_cli_export(engine, audit_id, admin, tmp_path):
    client, token = admin
    _upload(client, token, audit_id, register_csv())
    assert client.get(f"/sampling/{audit_id}/sample.csv").status_code == 409  # nothing drawn yet
    _draw(client, token, audit_id)
    resp = client.get(f"/sampling/{audit_id}/sample.csv")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert 'attachment; filename="fyn_2022_sample.csv"' in resp.headers["content-disposition"]
    lines = resp.text.splitlines()
    assert lines[0] == EXPORT_HEADER and len(lines) == 1 + CASES + RESERVES
    proto = client.get(f"/sampling/{audit_id}/protocol.csv")
    assert proto.status_code == 200 and "# seed: 42" in proto.text
    with Session(engine) as s:  # byte for byte what `audit sample export` writes
        written = export_sample(s, s.get(Audit, audit_id), tmp_path / "sample.csv", actor=None)
    assert resp.content == (tmp_path / "sample.csv").read_bytes()
    assert proto.content == written.read_bytes()


def test_page_links_from_the_admin_pages(audit_id, admin):
    client, _ = admin
    home = client.get("/admin").text
    assert f'href="/sampling?audit_id={audit_id}">sample</a>' in home
    assert '<a href="/sampling">Sample</a>' in home  # the top navigation
    assert client.get("/sampling").status_code == 200  # without an id: the newest audit
    assert client.get("/sampling?audit_id=999").status_code == 404


def _routes(audit_id: int) -> list[tuple[str, str]]:
    return [("GET", f"/sampling?audit_id={audit_id}"), ("GET", "/sampling"),
            ("GET", f"/sampling/{audit_id}/sample.csv"), ("GET", f"/sampling/{audit_id}/protocol.csv"),
            ("POST", f"/sampling/{audit_id}/population"), ("POST", f"/sampling/{audit_id}/draw"),
            ("POST", f"/sampling/{audit_id}/replace")]


@pytest.mark.parametrize("role,municipality", [("auditor", None), ("municipality", "Odense")])
def test_other_roles_are_refused_on_every_route(engine, audit_id, admin, make_user, client_for, role, municipality):
    client, token = admin
    _upload(client, token, audit_id, register_csv())
    _draw(client, token, audit_id)
    case = _stratum_cases(engine, "Odense", "5-7")[0][0]
    other, other_token = client_for(make_user("someone", role, municipality))
    forms = {"population": {"replace": "1"}, "draw": {"seed": "7", "per_stratum": "5", "bands": "5,7,10",
                                                       "reserves": "2", "force": "1"},
             "replace": {"case_id": str(case.id), "reason": "moved", "force": "1"}}
    for method, path in _routes(audit_id):
        if method == "GET":
            resp = other.get(path)
        else:
            kind = path.rsplit("/", 1)[1]
            files = {"register": ("r.csv", register_csv(), CSV)} if kind == "population" else None
            resp = other.post(path, data={"csrf_token": other_token, **forms[kind]}, files=files)
        assert resp.status_code == 403, (method, path)
    with Session(engine) as s:  # nothing changed: same seed, no replacement, same population
        assert s.get(Audit, audit_id).seed == 42
        assert _count(engine, Case, Case.replacement_reason != None) == 0  # noqa: E711
        assert _count(engine, Person) == PEOPLE
        users = {e.username for e in s.exec(select(AuditLog).where(AuditLog.audit_id == audit_id)).all()}
        assert users <= {"ada", "system"}


def test_anonymous_is_sent_to_login(engine, audit_id, app):
    with TestClient(app, headers={"accept": "text/html"}) as c:
        for method, path in _routes(audit_id):
            if method == "GET":
                resp = c.get(path, follow_redirects=False)
            else:
                token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
                resp = c.post(path, data={"csrf_token": token}, follow_redirects=False)
            assert resp.status_code == 303 and resp.headers["location"].startswith("/login"), (method, path)
    with TestClient(app) as c:
        assert c.get(f"/sampling/{audit_id}/sample.csv").status_code == 401


@pytest.mark.danish  # Table 12 in the default language: Danish labels throughout
def test_page_shows_table_12_from_the_register_and_the_sample(engine, audit_id, admin):
    """The representativeness table on the page: women's share in the population and in the
    drawn sample, worked out here from the stored persons and cases."""
    import math

    client, token = admin
    _upload(client, token, audit_id, register_csv())
    page = _draw(client, token, audit_id).text
    table = page.split('data-testid="table12"', 1)[1].split("</table>", 1)[0]
    with Session(engine) as s:
        people = s.exec(select(Person)).all()
        drawn = [p for _, p in s.exec(select(Case, Person).join(Person, Person.id == Case.person_pk)
                                      .where(Case.active == True)).all()]  # noqa: E712

    def pct(part: int, whole: int) -> str:
        return f"{math.floor(100 * part / whole + 0.5)}%"

    women = re.search(r'<tr><th scope="row" class="rowhead">Kvinde</th>(.*?)</tr>', table, re.S).group(1)
    cells = re.findall(r'class="num">([^<]+)<', women)
    assert len(cells) == 8  # 3 bands + I alt, population and sample
    assert cells[3] == pct(sum(p.sex == "kvinde" for p in people), len(people))
    assert cells[7] == pct(sum(p.sex == "kvinde" for p in drawn), len(drawn))
    n = re.findall(r'class="num">([^<]+)<', re.search(r'<tr class="total"><th scope="row">N</th>(.*?)</tr>', table, re.S).group(1))
    assert n[3] == f"{len(people):,}".replace(",", ".") and n[7] == str(len(drawn)) == str(CASES)
    assert "Under 40 år" in table and "Ikke-vestlig" in table


def test_reloading_a_form_address_and_unknown_urls_get_pages_not_json(audit_id, admin):
    client, token = admin
    resp = client.get(f"/sampling/{audit_id}/replace", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/sampling?audit_id={audit_id}"
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "<html" in missing.text and "{\"detail\"" not in missing.text
    wrong = client.put(f"/sampling/{audit_id}/draw", headers={"X-CSRF-Token": token})
    assert wrong.status_code == 405 and "<html" in wrong.text
    api = client.get("/api/no/such", headers={"accept": "application/json"})
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}


def _with_columns(data: bytes, extra: dict[str, list[str]]) -> bytes:
    """register_csv's file with further columns appended (one value per person)."""
    lines = data.decode("utf-8-sig").splitlines()
    out = [lines[0] + ";" + ";".join(extra)]
    for i, line in enumerate(lines[1:]):
        out.append(line + ";" + ";".join(values[i] for values in extra.values()))
    return ("\n".join(out) + "\n").encode("utf-8-sig")


def test_register_with_extra_columns_and_two_snapshots_through_the_upload_page(engine, audit_id, admin):
    """The upload page does what `audit population import [--ignore-extra] [--as-of]` does:
    declared columns stored typed, an undeclared one refused unless left out, two snapshots
    linked by person_id, and the change between them equal to pandas on the two files."""
    import json as _json

    import pandas as pd

    from audit.population.snapshots import snapshot_change

    client, token = admin
    base = register_csv()
    n = base.decode("utf-8-sig").count("\n") - 1
    interviews = [str(i % 13) for i in range(n)]
    declared = _with_columns(base, {"interviews_period": interviews})
    undeclared = _with_columns(base, {"interviews_period": interviews, "cpr_note": ["x"] * n})
    refused = _upload(client, token, audit_id, undeclared, name="extra.csv")
    assert refused.status_code == 422 and "cpr_note" in html.unescape(refused.text)
    assert _count(engine, Person) == 0
    page = _upload(client, token, audit_id, undeclared, name="extra.csv", ignore_extra="1")
    assert page.status_code == 200 and "cpr_note" in page.text  # said: left out
    ids = [line.split(";")[0] for line in base.decode("utf-8-sig").splitlines()[1:]]
    with Session(engine) as s:
        stored = {p.person_id: _json.loads(p.values_json or "{}") for p in s.exec(select(Person))}
    assert {pid: v["interviews_period"] for pid, v in stored.items()} == dict(zip(ids, map(int, interviews)))
    assert not any("cpr_note" in v for v in stored.values())

    statuses = ["kontanthjaelp_mv", "ressourceforloeb", "foertidspension", "andre_ydelser"]
    munis = [line.split(";")[1] for line in base.decode("utf-8-sig").splitlines()[1:]]
    before = [statuses[i % 2] for i in range(n)]
    after = [statuses[i % 4] for i in range(n)]

    def snapshot(values: list[str]) -> bytes:
        rows = ["person_id;municipality;benefit_status"] + [f"{p};{m};{v}" for p, m, v in zip(ids, munis, values)]
        return ("\n".join(rows) + "\n").encode("utf-8")

    bad = _upload(client, token, audit_id, snapshot(before), name="feb.csv", as_of="28-02-2018")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text and 'value="28-02-2018"' in bad.text
    for day, values, name in (("2018-02-28", before, "feb.csv"), ("2018-12-31", after, "dec.csv")):
        resp = _upload(client, token, audit_id, snapshot(values), name=name, as_of=day)
        assert resp.status_code == 200 and f"Imported the snapshot at {day} from {name}" in resp.text
    listing = resp.text.split('data-testid="snapshots"', 1)[1].split("</table>", 1)[0]
    assert "2018-02-28" in listing and "2018-12-31" in listing and listing.count(f">{n}<") == 2
    again = _upload(client, token, audit_id, snapshot(after), name="dec.csv", as_of="2018-12-31")
    assert again.status_code == 422 and "already has a snapshot at 2018-12-31" in again.text
    with Session(engine) as s:
        table = snapshot_change(s, s.get(Audit, audit_id), "benefit_status", "2018-02-28", "2018-12-31")
    feb, dec = pd.Series(before).value_counts(), pd.Series(after).value_counts()
    for code in statuses:
        row = table.loc[code]
        b, a = int(feb.get(code, 0)), int(dec.get(code, 0))
        assert (row["n_before"], row["n_after"], row["diff_persons"]) == (b, a, a - b)
        assert abs(row["diff_pp"] - 100 * (a / n - b / n)) < 1e-9
