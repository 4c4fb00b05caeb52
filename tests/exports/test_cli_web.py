"""The CLI and the web downloads on a real (migrated) database."""
from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from audit.cli import main


def test_cli_annex_raw_codebook(db_audit, tmp_path):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    out = tmp_path / "annex.xlsx"
    res = runner.invoke(main, ["export", "annex", "--audit", db_audit.name, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert f"wrote {out}" in res.output and "60 cases" in res.output
    wb = load_workbook(out)
    assert wb.sheetnames[0] == "Indhold" and "T02" in wb.sheetnames
    assert "Eksporttest 2022" in wb["Indhold"]["A2"].value
    # only the 60 reviewed cases count: the note of the overall frequency says so
    notes = [c.value for c in wb["T01"]["A"] if isinstance(c.value, str) and c.value.startswith("Anm.:")]
    assert notes and notes[0].startswith("Anm.: N=60.")
    for name in ("data.xlsx", "data.csv", "data.sav"):
        res = runner.invoke(main, ["export", "raw", "--audit", db_audit.name, "--out", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        assert "60 cases" in res.output
        assert (tmp_path / name).stat().st_size > 0
    res = runner.invoke(main, ["export", "codebook", "--audit", db_audit.name, "--out", str(tmp_path / "cb.csv")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "cb.csv").read_text(encoding="utf-8-sig").startswith("variabel;label;type")
    if db_audit.instrument_json:
        res = runner.invoke(main, ["export", "codebook", "--audit", db_audit.name, "--out", str(tmp_path / "cb.xlsx")])
        assert res.exit_code == 0, res.output
        assert load_workbook(tmp_path / "cb.xlsx").sheetnames
    res = runner.invoke(main, ["export", "raw", "--audit", db_audit.name, "--out", str(tmp_path / "x.json")])
    assert res.exit_code != 0 and "unknown raw export format" in res.output
    res = runner.invoke(main, ["export", "annex", "--audit", "no such audit", "--out", str(out)])
    assert res.exit_code != 0 and "no audit named" in res.output


def test_cli_annex_matches_the_statistics_room_on_the_stored_audit(db_audit, engine, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The annex written by the CLI from the database holds, cell by cell, what
    audit.statistics computes from the same audit's case frame."""
    from sqlmodel import Session

    import audit.exports.annex
    from audit.exports.definitions import load_definitions
    from audit.population.snapshots import population_frame  # the one the annex reads
    from audit.audits import instrument_for
    from audit.statistics.dataset import load_case_frame
    from tests.exports.oracle import assert_sheet_matches, expected_sheet

    # where the CLI's annex put each table (its rows, its note): the layouts write_annex returned
    # for the very file the command wrote, kept on the way (the command runs unchanged)
    written: list = []
    real = audit.exports.annex.write_annex

    def keep_layouts(*args, **kwargs):  # type: ignore[no-untyped-def]
        written.append(real(*args, **kwargs))
        return written[-1]

    monkeypatch.setattr(audit.exports.annex, "write_annex", keep_layouts)
    out = tmp_path / "annex.xlsx"
    res = CliRunner().invoke(main, ["export", "annex", "--audit", db_audit.name, "--out", str(out)])
    assert res.exit_code == 0, res.output
    with Session(engine) as s:
        frame = load_case_frame(s, db_audit.name)
        instrument = instrument_for(db_audit)
        population = population_frame(s, db_audit)
    assert len(frame) == 60
    spec = load_definitions(instrument=instrument)
    assert len(written) == 1
    layouts = {lay.sheet: lay for lay in written[0]}
    assert set(layouts) == {t.id for t in spec.tables}
    wb = load_workbook(out)
    assert sum(assert_sheet_matches(wb[t.id], layouts[t.id],
                                    expected_sheet(t, frame, spec, instrument, population=population))
               for t in spec.tables) > 500


def test_cli_help_documents_commands():  # type: ignore[no-untyped-def]
    res = CliRunner().invoke(main, ["export", "--help"])
    assert res.exit_code == 0
    for cmd in ("annex", "raw", "codebook", "check-annex"):
        assert cmd in res.output


@pytest.mark.danish  # the exports page and the annex as the agency reads them
def test_admin_page_and_downloads(db_audit, make_user, client_for):  # type: ignore[no-untyped-def]
    admin = make_user("chef", "admin")
    client, _ = client_for(admin)
    page = client.get("/exports")
    assert page.status_code == 200
    assert db_audit.name in page.text
    assert f"/exports/{db_audit.id}/annex.xlsx" in page.text
    # every link on the page leads somewhere: the downloads and the municipalities' workbooks
    import re
    # the downloads are forms (a button that shows progress while the file is prepared) and links
    links = re.findall(r'(?:href|action)="(/(?:exports|hearing/export)/[^"]+)"', page.text)
    assert f"/hearing/export/{db_audit.id}/K%C3%B8benhavn/hearing.xlsx" in links
    # each file computed once, checked below; the figure book draws the report definition, which this
    # audit's 60 cases over 23 municipalities cannot suppress (tests/exports/test_figures.py downloads both)
    assert f"/exports/{db_audit.id}/figures.zip" in links and f"/exports/{db_audit.id}/report.xlsx" in links
    got = {link: client.get(link) for link in links if not link.endswith(("/figures.zip", "/report.xlsx"))}
    for link, resp in got.items():
        assert resp.status_code == 200, link
    assert "tilbagemelding, når revisionen er låst" in page.text  # not locked: no feedback link yet
    resp = got[f"/exports/{db_audit.id}/annex.xlsx"]
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in resp.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(resp.content))
    assert wb.sheetnames[0] == "Indhold"
    resp = got[f"/exports/{db_audit.id}/data.csv"]
    assert resp.status_code == 200 and resp.content.startswith(b"\xef\xbb\xbf")
    assert resp.content.decode("utf-8-sig").count("\n") == 61
    for kind in ("data.xlsx", "data.sav", "codebook.csv"):
        assert got[f"/exports/{db_audit.id}/{kind}"].status_code == 200
    assert client.get(f"/exports/{db_audit.id}/secret.txt").status_code == 404
    assert client.get(f"/exports/{db_audit.id + 999}/annex.xlsx").status_code == 404


@pytest.mark.parametrize("role,municipality", [("municipality", "København"), ("auditor", None)])
def test_others_cannot_download(db_audit, make_user, client_for, role, municipality):  # type: ignore[no-untyped-def]
    user = make_user(f"u_{role}", role, municipality)
    client, _ = client_for(user)
    assert client.get("/exports").status_code in (403, 404)
    for kind in ("annex.xlsx", "data.csv", "data.sav"):
        resp = client.get(f"/exports/{db_audit.id}/{kind}")
        assert resp.status_code in (403, 404)
        assert not resp.content.startswith(b"PK")


def test_anonymous_is_sent_to_login(app, db_audit):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        resp = client.get(f"/exports/{db_audit.id}/annex.xlsx", headers={"accept": "application/json"})
        assert resp.status_code == 401


def test_profile_is_a_variable_wherever_a_variable_is(db_audit, make_user, client_for, tmp_path):  # type: ignore[no-untyped-def]
    """Table 4's four profiles (direction and age) are accepted by `audit stats`, /stats and
    check-annex, and count what pandas counts on the audit's reviewed cases."""
    import json

    from audit.exports.synthetic import case_frame

    src = case_frame(63, seed=11).head(60)  # the 60 completed cases of db_audit
    src = src.assign(profile=[None if d is None else ("Jobrettet indsats under 50 år" if a < 50 else
                                                      "Jobrettet indsats 50+ år") if d == "jobrettet" else
                              {"rehabiliterende": "Rehabiliterende indsats", "fritaget": "Fritagelse"}[d]
                              for d, a in zip(src.direction, src.age)])
    want = src.groupby(["profile", "sex"]).size()
    res = CliRunner().invoke(main, ["stats", "crosstab", "--audit", db_audit.name, "--row", "profile", "--col", "sex",
                                    "--format", "json", "--no-suppress"])
    assert res.exit_code == 0, res.output
    got = {(r["profile"], r["sex"]): r["count"] for r in json.loads(res.output)["records"]}
    assert got == {k: int(v) for k, v in want.items()} | {k: 0 for k in got if k not in want}
    definitions = tmp_path / "profiles.yaml"
    definitions.write_text("tables:\n  - {id: P1, title: Profiler, kind: crosstab, row: profile, col: sex}\n",
                           encoding="utf-8")
    res = CliRunner().invoke(main, ["export", "check-annex", str(definitions)])
    assert res.exit_code == 0, res.output
    client, _ = client_for(make_user("chef", "admin"))
    page = client.get(f"/stats?audit_id={db_audit.id}&row=profile&col=sex")
    assert page.status_code == 200 and "Jobrettet indsats under 50 år" in page.text
