"""Tests of association for crosstabs: Pearson's chi-square on the sample counts, and the
Rao-Scott corrections of it for design-weighted tables.

A weighted table's cells are estimated from a stratified sample with unequal weights, so
Pearson's X^2 of the weighted table does not follow a chi-square distribution. Rao and
Scott (1981, 1984) correct it with the generalised design effects delta_k, the eigenvalues
of Delta = (C' D^-1 C / n)^-1 (C' D^-1 V D^-1 C), where V is the design covariance of the
estimated cell shares p (audit.statistics.weighting), D = diag(p) and C spans the
interaction contrasts of the table (residual of the interaction columns on the main
effects):
- first-order:  X^2 / mean(delta), on (r-1)(c-1) degrees of freedom;
- second-order (the default, as R's survey::svychisq(statistic = "F") and SAS SURVEYFREQ):
  F = X^2 / tr(Delta) on d0 = tr(Delta)^2 / tr(Delta^2) and d0 * nu degrees of freedom,
  nu the design degrees of freedom (cases minus strata of the domain, R's degrees()).
X^2 is Pearson's statistic of the weighted table rescaled to the n cases of the domain,
as svychisq computes it. The implementation follows the formulas above, written for this
project; R's survey package is the oracle in the tests (tests/statistics/test_stats_r_oracle.py).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from audit.i18n import _
from audit.statistics.weighting import Design, linearised_shares

SMALL_EXPECTED = 5.0


def _not_computed(n: int, why: str) -> dict[str, Any]:
    return {"chi2": None, "p_value": None, "dof": None, "cramers_v": None, "n": n, "min_expected": None,
            "small_expected": None, "cells": None, "method": f"not computed: {why}"}


def expected_summary(expected: np.ndarray) -> dict[str, Any]:
    """Smallest expected count and how many cells expect fewer than 5 cases."""
    e = np.asarray(expected, dtype=float)
    return {"min_expected": float(e.min()), "small_expected": int((e < SMALL_EXPECTED).sum()), "cells": int(e.size)}


def cramers_v(chi2: float, n: int, shape: tuple[int, int]) -> float:
    """Cramér's V = sqrt(chi2 / (n * (min(r, c) - 1))), without bias correction."""
    k = min(shape) - 1
    if n <= 0 or k <= 0:
        return float("nan")
    return math.sqrt(chi2 / (n * k))


def pearson(observed: np.ndarray) -> dict[str, Any]:
    """Pearson's chi-square (no continuity correction, 2x2 included) and Cramér's V on the
    non-empty rows and columns of a table of counts."""
    obs = np.asarray(observed, dtype=float)
    obs = obs[obs.sum(axis=1) > 0][:, obs.sum(axis=0) > 0]
    n = int(round(obs.sum()))
    if obs.shape[0] < 2 or obs.shape[1] < 2:
        return _not_computed(n, "fewer than two non-empty rows or columns")
    from scipy.stats import chi2_contingency  # here: importing scipy.stats costs every command seconds

    res = chi2_contingency(obs, correction=False)
    chi2, p, dof, expected = float(res[0]), float(res[1]), int(res[2]), res[3]
    return {"chi2": chi2, "p_value": p, "dof": dof, "cramers_v": cramers_v(chi2, n, obs.shape), "n": n,
            **expected_summary(expected), "statistic": "chi2",
            "method": "Pearson chi2 (scipy.stats.chi2_contingency, correction=False)"}


def _contrasts(r: int, c: int) -> np.ndarray:
    """C: the interaction columns of the saturated r x c model, made orthogonal to the
    main effects (cells in R's order: the row index runs fastest)."""
    rows = np.tile(np.arange(r), c)
    cols = np.repeat(np.arange(c), r)
    X1 = np.column_stack([np.ones(r * c)] + [(rows == i).astype(float) for i in range(1, r)]
                         + [(cols == j).astype(float) for j in range(1, c)])
    X12 = np.column_stack([((rows == i) & (cols == j)).astype(float) for j in range(1, c) for i in range(1, r)])
    coef, *_ = np.linalg.lstsq(X1, X12, rcond=None)
    return X12 - X1 @ coef


