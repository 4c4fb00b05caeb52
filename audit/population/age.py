"""Age bands of the report's Table 12, used by the sampling room, the case form and
the statistics breakdowns alike (one definition, so the bands can never disagree)."""
from __future__ import annotations

import math
from typing import Any

AGE_BANDS = ("<40", "40-49", "50-59", "60+")
AGE_EDGES = (40, 50, 60)  # lower bound of every band after the first


def age_band(age: Any) -> str | None:
    """`<40`, `40-49`, `50-59` or `60+`; None for a missing age."""
    if age is None or (isinstance(age, float) and math.isnan(age)):
        return None
    for edge, label in zip(AGE_EDGES, AGE_BANDS):
        if float(age) < edge:
            return label
    return AGE_BANDS[-1]
