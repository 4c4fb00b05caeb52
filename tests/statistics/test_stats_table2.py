"""Report Table 2 rebuilt from case-level rows, checked against scipy, statsmodels and hand formulas."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from statsmodels.stats.contingency_tables import Table as SmTable

from audit.statistics import crosstab, table2
from audit.statistics.crosstabs import chi_square, cramers_v
from audit.statistics.tables import format_percent

REPORT_YES = {"1": 43, "2": 47, "3": 64, "4+": 82}  # "Ja" column of the report's Table 2
REPORT_NO = {"1": 57, "2": 53, "3": 36, "4+": 18}
OBS = np.array([[43, 56], [63, 72], [58, 32], [36, 8]])


def test_table2_percentages_and_n_match_the_report(t2_frame):
    t = table2(t2_frame)
    assert list(t.counts.index) == ["1", "2", "3", "4+"]  # breadth 0 is not in the table
    assert list(t.counts.columns) == ["ja", "nej"]
    assert t.n_rows.tolist() == [99, 135, 90, 44]
    assert t.n_note() == "N=99, 135, 90 og 44"
    for b in REPORT_YES:
        assert format_percent(t.percents.at[b, "ja"]) == f"{REPORT_YES[b]}%"
        assert format_percent(t.percents.at[b, "nej"]) == f"{REPORT_NO[b]}%"
    assert t.counts.to_numpy().tolist() == OBS.tolist()


def test_table2_chi_square_equals_scipy_on_the_same_counts(t2_frame):
    t = table2(t2_frame)
    chi2, p, dof, _ = scipy.stats.chi2_contingency(OBS, correction=False)
    assert t.test["chi2"] == pytest.approx(chi2, rel=1e-12)
    assert t.test["p_value"] == pytest.approx(p, rel=1e-9)
    assert t.test["dof"] == dof == 3
    assert t.test["n"] == 368


def test_chi_square_cross_checked_with_statsmodels(t2_frame):
    t = table2(t2_frame)
    res = SmTable(OBS).test_nominal_association()
    assert t.test["chi2"] == pytest.approx(res.statistic, rel=1e-10)
    assert t.test["p_value"] == pytest.approx(res.pvalue, rel=1e-8)
    assert t.test["dof"] == res.df


def test_cramers_v_hand_formula(t2_frame):
    t = table2(t2_frame)
    # Pearson X^2 by hand: sum (O - E)^2 / E with E = row total * column total / n.
    n = OBS.sum()
    expected = OBS.sum(axis=1, keepdims=True) * OBS.sum(axis=0, keepdims=True) / n
    x2 = ((OBS - expected) ** 2 / expected).sum()
    v = math.sqrt(x2 / (n * (min(OBS.shape) - 1)))
    assert t.test["chi2"] == pytest.approx(x2, rel=1e-12)
    assert t.test["cramers_v"] == pytest.approx(v, rel=1e-12)
    assert cramers_v(x2, int(n), OBS.shape) == pytest.approx(v)


def test_two_by_two_has_no_continuity_correction():
    import pandas as pd
    obs = pd.DataFrame([[10, 20], [30, 15]])
    res = chi_square(obs)
    plain = scipy.stats.chi2_contingency(obs.to_numpy(), correction=False)[0]
    yates = scipy.stats.chi2_contingency(obs.to_numpy(), correction=True)[0]
    assert res["chi2"] == pytest.approx(plain)
    assert res["chi2"] != pytest.approx(yates)


def test_column_percentages(t2_frame):
    t = crosstab(t2_frame, "challenge_breadth", "stable_participation", percent="col",
                 exclude={"challenge_breadth": ["0"]})
    assert t.n_cols.tolist() == [200, 168]
    assert t.percents.at["1", "ja"] == pytest.approx(43 / 200 * 100)
    assert t.percents["ja"].sum() == pytest.approx(100)
