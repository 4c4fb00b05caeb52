"""The CLI flow from a fresh database: create, import, draw, replace, export; and the
properties the sample must have (exact stratum sizes, reproducibility, shortfall,
weights N_h/n_h, all-or-nothing import)."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from audit.cli import main
from audit.models import AuditLog, Case, Person
from tests.sampling.files import MUNIS, register_csv

def _register(path: Path, rows_order_seed: int | None = None) -> Path:
    """The shared test register (tests/sampling/files.py), rows shuffled when a seed is given."""
    header, *rows = register_csv().decode("utf-8-sig").splitlines(keepends=True)
    if rows_order_seed is not None:
        random.Random(rows_order_seed).shuffle(rows)
    path.write_text(header + "".join(rows), encoding="utf-8-sig")  # as Danish Excel writes it
    return path


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _setup(tmp_path: Path, name: str = "T", order: int | None = None) -> None:
    _run("audits", "create", name, "--period-start", "2018-03-01", "--period-end", "2020-02-29",
         "--reference-date", "2020-03-01", "--municipalities", "Odense,Nordfyn")
    _run("population", "import", "--audit", name, str(_register(tmp_path / f"reg{name}.csv", order)))


def _sample(session: Session) -> dict[str, tuple]:
    rows = session.exec(select(Case, Person.person_id).join(Person, Person.id == Case.person_pk)).all()
    return {pid: (c.municipality, c.seniority_band, c.is_reserve, c.reserve_rank) for c, pid in rows}


def test_draw_sizes_weights_shortfall_and_reproducibility(engine, tmp_path):
    _setup(tmp_path)
    out = _run("sample", "draw", "--audit", "T", "--per-stratum", "5", "--seed", "42", "--reserves", "2")
    assert "shortfall: Odense 10+: 3 of 5 (N_h=3)" in out
    with Session(engine) as s:
        cases = s.exec(select(Case).where(Case.is_reserve == False)).all()  # noqa: E712
        by_stratum: dict[tuple, list[Case]] = {}
        for c in cases:
            by_stratum.setdefault((c.municipality, c.seniority_band), []).append(c)
        for (m, band), members in by_stratum.items():
            N = MUNIS[m][["5-7", "7-10", "10+"].index(band)]
            n = min(5, N)
            assert len(members) == n
            for c in members:  # recomputed independently from the population counts
                assert c.weight == pytest.approx(N / n)
                assert c.inclusion_probability == pytest.approx(n / N)
        assert sum(c.weight for c in cases if c.municipality == "Nordfyn") == pytest.approx(41)
        reserves = s.exec(select(Case).where(Case.is_reserve == True)).all()  # noqa: E712
        assert sorted({c.reserve_rank for c in reserves}) == [1, 2]
        first = _sample(s)
    # the same seed and population (shuffled rows, another audit) give the same sample
    _setup(tmp_path, "U", order=7)
    _run("sample", "draw", "--audit", "U", "--per-stratum", "5", "--seed", "42", "--reserves", "2")
    with Session(engine) as s:
        rows = s.exec(select(Case, Person.person_id).join(Person, Person.id == Case.person_pk)
                      .where(Case.audit_id == 2)).all()
        assert {pid: (c.municipality, c.seniority_band, c.is_reserve, c.reserve_rank) for c, pid in rows} == \
            {pid: v for pid, v in first.items()}


def test_redraw_refused_unless_forced_and_logged(engine, tmp_path):
    _setup(tmp_path)
    _run("sample", "draw", "--audit", "T", "--seed", "1")
    result = CliRunner().invoke(main, ["sample", "draw", "--audit", "T", "--seed", "2"])
    assert result.exit_code != 0 and "already been sampled" in result.output
    _run("sample", "draw", "--audit", "T", "--seed", "2", "--force")
    with Session(engine) as s:
        log = s.exec(select(AuditLog).where(AuditLog.entity == "sample")).all()
        assert [e.reason for e in log] == ["sample drawn", "forced re-draw"]


def test_replace_takes_next_reserve_and_export(engine, tmp_path):
    _setup(tmp_path)
    _run("sample", "draw", "--audit", "T", "--seed", "3", "--reserves", "1")
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.municipality == "Odense", Case.seniority_band == "5-7",
                                         Case.is_reserve == False)).first()  # noqa: E712
        reserve = s.exec(select(Case).where(Case.municipality == "Odense", Case.seniority_band == "5-7",
                                            Case.is_reserve == True)).one()  # noqa: E712
        other = s.exec(select(Case).where(Case.municipality == "Odense", Case.seniority_band == "5-7",
                                          Case.is_reserve == False, Case.id != case.id)).first()  # noqa: E712
    out = _run("sample", "replace", "--audit", "T", "--case", str(case.id), "--reason", "file missing")
    assert f"replaced by reserve case {reserve.id}" in out
    result = CliRunner().invoke(main, ["sample", "replace", "--audit", "T", "--case", str(other.id),
                                       "--reason", "moved"])
    assert result.exit_code != 0 and "no reserve left" in result.output
    with Session(engine) as s:
        assert s.get(Case, reserve.id).active and not s.get(Case, case.id).active
        assert s.get(Case, case.id).replacement_reason == "file missing"
    out_csv = tmp_path / "sample.csv"
    _run("sample", "export", "--audit", "T", "--out", str(out_csv))
    lines = out_csv.read_text().splitlines()
    assert lines[0] == "case_id,person_id,municipality,seniority_band,weight,is_reserve,reserve_rank"
    ranks = {line.rsplit(",", 1)[1] for line in lines[1:]}
    assert "1" in ranks and all(r == "" or r.isdigit() for r in ranks)  # whole ranks (not 1.0), empty for drawn cases
    assert "file missing" in (tmp_path / "sample.protocol.csv").read_text()


@pytest.mark.parametrize("row,column,why", [
    (["p1", "Atlantis", "6", "mand", "40", "dansk"], "municipality", "unknown municipality"),
    (["p1", "Odense", "6", "mand", "200", "dansk"], "age", "impossible age"),
    (["p1", "Odense", "abc", "mand", "40", "dansk"], "seniority_years", "not a number"),
    (["p1", "Odense", "6", "x", "40", "dansk"], "sex", "sex must be"),
    (["p1", "Odense", "6", "mand", "40", "mars"], "origin", "origin must be"),
])
def test_bad_register_rejected_whole_with_row_and_column(engine, tmp_path, row, column, why):
    _run("audits", "create", "T", "--period-start", "2018-03-01", "--period-end", "2020-02-29",
         "--reference-date", "2020-03-01")
    path = tmp_path / "bad.csv"
    path.write_text("person_id,municipality,seniority_years,sex,age,origin\n"
                    "p0,Odense,6,mand,40,dansk\n" + ",".join(row) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["population", "import", "--audit", "T", str(path)])
    assert result.exit_code != 0
    assert f"bad.csv, row 3, column {column}" in result.output and why in result.output
    assert "nothing was imported" in result.output
    with Session(engine) as s:
        assert s.exec(select(Person)).all() == []
