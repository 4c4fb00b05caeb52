"""Discretion: hide small cells in tables that leave the agency.

Rule (stated in every suppressed table's note):
- primary: a cell counting 1 .. threshold-1 cases is hidden (default threshold 3,
  configurable, Settings.suppress_below). Zero cells are shown: a zero says that
  nobody in the group has the answer, and hiding every zero would hide most of a
  sparse table without protecting anyone more;
- secondary: a hidden cell must not be recoverable from the printed totals, so in
  every row and column (of the interior, without the 'I alt' row) that has exactly
  one hidden cell, the smallest other non-zero cell is hidden as well (a zero cell
  only when no non-zero cell is left); repeated until no row or column has exactly
  one hidden cell;
- margins (the N of rows and columns, the 'I alt' row) follow the same rule along
  their own line; the grand total stays visible;
- the percentages (and weighted shares) of hidden cells are hidden too, since a
  percentage times its N gives the count back.
The original Table is left untouched; the returned copy no longer holds the hidden values.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.statistics.tables import Table

DEFAULT_THRESHOLD = 3
MARK = "x"  # how a hidden cell prints in every sheet and workbook


def note(threshold: int) -> str:
    return (f"Celler med færre end {threshold} sager er udeladt af diskretionshensyn; "
            "yderligere celler er udeladt, så de udeladte tal ikke kan udledes af totalerne.")


def primary_mask(counts: np.ndarray, threshold: int) -> np.ndarray:
    c = np.nan_to_num(counts.astype(float), nan=0.0)
    return (c > 0) & (c < threshold)


def _pick(values: np.ndarray, hidden: np.ndarray) -> int | None:
    """Index of the smallest visible non-zero cell, else the smallest visible cell."""
    visible = ~hidden
    if not visible.any():
        return None
    nonzero = visible & (values > 0)
    pool = nonzero if nonzero.any() else visible
    idx = np.flatnonzero(pool)
    return int(idx[np.argmin(values[idx])])


def secondary_mask(counts: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Extend `mask` until no row or column with two or more cells has exactly one hidden cell."""
    values = np.nan_to_num(counts.astype(float), nan=0.0)
    mask = mask.copy()
    n_r, n_c = mask.shape
    changed = True
    while changed:
        changed = False
        if n_c >= 2:
            for i in range(n_r):
                if mask[i].sum() == 1:
                    j = _pick(values[i], mask[i])
                    if j is not None:
                        mask[i, j] = True
                        changed = True
        if n_r >= 2:
            for j in range(n_c):
                if mask[:, j].sum() == 1:
                    i = _pick(values[:, j], mask[:, j])
                    if i is not None:
                        mask[i, j] = True
                        changed = True
    return mask


def line_mask(values: np.ndarray, threshold: int) -> np.ndarray:
    """Primary plus secondary suppression along one line of margins."""
    m = primary_mask(values, threshold)
    return secondary_mask(values.reshape(1, -1), m.reshape(1, -1)).ravel() if len(values) >= 2 else m


def _hide(series: pd.Series | None, hidden: np.ndarray) -> pd.Series | None:
    if series is None:
        return None
    out = series.astype("Float64")
    out[hidden] = pd.NA
    return out


def suppress(table: Table, threshold: int = DEFAULT_THRESHOLD) -> Table:
    """A copy of `table` with small cells, and the cells that would reveal them, hidden."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    t = table.copy()
    if t.kind == "crosstab":
        _suppress_crosstab(t, threshold)
    else:
        _suppress_by_row_n(t, threshold)
    t.notes.append(note(threshold))
    return t


def _suppress_crosstab(t: Table, threshold: int) -> None:
    counts = t.counts
    interior = np.array([r != t.total_label for r in counts.index]) if t.total_label else \
        np.ones(len(counts.index), dtype=bool)
    values = counts.to_numpy(dtype=float)
    mask = np.zeros(values.shape, dtype=bool)
    inner = values[interior]
    mask[interior] = secondary_mask(inner, primary_mask(inner, threshold))
    if t.total_label and (~interior).any():
        for i in np.flatnonzero(~interior):
            mask[i] = line_mask(values[i], threshold)
    t.suppressed = pd.DataFrame(mask, index=counts.index, columns=counts.columns)
    t.counts = counts.astype("Float64").mask(t.suppressed)
    if t.percents is not None:
        t.percents = t.percents.mask(t.suppressed)
    if t.weighted is not None:
        t.weighted = {k: v.mask(t.suppressed.reindex_like(v).fillna(False).astype(bool))
                      for k, v in t.weighted.items()}
    if t.n_rows is not None:
        nr = t.n_rows.reindex(counts.index).to_numpy(dtype=float)
        hidden = np.zeros(len(nr), dtype=bool)
        hidden[interior] = line_mask(nr[interior], threshold)
        t.n_rows = _hide(t.n_rows.reindex(counts.index), hidden)
        if t.percent_base == "row" and t.percents is not None:
            t.percents = t.percents.mask(pd.Series(hidden, index=counts.index), axis=0)
    if t.n_cols is not None:
        nc = t.n_cols.reindex(counts.columns).to_numpy(dtype=float)
        hidden_c = line_mask(nc, threshold)
        t.n_cols = _hide(t.n_cols.reindex(counts.columns), hidden_c)


def _suppress_by_row_n(t: Table, threshold: int) -> None:
    """Numeric and indicator tables: a row resting on fewer than `threshold` cases is
    hidden, and a second row so that its N cannot be recovered from the total."""
    if t.n_rows is None:
        return
    idx = t.counts.index
    interior = np.array([r != t.total_label for r in idx]) if t.total_label else np.ones(len(idx), dtype=bool)
    nr = t.n_rows.reindex(idx).to_numpy(dtype=float)
    hidden = np.zeros(len(nr), dtype=bool)
    hidden[interior] = line_mask(nr[interior], threshold)
    t.suppressed = pd.DataFrame(np.repeat(hidden[:, None], t.counts.shape[1], axis=1), index=idx,
                                columns=t.counts.columns)
    t.counts = t.counts.astype("Float64").mask(t.suppressed)
    t.n_rows = _hide(t.n_rows.reindex(idx), hidden)
    if t.weighted is not None:  # a weighted mean (and its interval) of a hidden row gives it away too
        rows = pd.Series(hidden, index=idx)
        t.weighted = {k: v.mask(rows.reindex(v.index).fillna(False).astype(bool), axis=0)
                      for k, v in t.weighted.items()}
