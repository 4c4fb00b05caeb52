"""The `audit hearing` commands: open, status, close, lock, export."""
from __future__ import annotations

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlmodel import Session, select

from audit.cli import main
from audit.models import AuditLog, Case


def test_cli_round_from_open_to_export(engine, world, tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["hearing", "--help"])
    assert r.exit_code == 0 and "audit hearing open" in r.output and "lock" in r.output
    r = runner.invoke(main, ["hearing", "open", "--audit", "Revision 2022", "--municipality", "Aarhus",
                             "--deadline", "2999-06-01"])
    assert r.exit_code != 0 and "Aarhus has no completed cases" in r.output
    r = runner.invoke(main, ["hearing", "open", "--audit", "Revision 2022", "--municipality", "odense",
                             "--municipality", "København", "--deadline", "2999-06-01", "--by", "ada"])
    assert r.exit_code == 0, r.output
    assert "round 1 opened for København (2 cases), Odense (3 cases); deadline 2999-06-01 23:59 UTC" in r.output
    r = runner.invoke(main, ["hearing", "status", "--audit", "Revision 2022"])
    assert "round 1: open" in r.output and "Odense" in r.output and "not yet" in r.output
    assert "not ready to lock: round 1 is still open" in r.output
    r = runner.invoke(main, ["hearing", "lock", "--audit", "Revision 2022"])
    assert r.exit_code != 0 and "use force" in r.output
    r = runner.invoke(main, ["hearing", "close", "--audit", "Revision 2022", "--round", "1"])
    assert r.exit_code == 0 and "round 1 closed" in r.output
    r = runner.invoke(main, ["hearing", "export", "--audit", "Revision 2022", "--municipality", "Odense",
                             "--out", str(tmp_path / "f.xlsx"), "--feedback"])
    assert r.exit_code != 0 and "after the audit is locked" in r.output
    r = runner.invoke(main, ["hearing", "lock", "--audit", "Revision 2022"])
    assert r.exit_code == 0 and "locked" in r.output
    # in the operator's language (AUDIT_LANGUAGE; English in the tests), or the one chosen
    for flag, sheet in (([], "Assessments"), (["--feedback"], "Feedback"), (["--language", "da"], "Vurderinger"),
                        (["--feedback", "--language", "da"], "Tilbagemelding")):
        out = tmp_path / f"odense_{sheet}.xlsx"
        r = runner.invoke(main, ["hearing", "export", "--audit", "Revision 2022", "--municipality", "odense",
                                 "--out", str(out), *flag])
        assert r.exit_code == 0, r.output
        assert load_workbook(out).sheetnames[0] == sheet
    with Session(engine) as s:
        assert {c.status for c in s.exec(select(Case).where(Case.municipality == "Odense")).all()} == {"final"}
        opened = s.exec(select(AuditLog).where(AuditLog.field == "opened")).one()
        assert opened.username == "ada"
    r = runner.invoke(main, ["hearing", "status", "--audit", "Nope"])
    assert r.exit_code != 0 and "no audit named 'Nope'" in r.output
