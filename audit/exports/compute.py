"""Table definitions + case frame -> laid-out grids (rows, columns, cell values).

This module decides *where* each figure goes; *what* the figure is comes from
`audit.exports.statsbridge` (the statistics room). It never divides, sums or
counts answers itself, so the annex shows the statistics module's numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np
import pandas as pd

from audit.exports import statsbridge as stats
from audit.exports.definitions import AnnexSpec, TableDef
from audit.instrument import Instrument
from audit.labels import frame_vocabulary
from audit.statistics import cross_matrix, indicator_table
from audit.statistics.characteristics import MEAN
from audit.statistics.frequencies import composition
from audit.statistics.tables import Table
from audit.statistics.variables import with_derived

TOTAL = "I alt"


@dataclass
class Column:
    key: str
    label: str
    kind: str            # 'share' | 'count' | 'mean' | 'n' | 'reference' (a share repeated on each row: a chart's line)
    group: str | None = None   # header above a group of columns (a column variable's label)


@dataclass
class GridRow:
    key: str
    label: str
    values: list[Any]                 # one per column; None = empty
    suppressed: list[bool]
    highlight: list[bool]
    block: str | None = None          # the row variable's label for stacked blocks
    total: bool = False               # an "I alt"/N row
    kinds: list[str] | None = None    # per-cell kind overriding the column's (an N row under share columns)

    def kind(self, k: int, columns: list["Column"]) -> str:
        return self.kinds[k] if self.kinds else columns[k].kind


@dataclass
class Grid:
    definition: TableDef
    title: str
    columns: list[Column]
    rows: list[GridRow]
    n_note: list[int]                 # the N's the note prints, in order
    n_label: str = ""                 # e.g. "sager" or per-row explanation
    weighted: bool = False
    suppression_rule: str | None = None
    stats_tables: list[Any] = field(default_factory=list)   # the statistics Tables behind the grid

    @property
    def n_cases(self) -> int | None:
        """Cases behind the table: N of its first statistic (row variable answered); None when hidden."""
        n = self.stats_tables[0].n_total if self.stats_tables else 0
        return None if n is None else int(n)

    @property
    def share_columns(self) -> list[int]:
        return [k for k, c in enumerate(self.columns) if c.kind == "share"]


class Labeller:
    """Labels of a table's variables and codes (the one label function, `audit.labels`: the
    instrument, the register definition, and the file's own derived variables) and the
    order their codes print in."""

    def __init__(self, spec: AnnexSpec, instrument: Instrument | None = None, filter: dict[str, Any] | None = None,
                 orders: dict[str, Any] | None = None, attrs: dict[str, Any] | None = None):
        self.spec = spec
        # the frame's own labels (the reviewed derived variables, questionnaires/derived_2022.yaml),
        # then the file's; an item or register variable keeps its label from the vocabulary
        self.vocab = frame_vocabulary(instrument, attrs, spec.own_labels())
        self.filter = filter or {}
        self.orders = orders or {}  # the case frame's own code orders, e.g. the audit's seniority bands

    def variable(self, var: str) -> str:
        return self.vocab.label(var)

    def value(self, var: str, code: str) -> str:
        return self.vocab.label(var, code)

    def order(self, var: str) -> list[str] | None:
        full = self._order(var)
        allowed = self.filter.get(var)
        if allowed:
            return [c for c in (full or allowed) if c in allowed]
        return full

    def _order(self, var: str) -> list[str] | None:
        if var in self.spec.derive:
            return list(self.spec.derive[var].bands.codes)
        if var in self.orders:
            return [str(c) for c in self.orders[var]]
        return list(self.vocab.codes(var)) or None


# --------------------------------------------------------------------------- frame prep
def prepare_frame(frame: pd.DataFrame, spec: AnnexSpec) -> pd.DataFrame:
    """Add the statistics room's derived variables (profile) and the file's banded ones
    (`audit.bands`). Grouping, not arithmetic on answers."""
    out = with_derived(frame.copy())
    for d in spec.derive.values():
        if d.source in out.columns:
            out[d.name] = d.bands.assign(out[d.source])
    return out


def apply_expression(frame: pd.DataFrame, text: str | None) -> pd.DataFrame:
    """Keep the cases for which the instrument expression is true (one engine for skip
    logic and table filters; evaluated on each case's row, never with eval)."""
    if not text:
        return frame
    from audit.instrument import expressions as ex

    node = ex.parse(text)
    names = {r.name for r in ex.references(node)}

    def plain(v: Any) -> Any:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, tuple):
            return list(v)
        return v.item() if isinstance(v, np.generic) else v

    cols = [c for c in names if c in frame.columns]
    keep = [ex.evaluate(node, ex.lookup_from({c: plain(v) for c, v in zip(cols, row)})) is True
            for row in frame[cols].itertuples(index=False, name=None)]
    return frame[np.array(keep, dtype=bool)] if len(frame) else frame


