"""The case frame (from answers through the instrument's skip logic) and `audit stats` end to end
on a real migrated database, with the small real instrument of conftest.py in place of the
audit's frozen snapshot."""
from __future__ import annotations

import csv
import io
import json
from datetime import date

import pandas as pd
import pytest
from click.testing import CliRunner

import audit.statistics.dataset as dataset
from audit.statistics import frequency
from audit.statistics.dataset import case_frame, load_case_frame


def cases_df() -> pd.DataFrame:
    return pd.DataFrame({
        "case_id": [1, 2, 3], "municipality": ["Odense", "Odense", "Nordfyn"],
        "seniority_band": ["5-7", "5-7", "10+"], "sex": ["mand", "kvinde", "mand"], "age": [39, 40, 61],
        "origin": ["dansk", "vestlig", "dansk"], "stratum_population": [300, 300, 25],
        "stratum_sample": [5, 5, 5], "weight": [60.0, 60.0, 5.0],
    })


def test_case_frame_follows_the_contract(instrument):
    answers = {
        1: {"has_challenges": "ja", "challenges": ["misbrug", "fysiske"], "job_goal": "nej",
            "job_goal_concrete": "ja", "interviews_count": 7, "stable_participation": "ja"},
        2: {"has_challenges": "nej", "challenges": ["misbrug"], "job_goal": "ja", "job_goal_concrete": "nej"},
    }
    f = case_frame(cases_df(), answers, instrument)
    assert f["age_band"].tolist() == ["<40", "40-49", "60+"]
    assert f["stratum"].tolist() == ["Odense|5-7", "Odense|5-7", "Nordfyn|10+"]
    assert f.at[0, "challenges"] == ("misbrug", "fysiske")  # lists become tuples
    assert f.at[1, "challenges"] is None  # answered but not applicable -> missing
    assert f.at[0, "job_goal_concrete"] is None  # job_goal = nej: does not apply
    assert f.at[1, "job_goal_concrete"] == "nej"
    assert f["challenge_breadth"].tolist() == ["2", "0", None]
    assert "supervision" not in f.columns  # municipality-level items are not case columns
    assert f.attrs["kinds"]["challenges"] == "multiple"
    assert f.attrs["kinds"]["interviews_count"] == "numeric"
    assert f.attrs["orders"]["challenges"] == ("misbrug", "fysiske", "psykiske", "sociale")
    assert "challenges" in f.attrs["choice_labels"]
    assert f["interviews_count"].iloc[0] == 7
    # N of 'is the job goal concrete' = cases that have a job goal.
    t = frequency(f, "job_goal_concrete")
    assert t.n_total == 1


def test_case_frame_requires_register_columns(instrument):
    with pytest.raises(ValueError):
        case_frame(cases_df().drop(columns=["sex"]), {}, instrument)


# ----------------------------------------------------------------------------- database + CLI
def build_audit(session) -> None:  # type: ignore[no-untyped-def]
    """An audit with 2 strata: 12 completed cases, one in progress, one inactive (replaced)."""
    from audit.models import Answer, Audit, Case, Person

    a = Audit(name="demo", period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
              reference_date=date(2020, 3, 1), instrument_json="{}")
    session.add(a)
    session.flush()
    plan = []
    for i in range(8):  # Odense 5-7: N=400
        plan.append(("Odense", "5-7", 400, 8, "completed", True,
                     {"has_challenges": "ja", "challenges": ["fysiske"] if i < 5 else ["fysiske", "misbrug"],
                      "stable_participation": "ja" if i < 3 else "nej", "job_goal": "ja",
                      "job_goal_concrete": "ja" if i % 2 else "nej", "interviews_count": i}))
    for i in range(4):  # Nordfyn 10+: N=20
        plan.append(("Nordfyn", "10+", 20, 4, "final", True,
                     {"has_challenges": "ja", "challenges": ["psykiske", "sociale", "misbrug"],
                      "stable_participation": "ja", "job_goal": "nej", "interviews_count": 10}))
    plan.append(("Nordfyn", "10+", 20, 4, "in_progress", True, {"has_challenges": "nej"}))
    plan.append(("Odense", "5-7", 400, 8, "completed", False, {"has_challenges": "nej"}))
    for k, (muni, band, N, n, status, active, answers) in enumerate(plan):
        p = Person(audit_id=a.id, person_id=f"p{k}", municipality=muni, seniority_years=6.0,
                   seniority_band=band, sex="mand" if k % 2 else "kvinde", age=35 + k * 2, origin="dansk")
        session.add(p)
        session.flush()
        c = Case(audit_id=a.id, person_pk=p.id, municipality=muni, seniority_band=band, stratum_population=N,
                 stratum_sample=n, inclusion_probability=n / N, weight=N / n, status=status, active=active)
        session.add(c)
        session.flush()
        for item, value in answers.items():
            session.add(Answer(case_id=c.id, item=item, pass_no=1, value_json=json.dumps(value)))
        # A second-pass answer must never reach the statistics.
        session.add(Answer(case_id=c.id, item="stable_participation", pass_no=2, value_json='"nej"'))
    session.commit()


