"""Discretion: hide small counts in tables that leave the agency, so that no hidden count
can be worked out from what is published.

Rule (stated in every suppressed table's note, docs/statistics.md):
- primary: a count of 1 .. threshold-1 cases is hidden, whether a cell, the N of a row or
  column, or a table's total (default threshold 3, Settings.suppress_below). Zero cells
  are shown: a zero says that nobody in the group has the answer;
- a share whose base (the N it is a share of) is hidden is hidden, with its count;
- secondary: in every line of a table (a row or column with its N, the rows' N with the
  total, the groups of a breakdown with its 'I alt' row), a single hidden count is joined by
  the smallest other non-zero count of the line (a zero or the N only when nothing else is left);
- audit: then an attacker's linear programs (audit.statistics.disclosure) compute, for every
  hidden count, the interval it must lie in given everything published, in this table and in
  every other table published with it (an annex, one CLI call) that counts the same cases.
  Until every interval is at least the protection width wide (the threshold, unless
  `protection` says more), one more count next to a too narrow one is hidden;
- no test statistic is printed under a table with a hidden count (a chi-square pins hidden
  cells), and published shares, their standard errors and design effects are rounded to the
  precision they are printed with, in the value itself (means: by the writer that prints them).
The original Table is left untouched; the returned copy no longer holds the hidden values.
"""
from __future__ import annotations

import contextvars
import math
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from babel.support import LazyProxy

from audit.i18n import gettext, lazy_gettext
from audit.statistics.designtests import small_expected_note
from audit.statistics.disclosure import (Interval, Layout, Relation, canonical, definitions, intervals, layout,
                                         relations)
from audit.statistics.tables import Table

DEFAULT_THRESHOLD = 3
# The notes are in the reader's language (audit.i18n): the page's, and Danish in the annex.
TEST_WITHHELD = lazy_gettext("The test of association is left out because the table has hidden figures "
                             "(a test statistic could reveal them).")
T = TypeVar("T")
MARK = "x"  # how a hidden cell prints in every sheet and workbook


def note(threshold: int, protection: int | None = None) -> str:
    p = protection or threshold
    return gettext("Cells with fewer than {threshold} cases are hidden to protect confidentiality; further "
                   "figures are hidden so that no hidden figure can be narrowed to an interval narrower than "
                   "{p} from the published figures.").format(threshold=threshold, p=p)


# ----------------------------------------------------------------------------- printed precision
PRECISION = {"percent": 0, "share": 0, "se": 1, "deff": 2, "mean": 1}