def apply_filter(frame: pd.DataFrame, filt: dict[str, Sequence[str]]) -> pd.DataFrame:
    if not filt:
        return frame
    mask = np.ones(len(frame), dtype=bool)
    for var, allowed in filt.items():
        allowed_set = {str(a) for a in allowed}

        def ok(v: Any) -> bool:
            if v is None or (isinstance(v, float) and np.isnan(v)):
                return False
            if isinstance(v, (tuple, list, set, frozenset)):
                return any(str(x) in allowed_set for x in v)
            return str(v) in allowed_set

        mask &= frame[var].map(ok).to_numpy(dtype=bool)
    return frame[mask]


# --------------------------------------------------------------------------- layouts
def _highlight(tdef: TableDef, row_code: str, col_code: str, value: Any, kind: str) -> bool:
    h = tdef.highlight
    if h is None:
        return False
    if row_code in h.rows:
        return True
    if kind != "share" or value is None:
        return False
    if h.column is not None and h.column != col_code:
        return False
    if h.above is not None and value > h.above:
        return True
    if h.below is not None and value < h.below:
        return True
    return False


def _frequency_grid(tdef: TableDef, frame: pd.DataFrame, lab: Labeller, min_cell: int, suppress: bool) -> Grid:
    if len(tdef.rows) > 1:
        return _frequencies_side_by_side(tdef, frame, lab, min_cell, suppress)
    var = tdef.rows[0]
    t = stats.frequency(frame, var, weighted=tdef.weighting == "design", order=lab.order(var),
                        min_cell=min_cell if suppress else None)
    share_label = "Andel (vægtet)" if t.weighted else "Andel"
    cols = [Column("count", "Antal", "count"), Column("share", share_label, "share")]
    rows = []
    for i, code in enumerate(t.row_codes):
        sup = t.suppressed[i][0]
        share = t.shares[i][0]
        mark = _highlight(tdef, code, code, share, "share")
        rows.append(GridRow(code, lab.value(var, code), [t.counts[i][0], share], [sup, sup], [mark, mark]))
    rows.append(GridRow("N", f"{TOTAL} (N)", [t.n_total, None], [t.n_total is None, False], [False, False], total=True))
    return Grid(tdef, tdef.title, cols, rows, [t.n_total], weighted=t.weighted,
                suppression_rule=t.suppression_rule, stats_tables=[t])


def _frequencies_side_by_side(tdef: TableDef, frame: pd.DataFrame, lab: Labeller, min_cell: int,
                              suppress: bool) -> Grid:
    """Several frequencies (e.g. two multiple-response lists on one choice list, Table 7) side by
    side: a column group (count, share) per variable, each over its own N (the cases it applies to);
    the rows are the codes of every variable, in the first one's order."""
    weighted = tdef.weighting == "design"
    tables = {var: stats.frequency(frame, var, weighted=weighted, order=lab.order(var),
                                   min_cell=min_cell if suppress else None) for var in tdef.rows}
    share_label = "Andel (vægtet)" if weighted else "Andel"
    cols: list[Column] = []
    for var in tdef.rows:
        group = lab.variable(var)
        cols += [Column(f"{var}:count", "Antal", "count", group), Column(f"{var}:share", share_label, "share", group)]
    codes = list(dict.fromkeys(c for var in tdef.rows for c in tables[var].row_codes))
    rows = []
    for code in codes:
        values: list[Any] = []
        sup: list[bool] = []
        marks: list[bool] = []
        for var in tdef.rows:
            t = tables[var]
            if code not in t.row_codes:
                values += [None, None]
                sup += [False, False]
                marks += [False, False]
                continue
            i = t.row_codes.index(code)
            mark = _highlight(tdef, code, code, t.shares[i][0], "share")
            values += [t.counts[i][0], t.shares[i][0]]
            sup += [t.suppressed[i][0]] * 2
            marks += [mark, mark]
        label = next(lab.value(var, code) for var in tdef.rows if code in tables[var].row_codes)
        rows.append(GridRow(code, label, values, sup, marks))
    n_values: list[Any] = []
    n_sup: list[bool] = []
    for var in tdef.rows:
        n_values += [tables[var].n_total, None]
        n_sup += [tables[var].n_total is None, False]
    rows.append(GridRow("N", f"{TOTAL} (N)", n_values, n_sup, [False] * len(cols), total=True))
    first = tables[tdef.rows[0]]
    return Grid(tdef, tdef.title, cols, rows, [tables[v].n_total for v in tdef.rows], weighted=weighted,
                suppression_rule=next((tables[v].suppression_rule for v in tdef.rows
                                       if tables[v].suppression_rule), first.suppression_rule),
                stats_tables=list(tables.values()))


