"""The one door from the exports to the statistics room.

Every count, share, mean and N in an annex is computed by `audit.statistics`
(the same functions behind the /stats page and `audit stats`), suppressed by its
`suppress`, and only then read out here into `Cells`: plain lists in the order the
annex prints them, shares as 0-1 fractions (Excel's percent format), hidden cells
flagged. Nothing here counts or divides; it only moves numbers from a `Table`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from audit.statistics import crosstab as _crosstab
from audit.statistics import frequency as _frequency
from audit.statistics import suppress as _suppress
from audit.statistics.suppression import MARK as SUPPRESSED
from audit.statistics.dataset import load_case_frame as _load_case_frame
from audit.statistics.tables import TOTAL, Table

if TYPE_CHECKING:
    from sqlmodel import Session

    from audit.instrument import Instrument
    from audit.models import Audit



@dataclass
class Cells:
    """One statistic laid out as rows x columns for a sheet.

    counts[i][j]: cases; shares[i][j]: share 0-1 (weighted when `weighted`) or a mean
    (kind 'mean'); n_rows/n_cols/n_total: the N behind each share (None when hidden);
    suppressed[i][j]: shown as "x". `table` is the statistics room's Table it came from."""

    row_var: str
    col_var: str | None
    row_codes: list[str]
    col_codes: list[str]
    counts: list[list[int | None]]
    shares: list[list[float | None]]
    n_rows: list[int | None]
    n_cols: list[int | None]
    n_total: int | None
    percent: str = "row"
    weighted: bool = False
    kind: str = "share"  # 'share' | 'mean'
    suppressed: list[list[bool]] = field(default_factory=list)
    suppression_rule: str | None = None
    table: Table | None = None


def _num(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _int(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def _withheld(t: Table, r: Any, c: Any) -> bool:
    """A weighted share the suppression withheld (a small domain) although the cell shows:
    printed as "x" like a hidden cell, never as an empty cell."""
    base = t.counts if t.kind == "numeric" else t.percents
    if t.weighted is None or base is None or r not in t.weighted["share"].index:
        return False
    return bool(pd.isna(t.weighted["share"].at[r, c]) and not pd.isna(base.at[r, c]))


def _rule(t: Table) -> str | None:
    """The suppression sentence the statistics room wrote, when it hid anything."""
    if t.suppressed is None or not bool(t.suppressed.to_numpy().any()):
        return None
    return t.notes[-1]


rule = _rule


def share_of(percent: Any) -> float | None:
    """A 0-100 percentage of a Table as the 0-1 share a sheet prints (None: empty or hidden)."""
    v = _num(percent)
    return None if v is None else v / 100.0


def count_of(value: Any) -> int | None:
    """A count or N of a Table (None: hidden)."""
    return _int(value)


def _finish(t: Table, min_cell: int | None, frame: pd.DataFrame | None = None) -> Table:
    # the frame lets the suppression audit see counts this table shares with the annex's others
    return _suppress(t, min_cell, frame=frame) if min_cell else t


def _codes(**orders: Sequence[str] | None) -> dict[str, list[str]]:
    return {k: list(v) for k, v in orders.items() if v}


def frequency(frame: pd.DataFrame, var: str, *, weighted: bool = False, order: Sequence[str] | None = None,
              min_cell: int | None = None) -> Cells:
    """The codes of `var` as rows: count, share and N (the cases where `var` applies)."""
    t = _finish(_frequency(frame, var, weighted=weighted, codes=_codes(**{var: order})), min_cell, frame)
    src = t.weighted["share"] if weighted else t.percents
    codes = list(t.counts.columns)
    hidden = t.suppressed.loc[TOTAL] if t.suppressed is not None else pd.Series(False, index=codes)
    return Cells(row_var=var, col_var=None, row_codes=[str(c) for c in codes], col_codes=["n"],
                 counts=[[_int(t.counts.at[TOTAL, c])] for c in codes],
                 shares=[[None if (s := _num(src.at[TOTAL, c])) is None else s / 100.0] for c in codes],
                 n_rows=[_int(t.n_total)] * len(codes), n_cols=[_int(t.n_total)], n_total=_int(t.n_total),
                 percent="col", weighted=weighted,
                 suppressed=[[bool(hidden[c]) or _withheld(t, TOTAL, c)] for c in codes],
                 suppression_rule=_rule(t), table=t)


def means(frame: pd.DataFrame, item: str, by: str | None = None, *, weighted: bool = False,
          order: Sequence[str] | None = None, min_cell: int | None = None) -> Table:
    """Mean, median and N of a number per group of `by` (and in total); weighted, the design-based
    mean with its 95 % interval in `Table.weighted` (share=mean, ci_low, ci_high). Suppressed: a
    group whose N is hidden has its figures hidden with it."""
    codes = _codes(**{by: order}) if by else {}
    return _finish(_frequency(frame, item, by, weighted=weighted, codes=codes), min_cell, frame)


def crosstab(frame: pd.DataFrame, row: str, col: str, *, percent: str = "row", weighted: bool = False,
             row_order: Sequence[str] | None = None, col_order: Sequence[str] | None = None,
             min_cell: int | None = None) -> Cells:
    """Row x column shares in the table's percent base, with the N of each row and column."""
    # a weighted table is tested design-based (Rao-Scott F), the test printed in its note
    t = _finish(_crosstab(frame, row, col, percent=percent, weighted=weighted, test=weighted,
                          codes=_codes(**{row: row_order, col: col_order})), min_cell, frame)
    return _cells(t, weighted)


def _cells(t: Table, weighted: bool) -> Cells:
    """A crosstab Table -> Cells (percent 0-100 -> share 0-1)."""
    rows = [r for r in t.counts.index if r != t.total_label]
    cols = list(t.counts.columns)
    src = t.weighted["share"] if weighted and t.weighted is not None else t.percents
    hidden = t.suppressed

    def share(r: Any, c: Any) -> float | None:
        v = _num(src.at[r, c])
        return None if v is None else v / 100.0

    return Cells(row_var=t.row_var or "", col_var=t.col_var, row_codes=[str(r) for r in rows],
                 col_codes=[str(c) for c in cols],
                 counts=[[_int(t.counts.at[r, c]) for c in cols] for r in rows],
                 shares=[[share(r, c) for c in cols] for r in rows],
                 n_rows=[_int(t.n_rows[r]) for r in rows], n_cols=[_int(t.n_cols[c]) for c in cols],
                 n_total=_int(t.n_total), percent=t.percent_base, weighted=weighted,
                 suppressed=[[_hidden(t, r, c) or (weighted and _withheld(t, r, c)) for c in cols] for r in rows],
                 suppression_rule=_rule(t), table=t)


def _hidden(t: Table, r: Any, c: Any) -> bool:
    """A hidden cell, or a share hidden with its row's N (a row-percent table's N tells the counts)."""
    if t.suppressed is None:
        return False
    row_n_hidden = t.percent_base == "row" and t.n_rows is not None and _int(t.n_rows[r]) is None
    return bool(t.suppressed.at[r, c]) or row_n_hidden


def load_case_frame(session: Session, audit: Audit, instrument: Instrument | None = None) -> pd.DataFrame:
    """The audit's case frame, read by the statistics room (docs/contracts.md)."""
    return _load_case_frame(session, audit, instrument=instrument)
