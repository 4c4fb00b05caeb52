"""Test oracle for the annex: what every cell of a table sheet must hold, recomputed here
from the case frame with pandas, by the rules docs/statistics.md and docs/exports.md state,
and a reader that turns a written sheet into the same shape.

It imports nothing of the code it checks (audit.exports, audit.statistics, audit.labels):
labels are read straight from the instrument's items and the register definition file,
counts and shares are pandas group-bys, design weights are N_h/n_h, shares and means are
rounded to what the cell prints (a share to the whole percent, a mean to one decimal). The
discretion rule is checked in two parts: every count of 1 .. threshold-1 (and the shares of a
row whose N is such a count) must print "x" here; the further counts the annex hides to protect
them (secondary suppression, its attacker's audit by linear programming, and weighted shares of
small groups) are decided across all tables at once and checked by tests/statistics with an
attacker of their own, so an "x" where a visible figure was expected is accepted and counted.

Keys: (block, row label, column group, column label); values: share 0-1, mean, count,
"x" for a hidden cell, None for an empty one.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from audit.instrument import Instrument  # the input the tables are about, not the code checked

Key = tuple[Any, Any, Any, Any]
TOTAL = "I alt"
HIDDEN = "x"
REGISTER_FILE = Path(__file__).resolve().parents[2] / "registers" / "kontanthjaelp_2022.yaml"
# The report's four profiles (Table 4) and their rule, as docs/statistics.md states it.
PROFILES = ("Jobrettet indsats under 50 år", "Jobrettet indsats 50+ år", "Rehabiliterende indsats", "Fritagelse")
YES_NO_ORDER = ("ja", "nej", "ikke_relevant")


# ----------------------------------------------------------------------------- reading a sheet
def read_sheet(ws: Any, lay: Any) -> dict[Key, Any]:
    """Every data cell of a written table sheet under its block heading, row label and headers."""
    ncol = ws.max_column
    labels = [ws.cell(row=lay.header_rows[-1], column=c).value for c in range(2, ncol + 1)]
    groups: list[Any] = [None] * len(labels)
    if len(lay.header_rows) > 1:
        g = None
        for k, c in enumerate(range(2, ncol + 1)):
            v = ws.cell(row=lay.header_rows[-2], column=c).value
            g = v if v is not None else g
            groups[k] = g
    out: dict[Key, Any] = {}
    block = None
    for r in range(lay.first_data_row, lay.last_data_row + 1):
        label = ws.cell(row=r, column=1).value
        values = [ws.cell(row=r, column=c).value for c in range(2, ncol + 1)]
        if lay.block_rows and all(v is None for v in values):
            block = label
            continue
        for k, v in enumerate(values):
            key = (block, label, groups[k], labels[k])
            assert key not in out, f"{ws.title}: two cells under {key}"
            out[key] = v
    return out


EXTRA_HIDDEN: dict[str, int] = {}  # per sheet: cells the annex hid beyond the primary rule


def assert_sheet_matches(ws: Any, lay: Any, expected: dict[Key, Any]) -> int:
    """Every cell equal (floats to 1e-9), a primary "x" printed as "x"; an "x" where a figure
    was expected is further suppression (counted in EXTRA_HIDDEN). Returns the cells compared."""
    got = read_sheet(ws, lay)
    assert set(got) == set(expected), (ws.title, sorted(set(got) ^ set(expected), key=str)[:10])
    EXTRA_HIDDEN[ws.title] = 0
    for key, want in expected.items():
        have = got[key]
        if have == HIDDEN and want != HIDDEN:
            EXTRA_HIDDEN[ws.title] += 1
            continue
        if isinstance(want, float) and not isinstance(have, str) and have is not None:
            assert math.isclose(have, want, rel_tol=0, abs_tol=1e-9), (ws.title, key, have, want)
        else:
            assert have == want, (ws.title, key, have, want)
    return len(expected)


# ----------------------------------------------------------------------------- discretion rule
def _primary(counts: list[list[float]], threshold: int) -> list[list[bool]]:
    return [[0 < c < threshold for c in row] for row in counts]


def hide_matrix(counts: pd.DataFrame, threshold: int | None) -> pd.DataFrame:
    """Cells of a table's interior that must be hidden: the primary rule (secondary hiding is
    accepted where it appears, see assert_sheet_matches)."""
    if not threshold or counts.empty:
        return pd.DataFrame(False, index=counts.index, columns=counts.columns)
    values = [[0.0 if pd.isna(v) else float(v) for v in row] for row in counts.to_numpy()]
    return pd.DataFrame(_primary(values, threshold), index=counts.index, columns=counts.columns)


def printed_share(v: Any) -> float:
    """A 0-1 share as the annex cell holds it: the whole percent it prints."""
    return math.floor(float(v) * 100 + 0.5 + 1e-9) / 100


def printed_mean(v: Any) -> float:
    return math.floor(float(v) * 10 + 0.5 + 1e-9) / 10


def hide_line(values: pd.Series, threshold: int | None) -> pd.Series:
    """Margins (a line of counts or N's) follow the same rule along their own line."""
    return hide_matrix(values.to_frame().T, threshold).iloc[0]


# ----------------------------------------------------------------------------- labels and orders
class Words:
    """Labels and code orders straight from the data files: the instrument's items, the
    register definition (YAML) and the annex file's derived variables."""

    def __init__(self, spec: Any, instrument: Instrument | None, tdef: Any, frame: pd.DataFrame) -> None:
        self.register = {v["code"]: v for v in yaml.safe_load(REGISTER_FILE.read_text(encoding="utf-8"))["variables"]}
        self.spec, self.instrument, self.filter = spec, instrument, tdef.filter
        self.frame_orders = frame.attrs.get("orders", {})

    def _item(self, var: str) -> Any:
        return next((i for i in self.instrument.items if i.name == var), None) if self.instrument else None

    def _register_codes(self, var: str) -> list[str]:
        v = self.register.get(var)
        if not v:
            return []
        if v.get("values"):
            return [str(x["code"]) for x in v["values"]]
        if v.get("type") == "yes_no":  # the instrument's ja/nej
            return ["ja", "nej"]
        if v.get("bands"):
            edges = [int(e) if float(e).is_integer() else e for e in v["bands"]]
            return [f"{a}-{b}" for a, b in zip(edges, edges[1:])] + [f"{edges[-1]}+"]
        return []

    def variable(self, var: str) -> str:
        item = self._item(var)
        if item is not None:
            return item.label_da
        if var in self.register:
            return self.register[var]["label_da"]
        if var in self.spec.derive and self.spec.derive[var].label:
            return self.spec.derive[var].label
        if var == "profile":  # the report's name for Table 4's four groups
            return "Målgruppe"
        return self.spec.labels.get(var, {}).get("_", var)

    def value(self, var: str, code: Any) -> str:
        code = str(code)
        item = self._item(var)
        if item is not None:
            return next((c.label_da for c in item.choices or () if c.code == code), code)
        v = self.register.get(var)
        if v is not None:
            listed = {str(x["code"]): x["da"] for x in v.get("values") or []}
            if v.get("type") == "yes_no":  # a register yes/no takes the instrument's ja/nej labels
                listed = {"ja": "Ja", "nej": "Nej"}
            if code in listed:
                return listed[code]
            return v["value_label"]["da"].format(code=code) if v.get("value_label") else code
        return self.spec.labels.get(var, {}).get(code, code)

    def declared(self, var: str) -> list[str]:
        """Codes printed even when nobody has them (restricted to a filter's codes)."""
        if var in self.spec.derive:
            codes = list(self.spec.derive[var].bands.codes)
        elif var in self.frame_orders:
            codes = [str(c) for c in self.frame_orders[var]]
        elif (item := self._item(var)) is not None:
            codes = [c.code for c in item.choices or ()]
        else:
            codes = self._register_codes(var)
        allowed = self.filter.get(var)
        return [c for c in (codes or allowed) if c in allowed] if allowed else codes

    def order(self, var: str, present: list[Any]) -> list[Any]:
        """Declared codes first, then the others present (the report's order for profiles and
        yes/no, otherwise sorted)."""
        first = self.declared(var)
        if not first and var == "profile":
            first = [p for p in PROFILES if p in present]
        elif not first and present and {str(p) for p in present} <= set(YES_NO_ORDER):
            first = [c for c in YES_NO_ORDER if c in present]
        rest = sorted((c for c in dict.fromkeys(present) if c not in set(first)), key=str)
        return list(first) + rest


# ----------------------------------------------------------------------------- the frame a table counts
def _missing(v: Any) -> bool:
    if isinstance(v, (tuple, list)):
        return len(v) == 0
    return v is None or (isinstance(v, float) and math.isnan(v))


def _codes_of(v: Any) -> list[Any]:
    if _missing(v):
        return []
    return list(v) if isinstance(v, (tuple, list)) else [v]


def register_bands(population: pd.DataFrame) -> pd.DataFrame:
    """The register population with the register file's derived bands, cut here with pandas:
    lower edges (null: open below), codes from `values` (a yes/no cut: nej below, ja from the edge)."""
    out = population.copy()
    for v in yaml.safe_load(REGISTER_FILE.read_text(encoding="utf-8"))["variables"]:
        if v.get("source") != "derived" or v["code"] in out.columns or v["from"] not in out.columns \
                or v["code"] == "seniority_band":
            continue
        edges = [-np.inf if e is None else float(e) for e in v["bands"]] + [np.inf]
        codes = ["nej", "ja"] if v["type"] == "yes_no" else [str(x["code"]) for x in v["values"]]
        cut = pd.cut(pd.to_numeric(out[v["from"]], errors="coerce"), edges, right=False, labels=codes)
        out[v["code"]] = cut.astype(object).where(cut.notna(), None)
    return out


def prepared(frame: pd.DataFrame, spec: Any) -> pd.DataFrame:
    """The frame plus the report's profile (direction and age) and the file's banded variables."""
    out = frame.copy()
    if "direction" in out.columns and "age" in out.columns and "profile" not in out.columns:
        def profile(d: Any, age: Any) -> Any:
            if _missing(d):
                return None
            if d == "jobrettet":
                return None if _missing(age) else PROFILES[0] if float(age) < 50 else PROFILES[1]
            return {"rehabiliterende": PROFILES[2], "fritaget": PROFILES[3]}.get(d)
        out["profile"] = [profile(d, a) for d, a in zip(out["direction"], out["age"])]
    for d in spec.derive.values():
        if d.source in out.columns:
            def band(v: Any, d: Any = d) -> Any:
                x = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
                below = [code for edge, code in zip(d.bands.edges, d.bands.codes) if not pd.isna(x) and x >= edge]
                return below[-1] if below else None
            out[d.name] = out[d.source].map(band).astype(object)
    return out


def table_frame(tdef: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """Unweighted: the cases passing the filter. Weighted: every case, the table's variables
    blanked outside the filter (a domain: each case keeps its stratum's weight)."""
    keep = pd.Series(True, index=frame.index)
    for var, allowed in tdef.filter.items():
        ok = {str(a) for a in allowed}
        keep &= frame[var].map(lambda v: any(str(x) in ok for x in _codes_of(v)))
    if tdef.filter_expr:
        from audit.instrument import expressions as ex  # the instrument's own language, not the exporter

        node = ex.parse(tdef.filter_expr)
        names = [r.name for r in ex.references(node) if r.name in frame.columns]
        keep &= [ex.evaluate(node, ex.lookup_from({n: (list(v) if isinstance(v, tuple) else
                                                       None if _missing(v) else v) for n, v in zip(names, row)}))
                 is True for row in frame[names].itertuples(index=False, name=None)]
    if tdef.weighting != "design":
        return frame[keep.to_numpy()]
    out = frame.copy()
    for var in (*tdef.rows, *tdef.cols):
        out[var] = out[var].astype(object).where(keep, None)
    return out


def weights(frame: pd.DataFrame) -> pd.Series:
    """N_h / n_h: N_h the stratum's population (never below n_h), n_h its cases in the frame."""
    n_h = frame.groupby("stratum")["stratum"].transform("size")
    N_h = frame.groupby("stratum")["stratum_population"].transform("max").fillna(0)
    return np.maximum(N_h, n_h) / n_h


def long(frame: pd.DataFrame, var: str) -> pd.DataFrame:
    """One row per (case, code): a multiple-choice case once under each of its codes."""
    rows = [(i, c) for i, v in zip(frame.index, frame[var]) for c in _codes_of(v)]
    return pd.DataFrame(rows, columns=["case", var])


# ----------------------------------------------------------------------------- tables by hand
class Tab:
    """A table computed by hand: counts, N's and shares on a percent base, with what is hidden."""

    def __init__(self, counts: pd.DataFrame, n_rows: pd.Series, n_cols: pd.Series, shares: pd.DataFrame,
                 hidden: pd.DataFrame, n_rows_hidden: pd.Series, n_cols_hidden: pd.Series) -> None:
        self.counts, self.n_rows, self.n_cols, self.shares = counts, n_rows, n_cols, shares
        self.hidden, self.n_rows_hidden, self.n_cols_hidden = hidden, n_rows_hidden, n_cols_hidden

    def cell(self, r: Any, c: Any) -> Any:
        if self.hidden.at[r, c]:
            return HIDDEN
        v = self.shares.at[r, c]
        return None if pd.isna(v) else printed_share(v)

    def n_row(self, r: Any) -> Any:
        return HIDDEN if self.n_rows_hidden[r] else int(self.n_rows[r])

    def n_col(self, c: Any) -> Any:
        return HIDDEN if self.n_cols_hidden[c] else int(self.n_cols[c])


def crosstab(frame: pd.DataFrame, words: Words, r: str, c: str, percent: str, weighted: bool,
             threshold: int | None, row_codes: list[Any] | None = None, col_codes: list[Any] | None = None) -> Tab:
    """Cases with both variables; counts per code pair, N per row code and column code; shares
    within the row (or column) code; interior hidden by the rule, N's along their lines, and a
    row's shares with its N when the base is the row. Codes: the declared ones and those of the
    cases counted, unless the table names its codes (`row_codes`, `col_codes`)."""
    pairs = long(frame, r).rename(columns={r: "r"}).merge(long(frame, c).rename(columns={c: "c"}), on="case")
    row_codes = row_codes or words.order(r, list(pairs["r"].unique()))
    col_codes = col_codes or words.order(c, list(pairs["c"].unique()))
    counts = pd.crosstab(pairs["r"], pairs["c"]).reindex(index=row_codes, columns=col_codes, fill_value=0)
    n_rows = pairs.groupby("r")["case"].nunique().reindex(row_codes, fill_value=0)
    n_cols = pairs.groupby("c")["case"].nunique().reindex(col_codes, fill_value=0)
    if weighted:
        w = weights(frame)
        pw = pairs.assign(w=w.loc[pairs["case"]].to_numpy())
        cell_w = pw.groupby(["r", "c"])["w"].sum().unstack().reindex(index=row_codes, columns=col_codes).fillna(0)
        key = "r" if percent == "row" else "c"
        base = pw.drop_duplicates(["case", key]).groupby(key)["w"].sum()
        shares = cell_w.div(base.reindex(row_codes), axis=0) if percent == "row" else \
            cell_w.div(base.reindex(col_codes), axis=1)
    else:
        shares = counts.div(n_rows.replace(0, np.nan), axis=0) if percent == "row" else \
            counts.div(n_cols.replace(0, np.nan), axis=1)
    hidden = hide_matrix(counts, threshold)
    nr_hidden, nc_hidden = hide_line(n_rows, threshold), hide_line(n_cols, threshold)
    if percent == "row":
        hidden = hidden | pd.DataFrame(np.repeat(nr_hidden.to_numpy()[:, None], len(col_codes), axis=1),
                                       index=hidden.index, columns=hidden.columns)
    return Tab(counts, n_rows, n_cols, shares, hidden, nr_hidden, nc_hidden)


def frequency(frame: pd.DataFrame, words: Words, var: str, weighted: bool, threshold: int | None) -> Tab:
    """Codes of `var` among the cases where it applies: one row 'I alt', hidden along that line."""
    lv = long(frame, var)
    codes = words.order(var, list(lv[var].unique()))
    counts = lv[var].value_counts().reindex(codes, fill_value=0)
    n = lv["case"].nunique()
    if weighted:
        w = weights(frame)
        present = w.loc[lv["case"].unique()].sum()
        shares = lv.assign(w=w.loc[lv["case"]].to_numpy()).groupby(var)["w"].sum().reindex(codes).fillna(0) / present
    else:
        shares = counts / n if n else counts * np.nan
    hidden = hide_line(counts, threshold)
    frame_of = lambda s: s.to_frame(TOTAL).T  # noqa: E731
    return Tab(frame_of(counts), pd.Series({TOTAL: n}), counts, frame_of(shares), frame_of(hidden),
               pd.Series({TOTAL: False}), hidden)


def codes_of(frame: pd.DataFrame, words: Words, var: str) -> list[Any]:
    """Every code of a characteristic in print order: declared, then present anywhere in the frame."""
    return words.order(var, list(long(frame, var)[var].unique()))


def group_means(frame: pd.DataFrame, words: Words, by: str, var: str, weighted: bool,
                threshold: int | None) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """Mean of a number per group of `by` (cases with a value) and over all cases; a group
    resting on fewer cases than the threshold is hidden (and a second one, along the line)."""
    values = pd.to_numeric(frame[var], errors="coerce")
    lb = long(frame, by)
    lb["v"] = values.loc[lb["case"]].to_numpy()
    groups = words.order(by, list(lb[by].unique()))
    has = lb.dropna(subset=["v"])
    n = has.groupby(by)["v"].size().reindex(groups, fill_value=0)
    if weighted:
        w = weights(frame)
        has = has.assign(w=w.loc[has["case"]].to_numpy())
        mean = (has.assign(wv=has.w * has.v).groupby(by)["wv"].sum() / has.groupby(by)["w"].sum()).reindex(groups)
        ok = values.notna()
        total = float((w[ok] * values[ok]).sum() / w[ok].sum()) if ok.any() else None
    else:
        mean = has.groupby(by)["v"].mean().reindex(groups)
        total = float(values.mean()) if values.notna().any() else None
    hidden = hide_line(n, threshold)
    out = {g: HIDDEN if hidden[g] else (None if pd.isna(mean[g]) else float(mean[g])) for g in groups}
    return out, {TOTAL: total}


def group_shares(frame: pd.DataFrame, words: Words, by: str, var: str, yes: str, weighted: bool,
                 threshold: int | None) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """Share answering `yes` per group of `by` (cases where `var` applies) and over all: the
    frequency of `var` by `by` with its 'I alt' row, hidden as a table with a margin row."""
    t = crosstab(frame, words, by, var, "row", weighted, None, row_codes=codes_of(frame, words, by))
    total = frequency(frame, words, var, weighted, threshold)
    hidden = hide_matrix(t.counts, threshold)
    nr_hidden = hide_line(t.n_rows, threshold)

    def value(tab: Tab, g: Any, hid: bool) -> Any:
        if yes not in tab.counts.columns:
            return 0.0 if tab.n_rows[g] else None
        v = tab.shares.at[g, yes]
        return HIDDEN if hid else (None if pd.isna(v) else printed_share(v))

    groups = {g: value(t, g, yes in hidden.columns and (bool(hidden.at[g, yes]) or bool(nr_hidden[g])))
              for g in t.counts.index}
    return groups, {TOTAL: value(total, TOTAL, yes in total.hidden.columns and bool(total.hidden.at[TOTAL, yes]))}


# ----------------------------------------------------------------------------- sheets
def expected_sheet(tdef: Any, frame: pd.DataFrame, spec: Any, instrument: Instrument | None, suppress: bool = True,
                   population: pd.DataFrame | None = None) -> dict[Key, Any]:
    if getattr(tdef, "frame", "sample") == "population":  # a census of the register: its own bands
        frame = register_bands(population)
        if any(v not in frame.columns for v in (*tdef.rows, *tdef.cols)):
            return {}  # the extract lacks the variable: the sheet is empty (its note says why)
    full = prepared(frame, spec)
    sub = table_frame(tdef, full)
    words = Words(spec, instrument, tdef, frame)
    threshold = spec.min_cell if suppress and tdef.suppress else None
    weighted = tdef.weighting == "design"
    out: dict[Key, Any] = {}

    if tdef.kind == "frequency":
        var = tdef.rows[0]
        t = frequency(sub, words, var, weighted, threshold)
        share_label = "Andel (vægtet)" if weighted else "Andel"
        for code in t.counts.columns:
            label = words.value(var, code)
            out[(None, label, None, "Antal")] = HIDDEN if t.hidden.at[TOTAL, code] else int(t.counts.at[TOTAL, code])
            out[(None, label, None, share_label)] = t.cell(TOTAL, code)
        out[(None, "I alt (N)", None, "Antal")] = int(t.n_rows[TOTAL])
        out[(None, "I alt (N)", None, share_label)] = None
        return out

    if tdef.kind in ("crosstab", "breakdown"):
        blocks = not (tdef.kind == "crosstab" and len(tdef.rows) == 1)
        for r in tdef.rows:
            block = words.variable(r) if blocks else None
            for c in tdef.cols:
                t = crosstab(sub, words, r, c, tdef.percent, weighted, threshold)
                group = words.variable(c)
                for rc in t.counts.index:
                    for cc in t.counts.columns:
                        out[(block, words.value(r, rc), group, words.value(c, cc))] = t.cell(rc, cc)
                    if tdef.percent == "row":
                        out[(block, words.value(r, rc), group, "N")] = t.n_row(rc)
                if tdef.percent == "col":
                    for cc in t.counts.columns:
                        out[(block, "N", group, words.value(c, cc))] = t.n_col(cc)
        return out

    if tdef.kind == "matrix":
        chars = list(tdef.characteristics)
        codes = {c: codes_of(sub, words, c) for c in chars}
        for r in chars:
            block = words.variable(r)
            for c in chars:
                t = crosstab(sub, words, r, c, "col", weighted, threshold, codes[r], codes[c])
                for rc in t.counts.index:
                    for cc in t.counts.columns:
                        out[(block, words.value(r, rc), words.variable(c), words.value(c, cc))] = t.cell(rc, cc)
            f = frequency(sub, words, r, weighted, threshold)
            for rc in f.counts.columns:
                out[(block, words.value(r, rc), TOTAL, TOTAL)] = f.cell(TOTAL, rc)
        last = words.variable(chars[-1])
        for c in chars:
            f = frequency(sub, words, c, False, threshold)
            for cc in f.counts.columns:
                out[(last, "N", words.variable(c), words.value(c, cc))] = f.n_col(cc)
        out[(last, "N", TOTAL, TOTAL)] = len(sub)
        return out

    if tdef.kind == "indicators":
        chars = list(tdef.characteristics)
        last = words.variable(chars[-1])
        totals: dict[str, Any] = {}
        for ch in chars:
            block = words.variable(ch)
            n = frequency(sub, words, ch, False, threshold)
            for g in n.counts.columns:
                out[(block, words.value(ch, g), None, "N")] = n.n_col(g)
            for ind in tdef.indicators:
                numeric = _is_number(sub[ind])
                label = words.variable(ind) + (" (gns.)" if numeric else " (andel ja)")
                groups, total = (group_means(sub, words, ch, ind, weighted, threshold) if numeric else
                                 group_shares(sub, words, ch, ind, "ja", weighted, threshold))
                # a mean prints to one decimal, or as a whole percent when the file says `percent`
                as_print = printed_share if tdef.indicator_as.get(ind) == "percent" else printed_mean

                def shown(v: Any, numeric: bool = numeric, as_print: Any = as_print) -> Any:
                    return as_print(v) if numeric and isinstance(v, float) else v

                for g in n.counts.columns:
                    out[(block, words.value(ch, g), None, label)] = shown(groups.get(g))
                totals[label] = shown(total[TOTAL])
        out[(last, TOTAL, None, "N")] = len(sub)
        for label, value in totals.items():
            out[(last, TOTAL, None, label)] = value
        return out

    if tdef.kind == "representativeness":
        assert population is not None
        bands = words.declared("seniority_band")
        sides = {"population": "Population", "sample": "Stikprøve"}
        columns = [(side, b) for side in sides for b in (*bands, TOTAL)]
        frames = {"population": population, "sample": sub}
        n_row = None
        for var in tdef.characteristics:
            counts = {}
            for side, f in frames.items():
                f = f if var in f.columns else f.assign(**{var: f["age"].map(_age_band)})
                f = f[f[var].notna() & f["seniority_band"].notna()]
                tab = pd.crosstab(f[var], f["seniority_band"]).reindex(columns=list(bands), fill_value=0)
                tab[TOTAL] = tab.sum(axis=1)
                counts[side] = tab
            codes = words.order(var, sorted(set().union(*(set(t.index) for t in counts.values())), key=str))
            block = pd.concat({s: counts[s].reindex(codes, fill_value=0) for s in sides}, axis=1)[columns]
            shares = block / block.sum(axis=0).replace(0, np.nan)
            hidden = hide_matrix(block, threshold)
            for code in codes:
                for side, b in columns:
                    col = TOTAL if b == TOTAL else words.value("seniority_band", b)
                    out[(words.variable(var), words.value(var, code), sides[side], col)] = \
                        HIDDEN if hidden.at[code, (side, b)] else (None if pd.isna(v := shares.at[code, (side, b)])
                                                                  else printed_share(v))
            if n_row is None:
                n_row = block.sum(axis=0)
        assert n_row is not None
        n_hidden = hide_line(n_row, threshold)
        for side, b in columns:
            col = TOTAL if b == TOTAL else words.value("seniority_band", b)
            out[(words.variable(tdef.characteristics[-1]), "N", sides[side], col)] = \
                HIDDEN if n_hidden[(side, b)] else int(n_row[(side, b)])
        return out
    raise AssertionError(f"no oracle for kind {tdef.kind}")


def _is_number(series: pd.Series) -> bool:
    vals = series.dropna()
    return bool(len(vals)) and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                                   for v in vals)


def _age_band(age: Any) -> Any:
    if _missing(age):
        return None
    return "<40" if age < 40 else "40-49" if age < 50 else "50-59" if age < 60 else "60+"
