"""A small audit spread over many municipalities: the report's suppression finishes, and an
attacker written here (scipy's linprog, nothing from audit.statistics.disclosure) narrows no
hidden count of the report below the protection width.

The audit: 60 reviewed cases in 23 municipalities (a synthetic audit, answers by the
instrument's skip logic, every other case set back to 'not started'), so most municipality
counts are 1 to 3 and the suppression must hide a great deal. The attacker reads every table
the report prints as counts (frequencies, crosstabs, breakdown blocks, items, municipality
comparisons): a count is named by what it counts (the exhibit's frame and filter, and the
codes it requires), so the same count printed in two exhibits is one unknown; each table's
rows, columns and totals tie its counts together as the layout says (a sum equal to its N,
at least it for a multiple-choice item, at most it when codes are left out, read off the
unsuppressed report of the same data), every count is at least 0 and at most its N."""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog
from scipy.sparse import coo_array
from sqlmodel import Session

CASES, MUNICIPALITIES = 60, 23


@pytest.fixture
def scattered(engine, tmp_path):  # type: ignore[no-untyped-def]
    from audit.demo import build_synthetic_audit
    from audit.statistics import dataset
    from tests.statistics.scattered import scatter

    with Session(engine) as s:
        info = build_synthetic_audit(s, "Spredt", cases=294, seed=13)
        scatter(s, info["audit_id"], CASES, MUNICIPALITIES)
        s.commit()
    dataset.clear_cache()
    return info


def _domain(tdef: Any) -> Hashable:
    return (tdef.frame, tuple(sorted((k, tuple(v)) for k, v in tdef.filter.items())), tdef.filter_expr)


def _is_multiple(frame: pd.DataFrame, var: str | None) -> bool:
    if var is None or var not in frame.columns:
        return False
    return bool(frame[var].map(lambda v: isinstance(v, (tuple, list))).any())


def _value(v: Any) -> float | None:
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        return None
    return float(v)


def read_tables(grids: list[Any]) -> list[tuple[str, list[tuple[Hashable, float | None]], list[tuple[Hashable, list[Hashable]]]]]:
    """Per printed table: (exhibit, [(name, printed count)], [(parent, children)])."""
    out = []
    for g in grids:
        d = _domain(g.definition)
        for t in g.stats_tables:
            if hasattr(t, "row_codes"):  # Cells: what a sheet prints
                if getattr(t, "kind", "share") != "share":
                    continue
                R, C = t.row_var, t.col_var
                rows, cols = list(t.row_codes), list(t.col_codes)
                counts = t.counts
                n_rows, n_cols, n_total = t.n_rows, t.n_cols, t.n_total
                if C is None:  # a frequency: one column of counts over the item's N
                    figs = [((d, frozenset({(R, r)})), _value(counts[i][0])) for i, r in enumerate(rows)]
                    total = (d, frozenset({("has", R)}))
                    figs.append((total, _value(n_total)))
                    out.append((g.definition.id, figs, [(total, [f for f, _ in figs[:-1]])]))
                    continue
            elif getattr(t, "kind", None) == "crosstab" and not isinstance(t.counts.index, pd.MultiIndex) \
                    and not isinstance(t.counts.columns, pd.MultiIndex):
                R, C = t.row_var, t.col_var
                rows, cols = list(t.counts.index), list(t.counts.columns)
                counts = t.counts.to_numpy(dtype=object).tolist()
                n_rows = None if t.n_rows is None else [t.n_rows.get(r) for r in rows]
                n_cols = None if t.n_cols is None else [t.n_cols.get(c) for c in cols]
                n_total = t.n_total
            else:
                continue

            def cond(var: str, code: Any) -> tuple:
                return ("has", var) if str(code) in ("I alt", "Total") else (var, str(code))

            figs, lines = [], []
            cell = {(i, j): (d, frozenset({cond(R, r), cond(C, c)})) for i, r in enumerate(rows) for j, c in enumerate(cols)}
            rown = {i: (d, frozenset({cond(R, r), ("has", C)})) for i, r in enumerate(rows)}
            coln = {j: (d, frozenset({("has", R), cond(C, c)})) for j, c in enumerate(cols)}
            total = (d, frozenset({("has", R), ("has", C)}))
            for (i, j), name in cell.items():
                figs.append((name, _value(counts[i][j])))
            if n_rows is not None:
                figs += [(rown[i], _value(n_rows[i])) for i in rown]
                lines += [(rown[i], [cell[(i, j)] for j in range(len(cols))]) for i in rown]
            if n_cols is not None:
                figs += [(coln[j], _value(n_cols[j])) for j in coln]
                lines += [(coln[j], [cell[(i, j)] for i in range(len(rows))]) for j in coln]
            figs.append((total, _value(n_total)))
            if n_rows is not None:
                lines.append((total, [rown[i] for i in rown]))
            if n_cols is not None:
                lines.append((total, [coln[j] for j in coln]))
            out.append((g.definition.id, figs, lines))
    return out


