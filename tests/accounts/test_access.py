"""Access logging (issue 12: "Who viewed a citizen's assessment or downloaded a workbook is
recorded nowhere"): views, API reads, downloads and CLI exports each leave an entry naming the
user, the kind of use, what, and the cases with their register person ids; `audit log access
--person` and the admin page list them for one citizen, newest first."""
from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import Session, select

from audit import access
from audit.cli import main
from audit.models import AccessCase, AccessLog, Audit, Case, Person
from tests.hearing.world import make_world, use_instrument


@pytest.fixture
def world(engine, make_user, monkeypatch):  # type: ignore[no-untyped-def]
    w = make_world(engine, make_user)
    use_instrument(monkeypatch, w.instrument)
    return w


def _entries(engine) -> list[tuple[AccessLog, list[tuple[int, str]]]]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        out = []
        for e in s.exec(select(AccessLog).order_by(AccessLog.id)).all():
            links = s.exec(select(AccessCase.case_id, AccessCase.person_id).where(AccessCase.access_id == e.id)
                           .order_by(AccessCase.case_id)).all()
            out.append((e, [tuple(link) for link in links]))
        return out


def _person_of(engine, case_id: int) -> str:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.get(Person, s.get(Case, case_id).person_pk).person_id


def _open_round(engine, world) -> None:  # type: ignore[no-untyped-def]
    from audit.hearing.rounds import open_round

    with Session(engine) as s:
        open_round(s, s.get(Audit, world.audit_id), ["Odense"], date.today() + timedelta(days=14), None)
        s.commit()


def test_an_auditor_viewing_a_case_is_logged_once_per_view(engine, world, client_for):
    case_id = world.odense[0]
    c, _ = client_for(world.auditor)
    assert c.get(f"/review/cases/{case_id}").status_code == 200
    entries = _entries(engine)
    assert len(entries) == 1  # the page reads the form and the facts: one use
    entry, links = entries[0]
    assert (entry.username, entry.user_id, entry.kind, entry.what) == ("bo", world.auditor.id, "view", "case form")
    assert entry.audit_id == world.audit_id and entry.address == "testclient"
    assert links == [(case_id, _person_of(engine, case_id))]
    c.get(f"/review/cases/{case_id}")
    assert len(_entries(engine)) == 2  # a second view is a second use


def test_the_json_case_endpoints_are_logged_as_api_uses(engine, world, client_for):
    case_id = world.odense[1]
    c, _ = client_for(world.auditor)
    assert c.get(f"/api/cases/{case_id}").status_code == 200
    assert c.get(f"/api/review/cases/{case_id}/form").status_code == 200
    got = [(e.kind, e.what, links) for e, links in _entries(engine)]
    person = _person_of(engine, case_id)
    assert got == [("api", "case facts", [(case_id, person)]), ("api", "case form", [(case_id, person)])]


def test_saving_an_answer_is_not_a_view(engine, world, client_for):
    from audit.models import Case as CaseRow
    with Session(engine) as s:
        case = s.get(CaseRow, world.aarhus[0])
        version = case.version
    c, token = client_for(world.auditor)
    resp = c.put(f"/api/review/cases/{world.aarhus[0]}/answers/direction",
                 json={"value": "jobrettet", "expected_version": version}, headers={"X-CSRF-Token": token})
    assert resp.status_code == 200, resp.text
    assert _entries(engine) == []  # the change is in the audit trail; nothing new was handed out


def test_a_municipality_viewing_its_case_and_downloading_the_workbook_is_logged(engine, world, client_for):
    _open_round(engine, world)
    c, _ = client_for(world.odense_user)
    case_id = world.odense[0]
    assert c.get(f"/hearing/cases/{case_id}").status_code == 200
    resp = c.get(f"/hearing/export/{world.audit_id}/Odense/hearing.xlsx")
    assert resp.status_code == 200 and resp.content[:2] == b"PK"
    (portal, portal_links), (view, view_links), (download, download_links) = _entries(engine)
    # the portal the log-in lands on shows the person ids of the municipality's cases in the round
    assert (portal.username, portal.kind, portal.what) == ("odense", "view", "hearing overview (person ids)")
    assert portal_links == [(cid, _person_of(engine, cid)) for cid in sorted(world.odense)]
    assert (view.username, view.kind, view.what) == ("odense", "view", "hearing case page")
    assert view_links == [(case_id, _person_of(engine, case_id))]
    assert (download.username, download.kind, download.what) == ("odense", "download", "hearing workbook")
    assert [cid for cid, _ in download_links] == sorted(world.odense)  # the three cases in the workbook
    assert {pid for _, pid in download_links} == {_person_of(engine, cid) for cid in world.odense}


def test_audit_export_raw_is_logged_with_every_exported_case(engine, world, tmp_path: Path):
    out = tmp_path / "data.csv"
    result = CliRunner().invoke(main, ["export", "raw", "--audit", "Revision 2022", "--out", str(out), "--comma"])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as fh:
        exported = sorted(int(r["case_id"]) for r in csv.DictReader(fh))
    [(entry, links)] = _entries(engine)
    assert entry.kind == "export" and entry.what == "data.csv" and entry.username.startswith("cli:")
    assert entry.user_id is None and entry.n_cases == len(exported)
    assert [cid for cid, _ in links] == exported and exported


