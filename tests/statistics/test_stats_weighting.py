"""Weighted shares: a hand-worked two-stratum example, the domain formula, samplics."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from audit.statistics import crosstab, frequency
from audit.statistics.weighting import design_of, stratified_variance, weighted_share


def hand_frame() -> pd.DataFrame:
    """Stratum a: N=100, n=5, two of five say ja. Stratum b: N=10, n=5, one of five."""
    return pd.DataFrame({
        "stratum": ["a"] * 5 + ["b"] * 5,
        "stratum_population": [100] * 5 + [10] * 5,
        "x": ["ja", "ja", "nej", "nej", "nej", "ja", "nej", "nej", "nej", "nej"],
        "g": ["k", "m", "k", "m", "k", "k", "m", "k", "m", "k"],
    })


def test_hand_worked_two_strata():
    f = hand_frame()
    d = design_of(f)
    assert d.weights.tolist() == [20.0] * 5 + [2.0] * 5  # N_h / n_h
    e = weighted_share((f["x"] == "ja").to_numpy(float), None, d)
    # p = (100 * 2/5 + 10 * 1/5) / 110 = 42/110
    assert e.share == pytest.approx(42 / 110)
    # s_a^2 = (2 * 0.6^2 + 3 * 0.4^2) / 4 = 0.3 ; s_b^2 = (0.8^2 + 4 * 0.2^2) / 4 = 0.2
    # Var = (100/110)^2 (1 - 5/100) 0.3/5 + (10/110)^2 (1 - 5/10) 0.2/5
    var = (100 / 110) ** 2 * 0.95 * 0.3 / 5 + (10 / 110) ** 2 * 0.5 * 0.2 / 5
    assert var == pytest.approx(0.0472727, abs=1e-7)
    assert e.se == pytest.approx(math.sqrt(var))
    assert e.ci_low == pytest.approx(max(0, 42 / 110 - 1.959964 * math.sqrt(var)), abs=1e-6)
    assert e.ci_high == pytest.approx(42 / 110 + 1.959964 * math.sqrt(var), abs=1e-6)
    assert e.unweighted_share == pytest.approx(3 / 10)  # the sample share, side by side
    assert e.population == pytest.approx(110)
    assert stratified_variance(np.array([0.3, 0.2]), np.array([100., 10.]), np.array([5., 5.])) == \
        pytest.approx(var)
    assert e.logit_low < e.share < e.logit_high


def test_ci_is_clipped_to_zero_one():
    f = hand_frame()
    e = weighted_share((f["x"] == "ja").to_numpy(float), None, design_of(f))
    assert e.ci_low >= 0.0 and e.ci_high <= 1.0


def test_census_stratum_has_no_variance():
    f = pd.DataFrame({"stratum": ["a"] * 4, "stratum_population": [4] * 4, "x": [1, 0, 1, 1]})
    e = weighted_share(f["x"].to_numpy(float), None, design_of(f))
    assert e.share == pytest.approx(0.75)
    assert e.se == pytest.approx(0.0)


def test_domain_estimate_by_hand():
    f = hand_frame()
    d = design_of(f)
    dom = (f["g"] == "k").to_numpy()
    e = weighted_share((f["x"] == "ja").to_numpy(float), dom, d)
    # Domain k: a has cases 0,2,4 (ja, nej, nej), b has 5,7,9 (ja, nej, nej).
    # p_k = (20*1 + 2*1) / (20*3 + 2*3) = 22/66
    assert e.share == pytest.approx(22 / 66)
    # Linearisation by hand: z_i = w_i d_i (y_i - p) / N_d, N_d = 66.
    p, Nd = 1 / 3, 66.0
    total = 0.0
    for w, ys_in, n_h, N_h in ((20, [1, 0, 0], 5, 100), (2, [1, 0, 0], 5, 10)):
        z = [w * (y - p) / Nd for y in ys_in] + [0.0, 0.0]  # two cases outside the domain
        zbar = sum(z) / n_h
        total += (1 - n_h / N_h) * n_h / (n_h - 1) * sum((zi - zbar) ** 2 for zi in z)
    assert e.se == pytest.approx(math.sqrt(total))
    assert e.n == 6


def test_against_samplics_taylor_estimator():
    samplics = pytest.importorskip("samplics")
    from samplics.estimation import TaylorEstimator
    from samplics.utils.types import PopParam

    f = hand_frame()
    d = design_of(f)
    y = (f["x"] == "ja").to_numpy(float)
    fpc = {"a": 1 - 5 / 100, "b": 1 - 5 / 10}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = TaylorEstimator(PopParam.mean)
        est.estimate(y=y, samp_weight=d.weights, stratum=f["stratum"].to_numpy(), psu=np.arange(10), fpc=fpc)
        dom = TaylorEstimator(PopParam.mean)
        dom.estimate(y=y, samp_weight=d.weights, stratum=f["stratum"].to_numpy(), psu=np.arange(10), fpc=fpc,
                     domain=f["g"].to_numpy())
    e = weighted_share(y, None, d)
    assert e.share == pytest.approx(float(est.point_est))
    assert e.se == pytest.approx(float(est.stderror))
    for g in ("k", "m"):
        eg = weighted_share(y, (f["g"] == g).to_numpy(), d)
        key = next(k for k in dom.point_est if str(k) == g)
        assert eg.share == pytest.approx(float(dom.point_est[key]))
        assert eg.se == pytest.approx(float(dom.stderror[key]))


def test_against_samplics_on_a_larger_frame(make_frame):
    pytest.importorskip("samplics")
    from samplics.estimation import TaylorEstimator
    from samplics.utils.types import PopParam

    f = make_frame(400, seed=3)
    d = design_of(f)
    present = f["item_0"].notna().to_numpy()
    y = (f["item_0"] == "ja").to_numpy(float)
    fpc = {s: 1 - n / N for s, n, N in zip(d.strata, d.n_h, d.N_h)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = TaylorEstimator(PopParam.mean)
        # y of cases outside the domain is irrelevant to the domain estimate; 1 avoids a
        # zero point estimate for the other domain, on which samplics divides by zero.
        est.estimate(y=np.where(present, y, 1.0), samp_weight=d.weights, stratum=f["stratum"].to_numpy(),
                     psu=np.arange(len(f)),
                     fpc=fpc, domain=np.where(present, "applies", "not"))
    e = weighted_share(y, present, d)
    key = next(k for k in est.point_est if str(k) == "applies")
    assert e.share == pytest.approx(float(est.point_est[key]))
    assert e.se == pytest.approx(float(est.stderror[key]))


def test_weighted_tables_agree_with_weighted_share(make_frame):
    f = make_frame(300, seed=11)
    d = design_of(f)
    t = crosstab(f, "sex", "item_1", weighted=True)
    dom = (f["sex"] == "mand").to_numpy() & f["item_1"].notna().to_numpy()
    e = weighted_share((f["item_1"] == "ja").to_numpy(float), dom, d)
    assert t.weighted["share"].at["mand", "ja"] == pytest.approx(e.share * 100)
    assert t.weighted["ci_low"].at["mand", "ja"] == pytest.approx(e.ci_low * 100)
    fr = frequency(f, "item_1", weighted=True)
    e_all = weighted_share((f["item_1"] == "ja").to_numpy(float), f["item_1"].notna().to_numpy(), d)
    assert fr.weighted["share"].at["I alt", "ja"] == pytest.approx(e_all.share * 100)
    # The sample share stays beside the weighted one.
    rec = next(r for r in fr.to_records() if r["item_1"] == "ja")
    assert rec["percent"] == pytest.approx(e_all.unweighted_share * 100)
    assert rec["weighted_share"] == pytest.approx(e_all.share * 100)


def test_single_case_stratum_and_empty_domain_do_not_crash():
    f = pd.DataFrame({"stratum": ["a", "b", "b"], "stratum_population": [10, 20, 20], "x": [1.0, 0.0, 1.0]})
    d = design_of(f)
    e = weighted_share(f["x"].to_numpy(), None, d)
    assert e.share == pytest.approx((10 * 1 + 10 * 0 + 10 * 1) / 30)
    assert e.se >= 0
    empty = weighted_share(f["x"].to_numpy(), np.zeros(3, dtype=bool), d)
    assert empty.n == 0 and math.isnan(empty.share)


def test_vectorised_shares_equal_the_single_estimator(make_frame):
    from audit.statistics.weighting import weighted_shares
    f = make_frame(250, seed=5)
    d = design_of(f)
    dom = (f["direction"] == "jobrettet").to_numpy() & f["item_3"].notna().to_numpy()
    Y = np.column_stack([(f["item_3"] == c).to_numpy(float) for c in ("ja", "nej")])
    many = weighted_shares(Y, dom, d)
    for j in range(2):
        one = weighted_share(Y[:, j], dom, d)
        assert many["share"][j] == pytest.approx(one.share)
        assert many["se"][j] == pytest.approx(one.se)
        assert many["ci_low"][j] == pytest.approx(one.ci_low)


def test_weighted_mean_against_samplics_and_by_hand():
    """A number (e.g. interviews): the weighted mean by hand, its SE from samplics, and the
    interval not clipped to 0-1 as a share's is."""
    pytest.importorskip("samplics")
    from samplics.estimation import TaylorEstimator
    from samplics.utils.types import PopParam

    from audit.statistics.weighting import weighted_mean

    f = hand_frame()
    d = design_of(f)
    y = np.array([3, 7, 4, 0, 6, 2, 9, 5, 1, 8], dtype=float)
    e = weighted_mean(y, None, d)
    # (20 * (3+7+4+0+6) + 2 * (2+9+5+1+8)) / (20*5 + 2*5) = (400 + 50) / 110
    assert e["mean"] == pytest.approx(450 / 110)
    fpc = {"a": 1 - 5 / 100, "b": 1 - 5 / 10}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = TaylorEstimator(PopParam.mean)
        est.estimate(y=y, samp_weight=d.weights, stratum=f["stratum"].to_numpy(), psu=np.arange(10), fpc=fpc,
                     domain=f["g"].to_numpy())
    for g in ("k", "m"):
        eg = weighted_mean(y, (f["g"] == g).to_numpy(), d)
        key = next(k for k in est.point_est if str(k) == g)
        assert eg["mean"] == pytest.approx(float(est.point_est[key]))
        assert eg["se"] == pytest.approx(float(est.stderror[key]))
        assert eg["ci_high"] > 1.0  # a mean of counts: never clipped to a share's range
    # a missing number leaves its case out of the domain
    y2 = y.copy()
    y2[0] = np.nan
    assert weighted_mean(y2, None, d)["n"] == 9