def attack(published: list, truth: list, width: float | None) -> tuple[dict[Hashable, tuple[float, float]], int]:
    """The attacker's interval of every hidden count (and how many counts it read): exact
    without `width`; with it, an inner bound at least `width` wide where the true one is."""
    # a name that means different counts in two places (the naming above is the attacker's
    # guess) is split per exhibit: the attacker only links what is certainly the same
    values: dict[Hashable, set[float]] = defaultdict(set)
    for (_, _, _), (_, tfigs, _) in zip(published, truth):
        for name, v in tfigs:
            values[name].add(v)
    clash = {n for n, vs in values.items() if len(vs) > 1}

    def name_of(ex: str, n: Hashable) -> Hashable:
        return (ex, n) if n in clash else n

    known: dict[Hashable, float] = {}
    true: dict[Hashable, float] = {}
    printed: set[Hashable] = set()
    rels: list[tuple[dict[Hashable, float], str, Hashable]] = []  # sum(coef * x) (<=|==) 0
    for (ex, figs, lines), (_, tfigs, _) in zip(published, truth):
        assert [n for n, _ in figs] == [n for n, _ in tfigs], ex
        for (n, v), (_, tv) in zip(figs, tfigs):
            k = name_of(ex, n)
            printed.add(k)
            if tv is not None:
                true[k] = tv
            if v is not None:
                known[k] = v
        for parent, kids in lines:
            p = name_of(ex, parent)
            ks = [name_of(ex, k) for k in dict.fromkeys(kids) if k != parent]
            if p not in true or not ks or any(k not in true for k in ks):
                continue
            s, vp = sum(true[k] for k in ks), true[p]
            for k in ks:
                rels.append(({k: 1.0, p: -1.0}, "le", p))
            coefs = {k: 1.0 for k in ks}
            coefs[p] = coefs.get(p, 0.0) - 1.0
            if s == vp:
                rels.append((coefs, "eq", p))
            elif s > vp:
                rels.append(({k: -c for k, c in coefs.items()}, "le", p))
            else:
                rels.append((coefs, "le", p))
    hidden = sorted((k for k in printed if k not in known and k in true), key=repr)
    # connected groups of hidden counts: one linear program per group
    parent = {k: k for k in hidden}

    def find(k: Hashable) -> Hashable:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for coefs, _, _ in rels:
        hs = [k for k in coefs if k in parent]
        for a, b in zip(hs, hs[1:]):
            parent[find(a)] = find(b)
    groups: dict[Hashable, list[Hashable]] = defaultdict(list)
    for k in hidden:
        groups[find(k)].append(k)
    by_group: dict[Hashable, list[int]] = defaultdict(list)
    for i, (coefs, _, _) in enumerate(rels):
        hs = [k for k in coefs if k in parent]
        if hs:
            by_group[find(hs[0])].append(i)
    out: dict[Hashable, tuple[float, float]] = {}
    for root, keys in groups.items():
        pos = {k: j for j, k in enumerate(keys)}
        eq: tuple[list, list, list, list] = ([], [], [], [])  # data, row, col, rhs
        ub: tuple[list, list, list, list] = ([], [], [], [])
        for i in by_group.get(root, []):
            coefs, sense, _ = rels[i]
            target = eq if sense == "eq" else ub
            row, rhs = len(target[3]), 0.0
            for k, c in coefs.items():
                if k in pos:
                    target[0].append(c)
                    target[1].append(row)
                    target[2].append(pos[k])
                else:
                    rhs -= c * known[k]
            target[3].append(rhs)
        kw: dict[str, Any] = {"bounds": (0, None), "method": "highs"}
        for name, (data, r, c, rhs) in (("eq", eq), ("ub", ub)):
            if rhs:
                kw[f"A_{name}"] = coo_array((data, (r, c)), shape=(len(rhs), len(keys))).tocsr()
                kw[f"b_{name}"] = np.array(rhs)
        # With a width to prove, a count needs no more linear programs once two solutions seen
        # on the way (the true counts among them) lie `width` apart: the attacker's interval is
        # at least that wide. Without one, each bound is solved for.
        lo = np.array([true[k] for k in keys])
        hi = lo.copy()
        exact: dict[int, list[float]] = {}
        for k in keys:
            j = pos[k]
            for sign in (1.0, -1.0):
                if width is not None and hi[j] - lo[j] >= width - 1e-7:
                    break
                c = np.zeros(len(keys))
                c[j] = sign
                res = linprog(c, **kw)
                assert res.status != 2, f"the published counts contradict each other around {k}"
                if res.status == 3:
                    hi[j] = math.inf
                    exact.setdefault(j, [0.0, math.inf])[1] = math.inf
                    continue
                assert res.status == 0, res.message
                x = np.maximum(res.x, 0.0)
                lo, hi = np.minimum(lo, x), np.maximum(hi, x)
                exact.setdefault(j, [0.0, math.inf])[0 if sign > 0 else 1] = float(x[j])
            out[k] = (float(lo[j]), float(hi[j])) if width is not None else tuple(exact[j])
    return out, len(printed)


