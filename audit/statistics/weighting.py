"""Design-based estimates for a stratified simple random sample.

The audit samples a fixed number of cases per municipality x seniority band,
whatever the stratum's size, so small municipalities are over-represented in
the unweighted sample. A population share is estimated by weighting each case
with N_h / n_h and its uncertainty by the stratified variance with finite
population correction (each stratum is a simple random sample without
replacement). Our own formula is used in production and verified against
samplics' TaylorEstimator in the tests (see docs/statistics.md for why).

For a share over all cases the variance is
    Var(p) = sum_h (N_h/N)^2 (1 - n_h/N_h) s_h^2 / n_h.
For a share within a domain (the cases where an item applies, or a subgroup) the
share is a ratio of two weighted totals; its variance comes from linearisation:
    z_i = w_i d_i (y_i - p_d) / N_d,
    Var(p_d) = sum_h (1 - n_h/N_h) n_h/(n_h - 1) sum_{i in h} (z_i - zbar_h)^2,
which reduces to the formula above when the domain is every case.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _st


@dataclass(frozen=True)
class Design:
    """Stratum of each case and the stratum sizes. n_h counts the cases present in the
    frame (the reviewed cases), so the weight N_h/n_h also adjusts for cases not yet
    reviewed within a stratum; with every sampled case reviewed it equals Case.weight."""
    inverse: np.ndarray  # stratum index of each case
    strata: np.ndarray  # stratum labels
    N_h: np.ndarray  # population per stratum
    n_h: np.ndarray  # sampled (present) cases per stratum

    @property
    def weights(self) -> np.ndarray:
        return (self.N_h / self.n_h)[self.inverse]

    @property
    def population(self) -> float:
        return float(self.N_h.sum())


def design_of(frame: pd.DataFrame, stratum: str = "stratum",
              population: str = "stratum_population") -> Design:
    """The sampling design as seen in a case frame."""
    labels, inverse = np.unique(frame[stratum].astype(str).to_numpy(), return_inverse=True)
    n_h = np.bincount(inverse, minlength=len(labels)).astype(float)
    N_h = np.zeros(len(labels))
    pops = pd.to_numeric(frame[population], errors="coerce").to_numpy(dtype=float)
    # The stratum's population size; every case in a stratum carries the same value.
    np.maximum.at(N_h, inverse, np.nan_to_num(pops, nan=0.0))
    N_h = np.maximum(N_h, n_h)  # never fewer in the population than in the sample
    return Design(inverse=inverse, strata=labels, N_h=N_h, n_h=n_h)


@dataclass(frozen=True)
class Estimate:
    """A weighted share (0-1) with its standard error and two 95 % intervals, next to
    the unweighted sample share of the same domain."""
    share: float
    se: float
    ci_low: float
    ci_high: float
    logit_low: float
    logit_high: float
    n: int  # cases in the domain (unweighted)
    unweighted_share: float
    population: float  # estimated number of persons in the domain


def _nan_estimate(n: int = 0) -> Estimate:
    nan = float("nan")
    return Estimate(nan, nan, nan, nan, nan, nan, n, nan, nan)


def _ratio(y: np.ndarray, d: np.ndarray, design: Design) -> tuple[float, float, float]:
    """Weighted mean of y over the domain d, its linearised standard error and the
    estimated number of persons in the domain (a share is the mean of a 0/1 variable)."""
    inv, n_h, N_h = design.inverse, design.n_h, design.N_h
    w = (N_h / n_h)[inv]
    N_d = float((w * d).sum())
    p = float((w * d * y).sum() / N_d)
    z = w * d * (y - p) / N_d
    zbar = np.bincount(inv, weights=z, minlength=len(n_h)) / n_h
    ss = np.bincount(inv, weights=(z - zbar[inv]) ** 2, minlength=len(n_h))
    fpc = 1.0 - n_h / N_h
    with np.errstate(divide="ignore", invalid="ignore"):
        # A stratum with a single case contributes no estimable variance.
        contrib = np.where(n_h > 1, fpc * n_h / (n_h - 1) * ss, 0.0)
    return p, math.sqrt(max(float(contrib.sum()), 0.0)), N_d


def weighted_share(y: np.ndarray, domain: np.ndarray | None, design: Design,
                   alpha: float = 0.05) -> Estimate:
    """Stratified estimate of the share of y==1 within `domain` (all cases when None).

    y: 0/1 per case (values outside the domain are ignored); domain: bool per case.
    """
    y = np.nan_to_num(np.asarray(y, dtype=float), nan=0.0)
    d = np.ones_like(y) if domain is None else np.asarray(domain, dtype=float)
    n = int(d.sum())
    if n == 0:
        return _nan_estimate(0)
    p, se, N_d = _ratio(y, d, design)
    zq = float(_st.norm.ppf(1 - alpha / 2))
    lo, hi = max(0.0, p - zq * se), min(1.0, p + zq * se)
    if 0.0 < p < 1.0 and se > 0:
        lg = math.log(p / (1 - p))
        half = zq * se / (p * (1 - p))
        llo, lhi = 1 / (1 + math.exp(-(lg - half))), 1 / (1 + math.exp(-(lg + half)))
    else:
        llo, lhi = lo, hi
    unweighted = float((d * y).sum() / n)
    return Estimate(p, se, lo, hi, llo, lhi, n, unweighted, N_d)


def weighted_mean(y: np.ndarray, domain: np.ndarray | None, design: Design,
                  alpha: float = 0.05) -> dict[str, float]:
    """Stratified estimate of the population mean of a number (e.g. interviews in the
    review period) within `domain`; cases whose y is missing are outside the domain.
    Returns mean, se, ci_low, ci_high (normal interval, not clipped) and n."""
    y = np.asarray(y, dtype=float)
    d = (np.ones_like(y, dtype=bool) if domain is None else np.asarray(domain, dtype=bool)) & ~np.isnan(y)
    n = int(d.sum())
    if n == 0:
        return {"mean": math.nan, "se": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": 0}
    mean, se, _ = _ratio(np.nan_to_num(y, nan=0.0), d.astype(float), design)
    zq = float(_st.norm.ppf(1 - alpha / 2))
    return {"mean": mean, "se": se, "ci_low": mean - zq * se, "ci_high": mean + zq * se, "n": n}


def weighted_shares(Y: np.ndarray, domain: np.ndarray, design: Design, alpha: float = 0.05
                    ) -> dict[str, np.ndarray]:
    """`weighted_share` for several 0/1 columns of Y (cases x k) over one domain at once
    (the cells of one crosstab row); returns arrays share, se, ci_low, ci_high (0-1)."""
    Y = np.nan_to_num(np.asarray(Y, dtype=float), nan=0.0)
    d = np.asarray(domain, dtype=float)
    k = Y.shape[1]
    nan = np.full(k, np.nan)
    if d.sum() == 0:
        return {"share": nan, "se": nan, "ci_low": nan, "ci_high": nan}
    inv, n_h, N_h = design.inverse, design.n_h, design.N_h
    w = (N_h / n_h)[inv]
    wd = w * d
    N_d = wd.sum()
    p = wd @ Y / N_d
    Z = wd[:, None] * (Y - p[None, :]) / N_d
    H = len(n_h)
    zsum = np.zeros((H, k))
    np.add.at(zsum, inv, Z)
    zbar = zsum / n_h[:, None]
    ss = np.zeros((H, k))
    np.add.at(ss, inv, (Z - zbar[inv]) ** 2)
    fpc = 1.0 - n_h / N_h
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n_h > 1, fpc * n_h / (n_h - 1), 0.0)
    var = (factor[:, None] * ss).sum(axis=0)
    se = np.sqrt(np.maximum(var, 0.0))
    zq = float(_st.norm.ppf(1 - alpha / 2))
    return {"share": p, "se": se, "ci_low": np.clip(p - zq * se, 0, 1), "ci_high": np.clip(p + zq * se, 0, 1)}


def stratified_variance(s2_h: np.ndarray, N_h: np.ndarray, n_h: np.ndarray) -> float:
    """Textbook variance of a stratified mean: sum_h (N_h/N)^2 (1-n_h/N_h) s_h^2/n_h."""
    N = N_h.sum()
    return float(((N_h / N) ** 2 * (1 - n_h / N_h) * s2_h / n_h).sum())
