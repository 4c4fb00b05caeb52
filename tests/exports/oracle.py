"""Test oracle for the annex: what every cell of a table sheet must hold, computed by
calling `audit.statistics` directly (never through audit.exports), and a reader that
turns a written sheet into the same shape. Keys: (block, row label, column group,
column label); values: share 0-1, mean, count, "x" for a hidden cell, None for empty."""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

import audit.statistics as S
from audit.exports.compute import Labeller, prepare_frame, table_frame
from audit.statistics.tables import TOTAL

Key = tuple[Any, Any, Any, Any]


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


def _share(v: Any) -> float | None:
    """A percentage as the annex cell holds it: the whole percent it prints, as a fraction."""
    return None if v is None or pd.isna(v) else math.floor(float(v) + 0.5 + 1e-9) / 100.0


def _mean(v: Any) -> float:
    return math.floor(float(v) * 10 + 0.5 + 1e-9) / 10


def _n(v: Any) -> Any:
    return "x" if v is None or pd.isna(v) else int(v)


def expected_sheet(tdef: Any, frame: pd.DataFrame, spec: Any, instrument: Any, suppress: bool = True,
                   population: pd.DataFrame | None = None) -> dict[Key, Any]:
    lab = Labeller(spec, instrument, tdef.filter, orders=frame.attrs.get("orders"))
    sub = table_frame(tdef, prepare_frame(frame, spec))
    min_cell = spec.min_cell if suppress and tdef.suppress else None
    weighted = tdef.weighting == "design"

    def fin(t: S.Table) -> S.Table:
        return S.suppress(t, min_cell, frame=sub) if min_cell else t

    def codes(*names: str) -> dict[str, list[str]]:
        return {n: lab.order(n) for n in names if lab.order(n)}

    def hidden(t: S.Table, r: Any, c: Any) -> bool:
        if t.suppressed is not None and bool(t.suppressed.at[r, c]):
            return True
        # a weighted share withheld for a small domain prints "x" too (the count itself shows)
        return bool(weighted and t.weighted is not None and t.percents is not None
                    and pd.isna(t.weighted["share"].at[r, c]) and not pd.isna(t.percents.at[r, c]))

    def shares(t: S.Table) -> pd.DataFrame:
        return t.weighted["share"] if weighted else t.percents

    out: dict[Key, Any] = {}
    if tdef.kind == "frequency":
        var = tdef.rows[0]
        t = fin(S.frequency(sub, var, weighted=weighted, codes=codes(var)))
        share_label = "Andel (vægtet)" if weighted else "Andel"
        for c in t.counts.columns:
            x = hidden(t, TOTAL, c)
            out[(None, lab.value(var, str(c)), None, "Antal")] = "x" if x else int(t.counts.at[TOTAL, c])
            out[(None, lab.value(var, str(c)), None, share_label)] = "x" if x else _share(shares(t).at[TOTAL, c])
        out[(None, "I alt (N)", None, "Antal")] = int(t.n_total)
        out[(None, "I alt (N)", None, share_label)] = None
        return out

    if tdef.kind in ("crosstab", "breakdown"):
        blocks = not (tdef.kind == "crosstab" and len(tdef.rows) == 1)
        for r in tdef.rows:
            block = lab.variable(r) if blocks else None
            for c in tdef.cols:
                t = fin(S.crosstab(sub, r, c, percent=tdef.percent, weighted=weighted, test=False,
                                   codes=codes(r, c)))
                group = lab.variable(c)
                for rc in t.counts.index:
                    for cc in t.counts.columns:
                        out[(block, lab.value(r, str(rc)), group, lab.value(c, str(cc)))] = \
                            "x" if hidden(t, rc, cc) else _share(shares(t).at[rc, cc])
                    if tdef.percent == "row":
                        out[(block, lab.value(r, str(rc)), group, "N")] = _n(t.n_rows[rc])
                if tdef.percent == "col":
                    for cc in t.counts.columns:
                        out[(block, "N", group, lab.value(c, str(cc)))] = _n(t.n_cols[cc])
        return out

    if tdef.kind == "matrix":
        chars = list(tdef.characteristics)
        order = {c: [str(x) for x in S.frequency(sub, c, codes=codes(c)).counts.columns] for c in chars}
        for r in chars:
            block = lab.variable(r)
            f = fin(S.frequency(sub, r, weighted=weighted, codes={r: order[r]}))
            for c in chars:
                t = fin(S.crosstab(sub, r, c, percent="col", weighted=weighted, test=False,
                                   codes={r: order[r], c: order[c]}))
                for rc in t.counts.index:
                    for cc in t.counts.columns:
                        out[(block, lab.value(r, str(rc)), lab.variable(c), lab.value(c, str(cc)))] = \
                            "x" if hidden(t, rc, cc) else _share(shares(t).at[rc, cc])
            for rc in f.counts.columns:
                out[(block, lab.value(r, str(rc)), TOTAL, TOTAL)] = \
                    "x" if hidden(f, TOTAL, rc) else _share(shares(f).at[TOTAL, rc])
        last = lab.variable(chars[-1])
        for c in chars:
            f = fin(S.frequency(sub, c, codes={c: order[c]}))
            for cc in f.counts.columns:
                out[(last, "N", lab.variable(c), lab.value(c, str(cc)))] = _n(f.counts.at[TOTAL, cc])
        out[(last, "N", TOTAL, TOTAL)] = len(sub)
        return out

    if tdef.kind == "indicators":
        chars = list(tdef.characteristics)
        tables: dict[tuple[str, str], S.Table] = {}
        for ch in chars:
            block = lab.variable(ch)
            n = fin(S.frequency(sub, ch, codes=codes(ch)))
            for ind in tdef.indicators:
                tables[(ch, ind)] = fin(S.frequency(sub, ind, ch, weighted=weighted, codes=codes(ch)))
            for g in n.counts.columns:
                row = (block, lab.value(ch, str(g)))
                out[row + (None, "N")] = _n(n.counts.at[TOTAL, g])
                for ind in tdef.indicators:
                    out[row + (None, _indicator_label(lab, ind, tables[(ch, ind)]))] = \
                        _indicator_value(tables[(ch, ind)], g, weighted)
        last = lab.variable(chars[-1])
        out[(last, TOTAL, None, "N")] = len(sub)
        for ind in tdef.indicators:
            t = tables[(chars[-1], ind)]
            out[(last, TOTAL, None, _indicator_label(lab, ind, t))] = _indicator_value(t, TOTAL, weighted)
        return out
    if tdef.kind == "representativeness":
        from audit.sampling.representativeness import SIDES, representativeness

        bands = lab.order("seniority_band")
        groups = dict(SIDES)
        for var in tdef.characteristics:
            t = fin(representativeness(population, sub, bands, variables=[var]))
            for key in t.counts.index:
                for side, band in t.counts.columns:
                    col = TOTAL if band == TOTAL else f"{band} år"
                    out[(lab.variable(var), lab.value(var, key[1]), groups[side], col)] = \
                        "x" if hidden(t, key, (side, band)) else _share(t.percents.at[key, (side, band)])
        n = fin(representativeness(population, sub, bands, variables=[tdef.characteristics[0]])).n_cols
        for side, band in n.index:
            col = TOTAL if band == TOTAL else f"{band} år"
            out[(lab.variable(tdef.characteristics[-1]), "N", groups[side], col)] = _n(n[(side, band)])
        return out
    raise AssertionError(f"no oracle for kind {tdef.kind}")