def test_a_small_scattered_audit_gets_a_protected_report(scattered, engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner
    from openpyxl import load_workbook

    from audit.cli import main
    from audit.exports.compute import build_grids
    from audit.exports.definitions import REPORT_FILE, load_definitions
    from audit.exports.service import load_audit_data

    # the command a person at the agency runs: it finishes and writes the protocol
    res = CliRunner().invoke(main, ["report", "build", "--audit", "Spredt", "--out", str(tmp_path / "rapport")],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert f"{CASES} " in res.output
    proto = load_workbook(tmp_path / "rapport" / "report_2022.diskretionsprotokol.xlsx", read_only=True).active
    reasons = [r[4] for r in proto.iter_rows(min_row=6, values_only=True) if r[0] is not None]
    assert len(reasons) > 100 and any(str(r).startswith("primær") for r in reasons)

    with Session(engine) as s:
        data = load_audit_data(s, "Spredt", True, actor=None, purpose="annex.xlsx")
    frame = data.frame
    assert len(frame) == CASES and frame["municipality"].nunique() == MUNICIPALITIES
    spec = load_definitions(REPORT_FILE, instrument=data.instrument)
    kw = dict(population=data.population, municipality_frame=data.municipalities)
    shown = build_grids(frame, spec, data.instrument, suppress=True, **kw)
    raw = build_grids(frame, spec, data.instrument, suppress=False, **kw)
    published, truth = read_tables(shown), read_tables(raw)
    assert [p[0] for p in published] == [t[0] for t in truth]
    width = spec.min_cell
    intervals, read = attack(published, truth, width)
    assert read > 1000 and len(intervals) > 100, (read, len(intervals))  # the report is read, much is hidden
    narrow = {k: iv for k, iv in intervals.items() if iv[1] - iv[0] < width - 1e-6}
    assert not narrow, list(narrow.items())[:10]

    # the attacker can fail: with one line's other hidden counts revealed, its last one is pinned
    for (ex, figs, lines), (_, tfigs, _) in zip(published, truth):
        tv = {n: v for n, v in tfigs}
        line = next(((p, ks) for p, ks in lines if dict(figs).get(p) is not None
                     and sum(dict(figs).get(k) is None for k in ks) >= 2
                     and all(tv.get(k) is not None for k in ks)), None)
        if line is None or sum(tv[k] for k in line[1]) != tv[line[0]]:
            continue
        last = next(k for k in line[1] if dict(figs).get(k) is None)
        leaky = [(ex, [(n, v if v is not None or n == last or n not in line[1] else tv[n]) for n, v in figs], lines)]
        pinned, _ = attack(leaky, [(ex, tfigs, lines)], None)  # exact intervals
        assert pinned[last][1] - pinned[last][0] < 1e-6, pinned[last]
        break
    else:
        pytest.fail("no line with two hidden counts to check the attacker on")
