"""Bands of a number: the one rule that turns seniority, age or a count into ordered codes.

A band is written by its lower edge; a value falls in the band whose edge is the largest
one at or below it (edge <= x < next edge), the last band is open above, and a value
below the first edge (or missing, or not a number) has no band. A first edge of
``-inf`` (``null`` in a data file) opens the first band below.

Used by the register definition (seniority and age bands), the draw's strata, the
statistics room's banded items and the annex's derived variables alike, so 7.0 years
falls in the same band on every page, sheet and table.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def boundary_codes(boundaries: Sequence[float]) -> tuple[str, ...]:
    """Codes of bands between boundaries a < b < c: ``a-b``, ``b-c``, ``c+`` (e.g. 5-7, 7-10, 10+)."""
    codes = [f"{_fmt(a)}-{_fmt(b)}" for a, b in zip(boundaries, boundaries[1:])]
    codes.append(f"{_fmt(boundaries[-1])}+")
    return tuple(codes)


@dataclass(frozen=True)
class Bands:
    """Lower edges (strictly increasing; the first may be -inf) and one code per band."""

    edges: tuple[float, ...]
    codes: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.edges:
            raise ValueError("bands need at least one edge")
        if len(self.edges) != len(self.codes):
            raise ValueError(f"{len(self.edges)} band edges but {len(self.codes)} codes")
        if any(b <= a for a, b in zip(self.edges, self.edges[1:])):
            raise ValueError(f"band edges must be strictly increasing, got {list(self.edges)}")
        if len(set(self.codes)) != len(self.codes):
            raise ValueError(f"a band code is used twice: {list(self.codes)}")

    @classmethod
    def from_boundaries(cls, boundaries: Sequence[float]) -> "Bands":
        """Bands between boundaries, coded a-b, b-c, c+ (the seniority bands of a draw)."""
        edges = tuple(float(b) for b in boundaries)
        return cls(edges, boundary_codes(edges))

    def _positions(self, values: np.ndarray) -> np.ndarray:
        """Index of each value's band; -1 for none."""
        idx = np.searchsorted(np.asarray(self.edges, dtype=float), values, side="right") - 1
        idx[np.isnan(values)] = -1
        return idx

    def assign(self, values: pd.Series | Sequence[Any]) -> pd.Series:
        """The band code of every value (object dtype; None where there is no band)."""
        series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
        numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
        idx = self._positions(numbers)
        codes = np.array(self.codes, dtype=object)
        out = np.where(idx >= 0, codes[np.clip(idx, 0, len(codes) - 1)], None)
        return pd.Series(out, index=series.index, name=series.name, dtype=object)

    def code_of(self, value: Any) -> str | None:
        """The band code of one value (None: below the first edge, missing or not a number)."""
        if value is None or isinstance(value, bool):
            return None
        try:
            x = float(value)
        except (TypeError, ValueError):
            return None
        if math.isnan(x):
            return None
        i = int(self._positions(np.array([x]))[0])
        return self.codes[i] if i >= 0 else None
