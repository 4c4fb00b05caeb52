"""Shares with their N for the feedback workbook, computed by the statistics room.

A key item is one share: the cases whose answer to `code` is `value` (for multiple
choice: that contain it), out of the cases where the item applies and is answered (N),
for one municipality and for all municipalities together. The figures come from
`audit.statistics.frequency` by municipality on the case frame, suppressed by
`audit.statistics.suppress` like every table that leaves the agency, so a share in the
workbook is the share the /stats page, the CLI and the annex print.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from audit.statistics import frequency, suppress
from audit.statistics.tables import TOTAL, Table

BY = "municipality"


class FeedbackItemError(ValueError):
    """A key item that cannot be a share (not a case-level coded item of the case frame)."""


@dataclass(frozen=True)
class Share:
    count: int | None       # None: hidden (a small cell, or one that would reveal it)
    n: int | None           # None: hidden
    value: float | None     # share 0-1; None when N is 0 or the share is hidden

    @property
    def hidden(self) -> bool:
        return self.count is None or self.n is None


@dataclass(frozen=True)
class FeedbackRow:
    code: str
    value: Any
    label: str
    own: Share                      # the municipality's cases
    pooled: Share                   # all municipalities' cases together
    mean_of_municipalities: float | None   # unweighted mean of the municipalities' shares
    municipalities: int             # municipalities with N > 0
    suppression_rule: str | None = None    # the statistics room's note when anything is hidden


def _int(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def _share(t: Table, row: Any, value: Any) -> Share:
    n = _int(t.n_rows.get(row)) if t.n_rows is not None else None
    if row not in t.counts.index:
        return Share(0, 0, None)
    if value not in t.counts.columns:  # nobody has that answer: 0 of N
        return Share(0 if n is not None else None, n, 0.0 if n else None)
    count = _int(t.counts.at[row, value])
    pct: Any = t.percents.at[row, value] if t.percents is not None else None
    share = None if count is None or n is None or pct is None or pd.isna(pct) else float(pct) / 100.0
    return Share(count, n, share)


def share_table(frame: pd.DataFrame, code: str, exclude: Sequence[Any] = (),
                municipality: str | None = None) -> Table:
    """The statistics room's frequency of `code` by municipality (unsuppressed), with the
    codes in `exclude` left out of N. Raises FeedbackItemError for a variable that is not a
    coded case-level item of the frame."""
    if code not in frame.columns:
        raise FeedbackItemError(f"{code}: not a case-level item of the case frame")
    if exclude:
        drop = set(exclude)
        column = frame[code].map(lambda v: None if not isinstance(v, (tuple, list)) and v in drop else v)
        frame = frame.assign(**{code: column.astype(object)})
    t = frequency(frame, code, BY, codes={BY: [municipality]} if municipality else None)
    if t.kind != "crosstab":
        raise FeedbackItemError(f"{code}: a number, not an answer code; a feedback share needs a coded item")
    return t


def feedback_rows(frame: pd.DataFrame, municipality: str, items: Sequence[Mapping[str, Any]],
                  threshold: int | None) -> list[FeedbackRow]:
    """One row per key item: the municipality's share and all municipalities' share (each
    with count and N, suppressed below `threshold`; None: not suppressed), and the mean of
    the municipalities' shares. items: [{"code", "value", "label", "exclude"?}]. Suppression
    is that of the whole table by municipality, which the workbooks publish together."""
    out = []
    for spec in items:
        code, value = str(spec["code"]), spec.get("value", "ja")
        # The whole table by municipality is suppressed, not the municipality's row alone: the
        # workbooks of all municipalities together publish every row beside the same total.
        t = share_table(frame, code, spec.get("exclude", ()))
        shown = suppress(t, threshold) if threshold else t
        sizes = t.n_rows if t.n_rows is not None else pd.Series(dtype=float)
        groups = [g for g in t.counts.index if g != TOTAL and (_int(sizes.get(g)) or 0) > 0]
        # the mean of the municipalities' shares from the published shares only; withheld when
        # one is hidden (it would give the hidden one back)
        values = [v for v in (_share(t, g, value).value for g in groups) if v is not None]
        if any(_share(shown, g, value).hidden for g in groups):
            values = []
        rule = shown.notes[-1] if threshold and shown.suppressed is not None \
            and bool(shown.suppressed.to_numpy().any()) else None
        out.append(FeedbackRow(code, value, str(spec.get("label") or code), _share(shown, municipality, value),
                               _share(shown, TOTAL, value), sum(values) / len(values) if values else None,
                               len(values), rule))
    return out
