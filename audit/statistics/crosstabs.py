"""Crosstabs of any two case-frame variables, with the test of association.

Counting rules (docs/statistics.md):
- a missing cell (item not applicable or unanswered) is left out, so the N of a
  row or column is the number of cases where both variables are present;
- a multiple-choice variable counts a case once under each code it has (report
  Table 3), and the percent base of such a row is the number of cases having that
  code;
- Pearson's chi-square uses scipy.stats.chi2_contingency with correction=False
  for every table size, 2x2 included (no Yates correction, so the statistic is
  the plain Pearson X^2 that statsmodels also reports), and Cramér's V =
  sqrt(X^2 / (n (min(r, c) - 1))). No test when a multiple-choice variable is
  involved: a case counted in several cells breaks the test's independence;
- a weighted crosstab is tested with the Rao-Scott F (second-order correction,
  design degrees of freedom; designtests.rao_scott), never with Pearson on the
  unweighted counts; expected counts under 5 are flagged in the table's notes.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from audit.bands import Bands
from audit.i18n import gettext, lazy_gettext
from audit.statistics import variables as V
from audit.statistics.designtests import cramers_v, pearson, rao_scott, small_expected_note  # noqa: F401
from audit.statistics.tables import TOTAL, Table
from audit.statistics.weighting import SHARE_KEYS, Design, design_of, weighted_shares


CASE = "__case__"


def prepared(frame: pd.DataFrame, column: str, kinds: Mapping[str, str] | None = None,
             bandings: Mapping[str, Bands] | None = None, band: bool = True) -> tuple[pd.Series, str]:
    """The column ready for counting: numeric items banded if a banding is declared
    (and `band` is true; frequencies keep an item numeric to report mean and median)."""
    kind = V.kind_of(frame, column, kinds)
    s = frame[column]
    if not band:
        return s, kind
    bands = dict(V.BANDINGS)
    if bandings:
        bands.update(bandings)
    if column in bands and (kind == "numeric" or (
            kind == "categorical" and pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))):
        banded = bands[column].assign(s)
        banded.attrs["codes"] = bands[column].codes  # every band prints, empty or not
        return banded, "categorical"
    return s, kind


def long_form(series: pd.Series, kind: str) -> pd.Series:
    """One entry per (case position, code), missing dropped; tuples exploded."""
    # dtype=object: pandas 3 would otherwise turn strings into Arrow strings and back on every table.
    values = series.to_numpy(dtype=object) if not pd.api.types.is_numeric_dtype(series) else series.to_numpy()
    s = pd.Series(values, index=pd.RangeIndex(len(series)), name=series.name,
                  dtype=object if values.dtype == object else None)
    if kind == "multiple":
        s = s[s.map(lambda v: isinstance(v, (tuple, list)) and len(v) > 0)]
        s = s.explode()
    return s.dropna()


def _codes(values: pd.Series, variable: str | None, orders: Mapping[str, Sequence[str]] | None,
           declared: Sequence[Any] | None = None) -> list[Any]:
    present = list(pd.unique(values))
    if declared:
        return list(declared) + V.order_codes([c for c in present if c not in set(declared)], variable, orders)
    return V.order_codes(present, variable, orders)


def count_pairs(rows: pd.Series, cols: pd.Series, row_kind: str, col_kind: str,
                row_name: str = "row", col_name: str = "col",
                orders: Mapping[str, Sequence[str]] | None = None,
                row_codes: Sequence[Any] | None = None, col_codes: Sequence[Any] | None = None
                ) -> tuple[pd.DataFrame, pd.Series, pd.Series, int]:
    """Counts, N per row, N per column (distinct cases), total distinct cases."""
    return count_long(long_form(rows, row_kind), long_form(cols, col_kind), row_kind, col_kind,
                      row_name, col_name, orders, row_codes, col_codes)


class Encoded:
    """A long-form variable as integer codes, computed once and reused across tables."""

    __slots__ = ("case", "code", "uniques", "size", "_has", "_by_case")

    def __init__(self, case: np.ndarray, code: np.ndarray, uniques: Sequence[Any]) -> None:
        self.case, self.code, self.uniques = case, code, list(uniques)
        self.size = int(case.max(initial=-1) + 1)
        self._has: dict[int, np.ndarray] = {}
        self._by_case: dict[int, np.ndarray] = {}

    def has(self, n: int) -> np.ndarray:
        if n not in self._has:
            m = np.zeros(n, dtype=bool)
            m[self.case] = True
            self._has[n] = m
        return self._has[n]

    def by_case(self, n: int) -> np.ndarray:
        """Code of each case (-1: none); only meaningful for a single-code variable."""
        if n not in self._by_case:
            a = np.full(n, -1, dtype=np.int64)
            a[self.case] = self.code
            self._by_case[n] = a
        return self._by_case[n]


def encode(long: pd.Series) -> Encoded:
    code, uniques = pd.factorize(long.to_numpy(dtype=object))
    return Encoded(long.index.to_numpy(dtype=np.int64), code.astype(np.int64), uniques)


def count_long(r: pd.Series | Encoded, c: pd.Series | Encoded, row_kind: str, col_kind: str,
               row_name: str = "row", col_name: str = "col",
               orders: Mapping[str, Sequence[str]] | None = None,
               row_codes: Sequence[Any] | None = None, col_codes: Sequence[Any] | None = None
               ) -> tuple[pd.DataFrame, pd.Series, pd.Series, int]:
    """count_pairs on series already in long form (index = case position, value = code).

    Counting is done on integer codes with numpy (bincount), since an audit's full set
    of breakdowns is some 1,500 tables; pandas is only used to label the result."""
    re = r if isinstance(r, Encoded) else encode(r)
    ce = c if isinstance(c, Encoded) else encode(c)
    r_case, r_code, r_uni = re.case, re.code, re.uniques
    c_case, c_code, c_uni = ce.case, ce.code, ce.uniques
    n = max(re.size, ce.size)
    has_r, has_c = re.has(n), ce.has(n)
    n_both = int((has_r & has_c).sum())
    nr, nc = len(r_uni), len(c_uni)
    if row_kind != "multiple":  # at most one row code per case: look it up for each column entry
        rr, cc = re.by_case(n)[c_case], c_code
    elif col_kind != "multiple":
        rr, cc = r_code, ce.by_case(n)[r_case]
    else:  # both multiple: every pair of codes of the same case
        pairs = pd.DataFrame({"r": r_code}, index=r_case).join(pd.DataFrame({"c": c_code}, index=c_case),
                                                               how="inner")
        rr, cc = pairs["r"].to_numpy(dtype=np.int64), pairs["c"].to_numpy(dtype=np.int64)
    keep = (rr >= 0) & (cc >= 0)
    matrix = np.bincount(rr[keep] * nc + cc[keep], minlength=nr * nc).reshape(nr, nc)
    # N of a row: distinct cases with that row code and any column code (same for columns).
    n_r = np.bincount(r_code[has_c[r_case]], minlength=nr)
    n_c = np.bincount(c_code[has_r[c_case]], minlength=nc)
    rc = _order([r_uni[i] for i in np.flatnonzero(n_r)], row_name, orders, row_codes)
    cc_ = _order([c_uni[j] for j in np.flatnonzero(n_c)], col_name, orders, col_codes)
    r_pos = {code: i for i, code in enumerate(r_uni)}
    c_pos = {code: j for j, code in enumerate(c_uni)}
    ri = np.array([r_pos.get(code, nr) for code in rc], dtype=np.int64)
    ci = np.array([c_pos.get(code, nc) for code in cc_], dtype=np.int64)
    padded = np.zeros((nr + 1, nc + 1), dtype=np.int64)
    padded[:nr, :nc] = matrix
    n_r_p = np.append(n_r, 0)
    n_c_p = np.append(n_c, 0)
    index = pd.Index(rc, dtype=object, name=row_name)
    columns = pd.Index(cc_, dtype=object, name=col_name)
    counts = pd.DataFrame(padded[np.ix_(ri, ci)], index=index, columns=columns)
    n_rows = pd.Series(n_r_p[ri], index=index, dtype=np.int64)
    n_cols = pd.Series(n_c_p[ci], index=columns, dtype=np.int64)
    return counts, n_rows, n_cols, n_both


def _order(present: list[Any], variable: str | None, orders: Mapping[str, Sequence[str]] | None,
           declared: Sequence[Any] | None = None) -> list[Any]:
    if declared:
        seen = set(declared)
        return list(declared) + V.order_codes([c for c in present if c not in seen], variable, orders)
    return V.order_codes(present, variable, orders)


def percentages(counts: pd.DataFrame, n_rows: pd.Series, n_cols: pd.Series, base: str) -> pd.DataFrame:
    """0-100 shares of each cell in its row's (or column's) N; NaN where N is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if base == "row":
            return counts.div(n_rows.replace(0, np.nan), axis=0) * 100.0
        return counts.div(n_cols.replace(0, np.nan), axis=1) * 100.0


