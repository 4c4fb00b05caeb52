"""One status per person when several apply, by a declared priority order.

Seed 000 counts a person who both was in a resource course and later got a
disability pension only under disability pension, and a person with both
ordinary hours and a company placement only under ordinary hours. The orders
are data (audit/data/hierarchies.json) so the agency can read and change them
without touching code; `classify` applies any order.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit import resources
from audit.statistics.variables import YES, is_missing

HIERARCHIES_FILE = resources.data_file("hierarchies.json")


@dataclass(frozen=True)
class Hierarchy:
    name: str
    title: str
    codes: tuple[str, ...]  # priority order, first wins
    labels: tuple[str, ...]
    none: str | None  # label when no status applies (None: leave missing)

    def label_map(self) -> dict[str, str]:
        return dict(zip(self.codes, self.labels))


@lru_cache
def load_hierarchies(path: str | Path = HIERARCHIES_FILE) -> dict[str, Hierarchy]:
    """The declared hierarchies, by name ('benefit', 'offer')."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    out = {}
    for name, spec in raw.items():
        if name.startswith("_"):
            continue
        codes = tuple(e["code"] for e in spec["order"])
        labels = tuple(e.get("label", e["code"]) for e in spec["order"])
        if len(set(codes)) != len(codes):
            raise ValueError(f"hierarchy {name!r} lists a code twice")
        out[name] = Hierarchy(name, spec.get("title", name), codes, labels, spec.get("none"))
    return out


def _truthy(value: Any, yes: Sequence[Any]) -> bool:
    if is_missing(value):
        return False
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return value != 0
    return value in yes


def classify(frame: pd.DataFrame, columns_in_priority_order: Sequence[str],
             labels: Mapping[str, str] | Sequence[str] | None = None, none: str | None = None,
             yes: Sequence[Any] = (YES, True, 1)) -> pd.Series:
    """The first applicable status per row, in the declared order.

    Each column is an indicator (ja/True/1 = the status applies). `labels` names
    the statuses (by column or in the same order); rows with no status get `none`
    (missing when None)."""
    cols = list(columns_in_priority_order)
    if len(set(cols)) != len(cols):
        raise ValueError("a status is listed twice in the priority order")
    if labels is None:
        names = cols
    elif isinstance(labels, Mapping):
        names = [labels.get(c, c) for c in cols]
    else:
        names = list(labels)
        if len(names) != len(cols):
            raise ValueError("one label per column is needed")
    result = np.full(len(frame), none, dtype=object)
    decided = np.zeros(len(frame), dtype=bool)
    for col, name in zip(cols, names):
        if col not in frame.columns:
            raise KeyError(f"unknown column {col!r}")
        hit = frame[col].map(lambda v: _truthy(v, yes)).to_numpy(dtype=bool) & ~decided
        result[hit] = name
        decided |= hit
    return pd.Series(result, index=frame.index, name="status", dtype=object)


def classify_codes(series: pd.Series, hierarchy: Hierarchy | Sequence[str],
                   labels: Mapping[str, str] | None = None, none: str | None = None) -> pd.Series:
    """Same rule on a multiple-choice column: the highest-priority code in each tuple."""
    if isinstance(hierarchy, Hierarchy):
        order, labels, none = hierarchy.codes, labels or hierarchy.label_map(), none or hierarchy.none
    else:
        order = tuple(hierarchy)
    rank = {c: i for i, c in enumerate(order)}
    labels = dict(labels or {})

    def pick(v: Any) -> Any:
        if not isinstance(v, (tuple, list)):
            v = () if is_missing(v) else (v,)
        ranked = [c for c in v if c in rank]
        if not ranked:
            return none
        best = min(ranked, key=rank.__getitem__)
        return labels.get(best, best)

    return series.map(pick).astype(object).rename(series.name)


def classify_by(frame: pd.DataFrame, name: str, columns: Mapping[str, str] | None = None) -> pd.Series:
    """Apply a declared hierarchy ('benefit', 'offer'); `columns` maps its codes to frame
    columns when they are named differently."""
    h = load_hierarchies()[name]
    columns = dict(columns or {})
    cols = [columns.get(c, c) for c in h.codes]
    return classify(frame, cols, list(h.labels), none=h.none).rename(name)
