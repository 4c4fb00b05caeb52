"""Frequencies and crosstabs: N conventions, multiple choice, numeric items, robustness."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.bands import Bands
from audit.statistics import breakdowns, cross_matrix, crosstab, frequency, indicator_table, table3
from audit.statistics.variables import BREAKDOWNS
from tests.statistics.frames import as_case_frame


def tiny() -> pd.DataFrame:
    return as_case_frame(pd.DataFrame({
        "challenges": [("misbrug", "fysiske"), ("fysiske",), ("fysiske", "psykiske"), None, ("misbrug",)],
        "stable_participation": ["ja", "nej", "ja", "ja", None],
        "sex": ["mand", "kvinde", "kvinde", "mand", "mand"],
    }))


def test_multiple_choice_rows_counted_by_hand():
    t = table3(tiny())
    # Case 5 has no answer on stable participation, case 4 no challenges: both out.
    # misbrug: case 1 (ja) -> 1 ja; fysiske: cases 1 (ja), 2 (nej), 3 (ja); psykiske: case 3 (ja).
    assert t.counts.loc["misbrug"].tolist() == [1, 0]
    assert t.counts.loc["fysiske"].tolist() == [2, 1]
    assert t.counts.loc["psykiske"].tolist() == [1, 0]
    assert t.n_rows.tolist() == [1, 3, 1]  # percent base: cases having that code
    assert t.percents.at["fysiske", "ja"] == pytest.approx(200 / 3)
    assert t.n_total == 3  # distinct cases, not the 5 (case, code) pairs
    assert t.test is None  # no chi2 when a case sits in several rows


def test_multiple_choice_as_column_uses_cases_as_base():
    t = crosstab(tiny(), "sex", "challenges")
    # kvinde: cases 2, 3 -> fysiske 2, psykiske 1; N = 2 cases (shares sum to 150 %)
    assert t.n_rows["kvinde"] == 2
    assert t.percents.at["kvinde", "fysiske"] == pytest.approx(100)
    assert t.percents.loc["kvinde"].sum() == pytest.approx(150)


def test_n_of_an_item_is_the_cases_where_it_applies():
    f = as_case_frame(pd.DataFrame({"job_goal": ["ja", "ja", "nej", "ja", None],
                                    "job_goal_concrete": ["ja", "nej", None, "ja", None],
                                    "direction": ["jobrettet", "fritaget", "jobrettet", "jobrettet", "fritaget"]}))
    t = frequency(f, "job_goal_concrete")
    assert t.n_total == 3 and t.n_rows["I alt"] == 3
    assert t.percents.at["I alt", "ja"] == pytest.approx(200 / 3)
    tb = frequency(f, "job_goal_concrete", "direction")
    assert tb.n_rows.to_dict() == {"jobrettet": 2, "fritaget": 1, "I alt": 3}
    assert tb.n_note() == "N=2 og 1"


def test_numeric_item_gets_mean_median_n():
    f = pd.DataFrame({"interviews_count": [2, 4, 9, np.nan, 7], "sex": ["mand", "mand", "kvinde", "kvinde", None]})
    t = frequency(f, "interviews_count", "sex")
    assert t.kind == "numeric"
    assert t.counts.loc["mand", "mean"] == pytest.approx(3)
    assert t.counts.loc["kvinde", "median"] == pytest.approx(9)
    assert t.counts.loc["I alt", "mean"] == pytest.approx(5.5)
    assert t.n_rows.to_dict() == {"kvinde": 1, "mand": 2, "I alt": 4}


def test_numeric_needs_a_banding_for_a_crosstab():
    f = pd.DataFrame({"caseworker_count": [1, 2, 3, 5, 8, 1], "x": ["ja", "nej"] * 3,
                      "odd_number": [1, 2, 3, 4, 5, 6]})
    t = crosstab(f, "caseworker_count", "x")
    assert list(t.counts.index) == ["1", "2", "3", "4", "5+"]
    assert t.n_rows.tolist() == [2, 1, 1, 0, 2]
    with pytest.raises(ValueError):
        crosstab(f, "odd_number", "x")
    t2 = crosstab(f, "odd_number", "x", bandings={"odd_number": Bands.from_boundaries((1, 4))})
    assert list(t2.counts.index) == ["1-4", "4+"]


def test_breakdowns_cover_every_item_and_breakdown(frame):
    out = breakdowns(frame, ["item_0", "interviews_count", "direction"])
    present = [b for b in BREAKDOWNS if b in frame.columns]
    assert ("item_0", None) in out
    for b in present:
        assert ("item_0", b) in out
    assert ("direction", "direction") not in out
    t = out[("item_0", "challenges")]
    assert t.counts.loc["I alt"].sum() == frame["item_0"].notna().sum()


def test_cross_matrix_column_percentages(frame):
    t = cross_matrix(frame, ["sex", "origin", "challenges"])
    # Within each column, each single-choice characteristic sums to 100 %.
    col = ("origin", "dansk")
    assert t.percents.loc["sex", col].sum() == pytest.approx(100)
    assert t.percents.loc[("origin", "dansk"), col] == pytest.approx(100)
    n_dansk = int((frame["origin"] == "dansk").sum())
    assert t.n_cols[col] == n_dansk
    mand_dansk = int(((frame["origin"] == "dansk") & (frame["sex"] == "mand")).sum())
    assert t.percents.loc[("sex", "mand"), col] == pytest.approx(100 * mand_dansk / n_dansk)


def test_indicator_table(frame):
    f = frame.assign(mentor=frame["item_2"], interviews_count=frame["interviews_count"])
    t = indicator_table(f, ["sex", "challenges"], ["interviews_count", "mentor"])
    assert list(t.counts.columns) == [("interviews_count", "mean"), ("mentor", "share")]
    m = f["sex"] == "kvinde"
    assert t.counts.loc[("sex", "kvinde"), ("interviews_count", "mean")] == pytest.approx(
        f.loc[m, "interviews_count"].mean())
    applies = m & f["mentor"].notna()
    assert t.counts.loc[("sex", "kvinde"), ("mentor", "share")] == pytest.approx(
        100 * (f.loc[applies, "mentor"] == "ja").mean())
    assert t.n_rows[("sex", "kvinde")] == int(m.sum())
    has_fysiske = f["challenges"].map(lambda v: isinstance(v, tuple) and "fysiske" in v)
    assert t.counts.loc[("challenges", "fysiske"), ("interviews_count", "mean")] == pytest.approx(
        f.loc[has_fysiske, "interviews_count"].mean())
    assert t.counts.loc[("I alt", "I alt"), ("interviews_count", "mean")] == pytest.approx(f["interviews_count"].mean())
    with pytest.raises(KeyError, match="roundtable"):  # an indicator the frame lacks is an error, not a blank
        indicator_table(f, ["sex"], ["roundtable"])


def test_outputs_round_trip(frame):
    t = crosstab(frame, "sex", "item_0", weighted=True)
    d = json.loads(t.to_json())
    assert d["test"]["dof"] == 1
    assert sum(r["count"] for r in d["records"]) == d["n_total"]
    csv = t.to_csv().splitlines()
    assert csv[0].startswith("sex,item_0,count,percent,n,weighted_share")
    assert len(csv) == 1 + len(d["records"])
    # a weighted table is tested design-based (Rao-Scott), an unweighted one with Pearson
    assert d["test"]["statistic"] == "F" and "Rao-Scott F=" in t.to_text()
    assert "Chi2=" in crosstab(frame, "sex", "item_0").to_text()


codes = st.sampled_from(["a", "b", "c", None])
multi = st.one_of(st.none(), st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=3, unique=True)
                  .map(tuple))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(codes, codes, multi, st.one_of(st.none(), st.integers(0, 30))), min_size=0, max_size=40))
def test_random_frames_never_crash_and_counts_sum_to_n(rows):
    f = pd.DataFrame(rows, columns=["r", "c", "m", "num"], dtype=object)
    f["num"] = pd.to_numeric(f["num"])
    f["stratum"] = "s"
    f["stratum_population"] = 100
    t = crosstab(f, "r", "c", weighted=True)
    both = f["r"].notna() & f["c"].notna()
    assert int(t.counts.to_numpy().sum()) == int(both.sum()) == t.n_total
    assert (t.n_rows == t.counts.sum(axis=1)).all()
    fr = frequency(f, "c", "r")
    assert int(fr.counts.loc["I alt"].sum()) == int(f["c"].notna().sum())
    fm = frequency(f, "m", "r")
    assert fm.n_rows["I alt"] == int(f["m"].notna().sum())
    assert int(fm.counts.loc["I alt"].sum()) == sum(len(v) for v in f["m"] if isinstance(v, tuple))
    crosstab(f, "m", "c")
    frequency(f, "num", "m")


def test_profiles_follow_the_report():
    from audit.statistics.variables import profile, with_derived
    assert profile("jobrettet", 49) == "Jobrettet indsats under 50 år"
    assert profile("jobrettet", 50) == "Jobrettet indsats 50+ år"
    assert profile("fritaget", 30) == "Fritagelse"
    assert profile(None, 30) is None
    f = with_derived(pd.DataFrame({"direction": ["jobrettet", "rehabiliterende"], "age": [61, 40],
                                   "sex": ["mand", "kvinde"]}))
    assert f["profile"].tolist() == ["Jobrettet indsats 50+ år", "Rehabiliterende indsats"]
    t = cross_matrix(f, ["sex", "profile"])
    assert ("profile", "Jobrettet indsats 50+ år") in t.counts.columns
    assert list(t.counts.loc["profile"].index) == ["Jobrettet indsats 50+ år", "Rehabiliterende indsats"]


def test_cross_matrix_records_keep_row_and_column(frame):
    recs = cross_matrix(frame, ["sex", "origin"]).to_records()
    assert {"characteristic_row", "characteristic_column", "count", "percent", "n"} <= set(recs[0])
    assert len(recs) == 5 * (5 + 1)  # the codes of sex and origin, plus the 'I alt' column
