"""`audit instrument check` and `audit instrument codebook`: exit codes, printed
summary and the workbook reopened with openpyxl."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from audit.instrument.cli import instrument
from conftest import REAL_FILE


def run(*args: str):
    return CliRunner().invoke(instrument, list(args))


def test_check_real_file_exits_0_and_prints_counts():
    result = run("check", str(REAL_FILE))
    assert result.exit_code == 0, result.output
    assert "Total    194  assessment items in 7 themes" in result.output
    assert "2         33  Kontaktforløbet / The contact course" in result.output
    assert "no errors" in result.output


def test_check_bad_file_exits_1_and_lists_problems(write, mini):
    mini["survey"][1]["relevant"] = "${direction} = 'jobret'"
    result = run("check", str(write(mini)))
    assert result.exit_code == 1
    assert "1 error(s)" in result.output and "unknown choice code 'jobret'" in result.output
    assert "q_yes (line " in result.output


def test_check_missing_file_exits_1(tmp_path):
    result = run("check", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1 and "cannot read" in result.output


def test_codebook_refuses_bad_file(write, mini, tmp_path):
    mini["survey"][0]["type"] = "select_one nolist"
    result = run("codebook", str(write(mini)), "--out", str(tmp_path / "cb.xlsx"))
    assert result.exit_code == 1 and not (tmp_path / "cb.xlsx").exists()


def test_codebook_contents(tmp_path: Path):
    out = tmp_path / "out" / "codebook.xlsx"
    result = run("codebook", str(REAL_FILE), "--out", str(out))
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["Items", "Choices", "About"]
    ws = wb["Items"]
    header = [c.value for c in ws[1]]
    assert header[:8] == ["Tema / Theme", "Kode / Code", "Spørgsmål (da)", "Question (en)", "Type",
                          "Svarkategorier / Choices", "Relevans (da)", "Relevance (en)"]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref.startswith("A1:")
    assert ws.column_dimensions["C"].width == 60
    rows = {r[1]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert len(rows) == 202                                   # 194 items + 8 calculated fields
    r = rows["plan_job_goal_concrete"]
    assert r[0] == 3 and r[2] == "Er jobmålet konkret?" and r[3] == "Is the job goal concrete?"
    assert r[4] == "yes_no" and r[5] == "ja = Ja; nej = Nej"
    assert r[6] == "kun hvis plan_job_goal = ja" and r[7] == "only if plan_job_goal = ja"
    assert r[10] == "ja" and r[11] == "case"
    d = rows["direction"]
    assert d[4] == "select_one direction" and d[7] == "always"
    assert d[5].startswith("jobrettet = Jobrettet indsats")
    assert rows["political_focus"][11] == "municipality" and rows["political_focus"][4] == "scale (1-5)"
    assert rows["challenge_breadth"][4] == "calculate" and "number ticked in challenges" in rows["challenge_breadth"][9]
    choices = list(wb["Choices"].iter_rows(min_row=2, values_only=True))
    assert ("direction", "fritaget", "Fritaget for indsats", "Exempted from the effort") in choices
    assert ("certificate_type", "lae265", "LÆ 265 Attest til rehabiliteringsteamet",
            "LÆ 265 certificate for the rehabilitation team") in choices
    about = {r[0]: r[1] for r in wb["About"].iter_rows(values_only=True)}
    assert about["Vurderingspunkter / Assessment items"] == 194