def expected_annex(frame: pd.DataFrame, spec: Any, instrument: Any, suppress: bool = True,
                   population: pd.DataFrame | None = None) -> dict[str, dict[Key, Any]]:
    """expected_sheet of every table, suppressed as one publication as the annex is: a count
    hidden in one table is hidden wherever it prints (the hiding decisions come from
    audit.statistics.suppression; tests/statistics check them with an attacker of their own)."""
    from audit.statistics.suppression import labelled, protected

    def build(pub: Any) -> dict[str, dict[Key, Any]]:
        out = {}
        for tdef in spec.tables:
            with labelled(pub, tdef.id):
                out[tdef.id] = expected_sheet(tdef, frame, spec, instrument, suppress=suppress, population=population)
        return out

    return protected(build, spec.min_cell)[0] if suppress else build(None)


def _indicator_label(lab: Labeller, ind: str, t: S.Table) -> str:
    return lab.variable(ind) + (" (gns.)" if t.kind == "numeric" else " (andel ja)")


def _indicator_value(t: S.Table, g: Any, weighted: bool) -> Any:
    if g not in t.counts.index:
        return None
    if t.kind == "numeric":
        if t.suppressed is not None and bool(t.suppressed.at[g, "mean"]):
            return "x"
        v = t.weighted["share"].at[g, "mean"] if weighted else t.counts.at[g, "mean"]
        return None if pd.isna(v) else _mean(v)
    if "ja" not in t.counts.columns:
        return 0.0
    if t.suppressed is not None and bool(t.suppressed.at[g, "ja"]):
        return "x"
    return _share((t.weighted["share"] if weighted else t.percents).at[g, "ja"])


def assert_sheet_matches(ws: Any, lay: Any, expected: dict[Key, Any]) -> int:
    """Every cell equal (floats to 1e-9); returns the number of cells compared."""
    got = read_sheet(ws, lay)
    assert set(got) == set(expected), (ws.title, sorted(set(got) ^ set(expected), key=str)[:10])
    for key, want in expected.items():
        have = got[key]
        if isinstance(want, float) and not isinstance(have, str) and have is not None:
            assert math.isclose(have, want, rel_tol=0, abs_tol=1e-9), (ws.title, key, have, want)
        else:
            assert have == want, (ws.title, key, have, want)
    return len(expected)