def _cross_grid(tdef: TableDef, frame: pd.DataFrame, lab: Labeller, min_cell: int, suppress: bool) -> Grid:
    """crosstab and breakdown: row variables stacked as blocks, column variables as groups."""
    weighted = tdef.weighting == "design"
    tables: dict[tuple[str, str], Any] = {}
    for r in tdef.rows:
        for c in tdef.cols:
            tables[(r, c)] = stats.crosstab(frame, r, c, percent=tdef.percent, weighted=weighted,
                                            row_order=lab.order(r), col_order=lab.order(c),
                                            min_cell=min_cell if suppress else None)
    columns: list[Column] = []
    col_index: dict[tuple[str, str], int] = {}
    n_col_index: dict[str, int] = {}
    for c in tdef.cols:
        group = lab.variable(c)
        codes = tables[(tdef.rows[0], c)].col_codes
        for code in codes:
            col_index[(c, code)] = len(columns)
            columns.append(Column(f"{c}:{code}", lab.value(c, code), "share", group))
        if tdef.percent == "row":
            n_col_index[c] = len(columns)
            columns.append(Column(f"{c}:N", "N", "n", group))
    rows: list[GridRow] = []
    n_note: list[int] = []
    col_blocks: list[list[int]] = []
    suppression_rule = None
    for r in tdef.rows:
        block = lab.variable(r)
        first = tables[(r, tdef.cols[0])]
        for i, code in enumerate(first.row_codes):
            values: list[Any] = [None] * len(columns)
            sup = [False] * len(columns)
            hl = [False] * len(columns)
            for c in tdef.cols:
                t = tables[(r, c)]
                if code not in t.row_codes:
                    continue
                ti = t.row_codes.index(code)
                for j, ccode in enumerate(t.col_codes):
                    k = col_index.get((c, ccode))
                    if k is None:
                        continue
                    values[k] = t.shares[ti][j]
                    sup[k] = t.suppressed[ti][j]
                    hl[k] = _highlight(tdef, code, ccode, t.shares[ti][j], "share")
                if c in n_col_index:
                    values[n_col_index[c]] = t.n_rows[ti]
                    sup[n_col_index[c]] = t.n_rows[ti] is None  # an N that would reveal a hidden cell
                    hl[n_col_index[c]] = code in (tdef.highlight.rows if tdef.highlight else ())
                suppression_rule = suppression_rule or t.suppression_rule
            rows.append(GridRow(code, lab.value(r, code), values, sup, hl, block=block))
            if tdef.percent == "row":
                n_note.append(first.n_rows[i])
        if tdef.total:
            rows.append(_total_row(tdef, frame, lab, columns, col_index, n_col_index, min_cell, suppress, block))
        if tdef.percent == "col":
            values = [None] * len(columns)
            nsup = [False] * len(columns)
            block_ns: list[int] = []
            for c in tdef.cols:
                t = tables[(r, c)]
                for j, ccode in enumerate(t.col_codes):
                    values[col_index[(c, ccode)]] = t.n_cols[j]
                    nsup[col_index[(c, ccode)]] = t.n_cols[j] is None
                    block_ns.append(t.n_cols[j])
            col_blocks.append(block_ns)
            rows.append(GridRow("N", "N", values, nsup, [False] * len(columns),
                                block=block, total=True, kinds=["n"] * len(columns)))
    # the column N's of each block; blocks with the same N's (no characteristic missing) said once
    n_note += [n for b in dict.fromkeys(tuple(b) for b in col_blocks) for n in b]  # each distinct set once
    return Grid(tdef, tdef.title, columns, rows, n_note, weighted=weighted, suppression_rule=suppression_rule,
                stats_tables=list(tables.values()))


def _total_row(tdef: TableDef, frame: pd.DataFrame, lab: Labeller, columns: list[Column],
               col_index: dict[tuple[str, str], int], n_col_index: dict[str, int], min_cell: int, suppress: bool,
               block: str) -> GridRow:
    """`total: true`: under a block of row shares, the shares of every case of the table (the
    statistics room's frequency of each column variable, the same figure wherever it prints),
    e.g. Figure 26's "I alt" bars and Table 5's 25 % over all cases."""
    values: list[Any] = [None] * len(columns)
    sup = [False] * len(columns)
    for c in tdef.cols:
        f = stats.frequency(frame, c, weighted=tdef.weighting == "design", order=lab.order(c),
                            min_cell=min_cell if suppress else None)
        for i, code in enumerate(f.row_codes):
            k = col_index.get((c, code))
            if k is not None:
                values[k], sup[k] = f.shares[i][0], f.suppressed[i][0]
        values[n_col_index[c]] = f.n_total
        sup[n_col_index[c]] = f.n_total is None
    return GridRow(TOTAL, TOTAL, values, sup, [False] * len(columns), block=block, total=True)


def _blocks(t: Table) -> list[str]:
    """The characteristics of a Table 13/14, in order (`profile` may stand as `direction`)."""
    return list(dict.fromkeys(k[0] for k in t.counts.index if k[0] != TOTAL))