def chi_square(counts: pd.DataFrame) -> dict[str, Any]:
    """Pearson's chi-square (no continuity correction) and Cramér's V on the non-empty
    rows and columns of a table of counts, with the smallest expected count and the number
    of cells expecting fewer than 5 (designtests.pearson)."""
    return pearson(counts.to_numpy(dtype=float))


def _indicator(series: pd.Series, kind: str, code: Any) -> np.ndarray:
    """1.0 for each case having `code` (for a multiple-choice variable: among its codes), else 0.0."""
    if kind == "multiple":
        return _memberships(series, [code])[:, 0].astype(float)
    return (series == code).to_numpy(dtype=float)


def _memberships(series: pd.Series, codes: Sequence[Any]) -> np.ndarray:
    """Cases x codes: which of `codes` each case of a multiple-choice variable has, in one pass
    over the cases (not one per code: Table 13 asks every pair of characteristics)."""
    column = {code: k for k, code in enumerate(codes)}
    out = np.zeros((len(series), len(codes)), dtype=bool)
    for i, value in enumerate(series.to_numpy(dtype=object)):
        if isinstance(value, (tuple, list)):
            for code in value:
                k = column.get(code)
                if k is not None:
                    out[i, k] = True
    return out


class Indicators:
    """`_indicator` of one prepared variable for any code, the cases read once: a multiple-choice
    variable's codes are collected in one pass (a disclosure audit asks for dozens of codes of
    the same variable), other variables compared per code."""

    def __init__(self, series: pd.Series, kind: str) -> None:
        self.kind, self.n = kind, len(series)
        self.values = series.to_numpy(dtype=object)
        self.positions: dict[Any, list[int]] | None = None

    def __call__(self, code: Any) -> np.ndarray:
        if self.kind != "multiple":
            return self.values == code if self.n else np.zeros(0, dtype=bool)
        if self.positions is None:
            self.positions = {}
            for i, value in enumerate(self.values):
                if isinstance(value, (tuple, list)):
                    for c in set(value):
                        self.positions.setdefault(c, []).append(i)
        out = np.zeros(self.n, dtype=bool)
        out[self.positions.get(code, [])] = True
        return out


