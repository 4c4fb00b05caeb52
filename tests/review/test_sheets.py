"""Wide-sheet export/import: round trip in .xlsx and .csv; every kind of import
error is reported with file, row, column and value, and nothing is written."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import Session, select

from audit.models import Answer, Audit, AuditLog, Case, utcnow
from audit.review.answers import case_answers, set_answer
from audit.review.instrument import instrument_for
from audit.review.sheets import SheetImportError, export_sheet, import_sheet


def _multi_item(inst):  # type: ignore[no-untyped-def]
    return next(i for i in inst.items if i.kind == "multiple" and len(i.codes) >= 2 and i.is_case_level)


def _seed_answers(s, world):  # type: ignore[no-untyped-def]
    inst = instrument_for(s.get(Audit, world.audit_id))
    multi = _multi_item(inst)
    codes = list(multi.codes[:2])
    c0, c1 = s.get(Case, world.case_ids[0]), s.get(Case, world.case_ids[1])
    set_answer(s, case=c0, item="plan_job_goal", value="ja", user=None, instrument=inst)
    set_answer(s, case=c0, item="plan_job_goal_concrete", value="nej", user=None, instrument=inst)
    set_answer(s, case=c0, item=multi.name, value=codes, user=None, instrument=inst)
    set_answer(s, case=c1, item="plan_job_goal", value="nej", user=None, instrument=inst)
    s.commit()
    return inst, multi, codes


def _snapshot(s):  # type: ignore[no-untyped-def]
    answers = sorted((a.case_id, a.item, a.value_json, a.note) for a in s.exec(select(Answer)).all())
    versions = sorted((c.id, c.version, c.status) for c in s.exec(select(Case)).all())
    log = s.exec(select(func.count()).select_from(AuditLog)).one()
    return answers, versions, log


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_round_trip(engine, world, tmp_path: Path, suffix):
    with Session(engine) as s:
        inst, multi, codes = _seed_answers(s, world)
        audit = s.get(Audit, world.audit_id)
        path = tmp_path / f"answers{suffix}"
        assert export_sheet(s, audit, path, actor=None) == 5
        header, rows = _read(path)
        assert header[:5] == ["case_id", "municipality", "seniority_band", "status", "version"]
        assert "plan_job_goal" in header and multi.name in header
        assert not {i.name for i in inst.items if i.level == "municipality"} & set(header)
        row0 = rows[str(world.case_ids[0])]
        assert row0[header.index(multi.name)] == " ".join(codes)     # multiple choice: space-separated codes
        before = _snapshot(s)
        # importing the untouched sheet changes nothing
        result = import_sheet(s, audit, path, world.admin)
        s.commit()
        assert result.changed == 0 and _snapshot(s) == before
        # change one cell offline: plan_job_goal of case 1 becomes ja
        _write_cell(path, world.case_ids[1], "plan_job_goal", "ja")
        result = import_sheet(s, audit, path, world.admin)
        s.commit()
        assert result.changed == 1
        assert case_answers(s, world.case_ids[1])["plan_job_goal"] == "ja"
        assert case_answers(s, world.case_ids[0])[multi.name] == codes
        entry = s.exec(select(AuditLog).where(AuditLog.entity == "answer").order_by(AuditLog.id.desc())).first()
        assert entry.reason == f"imported from answers{suffix}" and entry.username == "ada"


def _read(path: Path):  # type: ignore[no-untyped-def]
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            data = list(csv.reader(fh, delimiter=";"))  # the sheet is for Danish Excel
    else:
        ws = load_workbook(path).active
        data = [["" if v is None else v for v in r] for r in ws.iter_rows(values_only=True)]
    return data[0], {str(r[0]): r for r in data[1:]}


def _write_cell(path: Path, case_id: int, column: str, value) -> None:  # type: ignore[no-untyped-def]
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            data = list(csv.reader(fh, delimiter=";"))
        col = data[0].index(column)
        for r in data[1:]:
            if r[0] == str(case_id):
                r[col] = value
        with path.open("w", newline="", encoding="utf-8-sig") as fh:
            csv.writer(fh, delimiter=";").writerows(data)
        return
    wb = load_workbook(path)
    ws = wb.active
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == case_id:
            row[header.index(column)].value = value
    wb.save(path)


def _add_column(path: Path, name: str, value) -> None:  # type: ignore[no-untyped-def]
    wb = load_workbook(path)
    ws = wb.active
    col = ws.max_column + 1
    ws.cell(1, col, name)
    ws.cell(2, col, value)
    wb.save(path)


def _append_row(path: Path, cells) -> None:  # type: ignore[no-untyped-def]
    wb = load_workbook(path)
    wb.active.append(cells)
    wb.save(path)


CASES = {
    "unknown item column": (lambda p, w: _add_column(p, "no_such_item", "ja"), "no_such_item", "not an item code"),
    "not a choice": (lambda p, w: _write_cell(p, w.case_ids[0], "plan_job_goal", "måske"), "plan_job_goal",
                     "is not one of"),
    "unknown multiple-choice code": (lambda p, w: _write_cell(p, w.case_ids[0], "MULTI", "xyz"), "MULTI",
                                     "unknown choice code"),
    "case not in the audit": (lambda p, w: _append_row(p, [99999]), "case_id", "no case 99999"),
    "not a case number": (lambda p, w: _append_row(p, ["abc"]), "case_id", "not a case number"),
    "case twice": (lambda p, w: _append_row(p, [w.case_ids[0]]), "case_id", "also on row"),
    "stale version": (lambda p, w: _write_cell(p, w.case_ids[0], "version", 0), "version", "export again"),
}


@pytest.mark.parametrize("kind_", list(CASES))
def test_every_import_error_names_file_row_column_value_and_writes_nothing(engine, world, tmp_path, kind_):
    with Session(engine) as s:
        inst, multi, _ = _seed_answers(s, world)
        audit = s.get(Audit, world.audit_id)
        path = tmp_path / "offline.xlsx"
        export_sheet(s, audit, path, actor=None)
        # one good change that must not be written either
        _write_cell(path, world.case_ids[1], "plan_job_goal", "ja")
        mutate, column, why = CASES[kind_]
        column = multi.name if column == "MULTI" else column
        if kind_ == "unknown multiple-choice code":
            _write_cell(path, world.case_ids[0], multi.name, "xyz")
        else:
            mutate(path, world)
        before = _snapshot(s)
        with pytest.raises(SheetImportError) as err:
            import_sheet(s, audit, path, world.admin)
        s.rollback()
        assert _snapshot(s) == before
        problems = [e for e in err.value.errors if e.column == column and why in e.why]
        assert problems, [str(e) for e in err.value.errors]
        assert problems[0].file == "offline.xlsx" and (problems[0].row or 0) >= 1
        assert "nothing was imported" in str(err.value)


def test_import_refuses_locked_audit_other_auditors_cases_completed_cases_and_bad_files(engine, world, tmp_path):
    with Session(engine) as s:
        _seed_answers(s, world)
        audit = s.get(Audit, world.audit_id)
        path = tmp_path / "a.xlsx"
        export_sheet(s, audit, path, actor=None)
        before = _snapshot(s)
        # cy may not edit Odense's cases
        with pytest.raises(SheetImportError, match="cy may not edit"):
            import_sheet(s, audit, path, world.auditor2)
        # a completed case
        case = s.get(Case, world.case_ids[4])
        case.status = "completed"
        s.add(case)
        s.flush()
        with pytest.raises(SheetImportError, match="only open cases"):
            import_sheet(s, audit, path, world.admin)
        s.rollback()
        # no case_id column / unreadable file
        bad = tmp_path / "bad.csv"
        bad.write_text("plan_job_goal\nja\n", encoding="utf-8")
        with pytest.raises(SheetImportError, match="no case_id column"):
            import_sheet(s, audit, bad, world.admin)
        broken = tmp_path / "broken.xlsx"
        broken.write_bytes(b"not a zip")
        with pytest.raises(SheetImportError, match="cannot read"):
            import_sheet(s, audit, broken, world.admin)
        audit.locked_at = utcnow()
        s.add(audit)
        s.flush()
        with pytest.raises(SheetImportError, match="locked"):
            import_sheet(s, audit, path, world.admin)
        s.rollback()
        assert _snapshot(s) == before


def test_cli_export_import_assign_second_review_agreement(engine, world, tmp_path):
    from click.testing import CliRunner

    from audit.cli import main

    runner = CliRunner()
    out = tmp_path / "x.xlsx"
    r = runner.invoke(main, ["reviews", "export", "--audit", "Revision 2022", "--out", str(out)])
    assert r.exit_code == 0 and "5 cases written" in r.output, r.output
    _write_cell(out, world.case_ids[0], "plan_job_goal", "ja")
    r = runner.invoke(main, ["reviews", "import", "--audit", "Revision 2022", str(out), "--as", "bo"])
    assert r.exit_code != 0 and "bo may not edit" in r.output   # København cases are cy's
    r = runner.invoke(main, ["reviews", "import", "--audit", "Revision 2022", str(out), "--as", "ada"])
    assert r.exit_code == 0 and "1 answers changed" in r.output, r.output
    _write_cell(out, world.case_ids[1], "plan_job_goal", "kanske")
    r = runner.invoke(main, ["reviews", "import", "--audit", "Revision 2022", str(out)])
    assert r.exit_code != 0 and "x.xlsx, row" in r.output and "column plan_job_goal" in r.output
    assert "nothing was imported" in r.output
    r = runner.invoke(main, ["reviews", "assign", "--audit", "Revision 2022", "--round-robin", "cy,bo"])
    assert r.exit_code == 0 and "2 municipalities assigned" in r.output, r.output
    r = runner.invoke(main, ["reviews", "assign", "--audit", "Revision 2022", "--auditor", "bo",
                             "--municipality", "Odense"])
    assert r.exit_code == 0 and "cases assigned to bo" in r.output, r.output
    r = runner.invoke(main, ["reviews", "second-review", "--audit", "Revision 2022", "--share", "0.4",
                             "--seed", "3", "--auditor", "bo", "--auditor", "cy"])
    assert r.exit_code == 0 and "2 cases marked" in r.output, r.output
    r = runner.invoke(main, ["reviews", "agreement", "--audit", "Revision 2022"])
    assert r.exit_code == 0 and "no item answered in both reviews" in r.output
    r = runner.invoke(main, ["reviews", "assign", "--audit", "Nope", "--round-robin", "bo"])
    assert r.exit_code != 0 and "no audit named" in r.output