def _matrix_grid(tdef: TableDef, frame: pd.DataFrame, lab: Labeller, min_cell: int, suppress: bool) -> Grid:
    """Table 13 (the statistics room's `cross_matrix`): every characteristic against every
    other, column percentages, an 'I alt' column and the N of each column."""
    weighted = tdef.weighting == "design"
    t = cross_matrix(frame, tdef.characteristics, weighted=weighted, min_cell=min_cell if suppress else None,
                     codes={c: o for c in tdef.characteristics if (o := lab.order(c))})
    src = t.weighted["share"] if weighted and t.weighted is not None else t.percents
    keys = list(t.counts.columns)
    columns = [Column("total", TOTAL, "share", TOTAL) if c == TOTAL else
               Column(f"{c}:{code}", lab.value(c, str(code)), "share", lab.variable(c)) for c, code in keys]

    def hidden(r: Any, c: Any) -> bool:
        return t.suppressed is not None and bool(t.suppressed.at[r, c])

    rows: list[GridRow] = []
    for key in t.counts.index:
        r, code = key
        rows.append(GridRow(str(code), lab.value(r, str(code)),
                            [stats.share_of(src.at[key, k]) for k in keys], [hidden(key, k) for k in keys],
                            [False] * len(keys), block=lab.variable(r)))
    n = [stats.count_of(t.n_cols[k]) for k in keys]
    rows.append(GridRow("N", "N", n, [v is None for v in n], [False] * len(keys), total=True, kinds=["n"] * len(keys)))
    return Grid(tdef, tdef.title, columns, rows, [int(t.n_total or 0)], weighted=weighted,
                suppression_rule=stats.rule(t), stats_tables=[t])


def _indicators_grid(tdef: TableDef, frame: pd.DataFrame, lab: Labeller, min_cell: int, suppress: bool) -> Grid:
    """Table 14 (the statistics room's `indicator_table`): per characteristic group the mean
    or share of each indicator, and N; the last row 'I alt' is every case."""
    weighted = tdef.weighting == "design"
    t = indicator_table(frame, tdef.characteristics, tdef.indicators, weighted=weighted,
                        min_cell=min_cell if suppress else None,
                        codes={c: o for c in tdef.characteristics if (o := lab.order(c))})
    src = t.weighted["share"] if weighted and t.weighted is not None else t.counts
    keys = list(t.counts.columns)
    columns = []
    for ind, stat in keys:
        as_percent = stat != MEAN or tdef.indicator_as.get(ind) == "percent"
        label = lab.variable(ind) + (" (gns.)" if stat == MEAN else " (andel ja)")
        columns.append(Column(ind, label, "share" if as_percent else "mean"))
    columns.append(Column("N", "N", "n"))

    def value(key: Any, k: Any) -> Any:
        v = src.at[key, k]
        if v is None or pd.isna(v):
            return None
        return float(v) if k[1] == MEAN else float(v) / 100.0

    rows: list[GridRow] = []
    for key in t.counts.index:
        ch, code = key
        n = stats.count_of(t.n_rows[key])
        hidden = [t.suppressed is not None and bool(t.suppressed.at[key, k]) for k in keys]
        cells = [value(key, k) for k in keys]
        if ch == TOTAL:
            rows.append(GridRow(TOTAL, TOTAL, cells + [n], hidden + [False], [False] * (len(keys) + 1), total=True))
        else:
            rows.append(GridRow(str(code), lab.value(ch, str(code)), cells + [n], hidden + [n is None],
                                [False] * (len(keys) + 1), block=lab.variable(ch)))
    return Grid(tdef, tdef.title, columns, rows, [int(t.n_total or 0)], weighted=weighted,
                suppression_rule=stats.rule(t), stats_tables=[t])


