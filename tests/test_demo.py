"""The demo population follows the report's Table 11 counts and Table 12 compositions, deterministically."""
from __future__ import annotations

import pandas as pd
import pytest

from audit.demo import generate_population, load_spec


def test_population_matches_table_11_and_is_deterministic():
    spec = load_spec()
    df = generate_population(7)
    assert len(df) == 14164
    assert df.groupby("municipality").size().to_dict() == spec["population"]
    assert df.person_id.is_unique
    pd.testing.assert_frame_equal(df, generate_population(7))
    assert not df.equals(generate_population(8))
    band = pd.cut(df.seniority_years, [5, 7, 10, 99], right=False, labels=["5-7", "7-10", "10+"])
    assert band.notna().all()
    assert abs((band == "10+").mean() - 0.40) < 0.02  # report: 40 % above 10 years
    assert abs(df.seniority_years.mean() - 10.4) < 0.5  # report: mean 10.4 years
    women_10 = (df.sex[band == "10+"] == "kvinde").mean()
    assert abs(women_10 - 0.59) < 0.03  # Table 12: 59 % women in the 10+ band


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # as before: the demo on SQLite
def test_whole_demo_audit_and_its_annex(engine, built_once, tmp_path):
    """README command 1 builds this: the demo audit through the real import and draw, a comment
    round the municipality logins can use, and an annex that holds, cell by cell, what the
    statistics room computes from the stored audit."""
    from openpyxl import load_workbook
    from sqlmodel import Session, select

    from audit.exports.annex import write_annex
    from audit.exports.definitions import load_definitions
    from audit.exports.service import load_audit_data
    from audit.hearing.rounds import open_round_for
    from audit.models import Case
    from tests.exports.oracle import assert_sheet_matches, expected_sheet

    from tests.conftest import build_demo_world

    result = built_once("demo", build_demo_world)  # SQLite: a copy of the session's demo
    assert (result["population"], result["cases"]) == (14164, 375)
    assert result["round"]["municipalities"] == ["København", "Odense", "Aarhus"]
    with Session(engine) as s:
        data = load_audit_data(s, result["audit"], with_population=True, actor=None, purpose="annex.xlsx")
        for m in result["round"]["municipalities"]:
            assert open_round_for(s, data.audit.id, m) is not None
            in_hearing = s.exec(select(Case).where(Case.municipality == m, Case.status == "in_hearing")).all()
            assert in_hearing, m
    assert len(data.population) == 14164 and 250 < len(data.frame) <= 375
    spec = load_definitions(instrument=data.instrument)
    out = tmp_path / "annex.xlsx"
    layouts = {lay.sheet: lay for lay in write_annex(data.frame, spec, out, instrument=data.instrument,
                                                     population=data.population, audit_name=data.name)}
    wb = load_workbook(out)
    compared = sum(assert_sheet_matches(wb[t.id], layouts[t.id],
                                        expected_sheet(t, data.population if t.frame == "population" else data.frame,
                                                       spec, data.instrument, population=data.population))
                   for t in spec.tables)
    # the register exhibits count the whole target group, N=14.164
    assert {t.id for t in spec.tables if t.frame == "population"} >= {f"P{k:02d}" for k in range(1, 13)}
    assert wb["P05"].cell(row=wb["P05"].max_row, column=1).value is not None
    for t in spec.tables:
        if t.frame == "population" and t.kind == "frequency":
            note = wb[t.id].cell(row=layouts[t.id].note_row, column=1).value
            assert note.startswith(f"Anm.: N={len(data.population):,}.".replace(",", ".")), (t.id, note)
            assert note.startswith("Anm.: N=14.164."), (t.id, note)
    # seed 000's Table 2 as published (persons per status, February and December 2018)
    from audit.population.snapshots import snapshot_change

    with Session(engine) as s:
        change = snapshot_change(s, data.audit, "benefit_status", "2018-02-28", "2018-12-31")
    published = {"foertidspension": (920, 1815), "ressourceforloeb": (1872, 2604),
                 "fleksjob_ledighedsydelse": (628, 909), "kontanthjaelp_mv": (3911, 2374), "andre_ydelser": (158, 251)}
    published_pp = {"foertidspension": 11, "ressourceforloeb": 8, "fleksjob_ledighedsydelse": 3,
                    "kontanthjaelp_mv": -22, "andre_ydelser": 1}
    for code, (feb, dec) in published.items():
        assert (change.loc[code, "n_before"], change.loc[code, "n_after"]) == (feb, dec)
        assert abs(change.loc[code, "diff_pp"] - published_pp[code]) <= 0.5
    assert compared > 1000
    engine.dispose()