def test_declared_codes_print_even_when_empty():
    """An annex prints every category: codes= adds a row/column of zeros for a code nobody has."""
    f = hand_frame()
    plain = crosstab(f, "g", "x")
    full = crosstab(f, "g", "x", codes={"x": ["ja", "nej", "ikke_relevant"], "g": ["m", "k", "z"]})
    assert list(plain.counts.columns) == ["ja", "nej"]
    assert list(full.counts.columns) == ["ja", "nej", "ikke_relevant"]
    assert list(full.counts.index) == ["m", "k", "z"]
    assert full.counts.loc["z"].sum() == 0 and int(full.n_rows["z"]) == 0
    assert full.counts["ikke_relevant"].sum() == 0
    assert full.counts.loc[["m", "k"], ["ja", "nej"]].equals(plain.counts.loc[["m", "k"], ["ja", "nej"]])
    fr = frequency(f, "x", codes={"x": ["nej", "ja", "ikke_relevant"]})
    assert list(fr.counts.columns) == ["nej", "ja", "ikke_relevant"]
    assert fr.counts.loc["I alt"].tolist() == [7, 3, 0]


def test_suppressed_rows_hide_their_weighted_means_too():
    """A group with one case: its mean is that person's value, weighted or not, so a hidden
    row carries no weighted mean, standard error or interval either."""
    from audit.statistics import suppress

    f = hand_frame().assign(n=[3, 7, 4, 0, 6, 2, 9, 5, 1, 8], g=["k"] * 9 + ["solo"])
    t = suppress(frequency(f, "n", "g", weighted=True), 3, frame=f)
    records = t.to_records()
    hidden = [r for r in records if r["suppressed"]]
    assert {r["g"] for r in hidden} >= {"solo"}
    for r in hidden:
        assert all(r.get(f"weighted_{k}") is None for k in ("share", "se", "ci_low", "ci_high")), r
    # ten cases in two strata: too small a domain for any weighted figure to be printed
    from audit.statistics.suppression import THIN_NOTE
    assert all(r.get("weighted_share") is None for r in records) and THIN_NOTE in t.notes
    assert any(r["value"] is not None for r in records if not r["suppressed"])  # the unweighted mean stays
