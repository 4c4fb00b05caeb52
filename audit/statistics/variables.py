"""Which columns of a case frame are what, and in which order their codes print.

The statistics functions need to know whether a column is a single code, a
multiple-choice tuple or a number, and in what order categories appear in a
table. The instrument knows this for items (`Item.stats_kind`, its codes, carried
on the case frame's attrs); the register definition knows it for the register
variables (registers/kontanthjaelp_2022.yaml). Nothing here writes a code list of
its own except the derived `profile`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from audit.bands import Bands
from audit.instrument.loader import BUILTIN_LISTS
from audit.population.age import AGE_BANDS, age_band  # noqa: F401 - one definition, re-exported
from audit.population.definition import default_definition

# Register variables carried on every row of the case frame (docs/contracts.md).
REGISTER = ("case_id", "municipality", "seniority_band", "sex", "age", "age_band", "origin",
            "stratum", "stratum_population", "stratum_sample", "weight")
# Columns that describe the design, never tabulated as items.
DESIGN = ("case_id", "stratum", "stratum_population", "stratum_sample", "weight", "age")
# Variables the statistics room derives from items and register variables (`with_derived`).
DERIVED = ("profile",)

# The report's standard breakdowns (issue 7). `challenges` is multiple choice.
BREAKDOWNS = ("direction", "seniority_band", "municipality", "sex", "age_band", "origin", "challenges")

YES_NO_CODES = tuple(c["code"] for c in BUILTIN_LISTS["yes_no_na"])  # ja, nej, ikke_relevant


def _register_orders() -> dict[str, tuple[str, ...]]:
    """Print order of the register definition's coded variables (sex, origin, age and seniority bands)."""
    return {v.code: v.codes for v in default_definition().variables if v.values or v.bands is not None}


# Print order of known codes; codes not listed follow in sorted order. An item's order is
# its choice list, carried by the case frame (attrs['orders']), and an audit's seniority
# bands are its own (the frame carries them too).
ORDERS: dict[str, tuple[str, ...]] = {**_register_orders(), "yes_no": YES_NO_CODES}

KINDS = ("categorical", "multiple", "numeric")

# Declared bandings for numeric items used in crosstabs (report Fig. 26-27, Table 2).
BANDINGS: dict[str, Bands] = {
    "caseworker_count": Bands((1, 2, 3, 4, 5), ("1", "2", "3", "4", "5+")),
    "challenge_breadth": Bands((1, 2, 3, 4), ("1", "2", "3", "4+")),
    "interviews_count": Bands((0, 4, 8, 12), ("0-3", "4-7", "8-11", "12+")),
}
YES = "ja"

# Report Table 4's four profiles, derived by `with_derived` from the direction and the age.
PROFILES = ("Jobrettet indsats under 50 år", "Jobrettet indsats 50+ år", "Rehabiliterende indsats", "Fritagelse")
ORDERS["profile"] = PROFILES
# The label of each variable the statistics room derives (`DERIVED`), per language.
DERIVED_LABELS = {"profile": {"da": "Målgruppe", "en": "Target group (profile)"}}


def profile(direction: Any, age: Any) -> str | None:
    """The report's four profiles: job-oriented under 50 / 50+, rehabilitating, exempted."""
    if not isinstance(direction, str):  # missing, or a malformed stored answer: no profile
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


def characteristics_of(frame: pd.DataFrame, wanted: Sequence[str]) -> list[str]:
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
        merged.setdefault(name, banding.codes)
    if variable and variable in merged:
        declared = merged[variable]
    elif set(map(str, codes)) <= set(YES_NO_CODES):
        declared = YES_NO_CODES
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
