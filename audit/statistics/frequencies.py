"""Frequencies of items, overall and broken down by a variable.

A frequency table is a crosstab whose rows are the breakdown groups (plus the
total row 'I alt') and whose columns are the item's codes, with row
percentages: the share of each answer among the cases in the group where the
item applies. Numeric items get mean, median and N per group instead.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from audit.i18n import gettext, lazy_gettext
from audit.statistics import variables as V
from audit.statistics.crosstabs import (WEIGHT_NOTE, count_long, encode, long_form, percentages, prepared,
                                        weighted_cells)
from audit.statistics.tables import TOTAL, Table
from audit.statistics.weighting import Design, design_of, weighted_mean


MEAN_WEIGHT_NOTE = lazy_gettext("Weighted means: each case is weighted by N_h/n_h in its stratum (municipality x "
                                "seniority); 95% confidence interval for a stratified sample with finite "
                                "population correction.")


def _total_series(n: int) -> pd.Series:
    return pd.Series(np.full(n, TOTAL, dtype=object), name=TOTAL, dtype=object)


def frequency(frame: pd.DataFrame, item: str, by: str | None = None, *, weighted: bool = False,
              kinds: Mapping[str, str] | None = None, orders: Mapping[str, Sequence[str]] | None = None,
              title: str | None = None, design: Design | None = None,
              codes: Mapping[str, Sequence[Any]] | None = None,
              _cache: dict[str, Any] | None = None) -> Table:
    """Counts and shares of `item` (N = cases where it applies), by `by` when given.

    The last row 'I alt' is every case where the item applies, whatever `by` says.
    `codes` names, per variable, the codes to print in that order even when nobody has
    them (an annex prints every category); other codes present follow them. On the
    municipality frame (theme 7) N counts municipalities (`Table.for_frame`)."""
    return _frequency(frame, item, by, weighted=weighted, kinds=kinds, orders=orders, title=title,
                      design=design, codes=codes, _cache=_cache).for_frame(frame)


def _frequency(frame: pd.DataFrame, item: str, by: str | None = None, *, weighted: bool = False,
               kinds: Mapping[str, str] | None = None, orders: Mapping[str, Sequence[str]] | None = None,
               title: str | None = None, design: Design | None = None,
               codes: Mapping[str, Sequence[Any]] | None = None,
               _cache: dict[str, Any] | None = None) -> Table:
    if item not in frame.columns:
        raise KeyError(f"unknown item {item!r}")
    cache = _cache if _cache is not None else {}
    orders = V.orders_of(frame, orders)
    key_i = ("item", item)
    if key_i not in cache:
        s, k = prepared(frame, item, kinds, band=False)
        cache[key_i] = (s, k, encode(long_form(s, k)) if k != "numeric" else None)
    s, kind, s_long = cache[key_i]
    title = title or (f"{item} fordelt på {by}" if by else item)

    if kind == "numeric":
        return _numeric(frame, item, s, by, kinds, orders, title, cache, weighted=weighted, design=design,
                        codes=codes)

    if ("total",) not in cache:
        cache[("total",)] = encode(long_form(_total_series(len(frame)), "categorical"))
    total_long = cache[("total",)]
    counts_t, n_rows_t, _, n_t = count_long(total_long, s_long, "categorical", kind, by or "group", item, orders,
                                            row_codes=[TOTAL],
                                            col_codes=(codes or {}).get(item)
                                            or frame.attrs.get("orders", {}).get(item))
    col_codes = list(counts_t.columns)
    if by is None:
        counts, n_rows, n_total = counts_t, n_rows_t, n_t
        groups = None
    else:
        key_b = ("by", by)
        if key_b not in cache:
            bs, bk = prepared(frame, by, kinds)
            cache[key_b] = (bs, bk, long_form(bs, bk))
        bs, bk, b_long = cache[key_b]
        if ("enc", by) not in cache:
            cache[("enc", by)] = encode(b_long)
        groups, n_rows_g, _, _ = count_long(cache[("enc", by)], s_long, bk, kind, by, item, orders,
                                            row_codes=(codes or {}).get(by) or bs.attrs.get("codes"),
                                            col_codes=col_codes)
        counts = pd.concat([groups, counts_t])
        n_rows = pd.concat([n_rows_g, n_rows_t])
        n_total = n_t
    counts.index.name = by or "group"
    n_rows.index = counts.index
    n_cols = counts_t.iloc[0]
    table = Table(title=title, row_var=by, col_var=item, counts=counts,
                  percents=percentages(counts, n_rows, n_cols, "row"), percent_base="row",
                  n_rows=n_rows, n_cols=n_cols.astype(int), n_total=n_total, total_label=TOTAL)
    if kind == "multiple":
        table.notes.append("Flere svar mulige: andelene summerer til mere end 100 %.")
    if weighted:
        if design is None and ("design",) not in cache:
            cache[("design",)] = design_of(frame)
        d = design or cache[("design",)]
        tot = weighted_cells(_total_series(len(frame)), s, "categorical", kind, d, [TOTAL], col_codes, "row")
        if by is None:
            table.weighted = tot
        else:
            bs, bk, _ = cache[("by", by)]
            grp = weighted_cells(bs, s, bk, kind, d, list(groups.index), col_codes, "row")
            table.weighted = {k: pd.concat([grp[k], tot[k]]) for k in grp}
            for k in table.weighted:
                table.weighted[k].index = counts.index
        table.notes.append(str(WEIGHT_NOTE))
        if d.note():
            table.notes.append(d.note())
    return table


def _numeric(frame: pd.DataFrame, item: str, s: pd.Series, by: str | None,
             kinds: Mapping[str, str] | None, orders: Mapping[str, Sequence[str]] | None,
             title: str, cache: dict[str, Any], *, weighted: bool = False, design: Design | None = None,
             codes: Mapping[str, Sequence[Any]] | None = None) -> Table:
    """Mean, median and N of a number per group; with `weighted`, the design-based mean
    and its 95 % interval per group in `Table.weighted` (keys share=mean, se, ci_low, ci_high)."""
    values = pd.to_numeric(pd.Series(s.to_numpy(), index=pd.RangeIndex(len(s))), errors="coerce").dropna()
    rows = []
    index = []
    masks: list[np.ndarray] = []
    if by is not None:
        key_b = ("by", by)
        if key_b not in cache:
            bs, bk = prepared(frame, by, kinds)
            cache[key_b] = (bs, bk, long_form(bs, bk))
        bs, _, b_long = cache[key_b]
        joined = pd.DataFrame({"g": b_long}).join(pd.DataFrame({"v": values}), how="inner")
        agg = joined.groupby("g", sort=False)["v"].agg(["mean", "median", "count"])
        declared = list((codes or {}).get(by) or bs.attrs.get("codes") or ())
        present = [c for c in V.order_codes(list(pd.unique(b_long)), by, orders) if c not in set(declared)]
        group_codes = declared + present
        agg = agg.reindex(group_codes)
        for code in group_codes:
            index.append(code)
            rows.append(agg.loc[code].tolist())
            mask = np.zeros(len(frame), dtype=bool)
            mask[b_long.index[b_long.to_numpy(dtype=object) == code].to_numpy(dtype=np.int64)] = True
            masks.append(mask)
    index.append(TOTAL)
    rows.append([values.mean() if len(values) else np.nan, values.median() if len(values) else np.nan,
                 len(values)])
    masks.append(np.ones(len(frame), dtype=bool))
    data = pd.DataFrame(rows, index=pd.Index(index, dtype=object, name=by or "group"),
                        columns=["mean", "median", "n"])
    n_rows = data["n"].fillna(0).astype(int)
    table = Table(title=title, row_var=by, col_var=item, counts=data[["mean", "median"]], kind="numeric",
                  n_rows=n_rows, n_total=int(len(values)), total_label=TOTAL,
                  notes=[gettext("Mean and median among the cases where the question applies and is answered.")])
    if weighted:
        d = design or design_of(frame)
        y = pd.to_numeric(pd.Series(s.to_numpy()), errors="coerce").to_numpy(dtype=float)
        est = [weighted_mean(y, m, d) for m in masks]
        table.weighted = {k: pd.DataFrame({"mean": [e[src] for e in est]}, index=data.index)
                          for k, src in (("share", "mean"), ("se", "se"), ("ci_low", "ci_low"),
                                         ("ci_high", "ci_high"))}
        table.notes.append(str(MEAN_WEIGHT_NOTE))
        if d.note():
            table.notes.append(d.note())
    return table


def frequencies(frame: pd.DataFrame, items: Iterable[str] | None = None, by: str | None = None, *,
                weighted: bool = False, kinds: Mapping[str, str] | None = None,
                orders: Mapping[str, Sequence[str]] | None = None, design: Design | None = None) -> list[Table]:
    """A frequency table for every item (default: every item column of the frame)."""
    items = list(items) if items is not None else V.item_columns(frame)
    cache: dict[str, Any] = {}
    return [frequency(frame, it, by, weighted=weighted, kinds=kinds, orders=orders, design=design, _cache=cache)
            for it in items if it != by]


def breakdowns(frame: pd.DataFrame, items: Iterable[str] | None = None,
               by: Sequence[str] = V.BREAKDOWNS, *, weighted: bool = False,
               kinds: Mapping[str, str] | None = None,
               orders: Mapping[str, Sequence[str]] | None = None) -> dict[tuple[str, str | None], Table]:
    """Every item overall and by each breakdown variable present in the frame:
    {(item, None): overall, (item, 'direction'): by direction, ...}."""
    items = list(items) if items is not None else V.item_columns(frame)
    cache: dict[str, Any] = {}
    out: dict[tuple[str, str | None], Table] = {}
    present = [b for b in by if b in frame.columns]
    for it in items:
        out[(it, None)] = frequency(frame, it, None, weighted=weighted, kinds=kinds, orders=orders, _cache=cache)
        for b in present:
            if b == it:
                continue
            out[(it, b)] = frequency(frame, it, b, weighted=weighted, kinds=kinds, orders=orders, _cache=cache)
    return out


def composition(frame: pd.DataFrame, variables: Sequence[str], *, min_cell: int | None = None,
                title: str | None = None) -> Table:
    """Each number's sum as a share of the sum of them all (Figure 36: the weeks under each
    tool of the effort as a share of all weeks in activation), over the rows that have any of
    them. `counts` has one row per variable and a last row TOTAL, columns 'sum' and 'persons'
    (how many rows have a value above 0); `percents` column 'share' (0-100); `n_total` the
    rows with any value.

    With `min_cell`, a sum that fewer than `min_cell` rows contribute to is hidden, with its share.
    One hidden sum alone would be given away (the total minus the others), so the next smallest
    positive sum is hidden with it; when there is none (every other sum is 0), the total is."""
    missing = [v for v in variables if v not in frame.columns]
    if missing:
        raise KeyError(f"unknown variable(s): {', '.join(missing)}")
    values = pd.DataFrame({v: pd.to_numeric(frame[v], errors="coerce") for v in variables}, index=frame.index)
    present = values.notna().any(axis=1)
    values = values[present]
    sums = values.sum(axis=0, min_count=0).astype(float)
    persons = (values > 0).sum(axis=0).astype(int)
    total = float(sums.sum())
    shares = sums / total * 100.0 if total > 0 else sums * np.nan
    counts = pd.DataFrame({"sum": [*sums, total], "persons": [*persons, int((values > 0).any(axis=1).sum())]},
                          index=pd.Index([*variables, TOTAL], name="variable"))
    table = Table(title=title or "composition", row_var="variable", col_var=None, counts=counts,
                  percents=pd.DataFrame({"share": [*shares, 100.0 if total > 0 else np.nan]}, index=counts.index),
                  percent_base="col", n_total=int(present.sum()), kind="composition", total_label=TOTAL)
    table.notes.append("Andel af summen af alle rækker (ikke af antal personer).")
    if min_cell:
        hidden = pd.Series([bool(0 < p < min_cell) for p in persons] + [False], index=counts.index)
        if int(hidden.sum()) == 1:
            rest = sums[~hidden.loc[list(variables)].to_numpy() & (sums > 0).to_numpy()]
            if len(rest):
                hidden[rest.idxmin()] = True
            else:
                hidden[TOTAL] = True
        table.suppressed = pd.DataFrame({"sum": hidden, "persons": hidden})
        if hidden.any():
            table.counts = counts.astype(object).where(~table.suppressed, None)
            table.percents = table.percents.astype(object).where(~hidden.to_frame("share"), None)
            table.notes.append(f"Summer, som færre end {min_cell} personer bidrager til, er skjult (x), og så "
                               f"mange flere, at ingen skjult andel kan regnes ud af de viste.")
    return table
