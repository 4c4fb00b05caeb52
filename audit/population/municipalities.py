"""The reference list of Danish municipalities (audit/data/municipalities.csv)."""
from __future__ import annotations

from functools import lru_cache

from audit import csvio, resources

DATA = resources.data_file("municipalities.csv")


@lru_cache
def municipality_names() -> tuple[str, ...]:
    header, rows = csvio.read_rows(DATA)
    column = header.index("name")
    return tuple(cells[column] for _, cells in rows)


def canonical_municipality(name: str) -> str:
    """The reference spelling of a municipality name, matched case-insensitively."""
    key = name.strip().casefold()
    for known in municipality_names():
        if known.casefold() == key:
            return known
    raise ValueError(f"unknown municipality {name!r}")
