"""Table 12 (population vs sample): a hand-worked example and the CLI on a drawn audit."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from audit.cli import main
from audit.models import Case, Person
from audit.sampling.representativeness import representativeness, to_long

BANDS = ["5-7", "7-10", "10+"]


def test_hand_worked_table():
    # population: band 5-7 has 3 men and 1 woman, 7-10 has 2 women, 10+ has 1 man and 1 woman (8 persons)
    pop = pd.DataFrame({
        "seniority_band": ["5-7"] * 4 + ["7-10"] * 2 + ["10+"] * 2,
        "sex": ["mand", "mand", "mand", "kvinde", "kvinde", "kvinde", "mand", "kvinde"],
        "age": [25, 45, 55, 61, 39, 40, 59, 60],
        "origin": ["dansk"] * 5 + ["vestlig", "ikke-vestlig", "dansk"],
    })
    sample = pop.iloc[[0, 3, 4, 7]]  # one man and one woman in 5-7, a woman in each other band
    t = representativeness(pop, sample, BANDS)
    pct = t.percents
    assert pct.at[("sex", "mand"), ("population", "5-7")] == pytest.approx(75.0)   # 3 of 4
    assert pct.at[("sex", "mand"), ("population", "7-10")] == pytest.approx(0.0)
    assert pct.at[("sex", "mand"), ("population", "I alt")] == pytest.approx(50.0)  # 4 of 8
    assert pct.at[("sex", "kvinde"), ("sample", "I alt")] == pytest.approx(75.0)    # 3 of 4
    assert pct.at[("sex", "mand"), ("sample", "5-7")] == pytest.approx(50.0)
    # ages 25, 45, 55, 61, 39, 40, 59, 60 -> <40: 2, 40-49: 2, 50-59: 2, 60+: 2
    for band in ("<40", "40-49", "50-59", "60+"):
        assert pct.at[("age_band", band), ("population", "I alt")] == pytest.approx(25.0)
    assert pct.at[("origin", "dansk"), ("population", "I alt")] == pytest.approx(75.0)
    assert pct.at[("origin", "vestlig"), ("population", "7-10")] == pytest.approx(50.0)
    assert t.counts.at[("origin", "ikke-vestlig"), ("sample", "10+")] == 0
    assert t.n_cols.to_dict() == {("population", "5-7"): 4, ("population", "7-10"): 2, ("population", "10+"): 2,
                                  ("population", "I alt"): 8, ("sample", "5-7"): 2, ("sample", "7-10"): 1,
                                  ("sample", "10+"): 1, ("sample", "I alt"): 4}
    # every code prints, even one nobody in the sample has, and each variable's shares add up to 100 % per column
    assert t.counts.at[("origin", "vestlig"), ("sample", "I alt")] == 0
    assert t.counts.at[("origin", "vestlig"), ("population", "I alt")] == 1
    sums = pct.groupby(level="variable").sum()
    assert ((sums - 100).abs() < 1e-9).all().all()
    long = to_long(t)
    assert list(long.columns) == ["variable", "code", "side", "seniority_band", "count", "percent", "n"]
    assert len(long) == 9 * 8


def _cli(*args: str) -> str:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_cli_table_12_on_a_drawn_audit(engine, tmp_path: Path):
    from tests.sampling.test_sampling_flow import _setup

    _setup(tmp_path)
    res = CliRunner().invoke(main, ["sample", "representativeness", "--audit", "T"])
    assert res.exit_code != 0 and "no sample yet" in res.output
    _cli("sample", "draw", "--audit", "T", "--per-stratum", "5", "--seed", "42", "--reserves", "2")
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.active == True).order_by(Case.id)).first()  # noqa: E712
        case_id = case.id
    _cli("sample", "replace", "--audit", "T", "--case", str(case_id), "--reason", "file missing")
    rows = list(csv.DictReader(io.StringIO(_cli("sample", "representativeness", "--audit", "T", "--format", "csv"))))
    with Session(engine) as s:
        people = s.exec(select(Person)).all()
        active = s.exec(select(Case, Person).join(Person, Person.id == Case.person_pk)
                        .where(Case.active == True)).all()  # noqa: E712
    by = {(r["variable"], r["code"], r["side"], r["seniority_band"]): r for r in rows}
    # the sample side counts the active cases: the replacement reserve in, the replaced case out
    assert int(by[("sex", "kvinde", "sample", "I alt")]["count"]) == sum(p.sex == "kvinde" for _, p in active)
    assert int(by[("sex", "kvinde", "sample", "I alt")]["n"]) == len(active) == 28  # Odense 5+5+3 (shortfall), Nordfyn 5+5+5
    assert int(by[("sex", "kvinde", "population", "I alt")]["count"]) == sum(p.sex == "kvinde" for p in people)
    kv = [p for p in people if p.seniority_band == "7-10"]
    assert float(by[("sex", "kvinde", "population", "7-10")]["percent"]) == pytest.approx(
        100 * sum(p.sex == "kvinde" for p in kv) / len(kv))
    text = _cli("sample", "representativeness", "--audit", "T")
    assert text.startswith("Tabel 12: Karakteristika for population og stikprøve")
    assert "Anm.: N=" in text


def test_cli_records_the_acting_admin_and_explains_bad_bands(engine, make_user, tmp_path: Path):
    from audit.models import AuditLog
    from tests.sampling.test_sampling_flow import _setup

    make_user("ada", "admin")
    make_user("bo", "auditor")
    _setup(tmp_path)
    res = CliRunner().invoke(main, ["sample", "draw", "--audit", "T", "--seed", "1", "--bands", "5,x"])
    assert res.exit_code != 0 and "bands must be numbers separated by commas" in res.output
    res = CliRunner().invoke(main, ["sample", "draw", "--audit", "T", "--seed", "1", "--as", "bo"])
    assert res.exit_code != 0 and "not an admin" in res.output
    res = CliRunner().invoke(main, ["sample", "draw", "--audit", "T", "--seed", "1", "--as", "nobody"])
    assert res.exit_code != 0 and "no user named 'nobody'" in res.output
    _cli("sample", "draw", "--audit", "T", "--seed", "1", "--as", "ada")
    with Session(engine) as s:
        case_id = s.exec(select(Case.id).where(Case.active == True)).first()  # noqa: E712
    _cli("sample", "replace", "--audit", "T", "--case", str(case_id), "--reason", "moved", "--as", "ada")
    with Session(engine) as s:
        who = {(e.entity, e.field): e.username for e in s.exec(select(AuditLog)).all()}
    assert who[("sample", "draw")] == "ada" and who[("case", "replaced_by")] == "ada"
    assert who[("population", "import")] == "system"  # imported without --as


def test_protocol_lists_an_empty_stratum_as_a_shortfall(engine, tmp_path: Path):
    """A listed municipality with nobody in the extract is not hidden: its three strata
    appear in the protocol with N_h 0 and the whole stratum short."""
    from tests.sampling.test_sampling_flow import _register

    _cli("audits", "create", "E", "--period-start", "2018-03-01", "--period-end", "2020-02-29",
         "--reference-date", "2020-03-01", "--municipalities", "Odense,Nordfyn,Middelfart")
    _cli("population", "import", "--audit", "E", str(_register(tmp_path / "reg.csv")))
    out = _cli("sample", "draw", "--audit", "E", "--seed", "3")
    assert "shortfall: Middelfart 5-7: 0 of 5 (N_h=0)" in out
    _cli("sample", "export", "--audit", "E", "--out", str(tmp_path / "s.csv"))
    lines = (tmp_path / "s.protocol.csv").read_text(encoding="utf-8").splitlines()
    rows = list(csv.DictReader([line for line in lines if not line.startswith("#")]))
    middelfart = [r for r in rows if r["municipality"] == "Middelfart"]
    assert [r["seniority_band"] for r in middelfart] == BANDS
    assert all((r["N_h"], r["n_h"], r["shortfall"]) == ("0", "0", "5") for r in middelfart)
    assert [(r["municipality"], r["seniority_band"]) for r in rows][:3] == [("Middelfart", b) for b in BANDS]
    assert any(line.startswith("# below_first_band: 0") for line in lines)


def test_redraw_without_bands_keeps_the_audits_bands(engine, tmp_path: Path):
    from audit.models import Audit
    from tests.sampling.test_sampling_flow import _setup

    _setup(tmp_path)
    _cli("sample", "draw", "--audit", "T", "--seed", "1", "--bands", "5,8")
    _cli("sample", "draw", "--audit", "T", "--seed", "2", "--force")
    with Session(engine) as s:
        assert s.exec(select(Audit)).one().bands_json == "[5, 8]"
        assert {c.seniority_band for c in s.exec(select(Case)).all()} == {"5-8", "8+"}


def test_audit_named_like_a_number_wins_over_an_id(engine):
    """`--audit 2` is the audit named "2", even when another audit has id 2."""
    from datetime import date

    from audit.audits import AuditNotFound, create_audit, get_audit

    with Session(engine) as s:
        kw = dict(period_start=date(2018, 3, 1), period_end=date(2020, 2, 29), reference_date=date(2020, 3, 1))
        first = create_audit(s, "Fyn", **kw)
        second = create_audit(s, "Sjælland", **kw)
        s.flush()
        named = create_audit(s, str(second.id), **kw)
        s.commit()
        assert get_audit(s, str(second.id)).id == named.id
        assert get_audit(s, first.id).name == "Fyn"  # no audit named "1": the id
        with pytest.raises(AuditNotFound):
            get_audit(s, "nope")


def test_a_corrupt_xlsx_is_a_file_error_not_a_crash(engine, tmp_path: Path):
    from audit.population.register import RegisterError, read_table

    bad = tmp_path / "register.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not really a workbook")
    with pytest.raises(RegisterError) as err:
        read_table(bad)
    assert err.value.errors[0].file == "register.xlsx" and "cannot read the file" in err.value.errors[0].message