def _comparison_grid(tdef: TableDef, frame: pd.DataFrame, lab: Labeller, min_cell: int, suppress: bool) -> Grid:
    """A municipality comparison (Figures 16, 19, 21 ...): per group (`row`, e.g. municipality)
    the share of cases answering `share_of` to `col`, highest first, beside the share of all
    cases (the chart's line) and N; under them all cases, and the design-weighted estimate for
    the whole target group with its 95 % interval. The shares come from the crosstab
    `row` x `col` (suppressed like any crosstab: a hidden cell prints x, not its whole row)
    and the frequency of `col`."""
    group, var = tdef.rows[0], tdef.cols[0]
    code = tdef.share_of
    cross = stats.crosstab(frame, group, var, percent="row", row_order=lab.order(group), col_order=lab.order(var),
                           min_cell=min_cell if suppress else None)
    overall = stats.frequency(frame, var, order=lab.order(var), min_cell=min_cell if suppress else None)
    from audit.statistics.weighting import DesignError

    national = None
    if {"stratum", "stratum_population"} <= set(frame.columns):
        try:
            national = stats.frequency(frame, var, weighted=True, order=lab.order(var))
        except DesignError as exc:  # no usable design (N_h missing or inconsistent): said, not guessed
            tdef = replace(tdef, note=_with_sentence(tdef.note, f"Intet vægtet estimat: {exc}"))
    j = cross.col_codes.index(code) if code in cross.col_codes else None
    i_all = overall.row_codes.index(code) if code in overall.row_codes else None
    all_share = overall.shares[i_all][0] if i_all is not None else None
    all_hidden = bool(i_all is not None and overall.suppressed[i_all][0])
    label = lab.value(var, code)
    columns = [Column("share", f"Andel {label.lower()}" if label else "Andel", "share"),
               Column("all", "Alle sager", "reference"), Column("N", "N", "n")]
    entries = []
    for i, g in enumerate(cross.row_codes):
        share = cross.shares[i][j] if j is not None else 0.0
        hidden = bool(cross.suppressed[i][j]) if j is not None else False
        n = cross.n_rows[i]
        if n == 0:
            continue  # a group without cases (a municipality outside the audit) is no bar
        entries.append((g, share, hidden, n))
    # highest share first; a hidden share sorts last (its place would tell its size)
    entries.sort(key=lambda e: (e[2] or e[1] is None, -(e[1] or 0.0)))
    rows = []
    for g, share, hidden, n in entries:
        mark = _highlight(tdef, g, code, share, "share")
        rows.append(GridRow(str(g), lab.value(group, g), [share, None if all_hidden else all_share, n],
                            [hidden, all_hidden, n is None], [mark, False, False]))
    rows.append(GridRow(TOTAL, "Alle sager", [all_share, None, overall.n_total], [all_hidden, False, False],
                        [False, False, False], total=True))
    tables = [cross.table, overall.table]
    if national is not None:
        k = national.row_codes.index(code) if code in national.row_codes else None
        est = national.shares[k][0] if k is not None else None
        rows.append(GridRow("weighted", "Vægtet estimat for hele målgruppen", [est, None, overall.n_total],
                            [False, False, False], [False, False, False], total=True))
        tables.append(national.table)
    return Grid(tdef, tdef.title, columns, rows, [overall.n_total], suppression_rule=stats.rule(cross.table)
                if cross.table is not None else None, stats_tables=tables)


def _composition_grid(tdef: TableDef, frame: pd.DataFrame, lab: Labeller, min_cell: int, suppress: bool) -> Grid:
    """Figure 36: the numbers under `items` (e.g. the weeks in each tool of the effort), each its
    sum and its share of the sum of them all (the statistics room's `composition`), then the
    total. N is the persons (or cases) with any of them."""
    t = composition(frame, tdef.items, min_cell=min_cell if suppress else None, title=tdef.title)
    hidden = t.suppressed["sum"] if t.suppressed is not None else pd.Series(False, index=t.counts.index)
    columns = [Column("sum", "Sum", "count"), Column("share", "Andel af summen", "share")]
    rows: list[GridRow] = []
    for var in (*tdef.items, TOTAL):
        off = bool(hidden[var])
        total, share = t.counts.at[var, "sum"], t.percents.at[var, "share"]
        cells = [None, None] if off else [round(float(total)), stats.share_of(share)]
        label = TOTAL if var == TOTAL else (tdef.item_labels.get(var) or lab.variable(var))
        rows.append(GridRow(var, label, cells, [off, off], [False, False], total=var == TOTAL))
    return Grid(tdef, tdef.title, columns, rows, [int(t.n_total or 0)], suppression_rule=stats.rule(t),
                stats_tables=[])


