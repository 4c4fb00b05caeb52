"""What an attacker can learn from published tables, by linear programming.

Every count a table publishes (a cell, the N of a row or column, the total) is a
*figure*. The tables' structure ties figures together in *lines*: the cells of a row and
the row's N, the cells of a column and its N, the rows' N and the total, the groups of a
breakdown and its 'I alt' row. Each line gives the attacker facts that hold in the data:
every child is at most its parent (a cell counts a subset of its row's cases), and the
children sum to the parent (single choice), to at least it (a multiple-choice line, where
a case counts under each of its codes) or to at most it (a group variable that may be
missing). Figures of different tables that count exactly the same cases (Table 13's r x c
and c x r blocks, the N of a municipality in two tables by municipality, a frequency and
the 'I alt' row of a breakdown) are one and the same unknown.

Given everything visible, the attacker's knowledge of a hidden figure is the interval
[min, max] of that figure over all non-negative solutions of these facts: two linear
programs per hidden figure, per connected group of hidden figures (HiGHS through highspy:
one model per group, built once and re-solved warm for each objective, `_Program`). This is the audit of cell suppression of Cox (1980) and of
Hundepool et al., "Statistical Disclosure Control" (Wiley 2012), ch. 4; the relaxation
to real numbers only widens the intervals of integer solutions when a line is not a
plain sum, and the facts above are all an attacker can read from the tables' layout.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import highspy

from audit.statistics.tables import TOTAL, Table

Where = tuple  # ("cell", r, c) | ("row", r) | ("col", c) | ("total",)


@dataclass
class Layout:
    """The figures of one table and the lines that tie them.

    `figures` maps each place a count is printed to a local name; places that print the
    same count (a frequency's column N and its 'I alt' cell) share a name. `lines` are
    (parent, children, covering): covering when every case of the parent is in a child."""
    figures: dict[Where, Hashable] = field(default_factory=dict)
    values: dict[Hashable, int] = field(default_factory=dict)
    lines: list[tuple[Hashable, list[Hashable], bool]] = field(default_factory=list)
    totals: set[Hashable] = field(default_factory=set)   # grand totals: hidden last
    margins: set[Hashable] = field(default_factory=set)  # row and column N's: hidden after cells
    sets: dict[Hashable, np.ndarray] = field(default_factory=dict)  # local name -> case ids (linking)


def _int(v: Any) -> int | None:
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    f = float(v)
    return int(round(f)) if abs(f - round(f)) < 1e-9 else None


def _add(lay: Layout, where: Where, name: Hashable, value: Any) -> None:
    v = _int(value)
    if v is None:
        return
    lay.figures[where] = name
    lay.values[name] = v


def _line(lay: Layout, parent: Where, children: Sequence[Where], covering: bool) -> None:
    if parent not in lay.figures:
        return
    kids = [lay.figures[c] for c in children if c in lay.figures]
    if kids:
        lay.lines.append((lay.figures[parent], kids, covering))


def layout(t: Table) -> Layout:
    """The figures and lines of a computed (not yet suppressed) table."""
    lay = Layout()
    idx, cols = list(t.counts.index), list(t.counts.columns)
    multi_rows = isinstance(t.counts.index, pd.MultiIndex)
    multi_cols = isinstance(t.counts.columns, pd.MultiIndex)
    if t.kind in ("numeric", "indicator"):
        _row_n_layout(lay, t, idx, multi_rows)
        return lay
    if multi_rows and multi_cols and any(c[1] == TOTAL for c in cols):
        _representativeness_layout(lay, t, idx, cols)
    elif multi_rows and multi_cols:
        _matrix_layout(lay, t, idx, cols)
    elif t.total_label is not None and t.total_label in idx:
        _frequency_layout(lay, t, idx, cols)
    else:
        _crosstab_layout(lay, t, idx, cols)
    return lay


def _cells(lay: Layout, t: Table, idx: list[Any], cols: list[Any]) -> None:
    values = t.counts.to_numpy(dtype=object)  # (not .at per cell: a table of municipalities has thousands)
    for i, r in enumerate(idx):
        for j, c in enumerate(cols):
            _add(lay, ("cell", r, c), ("cell", r, c), values[i, j])


def _crosstab_layout(lay: Layout, t: Table, idx: list[Any], cols: list[Any]) -> None:
    _cells(lay, t, idx, cols)
    if t.n_rows is not None:
        for r in idx:
            _add(lay, ("row", r), ("row", r), t.n_rows.get(r))
            lay.margins.add(("row", r))
    if t.n_cols is not None:
        for c in cols:
            _add(lay, ("col", c), ("col", c), t.n_cols.get(c))
            lay.margins.add(("col", c))
    _add(lay, ("total",), ("total",), t.n_total)
    lay.totals.add(("total",))
    for r in idx:
        _line(lay, ("row", r), [("cell", r, c) for c in cols], True)
    for c in cols:
        _line(lay, ("col", c), [("cell", r, c) for r in idx], True)
    _line(lay, ("total",), [("row", r) for r in idx], True)
    _line(lay, ("total",), [("col", c) for c in cols], True)


def _frequency_layout(lay: Layout, t: Table, idx: list[Any], cols: list[Any]) -> None:
    T = t.total_label
    groups = [r for r in idx if r != T]
    _cells(lay, t, idx, cols)
    for c in cols:  # the column N is the 'I alt' cell: the cases with that answer
        if ("cell", T, c) in lay.figures:
            lay.figures[("col", c)] = ("cell", T, c)
    if t.n_rows is not None:
        for r in idx:
            _add(lay, ("row", r), ("row", r), t.n_rows.get(r))
            lay.margins.add(("row", r))
    if ("row", T) in lay.figures:
        lay.figures[("total",)] = ("row", T)
        lay.totals.add(("row", T))
    else:
        _add(lay, ("total",), ("total",), t.n_total)
        lay.totals.add(("total",))
    for r in idx:
        _line(lay, ("row", r), [("cell", r, c) for c in cols], True)
    for c in cols:
        _line(lay, ("cell", T, c), [("cell", g, c) for g in groups], False)
    _line(lay, ("total",), [("row", g) for g in groups], False)


def _blocks(keys: list[Any]) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = {}
    for k in keys:
        out.setdefault(k[0], []).append(k)
    return out


def _matrix_layout(lay: Layout, t: Table, idx: list[Any], cols: list[Any]) -> None:
    """Table 13: every characteristic (variable, code) against every other; a row's N and
    a column's N are the cases having that code (the diagonal of its own block)."""
    _cells(lay, t, idx, cols)
    for keys, ns, kind in ((idx, t.n_rows, "row"), (cols, t.n_cols, "col")):
        if ns is None:
            continue
        for k in keys:
            diag = ("cell", k, k)
            if diag in lay.figures and _int(ns.get(k)) == lay.values[lay.figures[diag]]:
                lay.figures[(kind, k)] = lay.figures[diag]
            else:
                _add(lay, (kind, k), (kind, k), ns.get(k))
            if (kind, k) in lay.figures:
                lay.margins.add(lay.figures[(kind, k)])
    _add(lay, ("total",), ("total",), t.n_total)
    lay.totals.add(("total",))
    rb, cb = _blocks(idx), _blocks(cols)
    for rkeys in rb.values():
        for ckeys in cb.values():
            for r in rkeys:
                _line(lay, ("row", r), [("cell", r, c) for c in ckeys], False)
            for c in ckeys:
                _line(lay, ("col", c), [("cell", r, c) for r in rkeys], False)
        _line(lay, ("total",), [("row", r) for r in rkeys], False)
    for ckeys in cb.values():
        _line(lay, ("total",), [("col", c) for c in ckeys], False)


def _representativeness_layout(lay: Layout, t: Table, idx: list[Any], cols: list[Any]) -> None:
    """Table 12: (variable, code) x (side, band | 'I alt'); the 'I alt' column of a side
    sums its bands, the column N sums each variable's codes."""
    _cells(lay, t, idx, cols)
    if t.n_cols is not None:
        for c in cols:
            _add(lay, ("col", c), ("col", c), t.n_cols.get(c))
            lay.margins.add(("col", c))
    sides: dict[Any, list[Any]] = {}
    for c in cols:
        sides.setdefault(c[0], []).append(c)
    for side, scols in sides.items():
        total_col = next((c for c in scols if c[1] == TOTAL), None)
        bands = [c for c in scols if c[1] != TOTAL]
        if total_col is None:
            continue
        lay.totals.add(("col", total_col))
        for r in idx:
            _line(lay, ("cell", r, total_col), [("cell", r, c) for c in bands], True)
        _line(lay, ("col", total_col), [("col", c) for c in bands], True)
    for rkeys in _blocks(idx).values():
        for c in cols:
            _line(lay, ("col", c), [("cell", r, c) for r in rkeys], True)


def _row_n_layout(lay: Layout, t: Table, idx: list[Any], multi: bool) -> None:
    """Means and indicator tables publish an N per row; the groups' N sit under the total."""
    if t.n_rows is None:
        return
    for r in idx:
        _add(lay, ("row", r), ("row", r), t.n_rows.get(r))
    T = t.total_label
    if multi:
        total = next((r for r in idx if r[0] == TOTAL), None)
        if total is not None:
            lay.totals.add(("row", total))
            for block, keys in _blocks([r for r in idx if r != total]).items():
                _line(lay, ("row", total), [("row", r) for r in keys], False)
    elif T is not None and T in idx:
        lay.totals.add(("row", T))
        _line(lay, ("row", T), [("row", r) for r in idx if r != T], False)


# ----------------------------------------------------------------------------- what a figure counts
Condition = tuple  # (variable identity, code) or (variable identity, frozenset of codes): has one of them


def definitions(t: Table, frame: pd.DataFrame, lay: Layout, kinds: Mapping[str, str] | None = None,
                masks: dict[Where, np.ndarray] | None = None) -> dict[Hashable, Hashable] | None:
    """A name for each figure that says what it counts: the cases of the table's frame (by
    index label, which filtered sub-frames keep) that meet its conditions (row code, column
    code, the other variable present). Figures of different tables with the same name are
    the same count, and a reader of both knows it. A condition every case of the frame
    meets (a register variable everyone has) is left out of the name. Each variable is
    named with a digest of its values, so a variable blanked outside a filter (a weighted
    annex table) is not taken for the whole one. None when the table's shape is not one
    rebuilt here, or a rebuilt count differs from the printed one: the table is then
    audited on its own. `masks` receives the cases of each figure (by position in the frame)."""
    from audit.statistics import crosstabs as X

    ids = frame.index.to_numpy()
    if not pd.Index(ids).is_unique:
        return None
    n = len(frame)
    everyone = np.ones(n, dtype=bool)
    prepared: dict[tuple[str, bool], tuple[pd.Series, str, Hashable]] = {}

    def var(name: str | None, band: bool = True) -> tuple[pd.Series, str, Hashable]:
        if name is None or name not in frame.columns:
            raise KeyError(name)
        if (name, band) not in prepared:
            s, k = X.prepared(frame, name, kinds, band=band)
            s = pd.Series(s.to_numpy(), dtype=s.dtype)  # without the frame's attrs, copied on every operation
            digest = hashlib.blake2b("\x1f".join(map(repr, s.tolist())).encode(), digest_size=12).hexdigest()
            prepared[(name, band)] = (s, k, (name, k, digest))
        return prepared[(name, band)]

    memo: dict[tuple[str | None, bool, Any], tuple[Condition, np.ndarray]] = {}
    factors: dict[tuple[str | None, bool], tuple[np.ndarray, dict[Any, int]]] = {}
    several: dict[tuple[str | None, bool], X.Indicators] = {}

    def has(name: str | None, band: bool, value: Any) -> np.ndarray:
        """The cases whose `name` is `value` (a multiple-choice item: among its codes); a
        single-choice variable is factorised once and each code read off its positions."""
        s, k, _ = var(name, band)
        if k == "multiple":   # the cases read once for all the item's codes
            if (name, band) not in several:
                several[(name, band)] = X.Indicators(s, k)
            return several[(name, band)](value)
        if (name, band) not in factors:
            codes, uniques = pd.factorize(s, use_na_sentinel=True)
            factors[(name, band)] = (np.asarray(codes), {u: i for i, u in enumerate(uniques)})
        codes, where = factors[(name, band)]
        try:
            i = where.get(value)
        except TypeError:  # an unhashable code: compared the slow way
            return X._indicator(s, k, value).astype(bool)
        return codes == i if i is not None else np.zeros(n, dtype=bool)

    def code(name: str | None, value: Any, band: bool = True) -> tuple[Condition, np.ndarray]:
        key = (name, band, value)  # a row's code is asked for once per column: computed once
        if key not in memo:
            s, k, ident = var(name, band)
            if k == "numeric":
                raise KeyError(name)
            memo[key] = ((ident, value), has(name, band, value))
        return memo[key]

    def present(name: str | None, codes: Iterable[Any], band: bool = True) -> tuple[Condition, np.ndarray]:
        s, k, ident = var(name, band)
        m = np.zeros(n, dtype=bool)
        seen = []
        for c in codes:
            cm = has(name, band, c)
            if cm.any():
                seen.append(c)
            m |= cm
        return (ident, frozenset(map(repr, seen))), m

    def number(name: str | None) -> tuple[Condition, np.ndarray]:
        s, _, ident = var(name, band=False)
        m = pd.to_numeric(pd.Series(s.to_numpy()), errors="coerce").notna().to_numpy()
        return (ident, "number"), m

    defs: dict[Where, list[tuple[Condition, np.ndarray]]] = {}
    idx, cols = list(t.counts.index), list(t.counts.columns)
    try:
        if t.kind == "numeric":
            have = number(t.col_var)
            for r in idx:
                defs[("row", r)] = [have] if r == t.total_label else [code(t.row_var, r), have]
        elif t.kind == "indicator":
            for r in idx:
                defs[("row", r)] = [] if r[0] == TOTAL else [code(r[0], r[1])]
        elif isinstance(t.counts.index, pd.MultiIndex) and isinstance(t.counts.columns, pd.MultiIndex):
            if any(c[1] == TOTAL for c in cols):
                return None  # Table 12 counts the register population too: audited on its own
            from audit.statistics import variables as V

            frame = V.with_derived(frame)
            for r in idx:
                for c in cols:
                    defs[("cell", r, c)] = [code(r[0], r[1]), code(c[0], c[1])]
                defs[("row", r)] = [code(r[0], r[1])]
            for c in cols:
                defs[("col", c)] = [code(c[0], c[1])]
            defs[("total",)] = []
        elif t.total_label is not None and t.total_label in idx:
            T = t.total_label
            have = present(t.col_var, cols, band=False)
            for r in idx:
                group = [] if r == T else [code(t.row_var, r)]
                for c in cols:
                    defs[("cell", r, c)] = group + [code(t.col_var, c, band=False)]
                defs[("row", r)] = group + [have]
            for c in cols:
                defs[("col", c)] = defs[("cell", T, c)]
            defs[("total",)] = [have]
        else:
            pr, pc = present(t.row_var, idx), present(t.col_var, cols)
            for r in idx:
                for c in cols:
                    defs[("cell", r, c)] = [code(t.row_var, r), code(t.col_var, c)]
                defs[("row", r)] = [code(t.row_var, r), pc]
            for c in cols:
                defs[("col", c)] = [code(t.col_var, c), pr]
            defs[("total",)] = [pr, pc]
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    domain = hashlib.blake2b("\x1f".join(sorted(map(str, ids))).encode(), digest_size=12).hexdigest()
    out: dict[Hashable, Hashable] = {}
    for where, name in lay.figures.items():
        conds = defs.get(where)
        if conds is None:
            return None
        m = everyone.copy()
        for _, cm in conds:
            m &= cm
        if int(m.sum()) != lay.values[name]:
            return None
        if masks is not None:
            masks[where] = m
        coded = {c[0] for c, _ in conds if not isinstance(c[1], frozenset) and c[1] != "number"}
        kept = frozenset(c for c, cm in conds
                         if not cm.all() and not (isinstance(c[1], frozenset) and c[0] in coded))
        key = ("counts", domain, kept)
        if name in out and out[name] != key:
            return None
        out[name] = key
    return out


# ----------------------------------------------------------------------------- the linear programs
@dataclass(frozen=True)
class Relation:
    """sum(coef * figure) <= 0 (sense 'le') or == 0 (sense 'eq')."""
    terms: tuple[tuple[Hashable, int], ...]
    sense: str


def relations(lines: Iterable[tuple[Hashable, list[Hashable], bool]], values: Mapping[Hashable, int]
              ) -> set[Relation]:
    """The facts each line gives, all true of the data: child <= parent, and the children's
    sum equal to, at least (covering or multiple choice) or at most the parent."""
    out: set[Relation] = set()
    for parent, children, _covering in lines:
        kids = [k for k in dict.fromkeys(children) if k != parent]
        if not kids:
            continue
        vp = values[parent]
        s = sum(values[k] for k in kids)
        if s != vp:  # (an exact sum already bounds each child by the parent)
            for k in kids:
                if values[k] <= vp:
                    out.add(Relation(((k, 1), (parent, -1)), "le"))
        terms = tuple(sorted([(k, 1) for k in kids], key=canonical)) + ((parent, -1),)
        if s == vp:
            out.add(Relation(terms, "eq"))
        elif s > vp:
            out.add(Relation(tuple((k, -c) for k, c in terms), "le"))
        else:
            out.add(Relation(terms, "le"))
    return out


_CANONICAL: dict[int, tuple[Any, str]] = {}  # id -> (the object, kept alive; its text)
_CANONICAL_MAX = 1 << 17


def canonical(k: Any) -> str:
    """A figure's name (or a relation's terms) as text independent of the interpreter's hash
    order: a frozenset prints its members in hash order, which changes with PYTHONHASHSEED.
    Every ordering and tie-break of the audit uses it, so the same data always hides the same
    cells (two downloads hiding different cells would together give hidden counts away).
    The same name objects are sorted again and again in a publication's audit: their text is
    kept by identity (not equality: 1 and 1.0 are equal but print differently)."""
    if isinstance(k, (tuple, frozenset, Relation)):
        hit = _CANONICAL.get(id(k))
        if hit is not None and hit[0] is k:
            return hit[1]
        text = _canonical(k)
        if len(_CANONICAL) >= _CANONICAL_MAX:
            _CANONICAL.clear()
        _CANONICAL[id(k)] = (k, text)
        return text
    return _canonical(k)


def _canonical(k: Any) -> str:
    if isinstance(k, (frozenset, set)):
        return "{" + ",".join(sorted(canonical(x) for x in k)) + "}"
    if isinstance(k, tuple):
        return "(" + ",".join(canonical(x) for x in k) + ")"
    if isinstance(k, Relation):
        return canonical((k.terms, k.sense))
    return repr(k)


@dataclass
class Interval:
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


def intervals(rels: Iterable[Relation], values: Mapping[Hashable, int], hidden: set[Hashable],
              keys: Iterable[Hashable] | None = None, width: float | None = None) -> dict[Hashable, Interval]:
    """The attacker's interval of every hidden figure (or of `keys`, and of the hidden
    figures linked to them): min and max over non-negative solutions of the relations with
    every visible figure at its value.

    With `width`, a figure is only solved for until some solutions found on the way (the
    true one included) already lie `width` apart: its interval is then an inner bound of
    the attacker's, wide enough to protect it, at a fraction of the linear programs."""
    rels = sorted(rels, key=canonical)  # a set's order follows the hash seed; the LPs must not
    by_key: dict[Hashable, list[int]] = defaultdict(list)
    for i, r in enumerate(rels):
        for k, _ in r.terms:
            if k in hidden:
                by_key[k].append(i)
    wanted = set(hidden) if keys is None else set(keys) & set(hidden)
    done: set[Hashable] = set()
    out: dict[Hashable, Interval] = {}
    for start in sorted(wanted, key=canonical):
        if start in done:
            continue
        comp, rel_ids = _component(start, by_key, rels, hidden)
        done |= comp
        out.update(_solve(sorted(comp, key=canonical), [rels[i] for i in sorted(rel_ids)], values, hidden, width))
    return out


def _component(start: Hashable, by_key: Mapping[Hashable, list[int]], rels: list[Relation],
               hidden: set[Hashable]) -> tuple[set[Hashable], set[int]]:
    comp, rel_ids, todo = {start}, set(), [start]
    while todo:
        k = todo.pop()
        for i in by_key.get(k, ()):
            if i in rel_ids:
                continue
            rel_ids.add(i)
            for k2, _ in rels[i].terms:
                if k2 in hidden and k2 not in comp:
                    comp.add(k2)
                    todo.append(k2)
    return comp, rel_ids


_BANNER = threading.Lock()
_BANNER_SHOWN = False


def _highs() -> highspy.Highs:
    """A silent HiGHS instance. highspy prints its banner on the process's standard output the
    first time one is made, before it can be told to be quiet; a command's output (CSV on
    stdout, say) must not carry it, so that first construction writes to /dev/null."""
    global _BANNER_SHOWN
    with _BANNER:
        if _BANNER_SHOWN:
            h = highspy.Highs()
        else:
            try:
                saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
            except OSError:
                saved = null = -1
            try:
                if saved >= 0:
                    os.dup2(null, 1)
                h = highspy.Highs()
            finally:
                if saved >= 0:
                    os.dup2(saved, 1)
                    os.close(saved)
                    os.close(null)
            _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    h.setOptionValue("presolve", "off")  # re-solved warm from the last basis: presolve would discard it
    return h


class _Program:
    """The attacker's linear program over one group of hidden figures: the model is built once
    and solved for one objective after another, each warm-started from the last basis (the
    facts do not change, only which figure is pushed up or down)."""

    def __init__(self, n: int, rows: list[tuple[dict[int, float], float, str]]) -> None:
        self.n = n
        self.h = _highs()
        inf = highspy.kHighsInf
        self.h.addVars(n, np.zeros(n), np.full(n, inf))
        if rows:
            starts, index, value, lower, upper = [], [], [], [], []
            for coefs, rhs, sense in rows:
                starts.append(len(index))
                for j in sorted(coefs):
                    index.append(j)
                    value.append(coefs[j])
                lower.append(rhs if sense == "eq" else -inf)
                upper.append(rhs)
            self.h.addRows(len(rows), np.array(lower), np.array(upper), len(index), np.array(starts, dtype=np.int32),
                           np.array(index, dtype=np.int32), np.array(value, dtype=float))
        self.cols = np.arange(n, dtype=np.int32)
        self.cost = np.zeros(n)
        self.checked = False

    def extreme(self, j: int, sign: float) -> np.ndarray | None:
        """A solution minimising sign * x_j; None when x_j is unbounded that way (above)."""
        self.cost[:] = 0.0
        self.cost[j] = sign
        self.h.changeColsCost(self.n, self.cols, self.cost)
        self.h.run()
        status = self.h.getModelStatus()
        S = highspy.HighsModelStatus
        if status == S.kOptimal:
            self.checked = True
            return np.asarray(self.h.getSolution().col_value, dtype=float)
        if status == S.kInfeasible or (status == S.kUnboundedOrInfeasible and not self.checked):
            if status == S.kUnboundedOrInfeasible and self._feasible():
                return None
            raise RuntimeError("disclosure audit: the published figures contradict each other")
        if status in (S.kUnbounded, S.kUnboundedOrInfeasible):
            return None
        raise RuntimeError(f"disclosure audit: no solution ({self.h.modelStatusToString(status)})")

    def _feasible(self) -> bool:
        self.cost[:] = 0.0
        self.h.changeColsCost(self.n, self.cols, self.cost)
        self.h.run()
        self.checked = self.h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        return self.checked


def _solve(keys: list[Hashable], rels: list[Relation], values: Mapping[Hashable, int],
           hidden: set[Hashable], width: float | None = None) -> dict[Hashable, Interval]:
    pos = {k: j for j, k in enumerate(keys)}
    n = len(keys)
    if not rels:
        return {k: Interval(0.0, float("inf")) for k in keys}
    rows: list[tuple[dict[int, float], float, str]] = []
    for r in rels:
        coefs: dict[int, float] = {}
        const = 0.0
        for k, c in r.terms:
            if k in hidden:
                coefs[pos[k]] = coefs.get(pos[k], 0.0) + c
            else:
                const += c * values[k]
        coefs = {j: c for j, c in coefs.items() if c != 0}
        if coefs:
            rows.append((coefs, -const, r.sense))
    if not rows:
        return {k: Interval(0.0, float("inf")) for k in keys}
    program = _Program(n, rows)
    true = np.array([float(values[k]) for k in keys])
    lo, hi = true.copy(), true.copy()  # range of each figure over the solutions seen so far

    def enough(j: int) -> bool:
        return width is not None and hi[j] - lo[j] >= width - 1e-7

    for j, k in enumerate(keys):
        for sign in (-1.0, 1.0):  # maximise, then minimise
            if enough(j):
                break
            try:
                x = program.extreme(j, sign)
            except RuntimeError as exc:
                raise RuntimeError(f"{exc} around {k!r}") from None
            if x is None:  # unbounded above
                hi[j] = float("inf")
                continue
            x = np.maximum(x, 0.0)
            lo, hi = np.minimum(lo, x), np.maximum(hi, x)
    return {k: Interval(float(lo[j]), float(hi[j])) for j, k in enumerate(keys)}