@pytest.fixture
def stored_audit(session, monkeypatch, instrument):  # type: ignore[no-untyped-def]
    build_audit(session)
    monkeypatch.setattr(dataset, "instrument_for", lambda audit: instrument)
    return session


def test_load_case_frame_reads_active_reported_cases_pass_one(stored_audit):
    f = load_case_frame(stored_audit, "demo")
    assert len(f) == 12  # in_progress and inactive cases left out
    assert (f["stable_participation"] == "ja").sum() == 7  # pass-2 answers ignored
    assert set(f["stratum"]) == {"Odense|5-7", "Nordfyn|10+"}
    assert len(load_case_frame(stored_audit, "demo", statuses=None)) == 13
    with pytest.raises(LookupError):
        load_case_frame(stored_audit, "nope")


def run(*args: str):  # type: ignore[no-untyped-def]
    from audit.cli import main

    result = CliRunner().invoke(main, ["stats", *args], catch_exceptions=False)
    return result


def test_cli_crosstab_json(stored_audit):
    r = run("crosstab", "--audit", "demo", "--row", "municipality", "--col", "stable_participation",
            "--format", "json", "--no-suppress")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    counts = {(x["municipality"], x["stable_participation"]): x["count"] for x in d["records"]}
    assert counts == {("Odense", "ja"): 3, ("Odense", "nej"): 5, ("Nordfyn", "ja"): 4, ("Nordfyn", "nej"): 0}
    assert d["test"]["dof"] == 1
    assert d["n_rows"] == {"Odense": 8, "Nordfyn": 4}


def test_cli_crosstab_weighted_table_and_suppression(stored_audit):
    r = run("crosstab", "--audit", "demo", "--row", "challenges", "--col", "stable_participation", "--weighted")
    assert r.exit_code == 0, r.output
    assert "fewer than 3 cases" in r.output   # the CLI in the tests' language (English)
    assert "vægtet" in r.output
    r5 = run("crosstab", "--audit", "demo", "--row", "sex", "--col", "stable_participation",
             "--threshold", "5", "--format", "csv")
    assert r5.exit_code == 0
    assert r5.output.splitlines()[0].startswith("sex,stable_participation,count,percent,n")


def test_cli_frequencies_by_and_csv(stored_audit):
    r = run("frequencies", "--audit", "demo", "--item", "job_goal_concrete", "--item", "interviews_count",
            "--by", "municipality", "--format", "csv", "--no-suppress")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("table,row_variable,column_variable,row,column,count,percent,n")
    assert any(line.startswith("job_goal_concrete fordelt på municipality,municipality,job_goal_concrete,"
                               "I alt,ja,4,50,8,") for line in lines)  # csvio: 50.0 is written 50
    assert any(line.startswith("interviews_count fordelt på municipality,municipality,interviews_count,Nordfyn,mean,")
               for line in lines)
    r2 = run("frequencies", "--audit", "demo", "--item", "nope")
    assert r2.exit_code != 0 and "unknown variable" in r2.output


def test_cli_table2(stored_audit):
    r = run("table2", "--audit", "demo", "--format", "json", "--no-suppress")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["n_rows"] == {"1": 5, "2": 3, "3": 4}
    r2 = run("table2", "--audit", "missing")
    assert r2.exit_code != 0 and "no audit named" in r2.output


def test_cli_prints_labels_for_people_and_codes_with_labels_for_scripts(stored_audit):
    """Table output names variables and codes by their labels (here in Danish, the command's
    language); CSV keeps the codes where scripts read them, each label in a last column."""
    from audit.i18n import language

    with language("da"):
        r = run("crosstab", "--audit", "demo", "--row", "challenges", "--col", "stable_participation",
                "--no-suppress")
    assert r.exit_code == 0, r.output
    first, table = r.output.splitlines()[0], r.output.split("Kilde:")[0]
    assert first == "Hvilke? x Stabil?"
    assert "Misbrug" in table and "Fysiske" in table   # the choice labels of `challenges`
    assert "misbrug" not in table and "stable_participation" not in table and "challenges" not in table
    with language("da"):
        c = run("crosstab", "--audit", "demo", "--row", "challenges", "--col", "stable_participation",
                "--no-suppress", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(c.output)))
    header = c.output.splitlines()[0].split(",")
    assert header[:5] == ["challenges", "stable_participation", "count", "percent", "n"]
    assert header[-2:] == ["challenges_label", "stable_participation_label"]
    with language("da"):
        t = run("crosstab", "--audit", "demo", "--row", "sex", "--col", "stable_participation",
                "--no-suppress", "--format", "csv")   # a table with a test: its test_* columns stay before the labels
    head = t.output.splitlines()[0].split(",")
    assert "test_p_value" in head and head[-2:] == ["sex_label", "stable_participation_label"]
    assert head[:5] == ["sex", "stable_participation", "count", "percent", "n"]
    assert {(x["challenges"], x["challenges_label"]) for x in rows} >= {("misbrug", "Misbrug"), ("fysiske", "Fysiske")}
    assert {x["stable_participation_label"] for x in rows} == {"Ja", "Nej"}
