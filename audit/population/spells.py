"""Benefit seniority from benefit spells.

The report's rule (chapter 2.2, note 2): seniority is the length of the latest
continuous period on cash-type benefits, where a break of up to 5 weeks does
not end the period. Concretely, for one person:

1. spells are sorted by start; a spell whose start is at most 35 days after the
   running end (or overlaps it) is merged into the running period;
2. the latest merged period counts if it is ongoing at the reference date
   (no end, or end >= reference date) or ended at most 35 days before it
   (the person is then inside an allowed break);
3. seniority = (min(end, reference date) - start) in days / 365.25, else 0.

All benefit types in the file count: the register extract holds only the
cash-type benefits (kontanthjælp, uddannelseshjælp, integrationsydelse and the
like), so the `benefit` column is kept for traceability, not filtered on.
Spells starting after the reference date are ignored.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd

MAX_GAP_DAYS = 35  # 5 weeks
DAYS_PER_YEAR = 365.25


def seniority_from_spells(spells: Iterable[tuple[date, date | None]], reference: date,
                          max_gap_days: int = MAX_GAP_DAYS) -> float:
    """Seniority in years for one person's spells (start, end or None = ongoing)."""
    # an ongoing spell (no end) sorts as ending last; None itself cannot be compared with a date
    rows = sorted((s, e or date.max) for s, e in spells if s <= reference)
    if not rows:
        return 0.0
    cur_start, cur_end = rows[0]
    for start, end in rows[1:]:
        if (start - cur_end).days <= max_gap_days:  # overlap gives a negative gap
            cur_end = max(cur_end, end)
        else:
            cur_start, cur_end = start, end
    if cur_end != date.max and (reference - cur_end).days > max_gap_days:
        return 0.0
    stop = min(cur_end, reference)
    return (stop - cur_start).days / DAYS_PER_YEAR


def seniority_frame(spells: pd.DataFrame, reference: date,
                    max_gap_days: int = MAX_GAP_DAYS) -> pd.Series:
    """Vectorised version over a frame with `person_id`, `start`, `end` (datetime64,
    NaT end = ongoing). Returns seniority in years indexed by person_id; same rule
    as `seniority_from_spells` (tested against it)."""
    ref = pd.Timestamp(reference)
    far = pd.Timestamp("2262-01-01")
    df = spells.loc[spells["start"] <= ref, ["person_id", "start", "end"]].copy()
    if df.empty:
        return pd.Series(dtype=float, name="seniority_years")
    df["end"] = df["end"].fillna(far)
    df = df.sort_values(["person_id", "start", "end"], kind="mergesort")
    # running maximum of end within person, shifted: the end of everything before this spell
    prev_end = df.groupby("person_id", sort=False)["end"].cummax().groupby(df["person_id"], sort=False).shift(1)
    gap = (df["start"] - prev_end).dt.days
    new_period = prev_end.isna() | (gap > max_gap_days)
    period = new_period.cumsum()
    agg = df.assign(period=period.to_numpy()).groupby(["person_id", "period"], sort=False).agg(
        start=("start", "min"), end=("end", "max"))
    last = agg.groupby(level="person_id", sort=False).tail(1).reset_index(level="period", drop=True)
    days_since_end = (ref - last["end"]).dt.days
    stop = last["end"].where(last["end"] < ref, ref)
    years = (stop - last["start"]).dt.days / DAYS_PER_YEAR
    years = years.where(days_since_end <= max_gap_days, 0.0)
    return years.astype(float).rename("seniority_years")
