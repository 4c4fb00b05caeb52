"""Age bands used in the report's Table 12 and the statistics breakdowns."""
from __future__ import annotations

AGE_BANDS = ("<40", "40-49", "50-59", "60+")


def age_band(age: int | float | None) -> str | None:
    if age is None:
        return None
    if age < 40:
        return "<40"
    if age < 50:
        return "40-49"
    if age < 60:
        return "50-59"
    return "60+"
