"""Design-based estimates for a stratified simple random sample.

The audit samples a fixed number of cases per municipality x seniority band,
whatever the stratum's size, so small municipalities are over-represented in
the unweighted sample. A population share is estimated by weighting each case
with N_h / n_h and its uncertainty by the stratified variance with finite
population correction (each stratum is a simple random sample without
replacement). Our own formula is used in production and verified against
R's survey package and samplics' TaylorEstimator in the tests (see docs/statistics.md).

For a share over all cases the variance is
    Var(p) = sum_h (N_h/N)^2 (1 - n_h/N_h) s_h^2 / n_h.
For a share within a domain (the cases where an item applies, or a subgroup) the
share is a ratio of two weighted totals; its variance comes from linearisation:
    z_i = w_i d_i (y_i - p_d) / N_d,
    Var(p_d) = sum_h (1 - n_h/N_h) n_h/(n_h - 1) sum_{i in h} (z_i - zbar_h)^2,
which reduces to the formula above when the domain is every case. Several shares of one
domain (the cells of a crosstab) get their full covariance matrix the same way, which the
Rao-Scott test (audit.statistics.designtests) needs. A stratum with a single reviewed case
is handled as declared by `Design.lonely`; a stratum without a population size is an error.
R's survey package (svydesign(ids=~1, strata=~stratum, fpc=~N_h)) is the oracle in the tests.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri  # the normal quantile scipy.stats.norm.ppf computes, without importing scipy.stats (seconds)

from audit.i18n import gettext


LONELY_CHOICES = ("adjust", "fail")
DEFAULT_LONELY = "adjust"


class DesignError(ValueError):
    """The design cannot give an honest estimate: a missing stratum size, or a stratum
    with one reviewed case when lonely strata are refused ("fail")."""


def default_lonely() -> str:
    """The declared handling of a stratum with a single reviewed case: the setting
    AUDIT_LONELY_PSU (adjust | fail), default "adjust"."""
    try:
        from audit.config import get_settings

        value = get_settings().lonely_psu
    except Exception:  # pragma: no cover - settings unreadable: the declared default
        value = DEFAULT_LONELY
    return check_lonely(value)


def check_lonely(value: str) -> str:
    if value not in LONELY_CHOICES:
        raise ValueError(f"lonely stratum handling must be one of {', '.join(LONELY_CHOICES)}, not {value!r}")
    return value


@dataclass(frozen=True)
class Design:
    """Stratum of each case and the stratum sizes. n_h counts the cases present in the
    frame (the reviewed cases), so the weight N_h/n_h also adjusts for cases not yet
    reviewed within a stratum; with every sampled case reviewed it equals Case.weight.

    `lonely` says what a stratum with one reviewed case (n_h = 1 < N_h) contributes to a
    variance, where the within-stratum variance cannot be estimated:
      "adjust": its case is centred at the grand mean instead of the stratum mean, as R's
                survey package does with options(survey.lonely.psu = "adjust");
      "fail":   the estimate is refused (R's default) with an error naming the stratum."""
    inverse: np.ndarray  # stratum index of each case
    strata: np.ndarray  # stratum labels
    N_h: np.ndarray  # population per stratum
    n_h: np.ndarray  # sampled (present) cases per stratum
    lonely: str = DEFAULT_LONELY

    @property
    def weights(self) -> np.ndarray:
        return (self.N_h / self.n_h)[self.inverse]

    @property
    def population(self) -> float:
        return float(self.N_h.sum())

    @property
    def lonely_mask(self) -> np.ndarray:
        """Strata with one case standing for more than one person (a census stratum of
        one, N_h = n_h = 1, has no variance and is not lonely)."""
        return (self.n_h == 1) & (self.N_h > self.n_h)

    @property
    def lonely_strata(self) -> list[str]:
        return [str(s) for s in self.strata[self.lonely_mask]]

    def degrees_of_freedom(self, domain: np.ndarray | None = None) -> int:
        """Design degrees of freedom as R's survey::degrees() on the (sub)design: cases
        (each case is its own sampling unit) minus strata, counting only the cases in
        `domain` and the strata that have one of them."""
        if domain is None:
            return int(len(self.inverse) - len(self.strata))
        d = np.asarray(domain, dtype=bool)
        return int(d.sum() - len(np.unique(self.inverse[d])))

    def note(self) -> str | None:
        """The sentence a weighted table carries about its lonely strata, if it has any."""
        names = self.lonely_strata
        if not names:
            return None
        shown = ", ".join(names[:6]) + (gettext(" and {n} more").format(n=len(names) - 6) if len(names) > 6 else "")
        return gettext("Strata with only one reviewed case ({strata}) add to the variance with the case's deviation "
                       "from the overall mean (as the R package survey with lonely.psu = \"adjust\").").format(
            strata=shown)


def design_of(frame: pd.DataFrame, stratum: str = "stratum",
              population: str = "stratum_population", lonely: str | None = None) -> Design:
    """The sampling design as seen in a case frame.

    Every stratum needs its population size N_h: a missing (or non-positive) N_h, sizes
    that differ within a stratum, or fewer people than reviewed cases is an error, never a
    silent census. `lonely` (default: the setting AUDIT_LONELY_PSU, "adjust") is checked here."""
    lonely = default_lonely() if lonely is None else check_lonely(lonely)
    labels, inverse = np.unique(frame[stratum].astype(str).to_numpy(), return_inverse=True)
    n_h = np.bincount(inverse, minlength=len(labels)).astype(float)
    pops = pd.to_numeric(frame[population], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(pops) | (pops <= 0)
    if bad.any():
        missing = sorted({str(labels[i]) for i in inverse[bad]})
        raise DesignError(f"stratum population size (N_h, column {population!r}) missing for stratum "
                          f"{', '.join(missing[:10])}{' …' if len(missing) > 10 else ''}: a weighted estimate "
                          "needs the register count of every stratum")
    hi = np.full(len(labels), -np.inf)
    lo = np.full(len(labels), np.inf)
    np.maximum.at(hi, inverse, pops)
    np.minimum.at(lo, inverse, pops)
    differ = hi != lo
    if differ.any():
        raise DesignError("stratum population size (N_h) differs between cases of stratum "
                          + ", ".join(str(s) for s in labels[differ][:10]))
    small = hi < n_h
    if small.any():
        i = int(np.flatnonzero(small)[0])
        raise DesignError(f"stratum {labels[i]}: {int(n_h[i])} reviewed cases but a population size of "
                          f"{hi[i]:g} (N_h must be at least n_h)")
    return Design(inverse=inverse, strata=labels, N_h=hi, n_h=n_h, lonely=lonely)


def _covariance(Z: np.ndarray, design: Design, domain: np.ndarray | None = None) -> np.ndarray:
    """Stratified with-out-replacement covariance of the linearised values Z (cases x k):
    sum_h (1 - n_h/N_h) n_h/(n_h - 1) sum_{i in h} (z_i - zbar_h)(z_i - zbar_h)'.
    A lonely stratum (n_h = 1 < N_h) is centred at the grand mean (0: Z sums to zero) and
    weighted by its fpc alone ("adjust", as R's survey), or refused ("fail") when its case
    is in `domain`."""
    inv, n_h, N_h = design.inverse, design.n_h, design.N_h
    H, k = len(n_h), Z.shape[1]
    lonely = design.lonely_mask
    if lonely.any() and design.lonely == "fail":
        involved = lonely.copy()
        if domain is not None:
            involved &= np.bincount(inv, weights=np.asarray(domain, dtype=float), minlength=H) > 0
        if involved.any():
            raise DesignError("stratum " + ", ".join(str(s) for s in design.strata[involved][:10])
                              + " has only one reviewed case, so its variance cannot be estimated "
                              "(lonely strata are refused: AUDIT_LONELY_PSU=fail)")
    zsum = np.zeros((H, k))
    np.add.at(zsum, inv, Z)
    center = zsum / n_h[:, None]
    center[lonely] = 0.0
    D = Z - center[inv]
    fpc = 1.0 - n_h / N_h
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n_h > 1, fpc * n_h / (n_h - 1), fpc)
    return (D * factor[inv][:, None]).T @ D


def linearised_shares(Y: np.ndarray, domain: np.ndarray, design: Design
                      ) -> tuple[np.ndarray, np.ndarray, float]:
    """Ratio estimates p_j = sum w d y_j / sum w d of the columns of Y over `domain`, their
    linearised covariance matrix (k x k) and the estimated domain size N_d."""
    Y = np.nan_to_num(np.asarray(Y, dtype=float), nan=0.0)
    d = np.asarray(domain, dtype=float)
    wd = design.weights * d
    N_d = float(wd.sum())
    p = wd @ Y / N_d
    Z = wd[:, None] * (Y - p[None, :]) / N_d
    return p, _covariance(Z, design, d > 0), N_d


def design_effect(p: np.ndarray, var: np.ndarray, n: int, N_d: float) -> np.ndarray:
    """Kish's design effect of shares as R's survey::svymean(..., deff = TRUE) defines it:
    the design variance over the variance of a simple random sample without replacement of
    the same n cases from a population of the estimated size N_d,
        V_srs = (1 - n/N_d) S^2 / n,  S^2 = n/(n - 1) p (1 - p)
    (S^2 the weighted population variance of the 0/1 variable). NaN where undefined."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        vsrs = (n / (n - 1.0)) * p * (1 - p) * (N_d - n) / (N_d * n) if n > 1 else np.full_like(p, np.nan)
        out = np.where(vsrs > 0, np.asarray(var, dtype=float) / vsrs, np.nan)
    return out


def logit_interval(p: np.ndarray, se: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """95 % interval on the logit scale, back-transformed (R's svyciprop(method = "logit")
    with normal quantiles): expit(logit(p) -+ z se / (p (1 - p))). At p = 0 or 1, or
    with se = 0, the interval is the point itself."""
    p = np.asarray(p, dtype=float)
    se = np.asarray(se, dtype=float)
    zq = float(ndtri(1 - alpha / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (p > 0) & (p < 1) & (se > 0)
        lg = np.log(np.where(ok, p, 0.5) / (1 - np.where(ok, p, 0.5)))
        half = zq * se / np.where(ok, p * (1 - p), 1.0)
        low = np.where(ok, 1 / (1 + np.exp(-(lg - half))), p)
        high = np.where(ok, 1 / (1 + np.exp(-(lg + half))), p)
    return low, high


@dataclass(frozen=True)
class Estimate:
    """A weighted share (0-1) with its standard error, two 95 % intervals (normal, clipped
    to 0-1, and logit) and its design effect, next to the unweighted sample share of the
    same domain."""
    share: float
    se: float
    ci_low: float
    ci_high: float
    logit_low: float
    logit_high: float
    n: int  # cases in the domain (unweighted)
    unweighted_share: float
    population: float  # estimated number of persons in the domain
    deff: float = float("nan")


def _nan_estimate(n: int = 0) -> Estimate:
    nan = float("nan")
    return Estimate(nan, nan, nan, nan, nan, nan, n, nan, nan, nan)


def _ratio(y: np.ndarray, d: np.ndarray, design: Design) -> tuple[float, float, float]:
    """Weighted mean of y over the domain d, its linearised standard error and the
    estimated number of persons in the domain (a share is the mean of a 0/1 variable)."""
    p, V, N_d = linearised_shares(y.reshape(-1, 1), d, design)
    return float(p[0]), math.sqrt(max(float(V[0, 0]), 0.0)), N_d


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
    zq = float(ndtri(1 - alpha / 2))
    lo, hi = max(0.0, p - zq * se), min(1.0, p + zq * se)
    llo, lhi = logit_interval(np.array([p]), np.array([se]), alpha)
    if not (0.0 < p < 1.0 and se > 0):
        llo, lhi = np.array([lo]), np.array([hi])
    unweighted = float((d * y).sum() / n)
    deff = float(design_effect(np.array([p]), np.array([se * se]), n, N_d)[0])
    return Estimate(p, se, lo, hi, float(llo[0]), float(lhi[0]), n, unweighted, N_d, deff)


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
    zq = float(ndtri(1 - alpha / 2))
    return {"mean": mean, "se": se, "ci_low": mean - zq * se, "ci_high": mean + zq * se, "n": n}


SHARE_KEYS = ("share", "se", "ci_low", "ci_high", "logit_low", "logit_high", "deff")


def weighted_shares(Y: np.ndarray, domain: np.ndarray, design: Design, alpha: float = 0.05
                    ) -> dict[str, np.ndarray]:
    """`weighted_share` for several 0/1 columns of Y (cases x k) over one domain at once
    (the cells of one crosstab row); returns arrays share, se, ci_low, ci_high (normal,
    clipped), logit_low, logit_high and deff (shares 0-1)."""
    Y = np.nan_to_num(np.asarray(Y, dtype=float), nan=0.0)
    d = np.asarray(domain, dtype=float)
    k = Y.shape[1]
    if d.sum() == 0:
        return {key: np.full(k, np.nan) for key in SHARE_KEYS}
    p, V, N_d = linearised_shares(Y, d, design)
    se = np.sqrt(np.maximum(np.diag(V), 0.0))
    zq = float(ndtri(1 - alpha / 2))
    lo, hi = np.clip(p - zq * se, 0, 1), np.clip(p + zq * se, 0, 1)
    llo, lhi = logit_interval(p, se, alpha)
    odd = ~((p > 0) & (p < 1) & (se > 0))
    llo, lhi = np.where(odd, lo, llo), np.where(odd, hi, lhi)
    return {"share": p, "se": se, "ci_low": lo, "ci_high": hi, "logit_low": llo, "logit_high": lhi,
            "deff": design_effect(p, se ** 2, int(d.sum()), N_d)}


def stratified_variance(s2_h: np.ndarray, N_h: np.ndarray, n_h: np.ndarray) -> float:
    """Textbook variance of a stratified mean: sum_h (N_h/N)^2 (1-n_h/N_h) s_h^2/n_h."""
    N = N_h.sum()
    return float(((N_h / N) ** 2 * (1 - n_h / N_h) * s2_h / n_h).sum())
