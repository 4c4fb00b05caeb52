"""Seniority bands (docs/contracts.md): boundaries a<b<c give `a-b`, `b-c`, `c+`.

The default boundaries are the register definition's (`seniority_band` in
registers/kontanthjaelp_2022.yaml); an audit's draw may choose others and keeps them
(`audits.bands_json`, read by `audit_bands`). Banding itself is `audit.bands.Bands`, the
one rule for every band in the tool, so import, draw, protocol and statistics can never
disagree about where 7.0 years falls."""
from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd

from audit.i18n import _
from audit.bands import Bands
from audit.models import Audit
from audit.population.definition import default_definition


def _default_bands() -> tuple[float, ...]:
    bands = default_definition().variable("seniority_band").bands
    assert bands is not None, "the register definition's seniority_band declares its bands"
    return tuple(int(e) if float(e).is_integer() else e for e in bands.edges)


DEFAULT_BANDS: tuple[float, ...] = _default_bands()


def parse_bands(text: str | Sequence[float] | None) -> tuple[float, ...]:
    """`"5,7,10"` -> (5, 7, 10). Boundaries must be positive and strictly increasing."""
    if text is None:
        return DEFAULT_BANDS
    if isinstance(text, str):
        parts = [p.strip() for p in text.split(",") if p.strip()]
        try:
            values = tuple(float(p) for p in parts)
        except ValueError:
            raise ValueError(_('bands must be numbers separated by commas, got {text}').format(
                                 text=repr(text))) from None
    else:
        values = tuple(float(v) for v in text)
    if not values:
        raise ValueError(_('at least one band boundary is needed'))
    if any(v < 0 for v in values) or any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(_('band boundaries must be non-negative and strictly increasing, got {values}').format(
                             values=values))
    return tuple(int(v) if v.is_integer() else v for v in values)


def seniority_bands(bands: Sequence[float]) -> Bands:
    """The bands between these boundaries (a-b, b-c, c+)."""
    return Bands.from_boundaries(bands)


def band_labels(bands: Sequence[float]) -> list[str]:
    """Band codes in order, e.g. ['5-7', '7-10', '10+'] (their labels, '5-7 år', are the
    register definition's: `audit.labels`)."""
    return list(seniority_bands(bands).codes)


def band_of(seniority: float, bands: Sequence[float]) -> str | None:
    """The band holding `seniority` (a <= s < b), or None below the first boundary."""
    return seniority_bands(bands).code_of(seniority)


def assign_bands(seniority: pd.Series, bands: Sequence[float]) -> pd.Series:
    """The band of every seniority (object dtype, None below the first boundary)."""
    return seniority_bands(bands).assign(seniority)


def audit_bands(audit: Audit) -> tuple[float, ...]:
    """The audit's band boundaries: those of its draw, or the default before one."""
    return parse_bands(json.loads(audit.bands_json) if audit.bands_json else None)


def audit_band_labels(audit: Audit) -> list[str]:
    """The audit's band codes in order, e.g. ['5-7', '7-10', '10+']."""
    return band_labels(audit_bands(audit))
