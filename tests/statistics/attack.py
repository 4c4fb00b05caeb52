"""An attacker, written for the tests and independent of audit.statistics.disclosure: from
what a table prints (its JSON: records, N of rows and columns, total) it sets up the sums
every reader knows hold (cells add up to their row's and column's N, rows' N to the
total; shared figures of tables published together are one unknown) and asks
scipy's HiGHS for the smallest and largest value of each hidden figure."""
from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
from scipy.optimize import linprog


class Attacker:
    """Unknowns are named by the caller; `known` fixes a name to a printed value."""

    def __init__(self) -> None:
        self.known: dict[Hashable, float] = {}
        self.unknown: set[Hashable] = set()
        self.sums: list[tuple[list[Hashable], Hashable]] = []  # sum(children) == parent

    def figure(self, name: Hashable, value: Any) -> None:
        if value is None:
            self.unknown.add(name)
        else:
            if name in self.known:
                assert self.known[name] == float(value), f"{name}: printed twice with different values"
            self.known[name] = float(value)

    def sum_is(self, children: Iterable[Hashable], parent: Hashable) -> None:
        self.sums.append((list(children), parent))

    def intervals(self) -> dict[Hashable, tuple[float, float]]:
        hidden = sorted(self.unknown - set(self.known), key=repr)
        if not hidden:
            return {}
        pos = {k: i for i, k in enumerate(hidden)}
        A, b = [], []
        for children, parent in self.sums:
            row = np.zeros(len(hidden))
            rhs = 0.0
            for k, coef in [(c, 1.0) for c in children] + [(parent, -1.0)]:
                if k in pos:
                    row[pos[k]] += coef
                else:
                    rhs -= coef * self.known[k]
            if row.any():
                A.append(row)
                b.append(rhs)
        out = {}
        for k in hidden:
            c = np.zeros(len(hidden))
            c[pos[k]] = 1.0
            kw: dict[str, Any] = {"bounds": (0, None), "method": "highs"}
            if A:
                kw.update(A_eq=np.array(A), b_eq=np.array(b))
            lo, hi = linprog(c, **kw), linprog(-c, **kw)
            assert lo.status != 2 and hi.status != 2, "published figures contradict each other"
            out[k] = (lo.fun if lo.status == 0 else 0.0, -hi.fun if hi.status == 0 else float("inf"))
        return out

    def narrowest(self) -> float:
        widths = [hi - lo for lo, hi in self.intervals().values()]
        return min(widths) if widths else float("inf")


def read_crosstab(att: Attacker, published: dict[str, Any], name: str = "t",
                  transpose_of: str | None = None) -> None:
    """A crosstab of two single-choice variables, as `Table.to_dict()` prints it. With
    `transpose_of`, the cells and N's are those of that table with rows and columns swapped."""
    rv, cv = published["row"], published["column"]
    rk, ck = (rv, cv) if rv != cv else (f"{rv}_row", f"{cv}_column")

    def cell(r: Any, c: Any) -> Hashable:
        return (transpose_of, "cell", c, r) if transpose_of else (name, "cell", r, c)

    def rown(r: Any) -> Hashable:
        return (transpose_of, "coln", r) if transpose_of else (name, "rown", r)

    def coln(c: Any) -> Hashable:
        return (transpose_of, "rown", c) if transpose_of else (name, "coln", c)

    total = (transpose_of or name, "total")
    rows: dict[Any, list[Hashable]] = {}
    cols: dict[Any, list[Hashable]] = {}
    for rec in published["records"]:
        r, c = str(rec[rk]), str(rec[ck])
        att.figure(cell(r, c), rec["count"])
        rows.setdefault(r, []).append(cell(r, c))
        cols.setdefault(c, []).append(cell(r, c))
    for r, v in (published["n_rows"] or {}).items():
        att.figure(rown(str(r)), v)
    for c, v in (published["n_columns"] or {}).items():
        att.figure(coln(str(c)), v)
    att.figure(total, published["n_total"])
    for r, kids in rows.items():
        att.sum_is(kids, rown(r))
    for c, kids in cols.items():
        att.sum_is(kids, coln(c))
    att.sum_is([rown(r) for r in rows], total)
    att.sum_is([coln(c) for c in cols], total)


def read_frequency_by(att: Attacker, published: dict[str, Any], name: str, shared_groups: bool = False) -> None:
    """A frequency table of a single-choice item by a group variable every case has (e.g.
    municipality), as `Table.to_dict()` prints it: groups' cells add up to the group's N and
    to the 'I alt' cell of their column, the groups' N to the total. With `shared_groups`
    the N of a group is the same unknown in every table read so (the item applies to all)."""
    gv, iv = published["row"], published["column"]
    groups: dict[str, list[Hashable]] = {}
    columns: dict[str, list[Hashable]] = {}
    total_cells: dict[str, Hashable] = {}
    for rec in published["records"]:
        g, c = str(rec[gv]), str(rec[iv])
        key = (name, "cell", g, c)
        att.figure(key, rec["count"])
        if g == "I alt":
            total_cells[c] = key
        else:
            groups.setdefault(g, []).append(key)
            columns.setdefault(c, []).append(key)

    def gn(g: str) -> Hashable:
        return ("group", g) if shared_groups else (name, "n", g)

    total = ("group", "I alt") if shared_groups else (name, "n", "I alt")
    for g, v in published["n_rows"].items():
        att.figure(gn(g) if g != "I alt" else total, v)
    att.figure(total, published["n_total"])
    for g, kids in groups.items():
        att.sum_is(kids, gn(g))
    att.sum_is(list(total_cells.values()), total)
    for c, kids in columns.items():
        att.sum_is(kids, total_cells[c])
    att.sum_is([gn(g) for g in groups], total)
