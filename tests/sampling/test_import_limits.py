"""Register import refusals of issue 12: formula-like and control-character person ids, at most
`errors_listed` problems listed with the rest counted (memory flat: 20,000 rows with one id),
more rows than `import_rows`, cells longer than `cell_chars`, and an .xlsx that would expand
too far, refused before it is parsed. Every refusal names the file, row, column and value,
and nothing is written."""
from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, select

import audit.config
from audit.audits import create_audit
from audit.models import Person
from audit.population.importer import import_population
from audit.population.register import RegisterError

HEADER = "person_id;municipality;seniority_years;sex;age;origin\n"
GOOD = "Odense;6,5;mand;40;dansk\n"


def _audit(session: Session):  # type: ignore[no-untyped-def]
    audit = create_audit(session, "T", period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                         reference_date=date(2020, 3, 1))
    session.commit()
    return audit


def _refused(session: Session, body: bytes, name: str = "register.csv") -> RegisterError:
    audit = _audit(session)
    with pytest.raises(RegisterError) as info:
        import_population(session, audit, io.BytesIO(body), name)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Person)) == 0
    return info.value


@pytest.fixture
def limit(monkeypatch):  # type: ignore[no-untyped-def]
    """limit(name, value): set an AUDIT_MAX_* setting for this test."""
    def _set(name: str, value: int) -> None:
        monkeypatch.setenv(f"AUDIT_MAX_{name.upper()}", str(value))
        audit.config.get_settings.cache_clear()
    yield _set
    audit.config.get_settings.cache_clear()


FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "@SUM(1+1)*cmd|' /C calc'!A0", "-123", "-2+3", "=HYPERLINK(\"x\")"]


def test_formula_like_person_ids_are_refused(session):
    rows = "".join(f'"{p.replace(chr(34), chr(34) * 2)}";{GOOD}' for p in FORMULAS) + f"ok1;{GOOD}"
    err = _refused(session, (HEADER + rows).encode())
    found = {(e.row, e.column, e.value) for e in err.errors}
    assert found == {(k + 2, "person_id", p) for k, p in enumerate(FORMULAS)}
    assert all("formula" in e.message for e in err.errors)
    assert "register.csv, row 2, column person_id: person_id starts with =" in str(err.errors[0])


def test_control_characters_in_person_ids_are_refused(session):
    ids = ["a\x01b", "line\nbreak", "nul\x00x", "del\x7f", "c1\x85x", "tab\tinside"]
    rows = "".join(f'"{p}";{GOOD}' for p in ids) + f"fine;{GOOD}"
    err = _refused(session, (HEADER + rows).encode())
    assert sorted(e.row for e in err.errors) == [2, 3, 4, 5, 6, 7]
    assert {e.column for e in err.errors} == {"person_id"}
    assert all("control character" in e.message for e in err.errors)
    assert {e.value for e in err.errors} == set(ids)


def test_twenty_thousand_duplicates_are_listed_up_to_the_limit_and_counted(session):
    body = HEADER + f"X1;{GOOD}" * 20_000 + f"=1+1;{GOOD}"
    err = _refused(session, body.encode())
    assert err.total == 20_001 and len(err.errors) == 500 and err.unlisted == 19_501
    assert [e.row for e in err.errors] == list(range(2, 502))  # the file's first problems, in order
    # each message names a few rows and counts the rest: no message grows with the group
    assert max(len(e.message) for e in err.errors) < 120
    assert "duplicate person_id (rows 2, 3, 4, 5, 6 and 19,995 more)" == err.errors[0].message
    assert "20,001 error(s) in register.csv (the first 500 are listed)" in str(err)


def test_errors_listed_follows_the_setting(session, limit):
    limit("errors_listed", 10)
    body = HEADER + "".join(f"p{i};Odense;6;mand;7;dansk\n" for i in range(30))  # 30 impossible ages
    err = _refused(session, body.encode())
    assert (len(err.errors), err.total) == (10, 30)
    assert [e.row for e in err.errors] == list(range(2, 12))


def test_more_rows_than_allowed_are_refused_before_validation(session, limit):
    limit("import_rows", 100)
    ok = HEADER + "".join(f"p{i};{GOOD}" for i in range(100))
    audit = _audit(session)
    assert import_population(session, audit, io.BytesIO(ok.encode()), "ok.csv").rows == 100
    session.rollback()
    err = _refused_again(session, (HEADER + "".join(f"p{i};{GOOD}" for i in range(101))).encode())
    assert len(err.errors) == 1 and err.errors[0].row is None
    assert "more.csv" in str(err.errors[0]) and "101 rows is more than the 100" in err.errors[0].message


def _refused_again(session: Session, body: bytes) -> RegisterError:
    from audit.audits import get_audit

    audit = get_audit(session, "T")
    with pytest.raises(RegisterError) as info:
        import_population(session, audit, io.BytesIO(body), "more.csv")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Person)) == 0
    return info.value


def test_cells_longer_than_allowed_are_refused_with_row_and_column(session, limit):
    limit("cell_chars", 50)
    body = HEADER + f"p1;{GOOD}" + "p2;Odense;6;mand;40;" + "d" * 51 + "\n" + f"p3;{GOOD}"
    err = _refused(session, body.encode())
    assert [(e.row, e.column) for e in err.errors] == [(3, "origin")]
    assert "more than the 50 characters" in err.errors[0].message
    assert err.errors[0].value.startswith("ddd") and len(err.errors[0].value) < 50  # shown shortened


def _bomb(path, rows: int) -> None:  # type: ignore[no-untyped-def]
    wb = Workbook()
    ws = wb.active
    ws.append(["person_id", "municipality", "seniority_years", "sex", "age", "origin"])
    for i in range(rows):
        ws.append([f"p{i}", "Odense", 6.5, "mand", 40, "dansk" + " " * 200])  # compresses extremely well
    wb.save(path)


def test_xlsx_expanding_too_far_is_refused_before_parsing(session, limit, tmp_path, monkeypatch):
    path = tmp_path / "bomb.xlsx"
    _bomb(path, 6000)
    unpacked = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
    assert unpacked > 1024 * 1024
    limit("xlsx_uncompressed_mb", 1)
    import pandas as pd

    def no_parsing(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the workbook was parsed")
    monkeypatch.setattr(pd, "read_excel", no_parsing)
    err = _refused(session, path.read_bytes(), "bomb.xlsx")
    assert len(err.errors) == 1 and err.errors[0].file == "bomb.xlsx" and err.errors[0].row is None
    assert "expands to" in err.errors[0].message and "more than the 1.0 MB allowed" in err.errors[0].message


def test_cli_prints_the_count_of_unlisted_errors(engine, tmp_path, limit):
    from click.testing import CliRunner

    from audit.cli import main

    limit("errors_listed", 5)
    path = tmp_path / "register.csv"
    path.write_text(HEADER + "".join(f"p{i};Odense;6;mand;7;dansk\n" for i in range(12)), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["audits", "create", "T", "--period-start", "2018-03-01", "--period-end",
                                "2020-02-29", "--reference-date", "2020-03-01"]).exit_code == 0
    result = runner.invoke(main, ["population", "import", "--audit", "T", str(path)])
    assert result.exit_code != 0
    assert result.output.count("impossible age") == 5
    assert "12 errors: nothing was imported" in result.output
