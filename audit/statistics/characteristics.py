"""Report Tables 13 and 14 (annexes 2 and 3): the target group's characteristics against
each other, and the efforts by characteristic.

One implementation for the annex, the CLI and the tests, built from `crosstab` and
`frequency`, so a cell follows the same counting, weighting and suppression rules as
every other table of the report:

- Table 13 (`cross_matrix`): for every pair of characteristics the column percentages
  (the share of the cases with the column's code that have the row's code, among those
  where the row characteristic is known), each pair a crosstab suppressed on its own;
  an 'I alt' column with each code's share of all cases where the row characteristic is
  known; N of each column = the cases with that code.
- Table 14 (`indicator_table`): per characteristic code, the mean of each numeric
  indicator and the share answering `yes` of each coded one (each over the cases where the
  indicator applies), the group's N, and an 'I alt' row of all cases. Which indicators a
  table shows is data (the annex definitions), not code.

Both return one `Table` whose rows (and, for Table 13, columns) are (characteristic, code)
pairs; with `weighted`, `Table.weighted` holds the design-based figures in the same shape.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from audit.statistics import variables as V
from audit.statistics.crosstabs import crosstab
from audit.statistics.frequencies import frequency
from audit.statistics.suppression import note, suppress
from audit.statistics.tables import TOTAL, Table

TITLE_13 = "Tabel 13: Krydsmatrice på målgruppens karakteristika"
TITLE_14 = "Tabel 14: Indsatser fordelt på karakteristika"
WEIGHTED_KEYS = ("share", "se", "ci_low", "ci_high")
MEAN, SHARE = "mean", "share"


def _finish(t: Table, min_cell: int | None, frame: pd.DataFrame | None = None) -> Table:
    # with the frame, the pairs' counts are known as the same counts wherever they print
    # (the r x c and c x r blocks) and are suppressed together inside a publication
    return suppress(t, min_cell, frame=frame) if min_cell else t


def _withheld(t: Table, r: Any, c: Any, base: pd.DataFrame | None) -> bool:
    """A weighted figure the suppression withheld (a small group) while its cell shows."""
    if t.weighted is None or base is None:
        return False
    return bool(pd.isna(_at(t.weighted["share"], r, c)) and not pd.isna(_at(base, r, c)))


def _characteristics(frame: pd.DataFrame, wanted: Sequence[str]) -> list[str]:
    chars = V.characteristics_of(frame, wanted)
    if not chars:
        raise KeyError(f"none of the characteristics {', '.join(wanted)} is a variable of the frame")
    return chars


def _orders(frame: pd.DataFrame, chars: Sequence[str], codes: Mapping[str, Sequence[Any]] | None
            ) -> dict[str, list[Any]]:
    """Each characteristic's codes in print order: the declared ones (even when empty), then
    the others present, as its frequency table prints them."""
    declared = codes or {}
    return {c: list(frequency(frame, c, codes={c: declared[c]} if declared.get(c) else None).counts.columns)
            for c in chars}


def _hidden(t: Table, r: Any, c: Any) -> bool:
    return t.suppressed is not None and r in t.suppressed.index and c in t.suppressed.columns \
        and bool(t.suppressed.at[r, c])


def _at(df: pd.DataFrame | None, r: Any, c: Any) -> float:
    if df is None or r not in df.index or c not in df.columns:
        return np.nan
    v: Any = df.at[r, c]
    return np.nan if v is None or pd.isna(v) else float(v)


def cross_matrix(frame: pd.DataFrame, characteristics: Sequence[str], *, weighted: bool = False,
                 min_cell: int | None = None, codes: Mapping[str, Sequence[Any]] | None = None) -> Table:
    """Report Table 13. `min_cell` suppresses each pair's crosstab (and the 'I alt' column and
    the N row) as `suppress` does; `codes` names per characteristic the codes to print."""
    frame = V.with_derived(frame)
    chars = _characteristics(frame, characteristics)
    order = _orders(frame, chars, codes)
    rows = pd.MultiIndex.from_tuples([(r, code) for r in chars for code in order[r]])
    cols = pd.MultiIndex.from_tuples([(c, code) for c in chars for code in order[c]] + [(TOTAL, TOTAL)])
    shape = (len(rows), len(cols))
    counts, pct, hidden = np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape, dtype=bool)
    wtd = {k: np.full(shape, np.nan) for k in WEIGHTED_KEYS} if weighted else None
    n_rows = np.full(len(rows), np.nan)
    i = 0
    for r in chars:
        tot = _finish(frequency(frame, r, weighted=weighted, codes={r: order[r]}), min_cell, frame)
        blocks = {c: _finish(crosstab(frame, r, c, percent="col", weighted=weighted, test=False,
                                      codes={r: order[r], c: order[c]}), min_cell, frame) for c in chars}
        for code in order[r]:
            j = 0
            for c in chars:
                t = blocks[c]
                for ccode in order[c]:
                    counts[i, j], pct[i, j] = _at(t.counts, code, ccode), _at(t.percents, code, ccode)
                    hidden[i, j] = _hidden(t, code, ccode) or (min_cell and _withheld(t, code, ccode, t.percents))
                    if wtd is not None:
                        for k in WEIGHTED_KEYS:
                            wtd[k][i, j] = _at(t.weighted[k] if t.weighted else None, code, ccode)
                    j += 1
            counts[i, j], pct[i, j] = _at(tot.counts, TOTAL, code), _at(tot.percents, TOTAL, code)
            hidden[i, j] = _hidden(tot, TOTAL, code) or (min_cell and _withheld(tot, TOTAL, code, tot.percents))
            if wtd is not None:
                for k in WEIGHTED_KEYS:
                    wtd[k][i, j] = _at(tot.weighted[k] if tot.weighted else None, TOTAL, code)
            n_rows[i] = counts[i, j]
            i += 1
    # N of each column: the cases with that code (unweighted, suppressed like any count)
    n_cols = []
    for c in chars:
        size = _finish(frequency(frame, c, codes={c: order[c]}), min_cell, frame)
        n_cols += [_at(size.counts, TOTAL, code) for code in order[c]]
    n_cols.append(float(len(frame)))

    def frame_of(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=rows, columns=cols)

    return Table(title=TITLE_13, row_var="characteristic", col_var="characteristic",
                 counts=frame_of(counts).astype("Float64"), percents=frame_of(pct), percent_base="col",
                 n_rows=pd.Series(n_rows, index=rows).astype("Float64"),
                 n_cols=pd.Series(n_cols, index=cols).astype("Float64"), n_total=len(frame),
                 weighted=None if wtd is None else {k: frame_of(v) for k, v in wtd.items()},
                 suppressed=frame_of(hidden) if min_cell else None, total_label=None,
                 notes=["Kolonneprocenter: andelen af sagerne i kolonnens gruppe, der har rækkens karakteristik; "
                        "I alt: andelen af alle sager. Udfordringer kan overlappe."]
                 + ([note(min_cell)] if min_cell and hidden.any() else []))


def indicator_kinds(frame: pd.DataFrame, indicators: Sequence[str]) -> dict[str, str]:
    """'mean' for a numeric indicator, 'share' (of the yes code) for a coded one."""
    missing = [i for i in indicators if i not in frame.columns]
    if missing:
        raise KeyError(f"unknown indicator(s) {', '.join(missing)}")
    return {i: MEAN if V.kind_of(frame, i) == "numeric" else SHARE for i in indicators}


def indicator_table(frame: pd.DataFrame, characteristics: Sequence[str], indicators: Sequence[str], *,
                    yes: Any = V.YES, weighted: bool = False, min_cell: int | None = None,
                    codes: Mapping[str, Sequence[Any]] | None = None) -> Table:
    """Report Table 14. Columns are (indicator, 'mean' | 'share'); a share is 0-100. `min_cell`
    suppresses each indicator-by-characteristic table and the N column as `suppress` does."""
    frame = V.with_derived(frame)
    chars = _characteristics(frame, characteristics)
    kinds = indicator_kinds(frame, indicators)
    order = _orders(frame, chars, codes)
    rows = pd.MultiIndex.from_tuples([(ch, code) for ch in chars for code in order[ch]] + [(TOTAL, TOTAL)])
    cols = pd.MultiIndex.from_tuples([(ind, kinds[ind]) for ind in indicators])
    shape = (len(rows), len(cols))
    values, hidden = np.full(shape, np.nan), np.zeros(shape, dtype=bool)
    wtd = {k: np.full(shape, np.nan) for k in WEIGHTED_KEYS} if weighted else None
    n_rows = np.full(len(rows), np.nan)

    def fill(i: int, t: Table, group: Any, j: int, ind: str) -> None:
        if group not in t.counts.index:
            return
        col = "mean" if kinds[ind] == MEAN else yes
        if kinds[ind] == SHARE and col not in t.counts.columns:  # nobody answered yes: 0 % of N
            n = t.n_rows.get(group) if t.n_rows is not None else None
            values[i, j] = 0.0 if n is not None and not pd.isna(n) and n > 0 else np.nan
            return
        values[i, j] = _at(t.counts if kinds[ind] == MEAN else t.percents, group, col)
        n_hidden = t.suppressed is not None and t.n_rows is not None and pd.isna(t.n_rows.get(group))
        hidden[i, j] = _hidden(t, group, col) or bool(n_hidden) or bool(  # a share goes with its group's N
            min_cell and _withheld(t, group, col, t.counts if kinds[ind] == MEAN else t.percents))
        if wtd is not None:
            for k in WEIGHTED_KEYS:
                wtd[k][i, j] = _at(t.weighted[k] if t.weighted else None, group, col)

    i = 0
    tables: dict[str, Table] = {}
    for ch in chars:
        ns = _finish(frequency(frame, ch, codes={ch: order[ch]}), min_cell, frame)
        tables = {ind: _finish(frequency(frame, ind, ch, weighted=weighted, codes={ch: order[ch]}), min_cell, frame)
                  for ind in indicators}
        for code in order[ch]:
            for j, ind in enumerate(indicators):
                fill(i, tables[ind], code, j, ind)
            n_rows[i] = _at(ns.counts, TOTAL, code)
            i += 1
    for j, ind in enumerate(indicators):  # every case: the same 'I alt' row whatever the breakdown
        fill(i, tables[ind], TOTAL, j, ind)
    n_rows[i] = float(len(frame))

    def frame_of(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=rows, columns=cols)

    return Table(title=TITLE_14, row_var="characteristic", col_var="indicator", counts=frame_of(values),
                 kind="indicator", n_rows=pd.Series(n_rows, index=rows).astype("Float64"), n_total=len(frame),
                 percent_base="row", total_label=None,
                 weighted=None if wtd is None else {k: frame_of(v) for k, v in wtd.items()},
                 suppressed=frame_of(hidden) if min_cell else None,
                 notes=["Gennemsnit og andele er opgjort blandt de sager, hvor spørgsmålet er relevant."]
                 + ([note(min_cell)] if min_cell and hidden.any() else []))
