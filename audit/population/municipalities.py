"""The reference list of Danish municipalities (audit/data/municipalities.csv)."""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "municipalities.csv"


@lru_cache
def municipality_names() -> tuple[str, ...]:
    with DATA.open(encoding="utf-8") as fh:
        return tuple(row["name"] for row in csv.DictReader(fh))


def canonical_municipality(name: str) -> str:
    """The reference spelling of a municipality name, matched case-insensitively."""
    key = name.strip().casefold()
    for known in municipality_names():
        if known.casefold() == key:
            return known
    raise ValueError(f"unknown municipality {name!r}")
