"""Shares with their N for the feedback workbook: pure functions over plain values.

A cell is missing (None) when the item does not apply or is unanswered; N of a
share is the number of non-missing cells (docs/contracts.md). Later refactor:
use the statistics room's frequency function once it is merged, so a share is
computed by one function whether shown on a page or in Excel.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence


@dataclass(frozen=True)
class Share:
    count: int
    n: int

    @property
    def value(self) -> float | None:
        return self.count / self.n if self.n else None


def share(cells: Iterable[Any], value: Any, exclude: Sequence[Any] = ()) -> Share:
    """How many non-missing cells equal `value` (or contain it, for lists), out of how many."""
    count = n = 0
    for cell in cells:
        if cell is None or cell == "" or (isinstance(cell, float) and cell != cell):
            continue
        if not isinstance(cell, (list, tuple)) and cell in exclude:
            continue
        n += 1
        if (value in cell) if isinstance(cell, (list, tuple)) else cell == value:
            count += 1
    return Share(count, n)


@dataclass(frozen=True)
class FeedbackRow:
    code: str
    value: Any
    label: str
    own: Share                      # the municipality's cases
    pooled: Share                   # all municipalities' cases together
    mean_of_municipalities: float | None   # unweighted mean of the municipalities' shares
    municipalities: int             # municipalities with N > 0


def feedback_rows(rows: Sequence[Mapping[str, Any]], municipality: str,
                  items: Sequence[Mapping[str, Any]]) -> list[FeedbackRow]:
    """rows: one mapping per case with key "municipality" and one key per item code.
    items: [{"code", "value", "label", "exclude"?}]."""
    out = []
    names = sorted({r["municipality"] for r in rows})
    for spec in items:
        code, value, exclude = spec["code"], spec.get("value", "ja"), spec.get("exclude", ())
        own = share((r.get(code) for r in rows if r["municipality"] == municipality), value, exclude)
        pooled = share((r.get(code) for r in rows), value, exclude)
        per_muni = [share((r.get(code) for r in rows if r["municipality"] == m), value, exclude) for m in names]
        values = [s.value for s in per_muni if s.value is not None]
        out.append(FeedbackRow(code, value, spec.get("label") or code, own, pooled,
                               sum(values) / len(values) if values else None, len(values)))
    return out