def test_log_access_lists_the_uses_of_one_person_newest_first(engine, world, client_for, tmp_path: Path):
    _open_round(engine, world)
    case_id = world.odense[0]
    person = _person_of(engine, case_id)
    bo, _ = client_for(world.auditor)
    bo.get(f"/review/cases/{case_id}")
    muni, _ = client_for(world.odense_user)
    muni.get(f"/hearing/cases/{case_id}")
    muni.get(f"/hearing/export/{world.audit_id}/Odense/hearing.xlsx")
    CliRunner().invoke(main, ["export", "raw", "--audit", "Revision 2022", "--out", str(tmp_path / "d.xlsx")])
    bo.get(f"/review/cases/{world.kbh[0]}")  # another person's case: not listed

    result = CliRunner().invoke(main, ["log", "access", "--person", person, "--format", "json"])
    assert result.exit_code == 0, result.output
    uses = json.loads(result.output)
    assert [(u["user"], u["kind"], u["what"]) for u in uses][:4] == [
        ("cli:" + uses[0]["user"].removeprefix("cli:"), "view", "access log of a person"),  # the lookup itself
        (uses[1]["user"], "export", "data.xlsx"),
        ("odense", "download", "hearing workbook"),
        ("odense", "view", "hearing case page"),
    ]
    assert uses[1]["user"].startswith("cli:")
    assert [(u["user"], u["kind"], u["what"]) for u in uses[4:]] == [
        ("odense", "view", "hearing overview (person ids)"),   # the portal the log-in lands on
        ("bo", "view", "case form")]
    assert {u["case_id"] for u in uses} == {case_id} and {u["audit"] for u in uses} == {"Revision 2022"}
    ats = [u["at"] for u in uses]
    assert ats == sorted(ats, reverse=True)

    table = CliRunner().invoke(main, ["log", "access", "--person", person])
    assert f"person {person}: 7 logged use(s), newest first" in table.output
    assert CliRunner().invoke(main, ["log", "access", "--person", "nobody"]).output.startswith(
        "person nobody: 0 logged use(s)")


def test_the_admin_page_lists_the_uses_of_one_person(engine, world, client_for):
    case_id = world.kbh[1]
    person = _person_of(engine, case_id)
    bo, _ = client_for(world.auditor)
    bo.get(f"/review/cases/{case_id}")
    admin, _ = client_for(world.admin)
    page = admin.get(f"/admin/access?person={person}")
    assert page.status_code == 200
    rows = page.text.split('data-testid="uses"')[1].split("</table>")[0]
    assert rows.count("<tr>") == 3  # header, the admin's lookup, bo's view
    assert rows.index("access log of a person") < rows.index("case form")  # newest first
    assert ">bo<" in rows and f">{case_id}<" in rows
    assert admin.get("/admin/access").status_code == 200
    muni, _ = client_for(world.odense_user)
    assert muni.get(f"/admin/access?person={person}").status_code == 403


def test_a_use_of_the_whole_register_is_listed_for_every_person_in_it(engine, world):
    from audit.exports.service import load_audit_data

    with Session(engine) as s:
        load_audit_data(s, world.audit_id, with_population=True, actor=access.cli_actor("ada"), purpose="annex.xlsx")
        load_audit_data(s, world.audit_id, actor=access.cli_actor("ada"), purpose="codebook.csv")  # no personal data
    [(entry, _links)] = _entries(engine)
    assert entry.population and entry.what == "annex.xlsx" and entry.username == "cli:ada"
    with Session(engine) as s:
        uses = access.uses_for_person(s, _person_of(engine, world.aarhus[0]), actor=None)
    assert [(u.what, u.kind) for u in uses] == [("annex.xlsx", "export")]


def test_the_access_log_is_chained_and_append_only(engine, world, client_for):
    bo, _ = client_for(world.auditor)
    for cid in world.odense:
        bo.get(f"/review/cases/{cid}")
    with Session(engine) as s:
        assert access.verify(s).message() == "3 entries, chain intact"
    with engine.connect() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("UPDATE accesscase SET person_id = 'someone else'"))
    with engine.connect() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("DELETE FROM accesslog"))
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as conn:  # the owner, behind the app's back: rewrite whose case entry 2 was
        if sqlite:
            conn.execute(text("DROP TRIGGER accesscase_no_update"))
        else:
            conn.execute(text("ALTER TABLE accesscase DISABLE TRIGGER accesscase_no_change"))
        conn.execute(text("UPDATE accesscase SET person_id = 'someone else' WHERE access_id = 2"))
    with Session(engine) as s:
        verdict = access.verify(s)
    assert not verdict.intact and verdict.broken_id == 2
    result = CliRunner().invoke(main, ["log", "verify"])
    assert result.exit_code == 1 and "access log: BROKEN: accesslog: entry 2" in result.output


def test_a_use_inside_a_writing_transaction_does_not_wait_for_itself(engine, world):
    """On SQLite a transaction that already writes holds the only write lock: the entry joins it
    (on PostgreSQL it is committed on its own). Either way it is there, and nothing hangs."""
    from audit import auditlog

    with Session(engine) as s:
        auditlog.record(s, user=None, entity="test", new="a write first")
        case = s.get(Case, world.odense[0])
        from audit.review.form import case_form
        case_form(s, case, actor=access.cli_actor("ada"))
        s.commit()
    [(entry, links)] = _entries(engine)
    assert entry.what == "case form" and links == [(world.odense[0], _person_of(engine, world.odense[0]))]
    with Session(engine) as s:
        assert access.verify(s).intact and auditlog.verify(s).intact