def _present(series: pd.Series, kind: str) -> np.ndarray:
    if kind == "multiple":
        return np.fromiter((isinstance(v, (tuple, list)) and len(v) > 0 for v in series.to_numpy(dtype=object)),
                           dtype=bool, count=len(series))
    return series.notna().to_numpy(dtype=bool)


def _code_matrix(series: pd.Series, kind: str, codes: Sequence[Any], total_label: str | None,
                 both: np.ndarray) -> np.ndarray:
    """Cases x codes indicators among the cases in `both`; `total_label` is a code every such case has."""
    if not len(codes):
        return np.zeros((len(both), 0), dtype=bool)
    if kind == "multiple":
        wanted = [c for c in codes if c != total_label]
        have = _memberships(series, wanted)
        cols = {c: have[:, k] for k, c in enumerate(wanted)}
        return np.column_stack([both if c == total_label else cols[c] & both for c in codes])
    values = series.to_numpy(dtype=object)
    return np.column_stack([both if c == total_label else (values == c) & both for c in codes])


def indicators(rows: pd.Series, cols: pd.Series, row_kind: str, col_kind: str, index: Sequence[Any],
               columns: Sequence[Any], total_label: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per case, which of the table's row codes and column codes it has (cases x r, cases x c),
    among the cases where both variables are present; `total_label` is a row every such case has."""
    both = _present(rows, row_kind) & _present(cols, col_kind)
    return (_code_matrix(rows, row_kind, index, total_label, both),
            _code_matrix(cols, col_kind, columns, None, both))


def weighted_cells(rows: pd.Series, cols: pd.Series, row_kind: str, col_kind: str, design: Design,
                   index: Sequence[Any], columns: Sequence[Any], base: str,
                   total_label: str | None = None) -> dict[str, pd.DataFrame]:
    """Weighted share (0-100) of each cell with its SE, 95 % intervals (normal clipped:
    ci_low/ci_high; logit: logit_low/logit_high) and design effect (deff, a ratio), in the
    same base as the unweighted percentages: within the row's domain ('row') or the column's ('col')."""
    row_ind, col_ind = indicators(rows, cols, row_kind, col_kind, index, columns, total_label)
    out = {k: np.full((len(index), len(columns)), np.nan) for k in SHARE_KEYS}
    if base == "row":
        for i in range(len(index)):
            est = weighted_shares(col_ind, row_ind[:, i], design)
            for k in out:
                out[k][i, :] = est[k]
    else:
        for j in range(len(columns)):
            est = weighted_shares(row_ind, col_ind[:, j], design)
            for k in out:
                out[k][:, j] = est[k]
    idx = pd.Index(index, dtype=object)
    cols_idx = pd.Index(columns, dtype=object)
    return {k: pd.DataFrame(v if k == "deff" else v * 100.0, index=idx, columns=cols_idx) for k, v in out.items()}


def weighted_test(rows: pd.Series, cols: pd.Series, row_kind: str, col_kind: str, design: Design,
                  index: Sequence[Any], columns: Sequence[Any]) -> dict[str, Any]:
    """The Rao-Scott test of a weighted table (designtests.rao_scott)."""
    row_ind, col_ind = indicators(rows, cols, row_kind, col_kind, index, columns)
    return rao_scott(row_ind, col_ind, design)


def crosstab(frame: pd.DataFrame, row: str, col: str, *, percent: str = "row", weighted: bool = False,
             test: bool = True, title: str | None = None, kinds: Mapping[str, str] | None = None,
             bandings: Mapping[str, Bands] | None = None,
             orders: Mapping[str, Sequence[str]] | None = None,
             exclude: Mapping[str, Sequence[Any]] | None = None,
             design: Design | None = None, codes: Mapping[str, Sequence[Any]] | None = None) -> Table:
    """Crosstab of two variables (items, register or derived), with row or column
    percentages, the N of each row and column, Pearson's chi-square and Cramér's V.

    `exclude` drops codes before counting (e.g. {'challenge_breadth': ['0']}).
    `codes` names, per variable, codes printed in that order even when empty.
    With `weighted`, design-based shares and 95 % CIs sit beside the sample shares.
    On the municipality frame (theme 7) N counts municipalities (`Table.for_frame`).
    """
    return _crosstab(frame, row, col, percent=percent, weighted=weighted, test=test, title=title, kinds=kinds,
                     bandings=bandings, orders=orders, exclude=exclude, design=design,
                     codes=codes).for_frame(frame)


def _crosstab(frame: pd.DataFrame, row: str, col: str, *, percent: str = "row", weighted: bool = False,
              test: bool = True, title: str | None = None, kinds: Mapping[str, str] | None = None,
              bandings: Mapping[str, Bands] | None = None,
              orders: Mapping[str, Sequence[str]] | None = None,
              exclude: Mapping[str, Sequence[Any]] | None = None,
              design: Design | None = None, codes: Mapping[str, Sequence[Any]] | None = None) -> Table:
    if percent not in ("row", "col"):
        raise ValueError("percent must be 'row' or 'col'")
    for name in (row, col):
        if name not in frame.columns:
            raise KeyError(f"unknown variable {name!r}")
    orders = V.orders_of(frame, orders)
    if bandings:
        orders = {**(orders or {}), **{k: b.codes for k, b in bandings.items()}}
    rs, rk = prepared(frame, row, kinds, bandings)
    cs, ck = prepared(frame, col, kinds, bandings)
    if rk == "numeric" or ck == "numeric":
        raise ValueError(f"{row if rk == 'numeric' else col!r} is numeric without a declared banding; "
                         "use frequencies() for its mean/median or declare a Banding")
    row_codes = (codes or {}).get(row) or rs.attrs.get("codes")
    col_codes = (codes or {}).get(col) or cs.attrs.get("codes")
    if exclude:
        rs = _drop_codes(rs, rk, exclude.get(row, ()))
        cs = _drop_codes(cs, ck, exclude.get(col, ()))
        row_codes = row_codes and [c for c in row_codes if c not in set(exclude.get(row, ()))]
        col_codes = col_codes and [c for c in col_codes if c not in set(exclude.get(col, ()))]
    counts, n_rows, n_cols, n = count_pairs(rs, cs, rk, ck, row, col, orders, row_codes, col_codes)
    table = Table(title=title or f"{row} x {col}", row_var=row, col_var=col, counts=counts,
                  percents=percentages(counts, n_rows, n_cols, percent), percent_base=percent,
                  n_rows=n_rows, n_cols=n_cols, n_total=n)
    d = (design or design_of(frame)) if weighted else None
    if test and "multiple" not in (rk, ck):
        table.test = weighted_test(rs, cs, rk, ck, d, counts.index, counts.columns) if d is not None \
            else chi_square(counts)
        warning = small_expected_note(table.test)
        if warning:
            table.notes.append(warning)
    elif test:
        table.notes.append(gettext("Several answers possible: a case counts under each of its codes; "
                                   "therefore no chi2 test."))
    if d is not None:
        table.weighted = weighted_cells(rs, cs, rk, ck, d, counts.index, counts.columns, percent)
        table.notes.append(str(WEIGHT_NOTE))
        if d.note():
            table.notes.append(d.note())
    return table


WEIGHT_NOTE = lazy_gettext("Weighted shares: each case is weighted by N_h/n_h in its stratum (municipality x "
                           "seniority); 95% confidence interval (logit) for a stratified sample with finite "
                           "population correction; design effect as in R's svymean(deff = TRUE).")


def _drop_codes(series: pd.Series, kind: str, codes: Sequence[Any]) -> pd.Series:
    if not codes:
        return series
    codes = set(codes)
    if kind == "multiple":
        return series.map(lambda v: tuple(x for x in v if x not in codes) or None
                          if isinstance(v, (tuple, list)) else v)
    return series.where(~series.isin(codes), None)


# ---------------------------------------------------------------------- report tables
def table2(frame: pd.DataFrame, weighted: bool = False, design: Design | None = None) -> Table:
    """Report Table 2: number of challenge types (1, 2, 3, 4+) against whether the effort
    is affected by the citizen's ability to take part stably. Cases without challenges
    (breadth 0) are not in the table; weighted, they are outside the domain of the test."""
    t = crosstab(frame, "challenge_breadth", "stable_participation", percent="row", weighted=weighted, design=design,
                 exclude={"challenge_breadth": ["0", 0]},
                 title="Tabel 2: Antal udfordringer ud over ledighed og evnen til at deltage stabilt i forløbet")
    return t


def table3(frame: pd.DataFrame, weighted: bool = False) -> Table:
    """Report Table 3: each challenge type (multiple choice) against stable participation."""
    return crosstab(frame, "challenges", "stable_participation", percent="row", weighted=weighted,
                    title="Tabel 3: Type af udfordringer ud over ledighed og evnen til at deltage stabilt i forløbet")
