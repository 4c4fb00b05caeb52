"""Age bands of the report's Table 12, used by the sampling room, the case form and
the statistics breakdowns alike. The bands are the register definition's (`age_band`
in registers/kontanthjaelp_2022.yaml) and banding is `audit.bands.Bands`, so the
bands can never disagree."""
from __future__ import annotations

from typing import Any

from audit.bands import Bands
from audit.population.definition import default_definition


def _age_bands() -> Bands:
    bands = default_definition().variable("age_band").bands
    assert bands is not None, "the register definition's age_band declares its bands"
    return bands


AGE: Bands = _age_bands()
AGE_BANDS: tuple[str, ...] = AGE.codes


def age_band(age: Any) -> str | None:
    """`<40`, `40-49`, `50-59` or `60+`; None for a missing age."""
    return AGE.code_of(age)