def _items_grid(tdef: TableDef, frame: pd.DataFrame, lab: Labeller, min_cell: int, suppress: bool) -> Grid:
    """Several items side by side (Figures 17, 24, 32, 33 ...): one row per item, the share of the
    cases where that item applies answering `share_of`, and that N (bases differ: a follow-up
    item is asked of fewer cases). Each item is the statistics room's frequency; with a `col`,
    also its crosstab `col` x item, giving per group (its label above) the share and its N, and
    the item's frequency as the last group, 'I alt'. Suppressed like those tables: a hidden
    share prints x, its row stays."""
    weighted = tdef.weighting == "design"
    code = tdef.share_of
    cut = min_cell if suppress else None
    freqs = {item: stats.frequency(frame, item, weighted=weighted, order=lab.order(item), min_cell=cut)
             for item in tdef.items}
    share_of = lab.value(tdef.items[0], code)
    share_label = (f"Andel {share_of.lower()}" if share_of else "Andel") + (" (vægtet)" if weighted else "")

    def pick(cells: stats.Cells, i: int) -> tuple[Any, bool, int | None]:
        """(share answering `code`, hidden, N) of row i of a row-percent crosstab, or of a
        frequency (whose codes are its rows). No case: no share; nobody with the code: 0."""
        if cells.col_var is None:
            n, k = cells.n_total, (cells.row_codes.index(code) if code in cells.row_codes else None)
            share, hidden = (cells.shares[k][0], cells.suppressed[k][0]) if k is not None else (0.0, False)
        else:
            n, k = cells.n_rows[i], (cells.col_codes.index(code) if code in cells.col_codes else None)
            share, hidden = (cells.shares[i][k], cells.suppressed[i][k]) if k is not None else (0.0, False)
        if n is None:  # an N that would tell a hidden count hides its share too
            return None, True, None
        return (share if n else None), bool(hidden), n

    def label(item: str) -> str:
        return tdef.item_labels.get(item) or lab.variable(item)

    tables: list[Any] = []
    rows: list[GridRow] = []
    if not tdef.cols:
        columns = [Column("share", share_label, "share"), Column("N", "N", "n")]
        for item, f in freqs.items():
            share, hidden, n = pick(f, 0)
            mark = _highlight(tdef, item, code, share, "share")
            rows.append(GridRow(item, label(item), [share, n], [hidden, n is None], [mark, False]))
            tables.append(f)
    else:
        var = tdef.cols[0]
        cross = {item: stats.crosstab(frame, var, item, percent="row", weighted=weighted, row_order=lab.order(var),
                                      col_order=lab.order(item), min_cell=cut) for item in tdef.items}
        # the groups that have cases in at least one item (a direction nobody has is no bar)
        groups = [g for g in next(iter(cross.values())).row_codes
                  if any(c.n_rows[c.row_codes.index(g)] != 0 for c in cross.values() if g in c.row_codes)]
        # per group (its label above) the share and its N, then the same for all cases ('I alt')
        columns = []
        for g in (*groups, TOTAL):
            heading = TOTAL if g == TOTAL else lab.value(var, g)
            columns += [Column(f"share:{g}", share_label, "share", heading), Column(f"N:{g}", "N", "n", heading)]
        for item in tdef.items:
            c, f = cross[item], freqs[item]
            cells = [pick(c, c.row_codes.index(g)) if g in c.row_codes else (None, False, 0) for g in groups]
            cells.append(pick(f, 0))
            values = [v for share, _, n in cells for v in (share, n)]
            hidden = [h for _, hid, n in cells for h in (hid, n is None)]
            marks = [m for g, (share, _, _) in zip((*groups, TOTAL), cells)
                     for m in (_highlight(tdef, item, g, share, "share"), False)]
            rows.append(GridRow(item, label(item), values, hidden, marks))
            tables += [f, c]
    rule = next((t.suppression_rule for t in tables if t.suppression_rule), None)
    return Grid(tdef, tdef.title, columns, rows, [freqs[item].n_total for item in tdef.items], weighted=weighted,
                suppression_rule=rule, stats_tables=tables)


def _means_grid(tdef: TableDef, frame: pd.DataFrame, lab: Labeller, min_cell: int, suppress: bool) -> Grid:
    """Means and medians of a number (`col`) per group (`row`, optional) and for all cases, with N;
    weighted, the design-based mean with its 95 % interval (normal, as R's survey confint). From
    the statistics room's numeric frequency; a group whose N is hidden hides its figures too.
    Several numbers (`col`, no `row`): one row each, its mean over the cases (or municipalities)
    where it is answered (Figure 10's two focus scales)."""
    if len(tdef.cols) > 1:
        return _means_of_items(tdef, frame, lab, min_cell, suppress)
    var = tdef.cols[0]
    by = tdef.rows[0] if tdef.rows else None
    weighted = tdef.weighting == "design"
    frame = _scale_as_number(frame, var, lab)
    t = stats.means(frame, var, by, weighted=weighted, order=lab.order(by) if by else None,
                    min_cell=min_cell if suppress else None)
    w = t.weighted if weighted else None
    columns = [Column("mean", "Gennemsnit (vægtet)" if weighted else "Gennemsnit", "mean")]
    if w is not None:
        columns += [Column("ci_low", "95 %-interval, fra", "mean"), Column("ci_high", "95 %-interval, til", "mean")]
    columns += [Column("median", "Median", "mean"), Column("N", "N", "n")]

    def num(v: Any) -> float | None:
        return None if v is None or pd.isna(v) else float(v)

    rows: list[GridRow] = []
    for key in t.counts.index:
        n = stats.count_of(t.n_rows[key]) if t.n_rows is not None else None
        hidden = t.suppressed is not None and bool(t.suppressed.loc[key].any())
        if n == 0 and not hidden:
            continue  # a group without cases (a municipality outside the audit)
        mean = num(w["share"].at[key, "mean"]) if w is not None else num(t.counts.at[key, "mean"])
        cells = [mean]
        if w is not None:
            cells += [num(w["ci_low"].at[key, "mean"]), num(w["ci_high"].at[key, "mean"])]
        cells += [num(t.counts.at[key, "median"]), n]
        total = key == TOTAL
        label = "I alt" if total else lab.value(by, str(key)) if by else str(key)
        rows.append(GridRow(str(key), label, cells, [hidden] * (len(cells) - 1) + [n is None],
                            [False] * len(cells), total=total))
    return Grid(tdef, tdef.title, columns, rows, [int(t.n_total or 0)], weighted=weighted,
                suppression_rule=stats.rule(t), stats_tables=[t])


