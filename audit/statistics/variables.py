"""Which columns of a case frame are what, and in which order their codes print.

The statistics functions need to know whether a column is a single code, a
multiple-choice tuple or a number, and in what order categories appear in a
table. The instrument knows this for items; the register variables are fixed
by docs/contracts.md. Everything here is plain data so it can be fixed at one
place when the instrument changes.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from audit.population.age import AGE_BANDS, age_band  # noqa: F401 - one definition, re-exported

# Register variables carried on every row of the case frame (docs/contracts.md).
REGISTER = ("case_id", "municipality", "seniority_band", "sex", "age", "age_band", "origin",
            "stratum", "stratum_population", "stratum_sample", "weight")
# Columns that describe the design, never tabulated as items.
DESIGN = ("case_id", "stratum", "stratum_population", "stratum_sample", "weight", "age")

# The report's standard breakdowns (issue 7). `challenges` is multiple choice.
BREAKDOWNS = ("direction", "seniority_band", "municipality", "sex", "age_band", "origin", "challenges")


# Print order of known codes; codes not listed follow in sorted order.
ORDERS: dict[str, tuple[str, ...]] = {
    "sex": ("kvinde", "mand"),
    "age_band": AGE_BANDS,
    "origin": ("dansk", "ikke-vestlig", "vestlig"),
    "seniority_band": ("5-7", "7-10", "10+"),
    "direction": ("jobrettet", "rehabiliterende", "fritaget"),
    "challenges": ("misbrug", "fysiske", "psykiske", "sociale", "sproglige",
                   "laese_skrive_regne", "familie", "andet"),
    "challenge_breadth": ("0", "1", "2", "3", "4+"),
    "yes_no": ("ja", "nej", "ikke_relevant"),
}

KINDS = ("categorical", "multiple", "numeric")


@dataclass(frozen=True)
class Banding:
    """Turn a number into ordered bands: lower edges, the last band open (e.g. 5+)."""
    edges: tuple[float, ...]
    labels: tuple[str, ...] | None = None

    def band_labels(self) -> tuple[str, ...]:
        if self.labels:
            return self.labels
        out = []
        for i, lo in enumerate(self.edges):
            lo_s = f"{lo:g}"
            if i == len(self.edges) - 1:
                out.append(f"{lo_s}+")
            else:
                hi = self.edges[i + 1]
                out.append(lo_s if hi - lo == 1 else f"{lo_s}-{hi:g}")
        return tuple(out)

    def apply(self, series: pd.Series) -> pd.Series:
        """Band a numeric series; values below the first edge become missing."""
        values = pd.to_numeric(series, errors="coerce")
        labels = self.band_labels()
        idx = np.searchsorted(np.asarray(self.edges, dtype=float), values.to_numpy(dtype=float), side="right") - 1
        out = np.array([labels[i] if i >= 0 else None for i in idx], dtype=object)
        out[values.isna().to_numpy()] = None
        return pd.Series(out, index=series.index, name=series.name, dtype=object)


# Declared bandings for numeric items used in crosstabs (report Fig. 26-27, Table 2).
BANDINGS: dict[str, Banding] = {
    "caseworker_count": Banding((1, 2, 3, 4, 5)),
    "challenge_breadth": Banding((1, 2, 3, 4)),
    "interviews_count": Banding((0, 4, 8, 12), ("0-3", "4-7", "8-11", "12+")),
}

# Report Table 14 (annex 3): indicator -> (item code, statistic). 'mean' of a number,
# 'share' of cases answering `yes` among those where the item applies.
# Codes follow questionnaires/kontanthjaelp_2022.yaml on the instrument branch; fix here at merge.
INDICATORS: dict[str, tuple[str, str]] = {
    "Antal samtaler (gns.)": ("interviews_count", "mean"),
    "Andel uger med aktivering": ("activation_weeks_share", "mean"),
    "Andel i virksomhedsrettet indsats": ("company_placement", "share"),
    "Andel med ordinære timer": ("ordinary_hours", "share"),
    "Andel med personlig jobformidler": ("personal_job_broker", "share"),
    "Andel med mentor": ("mentor", "share"),
    "Andel med tværfaglig indsats": ("coordination_cross_disciplinary", "share"),
    "Andel med rundbordssamtale": ("roundtable", "share"),
}
YES = "ja"

# Report Table 13 (annex 2) and Table 14 rows: the characteristics. `profile` is the report's
# four profiles (Table 4), derived by `with_derived`; `direction` is used when age is unknown.
CHARACTERISTICS = ("sex", "age_band", "seniority_band", "origin", "profile", "challenges",
                   "stable_participation")

PROFILES = ("Jobrettet indsats under 50 år", "Jobrettet indsats 50+ år", "Rehabiliterende indsats", "Fritagelse")
ORDERS["profile"] = PROFILES


def profile(direction: Any, age: Any) -> str | None:
    """The report's four profiles: job-oriented under 50 / 50+, rehabilitating, exempted."""
    if is_missing(direction):
        return None
    if direction == "jobrettet":
        if is_missing(age):
            return None
        return PROFILES[0] if float(age) < 50 else PROFILES[1]
    return {"rehabiliterende": PROFILES[2], "fritaget": PROFILES[3]}.get(direction)


