"""Theme 7 and the report from the command line, on a copy of the demo audit."""
from __future__ import annotations

import json
import shutil
import sqlite3

import openpyxl
import pandas as pd
import pytest

AUDIT = "Demo 2022"


def _silent(path) -> list[str]:  # type: ignore[no-untyped-def]
    """The demo's municipalities that left theme 7 unanswered (3 of 25, as in the report)."""
    with sqlite3.connect(path) as con:
        rows = con.execute("SELECT municipality FROM municipalityreview r WHERE NOT EXISTS "
                           "(SELECT 1 FROM answer a WHERE a.municipality_review_id = r.id)").fetchall()
    return sorted(r[0] for r in rows)


@pytest.fixture
def cli(demo_db, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    import audit.config
    import audit.db
    from click.testing import CliRunner

    from audit.cli import main

    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_db.removeprefix("sqlite:///"), path)
    monkeypatch.setenv("AUDIT_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("AUDIT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AUDIT_SECRET_KEY", "test-secret-key-not-for-production")
    audit.config.get_settings.cache_clear()
    audit.db.get_engine.cache_clear()

    def run(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        res = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert (res.exit_code == 0) == ok, res.output
        return res.output

    run.path = path  # type: ignore[attr-defined]
    yield run
    audit.config.get_settings.cache_clear()
    audit.db.get_engine.cache_clear()


def _theme7_answers(path) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    with sqlite3.connect(path) as con:
        return pd.read_sql_query(
            "SELECT r.municipality, r.status, a.item, a.value_json FROM answer a "
            "JOIN municipalityreview r ON r.id = a.municipality_review_id WHERE a.pass_no = 1", con)


def test_not_answered_municipalities_leave_n_and_shares_match_the_database(cli, tmp_path):  # type: ignore[no-untyped-def]
    MISSING = _silent(cli.path)
    assert len(MISSING) == 3
    out = cli("reviews", "theme7-not-answered", "--audit", AUDIT, *[a for m in MISSING for a in ("--municipality", m)],
              "--reason", "svarede ikke")
    assert all(f"{m}: theme 7 not answered" in out for m in MISSING)
    table = json.loads(cli("stats", "frequencies", "--audit", AUDIT, "--frame", "municipality",
                           "--item", "management_focus", "--format", "json"))
    raw = _theme7_answers(cli.path)
    raw = raw[(raw["item"] == "management_focus") & (raw["status"] == "completed")]
    values = raw["value_json"].map(json.loads).astype(str)
    assert table["n_total"] == len(values) == 22
    expected = values.value_counts()
    got = {str(r["management_focus"]): r["count"] for r in table["records"] if r.get("row", "I alt") == "I alt"}
    for code, count in expected.items():
        assert got[code] == count
    # a theme-7 item on the case frame: a clear error, not a traceback
    err = cli("stats", "frequencies", "--audit", AUDIT, "--item", "supervision_focus", ok=False)
    assert "theme-7 item" in err and "--frame municipality" in err


def test_report_build_writes_one_sheet_per_exhibit(cli, tmp_path):  # type: ignore[no-untyped-def]
    MISSING = _silent(cli.path)
    cli("reviews", "theme7-not-answered", "--audit", AUDIT, *[a for m in MISSING for a in ("--municipality", m)])
    assert "exhibits OK" in cli("report", "check")
    out = cli("report", "build", "--audit", AUDIT, "--out", str(tmp_path / "rep"))
    assert "22 of 25 municipalities answered theme 7" in out
    wb = openpyxl.load_workbook(tmp_path / "rep" / "report_2022.xlsx")
    sheets = wb.sheetnames[1:]
    assert "Figur 8" in sheets and "Figur 66" in sheets and len(sheets) >= 40
    ws = wb["Figur 66"]
    text = [c for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert text[0].startswith("Figur 66: Ledelsestilsyn")
    assert any("kommuner" in t and t.startswith("Anm.") for t in text)
    assert "Survey til ledelsen i de deltagende kommuner" in text
    raw = openpyxl.load_workbook(tmp_path / "rep" / "report_2022.xlsx")["Figur 8"]
    labels = [r[0] for r in raw.iter_rows(values_only=True) if r and isinstance(r[0], str)]
    assert "jobrettet" not in labels  # labels, not codes
