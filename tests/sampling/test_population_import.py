"""Register import beyond the CLI flow of test_sampling_flow.py: XLSX input, CSV dialects and
encodings, seniority computed from a spells file (the 35-day gap rule, checked against
hand-worked dates), bad spells files rejected whole, the chunked insert and its progress bar."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, select

from audit.audits import create_audit
from audit.cli import main
from audit.models import AuditLog, Person
from audit.population.importer import import_population
from audit.population.register import parse_dates
from audit.population.spells import seniority_frame, seniority_from_spells

HEADER = ["person_id", "municipality", "seniority_years", "sex", "age", "origin"]
ROWS = [  # as typed by a user: mixed case, decimal comma, origin spelled loosely
    ["p1", "Høje-Taastrup", "6,5", "Kvinde", "41", "dansk"],
    ["p2", "brøndby", "12", "mand", "58", "ikke vestlig"],
    ["1003", "Ærø", "7,25", "mand", "33", "Vestlig"],  # numeric ids: Excel stores them as numbers
    ["1004", "København", "9,99", "kvinde", "18", "IKKE_VESTLIG"],
]
EXPECTED = {  # what the database must hold: canonical names and codes, typed numbers, bands
    "p1": ("Høje-Taastrup", 6.5, "5-7", "kvinde", 41, "dansk"),
    "p2": ("Brøndby", 12.0, "10+", "mand", 58, "ikke-vestlig"),
    "1003": ("Ærø", 7.25, "7-10", "mand", 33, "vestlig"),
    "1004": ("København", 9.99, "7-10", "kvinde", 18, "ikke-vestlig"),
}
REFERENCE = date(2020, 3, 1)


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _create(name: str = "T") -> None:
    _run("audits", "create", name, "--period-start", "2018-03-01", "--period-end", "2020-02-29",
         "--reference-date", REFERENCE.isoformat())


def _persons(engine, audit_name: str = "T") -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    from audit.models import Audit

    with Session(engine) as s:
        audit = s.exec(select(Audit).where(Audit.name == audit_name)).one()
        return {p.person_id: (p.municipality, p.seniority_years, p.seniority_band, p.sex, p.age, p.origin)
                for p in s.exec(select(Person).where(Person.audit_id == audit.id))}


def _write_csv(path: Path, rows: list[list[str]], *, delimiter: str = ";", encoding: str = "utf-8-sig",
               header: list[str] = HEADER) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def _nothing_written(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 0
        assert s.exec(select(AuditLog).where(AuditLog.entity == "population")).all() == []


# ---------------------------------------------------------------- file formats

def test_xlsx_gives_the_same_persons_as_csv(engine, tmp_path):
    """Excel cells arrive typed (floats, ints); they must mean what the CSV text means:
    a person id stored as the number 1004.0 is the id "1004", 6.5 is "6,5"."""
    wb = Workbook()
    ws = wb.active
    ws.append([h.upper() if i == 0 else h for i, h in enumerate(HEADER)])  # header case does not matter
    for pid, muni, sen, sex, age, origin in ROWS:
        cell_id = {"1003": 1003, "1004": 1004.0}.get(pid, pid)
        ws.append([cell_id, muni, float(sen.replace(",", ".")), sex, int(age), origin])
    xlsx = tmp_path / "register.xlsx"
    wb.save(xlsx)
    _create("CSV")
    _create("XLSX")
    _run("population", "import", "--audit", "CSV", str(_write_csv(tmp_path / "register.csv", ROWS)))
    _run("population", "import", "--audit", "XLSX", str(xlsx))
    assert _persons(engine, "XLSX") == _persons(engine, "CSV") == EXPECTED


def test_xlsx_errors_name_the_excel_row_after_a_blank_row(engine, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["p1", "Odense", 6.5, "mand", 40, "dansk"])  # row 2
    ws.append([])                                          # row 3: left blank, skipped
    ws.append(["p2", "Odense", 6.5, "mand", 200, "dansk"])  # row 4
    path = tmp_path / "register.xlsx"
    wb.save(path)
    _create()
    result = CliRunner().invoke(main, ["population", "import", "--audit", "T", str(path)])
    assert result.exit_code != 0
    assert "register.xlsx, row 4, column age: impossible age for the target group (must be 18-80) (value '200')" \
        in result.output
    assert "1 errors: nothing was imported" in result.output  # the blank row is not an error
    _nothing_written(engine)


@pytest.mark.parametrize("delimiter,encoding", [
    (",", "utf-8"),       # comma, no BOM (LibreOffice, scripts)
    (";", "utf-8-sig"),   # semicolon with BOM (Danish Excel, "CSV UTF-8")
    (";", "cp1252"),      # semicolon, Windows-1252 (older Danish Excel, "CSV (semikolonsepareret)")
    ("\t", "utf-8"),      # tab-separated text
], ids=["comma-utf8", "semicolon-bom", "semicolon-cp1252", "tab-utf8"])
def test_csv_dialects_and_encodings(engine, tmp_path, delimiter, encoding):
    path = _write_csv(tmp_path / "register.csv", ROWS, delimiter=delimiter, encoding=encoding)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    if encoding == "cp1252":
        assert "ø".encode("cp1252") in raw and "ø".encode("utf-8") not in raw
    _create()
    _run("population", "import", "--audit", "T", str(path))
    assert _persons(engine) == EXPECTED


# ---------------------------------------------------------------- seniority from spells

SPELL_HEADER = ["person_id", "benefit", "start", "end"]
# Hand-worked at the reference date 2020-03-01 (seniority = days / 365.25):
SPELLS = [
    # a: a 30-day gap (2015-12-31 -> 2016-01-30) is inside 5 weeks: one period from 2012-01-01,
    #    ongoing. 2012-01-01..2020-01-01 is 8 years with 2 leap days = 2922 days, + 31 + 29 = 2982.
    ["a", "kontanthjælp", "2012-01-01", "2015-12-31"],
    ["a", "kontanthjælp", "30-01-2016", ""],  # Danish date format, ongoing
    # b: a 40-day gap (2012-12-31 -> 2013-02-09) starts a new period; the latest runs from
    #    2013-02-09: 7 years with 1 leap day = 2556 days to 2020-02-09, + 21 = 2577.
    #    (Merged it would be 15 years and band 10+.)
    ["b", "uddannelseshjælp", "2005-01-01", "31.12.2012"],
    ["b", "kontanthjælp", "2013-02-09", ""],
    # c: ended 2020-02-10, 20 days before the reference date: inside an allowed break, so it
    #    counts up to its end: 2013-06-01..2019-06-01 = 2191 days, + 254 to 2020-02-10 = 2445.
    ["c", "kontanthjælp", "2013-06-01", "2020-02-10"],
    # a spell that starts after the reference date is ignored
    ["c", "kontanthjælp", "2020-03-05", ""],
]
SPELL_PERSONS = [["a", "Odense", "mand", "40", "dansk"], ["b", "Brøndby", "kvinde", "50", "vestlig"],
                 ["c", "Ærø", "mand", "30", "dansk"]]
REGISTER_NO_SENIORITY = ["person_id", "municipality", "sex", "age", "origin"]


def test_seniority_from_spells_hand_worked(engine, tmp_path):
    register = _write_csv(tmp_path / "register.csv", SPELL_PERSONS, header=REGISTER_NO_SENIORITY)
    spells = _write_csv(tmp_path / "spells.csv", SPELLS, header=SPELL_HEADER)
    _create()
    out = _run("population", "import", "--audit", "T", str(register), "--spells", str(spells))
    assert "imported 3 people" in out
    got = _persons(engine)
    assert got["a"][1] == pytest.approx(2982 / 365.25) and got["a"][2] == "7-10"
    assert got["b"][1] == pytest.approx(2577 / 365.25) and got["b"][2] == "7-10"
    assert got["c"][1] == pytest.approx(2445 / 365.25) and got["c"][2] == "5-7"
    with Session(engine) as s:
        log = s.exec(select(AuditLog).where(AuditLog.entity == "population")).one()
        assert '"seniority_from_spells": true' in log.new_value and '"spells_file": "spells.csv"' in log.new_value


def test_spell_ended_60_days_before_reference_gives_zero_and_is_rejected(engine, tmp_path):
    # d: ended 2020-01-01, 60 days before 2020-03-01: more than 5 weeks off benefit, seniority 0
    rows = SPELL_PERSONS + [["d", "Odense", "kvinde", "45", "dansk"]]
    register = _write_csv(tmp_path / "register.csv", rows, header=REGISTER_NO_SENIORITY)
    spells = _write_csv(tmp_path / "spells.csv", SPELLS + [["d", "kontanthjælp", "2005-01-01", "2020-01-01"]],
                        header=SPELL_HEADER)
    _create()
    result = CliRunner().invoke(main, ["population", "import", "--audit", "T", str(register), "--spells", str(spells)])
    assert result.exit_code != 0
    assert "register.csv, row 5, column seniority_years: below the target group's minimum of 5 years " \
           "(computed from the spells in spells.csv at the reference date) (value '0.00')" in result.output
    assert "1 errors: nothing was imported" in result.output
    _nothing_written(engine)


@pytest.mark.parametrize("rows,header,expected", [
    ([["a", "kontanthjælp", "2012-01-01", "2011-12-31"]], SPELL_HEADER,
     "spells.csv, row 2, column end: end is before start (value '2011-12-31')"),
    ([["a", "kontanthjælp", "2012-01-01", ""], ["b", "kontanthjælp", "1. maj 2010", ""]], SPELL_HEADER,
     "spells.csv, row 3, column start: not a date (use YYYY-MM-DD or DD-MM-YYYY) (value '1. maj 2010')"),
    ([["a", "kontanthjælp", "2012-01-01", "2012-02-30"]], SPELL_HEADER,
     "spells.csv, row 2, column end: not a date (use YYYY-MM-DD or DD-MM-YYYY) (value '2012-02-30')"),
    ([["a", "2012-01-01", ""]], ["person_id", "start", "end"],
     "spells.csv, column benefit: required column 'benefit' is missing (found: person_id, start, end)"),
], ids=["end-before-start", "start-not-a-date", "impossible-end-date", "missing-column"])
def test_bad_spells_file_rejected_whole(engine, tmp_path, rows, header, expected):
    register = _write_csv(tmp_path / "register.csv", [["a", "Odense", "mand", "40", "dansk"],
                                                       ["b", "Odense", "mand", "41", "dansk"]],
                          header=REGISTER_NO_SENIORITY)
    spells = _write_csv(tmp_path / "spells.csv", rows, header=header)
    _create()
    result = CliRunner().invoke(main, ["population", "import", "--audit", "T", str(register), "--spells", str(spells)])
    assert result.exit_code != 0
    assert expected in result.output
    assert "nothing was imported" in result.output
    _nothing_written(engine)


_day = st.dates(min_value=date(1995, 1, 1), max_value=date(2021, 12, 31))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(_day, st.one_of(st.none(), st.integers(0, 3000))), min_size=1, max_size=5),
                min_size=1, max_size=6))
def test_vectorised_seniority_matches_the_per_person_rule(people):
    """seniority_frame (the importer's) and seniority_from_spells (the rule as written) agree."""
    import pandas as pd

    rows = []
    for i, spells in enumerate(people):
        for start, length in spells:
            end = None if length is None else date.fromordinal(start.toordinal() + length)
            rows.append((f"p{i}", start, end))
    frame = pd.DataFrame({"person_id": [r[0] for r in rows],
                          "start": parse_dates(pd.Series([r[1].isoformat() for r in rows])),
                          "end": parse_dates(pd.Series([r[2].isoformat() if r[2] else "" for r in rows]))})
    vectorised = seniority_frame(frame, REFERENCE)
    for i, spells in enumerate(people):
        pid = f"p{i}"
        own = [(r[1], r[2]) for r in rows if r[0] == pid]
        expected = seniority_from_spells(own, REFERENCE)
        if all(s > REFERENCE for s, _ in own):
            assert pid not in vectorised.index  # no spell by the reference date: "no benefit spell"
        else:
            assert vectorised[pid] == pytest.approx(expected), own


# ---------------------------------------------------------------- chunked insert and progress bar

def _audit(session: Session):  # type: ignore[no-untyped-def]
    audit = create_audit(session, "T", period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                         reference_date=REFERENCE)
    session.commit()
    return audit


def _many_rows(n: int) -> list[list[str]]:
    return [[f"p{i}", "Odense", f"{5 + i % 10},5", "mand" if i % 2 else "kvinde", str(20 + i % 50), "dansk"]
            for i in range(n)]


def test_progress_bar_on_stderr_over_several_chunks(session, engine, tmp_path, capsys):
    path = _write_csv(tmp_path / "register.csv", _many_rows(10))
    audit = _audit(session)
    result = import_population(session, audit, path, progress=True, chunk_rows=3)
    session.commit()
    err = capsys.readouterr().err
    assert "importing" in err and "10/10" in err and "rows" in err
    assert result.rows == 10
    # every chunk (3 + 3 + 3 + 1) was inserted, each row once
    with Session(engine) as s:
        ids = s.exec(select(Person.person_id)).all()
    assert sorted(ids) == sorted(f"p{i}" for i in range(10))


def test_no_progress_bar_unless_asked(session, tmp_path, capsys):
    path = _write_csv(tmp_path / "register.csv", _many_rows(10))
    audit = _audit(session)
    import_population(session, audit, path, chunk_rows=3)
    session.commit()
    assert capsys.readouterr().err == ""