def with_derived(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame plus the derived variables the report tabulates (`profile`), when computable."""
    if "profile" in frame.columns or "direction" not in frame.columns or "age" not in frame.columns:
        return frame
    out = frame.copy()
    out["profile"] = pd.Series([profile(d, a) for d, a in zip(frame["direction"], frame["age"])],
                               index=frame.index, dtype=object)
    return out


def characteristics_of(frame: pd.DataFrame, wanted: Sequence[str] = CHARACTERISTICS) -> list[str]:
    """The characteristics present in the frame; `direction` stands in for a missing `profile`."""
    out = []
    for c in wanted:
        if c == "profile" and c not in frame.columns and "direction" in frame.columns:
            c = "direction"
        if c in frame.columns and c not in out:
            out.append(c)
    return out


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    if isinstance(value, (tuple, list)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def kind_from_item_type(item_type: str) -> str:
    """Map an instrument item type (audit.instrument.model.ITEM_TYPES) to a statistics kind."""
    if item_type == "select_multiple":
        return "multiple"
    if item_type == "integer":
        return "numeric"
    return "categorical"  # yes_no, yes_no_na, select_one, scale (1-5 printed as categories), ...


def infer_kind(series: pd.Series) -> str:
    """Kind from the data itself: tuples -> multiple, numbers -> numeric, else categorical."""
    if series.dtype != object:
        if pd.api.types.is_bool_dtype(series):
            return "categorical"
        if pd.api.types.is_numeric_dtype(series):
            return "numeric"
        return "categorical"
    sample = series.dropna()
    if sample.empty:
        return "categorical"
    first = sample.iloc[: min(len(sample), 50)]
    if any(isinstance(v, (tuple, list)) for v in first) or any(isinstance(v, (tuple, list)) for v in sample):
        return "multiple"
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in sample):
        return "numeric"
    return "categorical"


def kind_of(frame: pd.DataFrame, column: str, kinds: Mapping[str, str] | None = None) -> str:
    """Declared kind if given (e.g. from the instrument, stored in frame.attrs['kinds']), else inferred."""
    declared = dict(frame.attrs.get("kinds", {}))
    if kinds:
        declared.update(kinds)
    if column in declared:
        return declared[column]
    if column == "challenges":
        return "multiple"
    return infer_kind(frame[column])


def order_codes(codes: Iterable[Any], variable: str | None = None,
                orders: Mapping[str, Sequence[str]] | None = None) -> list[Any]:
    """Codes in print order: the declared order first, then the rest sorted."""
    codes = list(dict.fromkeys(codes))
    declared: Sequence[Any] = ()
    merged = dict(ORDERS)
    if orders:
        merged.update(orders)
    for name, banding in BANDINGS.items():
        merged.setdefault(name, banding.band_labels())
    if variable and variable in merged:
        declared = merged[variable]
    elif set(map(str, codes)) <= set(ORDERS["yes_no"]):
        declared = ORDERS["yes_no"]
    first = [c for c in declared if c in codes]
    rest = [c for c in codes if c not in set(first)]
    try:
        rest = sorted(rest)
    except TypeError:
        rest = sorted(rest, key=str)
    return first + rest


def orders_of(frame: pd.DataFrame, orders: Mapping[str, Sequence[str]] | None = None
              ) -> dict[str, Sequence[str]]:
    """Code orders declared on the frame (from the instrument), overridden by `orders`."""
    merged = dict(frame.attrs.get("orders", {}))
    if orders:
        merged.update(orders)
    return merged


def item_columns(frame: pd.DataFrame) -> list[str]:
    """Every column that is not register or design data: the items and calculated fields."""
    return [c for c in frame.columns if c not in REGISTER]
