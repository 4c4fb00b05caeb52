"""Seniority bands (docs/contracts.md): boundaries a<b<c give `a-b`, `b-c`, `c+`.

One function turns boundaries into labels and one assigns a band, so import,
draw, protocol and statistics can never disagree about where 7.0 years falls."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_BANDS: tuple[float, ...] = (5, 7, 10)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def parse_bands(text: str | Sequence[float] | None) -> tuple[float, ...]:
    """`"5,7,10"` -> (5, 7, 10). Boundaries must be positive and strictly increasing."""
    if text is None:
        return DEFAULT_BANDS
    if isinstance(text, str):
        parts = [p.strip() for p in text.split(",") if p.strip()]
        try:
            values = tuple(float(p) for p in parts)
        except ValueError:
            raise ValueError(f"bands must be numbers separated by commas, got {text!r}") from None
    else:
        values = tuple(float(v) for v in text)
    if not values:
        raise ValueError("at least one band boundary is needed")
    if any(v < 0 for v in values) or any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"band boundaries must be non-negative and strictly increasing, got {values}")
    return tuple(int(v) if v.is_integer() else v for v in values)


def band_labels(bands: Sequence[float]) -> list[str]:
    """Labels in order, e.g. ['5-7', '7-10', '10+']."""
    labels = [f"{_fmt(a)}-{_fmt(b)}" for a, b in zip(bands, bands[1:])]
    labels.append(f"{_fmt(bands[-1])}+")
    return labels


def band_of(seniority: float, bands: Sequence[float]) -> str | None:
    """The band holding `seniority` (a <= s < b), or None below the first boundary."""
    labels = band_labels(bands)
    if seniority < bands[0]:
        return None
    for label, upper in zip(labels, list(bands[1:])):
        if seniority < upper:
            return label
    return labels[-1]


def assign_bands(seniority: pd.Series, bands: Sequence[float]) -> pd.Series:
    """Vectorised `band_of` (object dtype, None below the first boundary)."""
    labels = np.array(band_labels(bands) , dtype=object)
    values = seniority.to_numpy(dtype=float)
    idx = np.searchsorted(np.asarray(bands, dtype=float), values, side="right") - 1
    out = np.where(idx >= 0, labels[np.clip(idx, 0, len(labels) - 1)], None)
    return pd.Series(out, index=seniority.index, dtype=object)


def audit_bands(audit: Any) -> tuple[float, ...]:
    """The audit's band boundaries: those of its draw, or the default before one."""
    return parse_bands(json.loads(audit.bands_json) if audit.bands_json else None)


def audit_band_labels(audit: Any) -> list[str]:
    """The audit's band labels in order, e.g. ['5-7', '7-10', '10+']."""
    return band_labels(audit_bands(audit))
