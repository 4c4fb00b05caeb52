"""Test helper: ad-hoc frames given what a case frame built from the instrument carries."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from audit.instrument import Instrument, load_instrument


@lru_cache(maxsize=1)
def repository_instrument() -> Instrument:
    return load_instrument(Path(__file__).resolve().parents[2] / "questionnaires" / "kontanthjaelp_2022.yaml")


def as_case_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """What a case frame built from the instrument carries (docs/contracts.md): each item's
    codes in the questionnaire's order, in attrs['orders']."""
    inst = repository_instrument()
    frame.attrs["orders"] = {i.name: i.codes for i in inst.items if i.name in frame.columns and i.codes}
    return frame