def rao_scott(row_ind: np.ndarray, col_ind: np.ndarray, design: Design) -> dict[str, Any]:
    """Rao-Scott tests of independence for a weighted r x c table.

    row_ind (cases x r) and col_ind (cases x c) say which row and column code each case
    has; the domain is the cases with one of each (both variables present). Rows and
    columns without a case in the domain are left out, as svychisq does."""
    row_ind = np.asarray(row_ind, dtype=bool)
    col_ind = np.asarray(col_ind, dtype=bool)
    domain = row_ind.any(axis=1) & col_ind.any(axis=1)
    n = int(domain.sum())
    row_ind = row_ind[:, (row_ind & domain[:, None]).any(axis=0)]
    col_ind = col_ind[:, (col_ind & domain[:, None]).any(axis=0)]
    r, c = row_ind.shape[1], col_ind.shape[1]
    if r < 2 or c < 2:
        return _not_computed(n, "fewer than two non-empty rows or columns")
    # cell k = i + r * j (R's interaction order)
    Y = np.column_stack([row_ind[:, i] & col_ind[:, j] & domain for j in range(c) for i in range(r)])
    p, V, _ = linearised_shares(Y.astype(float), domain, design)
    table = (n * p).reshape(c, r).T
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        X2 = float(np.where(expected > 0, (table - expected) ** 2 / expected, 0.0).sum())
    C = _contrasts(r, c)
    inv_p = np.where(p > 0, 1.0 / np.where(p > 0, p, 1.0), 0.0)
    denom = C.T @ (inv_p[:, None] * C) / n
    numr = C.T @ (inv_p[:, None] * V * inv_p[None, :]) @ C
    try:
        delta = np.linalg.solve(denom, numr)
    except np.linalg.LinAlgError:
        delta = np.linalg.pinv(denom) @ numr
    tr = float(np.trace(delta))
    tr2 = float(np.trace(delta @ delta))
    dof = (r - 1) * (c - 1)
    nu = design.degrees_of_freedom(domain)
    out: dict[str, Any] = {"chi2": X2, "dof": dof, "n": n, "cramers_v": None, **expected_summary(expected),
                           "design_df": nu, "mean_deff": tr / dof if dof else None, "statistic": "F",
                           "method": "Rao-Scott F (second-order correction, design degrees of freedom)"}
    if not (tr > 0 and tr2 > 0) or nu <= 0:
        out.update({"f": None, "ndf": None, "ddf": None, "p_value": None, "rs1_chi2": None, "rs1_p_value": None,
                    "method": "not computed: no design variance (every stratum a census or one case)"})
        return out
    from scipy import stats as _st  # here, as in pearson

    d0 = tr * tr / tr2
    F = X2 / tr
    rs1 = X2 / (tr / dof)
    out.update({"f": F, "ndf": d0, "ddf": d0 * nu, "p_value": float(_st.f.sf(F, d0, d0 * nu)),
                "rs1_chi2": rs1, "rs1_p_value": float(_st.chi2.sf(rs1, dof))})
    return out


def small_expected_note(test: dict[str, Any] | None) -> str | None:
    """The warning a test carries when some expected counts are below 5."""
    if not test or not test.get("small_expected"):
        return None
    k, cells = int(test["small_expected"]), int(test["cells"])
    return _("{k} of {cells} cells have an expected count below 5 (smallest {smallest:.1f}); "
             "the test's p-value is therefore uncertain.").format(k=k, cells=cells, smallest=test["min_expected"])


def describe(test: dict[str, Any] | None) -> str | None:
    """One line for a printed test: Pearson or Rao-Scott, with degrees of freedom and p."""
    if not test or test.get("p_value") is None:
        return None
    if test.get("statistic") == "F":
        return _("Rao-Scott F={f:.3f}, df={ndf:.2f} and {ddf:.1f}, p={p:.4g} (second-order correction of "
                 "Pearson's chi2={chi2:.3f}; first-order: chi2={rs1:.3f}, df={dof}, p={p1:.4g})").format(
            f=test["f"], ndf=test["ndf"], ddf=test["ddf"], p=test["p_value"], chi2=test["chi2"],
            rs1=test["rs1_chi2"], dof=test["dof"], p1=test["rs1_p_value"])
    line = f"Chi2={test['chi2']:.3f}, df={test['dof']}, p={test['p_value']:.4g}"
    if test.get("cramers_v") is not None:
        line += _(", Cramér's V={v:.3f}").format(v=test["cramers_v"])
    return line