def half_up(value: Any, digits: int) -> Any:
    """`value` rounded half up to `digits` decimals, as it is printed (43.5 -> 44)."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return value
    except (TypeError, ValueError):
        return value
    scale = 10.0 ** digits
    return math.floor(float(value) * scale + 0.5 + 1e-9) / scale


def _round_frame(df: pd.DataFrame, digits: int, hide: np.ndarray | None = None) -> pd.DataFrame:
    """`df` rounded half up as `half_up` rounds each value (the same floating-point steps, on
    the whole array at once), with the cells of `hide` set to NaN."""
    scale = 10.0 ** digits
    values = pd.DataFrame(df).astype(float).to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        rounded = np.floor(values * scale + 0.5 + 1e-9) / scale
    if hide is not None:
        rounded = np.where(hide, np.nan, rounded)
    return pd.DataFrame(rounded, index=df.index, columns=df.columns)


def published_share(fraction: Any) -> Any:
    """A 0-1 share as an annex cell holds it: rounded to the whole percent it prints."""
    v = half_up(None if fraction is None else float(fraction) * 100.0, PRECISION["share"])
    return None if v is None else v / 100.0


def published_mean(value: Any) -> Any:
    return half_up(value, PRECISION["mean"])


# ----------------------------------------------------------------------------- weighted figures of small domains
WEIGHTED_MIN_CASES = 30
WEIGHTED_MIN_STRATA = 5
def _thin_note() -> str:
    return gettext("Weighted figures are shown only for groups of at least {cases} cases in at least {strata} "
                   "strata: with the published stratum sizes, a weighted share in a smaller group would reveal "
                   "how many cases in each stratum gave the answer.").format(cases=WEIGHTED_MIN_CASES,
                                                                            strata=WEIGHTED_MIN_STRATA)


THIN_NOTE = LazyProxy(_thin_note, enable_cache=False)  # in the current language each time it is used


def _thin_domains(t: Table, frame: pd.DataFrame | None, masks: dict[tuple, np.ndarray]) -> frozenset[Any]:
    """Rows (columns, for column percentages) whose weighted share, SE, interval and design
    effect are withheld: a domain of fewer than WEIGHTED_MIN_CASES cases, or spread over fewer
    than WEIGHTED_MIN_STRATA strata. Its weighted share, printed to the whole percent, is a
    weighted sum of the strata's counts with weights N_h/n_h the sampling protocol publishes:
    in a small domain only one split of its cases over the strata fits it. Without the frame
    (where the cases are is unknown) every weighted figure is withheld."""
    along_rows = t.kind != "crosstab" or t.percent_base == "row"
    keys = list(t.counts.index if along_rows else t.counts.columns)
    ns = t.n_rows if along_rows else t.n_cols
    strata = frame["stratum"].to_numpy() if frame is not None and "stratum" in frame.columns else None
    out = []
    for k in keys:
        n = ns.get(k) if ns is not None else None
        cases = int(n) if n is not None and not pd.isna(n) else 0
        m = masks.get(("row", k) if along_rows else ("col", k))
        if m is None and along_rows and t.total_label is not None and k == t.total_label:
            m = masks.get(("total",))
        if strata is None or m is None:  # where its cases are is unknown: withhold
            out.append(k)
        elif cases < WEIGHTED_MIN_CASES or len(set(strata[m])) < WEIGHTED_MIN_STRATA:
            out.append(k)
    return frozenset(out)


# ----------------------------------------------------------------------------- one publication
@dataclass
class Entry:
    """A table registered with a publication: its figures under global names."""
    table: Table
    layout: Layout
    names: dict[Hashable, Hashable]  # local figure name -> global name
    label: str | None
    applied: frozenset[Hashable] = frozenset()  # local names hidden in the copy handed out
    thin: frozenset[Any] = frozenset()  # rows (or columns) whose weighted figures are withheld

    def global_of(self, where: tuple) -> Hashable | None:
        local = self.layout.figures.get(where)
        return None if local is None else self.names[local]


@dataclass
class Publication:
    """Tables published together (an annex, one command's output), suppressed together:
    a count hidden in one is hidden in every table that prints it, and the attacker's
    audit sees all of them at once."""
    threshold: int = DEFAULT_THRESHOLD
    protection: int | None = None
    hidden: set[Hashable] = field(default_factory=set)
    reasons: dict[Hashable, str] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    label: str | None = None  # names the tables added next (the annex: the table id)
    _serial: int = 0
    deferred: bool = False  # inside `protected`: a table's own suppression leaves the audit to `settled`
    _audited: frozenset[Relation] = frozenset()  # the facts the intervals in _wide were computed from
    _wide: dict[Hashable, Interval] = field(default_factory=dict)
    _known: dict[int, tuple[Any, Layout, dict[Hashable, Hashable], frozenset[Any]]] = field(default_factory=dict)
    # zeros the published figures fix at exactly 0 (e.g. every count of a few identical cases):
    # printed, never hidden, since an x the attacker reads as 0 protects nobody (`_fall_back`)
    public_zeros: set[Hashable] = field(default_factory=set)

    @property
    def width(self) -> int:
        return max(self.protection or self.threshold, 1)

    # -- registering
    def begin_pass(self) -> None:
        self.entries = []
        self._serial = 0

    def add(self, table: Table, frame: pd.DataFrame | None = None, label: str | None = None) -> Entry:
        serial = self._serial
        self._serial += 1
        # `protected` runs its build again while the suppression settles: the same table
        # computed again from the same cases keeps the layout and names found the first time
        sig = _signature(table, frame, label or self.label)
        known = self._known.get(serial)
        if known is not None and known[0] == sig:
            _, lay, names, thin = known
        else:
            lay = layout(table)
            masks: dict[tuple, np.ndarray] = {}
            defs = definitions(table, frame, lay, masks=masks) if frame is not None else None
            names = {local: defs[local] if defs is not None else ("table", serial, local) for local in lay.values}
            thin = _thin_domains(table, frame if defs is not None else None, masks) \
                if table.weighted is not None else frozenset()
            self._known[serial] = (sig, lay, names, thin)
        e = Entry(table, lay, names, label or self.label, thin=thin)
        self.entries.append(e)
        return e

    # -- deciding
    def solve(self, entries: Sequence[Entry] | None = None, audit: bool = True) -> None:
        """Hide counts in `entries` (default: all registered) until the rule holds; without
        `audit`, only the primary and secondary rules (the attacker's audit comes later, over
        the whole publication)."""
        entries = list(self.entries if entries is None else entries)
        values: dict[Hashable, int] = {}
        lines: list[tuple[Hashable, list[Hashable], bool]] = []
        totals: set[Hashable] = set()
        margins: set[Hashable] = set()
        bases: list[tuple[Hashable, Hashable]] = []  # (cell, the N its share is of)
        for e in entries:
            g = e.names
            for local, v in e.layout.values.items():
                values[g[local]] = v
            lines += [(g[p], [g[k] for k in kids], cov) for p, kids, cov in e.layout.lines]
            totals |= {g[k] for k in e.layout.totals if k in g}
            margins |= {g[k] for k in e.layout.margins if k in g}
            bases += [(g[c], g[b]) for c, b in _share_bases(e)]
        rels = relations(lines, values)
        by_key: dict[Hashable, list[Relation]] = {}
        for r in rels:
            for k, _ in r.terms:
                by_key.setdefault(k, []).append(r)
        hidden = self.hidden
        for k, v in values.items():
            if 0 < v < self.threshold and k not in hidden:
                hidden.add(k)
                self.reasons[k] = "primær"
        scope = set(values)

        zero_parents: dict[Hashable, list[Hashable]] = {}
        zero_lines: dict[Hashable, list[list[Hashable]]] = {}
        for p, kids, _ in lines:
            if values[p] == 0:
                zero_lines.setdefault(p, []).append(kids)
                for k in kids:
                    zero_parents.setdefault(k, []).append(p)

        def useless(k: Hashable) -> bool:
            """A zero that stays known when hidden: under a printed zero, or over printed zeros."""
            if values[k] != 0:
                return False
            return any(p not in hidden for p in zero_parents.get(k, ())) or \
                any(all(c not in hidden for c in kids) for kids in zero_lines.get(k, ()))

        def score(k: Hashable) -> tuple:
            v = values[k]
            return (useless(k), k in totals, v == 0, k in margins, v, canonical(k))

        if not audit:
            self._secondary(lines, bases, values, score)
            return
        # Intervals wide enough stay wide enough while more is hidden (fewer facts, wider
        # intervals), so each is computed once for the same facts: within this call, and in a
        # later call over the same tables (the next pass of `protected`, the protocol); a call
        # over other tables (other facts) starts afresh.
        key = frozenset(rels)
        if key != self._audited:
            self._audited, self._wide = key, {}
        wide = self._wide
        tables: dict[Hashable, list[Entry]] = {}  # global name -> the entries printing it
        for e in entries:
            for g in e.names.values():
                tables.setdefault(g, []).append(e)
        while True:
            self._secondary(lines, bases, values, score)
            todo = {k for k in hidden & scope if k not in wide}
            found = intervals(rels, values, hidden & scope, keys=todo, width=self.width) if todo else {}
            narrow = sorted((k for k, iv in found.items() if iv.width < self.width - 1e-7), key=canonical)
            wide.update({k: iv for k, iv in found.items() if iv.width >= self.width - 1e-7})
            if not narrow:
                return
            picked: set[Hashable] = set()
            stuck: list[Hashable] = []
            for k in narrow:
                public = self.public_zeros
                cands = {k2 for r in by_key.get(k, ()) for k2, _ in r.terms if k2 not in hidden and k2 not in public}
                if not cands:  # pinned through its neighbours: widen the neighbourhood
                    cands = {k3 for r in by_key.get(k, ()) for k2, _ in r.terms
                             for r2 in by_key.get(k2, ()) for k3, _ in r2.terms
                             if k3 not in hidden and k3 not in public}
                if not cands:
                    stuck.append(k)
                    continue
                if cands & picked:
                    continue
                best = min(cands, key=score)
                hidden.add(best)
                self.reasons[best] = "revision"
                picked.add(best)
            if not picked:
                self._fall_back(stuck, tables, by_key, values, found)

    def _fall_back(self, stuck: list[Hashable], tables: dict[Hashable, list[Entry]],
                   by_key: dict[Hashable, list[Relation]], values: dict[Hashable, int],
                   found: dict[Hashable, Interval]) -> None:
        """Every neighbour of a too narrow count is hidden and it is still pinned (through
        figures further away): hide every count of the tables that print it, then of the
        tables printing the figures tied to it, ring by ring, until something more is hidden.
        Hiding a whole table is the rule's last resort; the protocol says so for each count.

        A stuck count that is a zero the published figures fix at exactly 0 (a secondary x, never
        a primary one: a zero is no small count) is printed instead: the attacker learns nothing
        he did not know, and the note's promise holds for every x that remains. This is what a
        few identical cases (a pilot, a first look at an audit) need."""
        hidden = self.hidden
        known = [k for k in stuck if values.get(k) == 0 and found[k].high <= 1e-7
                 and self.reasons.get(k) != "primær"]
        if known:
            for k in known:
                hidden.discard(k)
                self.reasons.pop(k, None)
                self.public_zeros.add(k)
            return
        for k in stuck:
            ring, seen = {k}, {k}
            while ring:
                more = sorted({g for r in ring for e in tables.get(r, ()) for g in e.names.values()
                               if g not in hidden and g in values and g not in self.public_zeros}, key=canonical)
                if more:
                    for g in more:
                        hidden.add(g)
                        self.reasons[g] = "tabel"
                    return
                ring = {k2 for r in ring for rel in by_key.get(r, ()) for k2, _ in rel.terms} - seen
                ring |= {g for r in ring for e in tables.get(r, ()) for g in e.names.values()} - seen
                seen |= ring
        raise RuntimeError(f"suppression audit: a hidden count cannot be protected: {stuck} "
                           f"{[found[k] for k in stuck]}")

    def _secondary(self, lines: list[tuple[Hashable, list[Hashable], bool]],
                   bases: list[tuple[Hashable, Hashable]], values: dict[Hashable, int],
                   score: Callable[[Hashable], tuple]) -> None:
        hidden = self.hidden
        changed = True
        while changed:
            changed = False
            public = self.public_zeros
            for cell, base in bases:
                if base in hidden and cell not in hidden and cell not in public:
                    hidden.add(cell)
                    self.reasons.setdefault(cell, "sekundær")
                    changed = True
            for parent, kids, _ in lines:
                members = list(dict.fromkeys([parent, *kids]))
                n_hidden = sum(m in hidden for m in members)
                if n_hidden != 1 or len(members) < 2:
                    continue
                visible = [m for m in kids if m not in hidden and m not in public and not score(m)[0]]
                pool = [m for m in visible if values[m] > 0] or visible or \
                    ([parent] if parent not in hidden and parent not in public else [])
                if not pool:
                    continue
                best = min(pool, key=score)
                hidden.add(best)
                self.reasons.setdefault(best, "sekundær")
                changed = True

    # -- handing out
    def apply(self, e: Entry) -> Table:
        hidden_local = frozenset(local for local, g in e.names.items() if g in self.hidden)
        e.applied = hidden_local
        return _apply(e.table, e.layout, hidden_local, self.threshold, self.protection, e.thin)

    def settled(self) -> bool:
        """Solve over every registered table; True when no copy handed out has changed."""
        self.solve()
        return all(frozenset(local for local, g in e.names.items() if g in self.hidden) == e.applied
                   for e in self.entries)

    def protocol(self) -> list[dict[str, Any]]:
        """Every hidden count of every table: where, its value, why and the attacker's interval."""
        self.solve()
        values = {e.names[k]: v for e in self.entries for k, v in e.layout.values.items()}
        rels = relations([(e.names[p], [e.names[k] for k in kids], c) for e in self.entries
                          for p, kids, c in e.layout.lines], values)
        exact = intervals(rels, values, self.hidden & set(values))  # exact, not just wide enough
        rows = []
        for e in self.entries:
            seen: set[Hashable] = set()
            for where, local in e.layout.figures.items():
                g = e.names[local]
                if g not in self.hidden or local in seen:
                    continue
                seen.add(local)
                iv = exact.get(g, Interval(0.0, float("inf")))
                rows.append({"table": e.label or e.table.title, "title": e.table.title, "figure": _describe(where, e.table),
                             "value": e.layout.values[local], "reason": self.reasons.get(g, "sekundær"),
                             "low": iv.low, "high": iv.high, "width": iv.width, "protection": self.width})
        return rows


def _signature(t: Table, frame: pd.DataFrame | None, label: str | None) -> Any:
    """What a table's layout and figure names depend on: its printed counts and N's, its
    variables and the cases of its frame (by index label, and the frame's columns). Within one
    `protected` call the data do not change between passes, so these identify the table."""
    def seq(x: Any) -> Any:
        return None if x is None else (tuple(map(repr, x.index)), tuple(map(repr, x.to_numpy(dtype=object))))

    counts = t.counts
    return (label, t.title, t.kind, t.row_var, t.col_var, t.total_label, t.percent_base, repr(t.n_total),
            tuple(map(repr, counts.index)), tuple(map(repr, counts.columns)),
            tuple(map(repr, counts.to_numpy(dtype=object).ravel())), seq(t.n_rows), seq(t.n_cols),
            t.weighted is not None,
            None if frame is None else (len(frame), tuple(map(str, frame.columns)),
                                        hash(tuple(frame.index.tolist()))))


def _describe(where: tuple, t: Table) -> str:
    kind = where[0]
    if kind == "cell":
        return f"{t.row_var or 'række'}={where[1]} × {t.col_var or 'kolonne'}={where[2]}"
    if kind == "row":
        return f"N for {t.row_var or 'række'}={where[1]}"
    if kind == "col":
        return f"N for {t.col_var or 'kolonne'}={where[1]}"
    return "N i alt"


def _share_bases(e: Entry) -> list[tuple[Hashable, Hashable]]:
    """(cell, base) pairs: the N each printed share is a share of."""
    t, figs = e.table, e.layout.figures
    out = []
    if t.kind != "crosstab" or t.percents is None:
        return out
    for r in t.counts.index:
        for c in t.counts.columns:
            cell = figs.get(("cell", r, c))
            base = figs.get(("row", r) if t.percent_base == "row" else ("col", c))
            if cell is not None and base is not None and cell != base:
                out.append((cell, base))
    return out


def _apply(t: Table, lay: Layout, hidden: frozenset[Hashable], threshold: int, protection: int | None,
           thin: frozenset[Any] = frozenset()) -> Table:
    out = t.copy()

    def off(where: tuple) -> bool:
        local = lay.figures.get(where)
        return local is not None and local in hidden

    idx, cols = out.counts.index, out.counts.columns
    if t.kind in ("numeric", "indicator"):
        rows = np.array([off(("row", r)) for r in idx], dtype=bool)
        mask = pd.DataFrame(np.repeat(rows[:, None], len(cols), axis=1), index=idx, columns=cols)
        out.suppressed = mask
        # (a mean's printed precision is the writer's: one decimal, or a whole percent for a share-like mean)
        out.counts = out.counts.astype("Float64").mask(mask)
        if out.n_rows is not None:
            out.n_rows = _hide(out.n_rows.reindex(idx), rows)
        if out.weighted is not None:
            hide_rows = pd.Series(rows, index=idx)
            out.weighted = {k: v.mask(hide_rows.reindex(v.index).fillna(False).astype(bool), axis=0)
                            for k, v in out.weighted.items()}
    else:
        mask = pd.DataFrame([[off(("cell", r, c)) for c in cols] for r in idx], index=idx, columns=cols,
                            dtype=bool)
        out.suppressed = mask
        out.counts = _masked(out.counts, mask.to_numpy(dtype=bool))
        base_hidden = pd.DataFrame(
            [[off(("row", r)) if t.percent_base == "row" else off(("col", c)) for c in cols] for r in idx],
            index=idx, columns=cols, dtype=bool) | mask
        if out.percents is not None:
            out.percents = _round_frame(out.percents, PRECISION["percent"],
                                        base_hidden.reindex_like(out.percents).fillna(True).to_numpy(dtype=bool))
        if out.weighted is not None:
            out.weighted = {k: _round_frame(v, PRECISION.get(k, PRECISION["share"]),
                                            base_hidden.reindex_like(v).fillna(True).to_numpy(dtype=bool))
                            for k, v in out.weighted.items()}
        if out.n_rows is not None:
            out.n_rows = _hide(out.n_rows.reindex(idx), np.array([off(("row", r)) for r in idx], dtype=bool))
        if out.n_cols is not None:
            out.n_cols = _hide(out.n_cols.reindex(cols), np.array([off(("col", c)) for c in cols], dtype=bool))
    if out.weighted is not None and thin:
        along_rows = t.kind != "crosstab" or t.percent_base == "row"
        out.weighted = {k: (v.mask(pd.Series(v.index.isin(list(thin)), index=v.index), axis=0) if along_rows
                            else v.mask(pd.Series(v.columns.isin(list(thin)), index=v.columns), axis=1))
                        for k, v in out.weighted.items()}
        out.notes.append(str(THIN_NOTE))
    if off(("total",)):
        out.n_total = None
    if out.test is not None and hidden:
        warning = small_expected_note(out.test)  # belongs to the test it is withheld with
        out.notes = [n for n in out.notes if n != warning]
        out.test = None
        out.notes.append(str(TEST_WITHHELD))
    out.notes.append(note(threshold, protection))
    return out


def _float_na(values: Any, hidden: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A Float64 array of `values` with NA where missing or `hidden` (as astype("Float64") and
    then masking would give, without pandas' per-column conversions)."""
    v = np.asarray(pd.array(values, dtype="Float64").to_numpy(dtype=float, na_value=np.nan), dtype=float)
    na = np.isnan(v) | hidden
    return pd.arrays.FloatingArray(np.where(na, 0.0, v), na)


def _masked(df: pd.DataFrame, hidden: np.ndarray) -> pd.DataFrame:
    """`df` as Float64 with the cells of `hidden` NA."""
    if df.shape[1] == 0:
        return df.astype("Float64")
    cols = {j: _float_na(df.iloc[:, j].to_numpy(), hidden[:, j]) for j in range(df.shape[1])}
    out = pd.DataFrame(cols, index=df.index)
    out.columns = df.columns
    return out


def _hide(series: pd.Series | None, hidden: np.ndarray) -> pd.Series | None:
    if series is None:
        return None
    return pd.Series(_float_na(series.to_numpy(), np.asarray(hidden, dtype=bool)), index=series.index,
                     name=series.name)


# ----------------------------------------------------------------------------- entry points
_ACTIVE: contextvars.ContextVar[Publication | None] = contextvars.ContextVar("publication", default=None)


def suppress(table: Table, threshold: int = DEFAULT_THRESHOLD, *, frame: pd.DataFrame | None = None,
             protection: int | None = None) -> Table:
    """A copy of `table` with small counts, and the counts that would reveal them, hidden.

    `frame` (the case frame the table was computed from) lets the audit recognise counts
    shared with other tables of the same publication; inside `protected(...)` the table is
    suppressed together with every other table of that publication."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    pub = _ACTIVE.get()
    if pub is not None and pub.threshold == threshold:
        e = pub.add(table, frame)
        pub.solve([e], audit=not pub.deferred)
        return pub.apply(e)
    pub = Publication(threshold, protection)
    e = pub.add(table, frame)
    pub.solve([e])
    return pub.apply(e)


def suppress_together(tables: Iterable[tuple[Table, pd.DataFrame | None]], threshold: int = DEFAULT_THRESHOLD,
                      protection: int | None = None) -> list[Table]:
    """Tables published together (e.g. one command's output), suppressed as one publication."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    pub = Publication(threshold, protection)
    entries = [pub.add(t, f) for t, f in tables]
    pub.solve(entries)
    return [pub.apply(e) for e in entries]


MAX_PASSES = 12


def protected(build: Callable[[Publication], T], threshold: int = DEFAULT_THRESHOLD,
              protection: int | None = None) -> tuple[T, Publication]:
    """Run `build` (which computes and suppresses every table of a publication, e.g. an
    annex) until its suppression is settled across all tables: each `suppress` inside it
    joins the publication, and `build` is run again while a count hidden in one table
    still shows in another or the joint audit hides more."""
    pub = Publication(threshold, protection, deferred=True)
    token = _ACTIVE.set(pub)
    try:
        for _ in range(MAX_PASSES):
            pub.begin_pass()
            result = build(pub)
            if pub.settled():
                return result, pub
        raise RuntimeError("suppression did not settle")
    finally:
        _ACTIVE.reset(token)


@contextmanager
def labelled(pub: Publication | None, label: str) -> Iterator[None]:
    """Name the tables a block of code adds to `pub` (the annex: the table's id)."""
    if pub is None:
        yield
        return
    old, pub.label = pub.label, label
    try:
        yield
    finally:
        pub.label = old