def _scale_as_number(frame: pd.DataFrame, var: str, lab: Labeller) -> pd.DataFrame:
    """A scale item (codes 1-5, counted as categories elsewhere) as its numbers, for its mean."""
    inst = lab.vocab.instrument
    item = inst.find(var) if inst is not None else None
    if item is None or item.type != "scale":
        return frame
    out = frame.assign(**{var: pd.to_numeric(frame[var], errors="coerce")})
    out.attrs = {**frame.attrs, "kinds": {**frame.attrs.get("kinds", {}), var: "numeric"}}
    return out


def _means_of_items(tdef: TableDef, frame: pd.DataFrame, lab: Labeller, min_cell: int, suppress: bool) -> Grid:
    weighted = tdef.weighting == "design"
    grids = [_means_grid(replace(tdef, cols=(var,)), frame, lab, min_cell, suppress) for var in tdef.cols]
    rows = []
    for var, g in zip(tdef.cols, grids):
        total = next((r for r in g.rows if r.total), None)
        if total is None:  # nothing answered (no theme 7 yet): an empty row with N 0
            total = GridRow(var, "", [None] * (len(g.columns) - 1) + [0], [False] * len(g.columns),
                            [False] * len(g.columns))
        rows.append(replace(total, key=var, label=lab.variable(var), total=False))
    return Grid(tdef, tdef.title, grids[0].columns, rows, [n for g in grids for n in g.n_note], weighted=weighted,
                suppression_rule=next((g.suppression_rule for g in grids if g.suppression_rule), None),
                stats_tables=[t for g in grids for t in g.stats_tables])


def _representativeness_grid(tdef: TableDef, frame: pd.DataFrame, population: pd.DataFrame | None, lab: Labeller,
                             min_cell: int, suppress: bool) -> Grid:
    """Table 12: composition of the register population and of the reviewed cases, per
    seniority band and in total (column percentages), from the sampling room."""
    from audit.sampling.representativeness import SIDES, representativeness
    from audit.statistics import suppress as hide

    if population is None:
        raise ValueError(f"table {tdef.id}: a representativeness table needs the audit's register population")
    bands = lab.order("seniority_band") or []  # the audit's own bands (the frame's), else the default
    columns = [Column(f"{side}:{b}", lab.value("seniority_band", b) if b != TOTAL else TOTAL, "share", group)
               for side, group in SIDES for b in (*bands, TOTAL)]
    keys = [(side, b) for side, _ in SIDES for b in (*bands, TOTAL)]
    rows: list[GridRow] = []
    tables = []
    suppression_rule = None
    for var in tdef.characteristics:
        t = representativeness(population, frame, bands, variables=[var])
        if suppress:
            t = hide(t, min_cell)
            if t.suppressed.to_numpy().any():
                suppression_rule = suppression_rule or t.notes[-1]
        tables.append(t)
        for key in t.counts.index:
            values = [None if pd.isna(v := t.percents.at[key, k]) else float(v) / 100.0 for k in keys]
            hidden = [bool(t.suppressed.at[key, k]) if t.suppressed is not None else False for k in keys]
            rows.append(GridRow(str(key[1]), lab.value(var, str(key[1])), values, hidden, [False] * len(keys),
                                block=lab.variable(var)))
    n = [None if pd.isna(v) else int(v) for v in tables[0].n_cols.reindex(keys)]  # hidden when it would tell
    rows.append(GridRow("N", "N", n, [v is None for v in n], [False] * len(keys), total=True, kinds=["n"] * len(keys)))
    sizes = dict(zip(keys, n))
    return Grid(tdef, tdef.title, columns, rows, [sizes[("population", TOTAL)], sizes[("sample", TOTAL)]],
                suppression_rule=suppression_rule, stats_tables=tables)


def table_frame(tdef: TableDef, frame: pd.DataFrame) -> pd.DataFrame:
    """The cases a table counts. Unweighted: the cases that pass its filter. Weighted: every
    case, with the table's variables blanked outside the filter, so the filter is a domain of
    the whole audit and each case keeps its stratum's weight N_h/n_h (dropping the other cases
    would re-count n_h within the filter and give wrong weights and variances)."""
    sub = apply_expression(apply_filter(frame, tdef.filter), tdef.filter_expr)
    if tdef.weighting != "design" or len(sub) == len(frame):
        return sub
    out = frame.copy()
    outside = ~frame.index.isin(sub.index)
    for var in (*tdef.rows, *tdef.cols, *tdef.items):
        out[var] = out[var].astype(object).where(~outside, None)
    return out


def build_grid(tdef: TableDef, frame: pd.DataFrame, spec: AnnexSpec, instrument: Instrument | None = None,
               suppress: bool = True, population: pd.DataFrame | None = None) -> Grid:
    lab = Labeller(spec, instrument, tdef.filter, orders=frame.attrs.get("orders"), attrs=frame.attrs)
    sub = table_frame(tdef, frame)
    do_suppress = suppress and tdef.suppress
    if tdef.kind == "frequency":
        return _frequency_grid(tdef, sub, lab, spec.min_cell, do_suppress)
    if tdef.kind in ("crosstab", "breakdown"):
        return _cross_grid(tdef, sub, lab, spec.min_cell, do_suppress)
    if tdef.kind == "matrix":
        return _matrix_grid(tdef, sub, lab, spec.min_cell, do_suppress)
    if tdef.kind == "indicators":
        return _indicators_grid(tdef, sub, lab, spec.min_cell, do_suppress)
    if tdef.kind == "representativeness":
        return _representativeness_grid(tdef, sub, population, lab, spec.min_cell, do_suppress)
    if tdef.kind == "comparison":
        return _comparison_grid(tdef, sub, lab, spec.min_cell, do_suppress)
    if tdef.kind == "means":
        return _means_grid(tdef, sub, lab, spec.min_cell, do_suppress)
    if tdef.kind == "items":
        return _items_grid(tdef, sub, lab, spec.min_cell, do_suppress)
    if tdef.kind == "composition":
        return _composition_grid(tdef, sub, lab, spec.min_cell, do_suppress)
    raise ValueError(f"table {tdef.id}: unknown kind {tdef.kind}")


def _absent_register_variables(tdef: TableDef, frame: pd.DataFrame | None) -> list[str]:
    """The register variables a table needs that this audit's extract does not carry (an
    optional column of the register definition, or a snapshot never imported)."""
    if frame is None:
        return []
    from audit.population.definition import default_definition

    register = default_definition()
    return [v for v in dict.fromkeys(tdef.variables()) if v not in frame.columns and v in register]


def _lacks(absent: Sequence[str], consequence: str) -> str:
    names = ", ".join(absent)
    what = names if len(absent) == 1 else f"variablerne {names}"
    return f"Registerudtrækket for denne gennemgang indeholder ikke {what}; {consequence}"


def _with_sentence(note: str, sentence: str) -> str:
    return f"{note.rstrip('.')}. {sentence}" if note else sentence


def empty_grid(tdef: TableDef, absent: Sequence[str]) -> Grid:
    """A table whose register variables this audit's extract lacks: printed empty (title, N=0
    and a note naming what is missing), so one audit without a column still gets its annex."""
    note = _with_sentence(tdef.note, _lacks(absent, "tabellen er derfor tom"))
    return Grid(replace(tdef, note=note, chart="none"), tdef.title, [], [], [0])


def build_grids(frame: pd.DataFrame, spec: AnnexSpec, instrument: Instrument | None = None, suppress: bool = True,
                population: pd.DataFrame | None = None, protocol: list[dict[str, Any]] | None = None,
                progress: Any = None, municipality_frame: pd.DataFrame | None = None) -> list[Grid]:
    """Every table of the annex. Suppressed, the tables are one publication: a count hidden in
    one is hidden wherever it prints, and the attacker's audit reads all of them together
    (audit.statistics.suppression.protected); `protocol` receives the hidden counts. A table
    with `frame: municipality` is computed from `municipality_frame` (theme 7)."""
    from audit.statistics.suppression import labelled, protected

    prepared = prepare_frame(frame, spec)
    needs_m = [t.id for t in spec.tables if t.frame == "municipality"]
    if needs_m and municipality_frame is None:
        raise ValueError(f"table {needs_m[0]}: `frame: municipality` needs the audit's theme-7 frame")
    census = None  # the register population for tables with `frame: population` (a census, unweighted)
    if population is not None and any(t.frame == "population" for t in spec.tables):
        from audit.population.definition import default_definition
        from audit.population.snapshots import add_derived

        # the register's bands (age_band, interviews_band, ...) when the caller's frame lacks them
        census = prepare_frame(add_derived(population.copy(), default_definition()), spec)
        census.attrs = dict(population.attrs)
        orders = dict(census.attrs.get("orders", {}))
        if "municipality" in census.columns and "municipality" not in orders:  # those present, not all 98
            orders["municipality"] = tuple(sorted(census["municipality"].dropna().unique()))
            census.attrs["orders"] = orders
    frames = {"sample": prepared, "municipality": municipality_frame, "population": census}

    passes: list[int] = []

    def build(pub: Any) -> list[Grid]:
        out = []
        tables = spec.tables if progress is None or passes else progress(spec.tables)  # progress: first pass
        passes.append(1)
        for t in tables:
            with labelled(pub, t.id):
                if t.frame == "population" and census is None:
                    raise ValueError(f"table {t.id}: a population table needs the audit's register population")
                absent = _absent_register_variables(t, frames[t.frame])
                kept = [r for r in t.rows if r not in absent]
                if absent and t.kind == "breakdown" and kept and not set(absent) & set(t.cols):
                    # a stacked table prints the blocks it has, and says which it lacks
                    t = replace(t, rows=tuple(kept), note=_with_sentence(t.note, _lacks(absent, "blokken udelades")))
                    absent = []
                out.append(empty_grid(t, absent) if absent else
                           build_grid(t, frames[t.frame], spec, instrument, suppress, population))
        return out

    if not suppress:
        return build(None)
    grids, pub = protected(build, spec.min_cell)
    if protocol is not None:
        protocol.extend(pub.protocol())
    return grids
