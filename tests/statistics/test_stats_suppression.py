"""Discretion: primary and secondary suppression, configurable threshold."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from audit.statistics import crosstab, frequency, suppress
from audit.statistics.suppression import note, primary_mask, secondary_mask
from audit.statistics.tables import Table


def table_of(counts: np.ndarray) -> Table:
    df = pd.DataFrame(counts, index=[f"r{i}" for i in range(counts.shape[0])],
                      columns=[f"c{j}" for j in range(counts.shape[1])])
    n_rows, n_cols = df.sum(axis=1), df.sum(axis=0)
    return Table("t", "r", "c", df, percents=df.div(n_rows.replace(0, np.nan), axis=0) * 100,
                 n_rows=n_rows, n_cols=n_cols, n_total=int(df.to_numpy().sum()))


def assert_protected(mask: np.ndarray) -> None:
    """Brute force: no row or column (of two or more cells) has exactly one hidden cell."""
    r, c = mask.shape
    if c >= 2:
        for i in range(r):
            assert mask[i].sum() != 1, f"row {i} has a single hidden cell"
    if r >= 2:
        for j in range(c):
            assert mask[:, j].sum() != 1, f"column {j} has a single hidden cell"


def test_primary_and_secondary():
    t = suppress(table_of(np.array([[2, 10, 20], [15, 12, 30], [25, 40, 50]])))
    m = t.suppressed.to_numpy()
    assert m[0, 0]  # primary: 2 < 3
    assert m[0, 1]  # secondary in row 0: next smallest (10)
    assert m[1, 0]  # secondary in column 0: next smallest (15)
    assert m[1, 1]  # column 1 then had one hidden cell -> 12
    assert m.sum() == 4
    assert_protected(m)
    assert pd.isna(t.counts.iat[0, 0]) and pd.isna(t.percents.iat[0, 0])
    assert t.counts.iat[2, 2] == 50


def test_zero_cells_are_not_primary():
    assert not primary_mask(np.array([[0, 5]]), 3).any()


def test_threshold_is_configurable_and_stated_in_the_note():
    counts = np.array([[4, 10], [20, 30]])
    assert suppress(table_of(counts), threshold=3).suppressed.to_numpy().sum() == 0
    t5 = suppress(table_of(counts), threshold=5)
    assert t5.suppressed.to_numpy()[0, 0]
    assert "færre end 5 sager" in " ".join(t5.all_notes())
    assert note(3) == ("Celler med færre end 3 sager er udeladt af diskretionshensyn; yderligere celler "
                       "er udeladt, så de udeladte tal ikke kan udledes af totalerne.")


def test_original_table_is_untouched_and_hidden_values_are_gone_from_outputs():
    t = table_of(np.array([[1, 10], [20, 30]]))
    s = suppress(t)
    assert t.counts.iat[0, 0] == 1 and t.suppressed is None
    recs = s.to_records()
    hidden = [r for r in recs if r["suppressed"]]
    assert hidden and all(r["count"] is None and r["percent"] is None for r in hidden)
    assert '"count": 1,' not in s.to_json()


def test_small_row_n_is_hidden_with_a_partner():
    t = suppress(table_of(np.array([[1, 1], [20, 30], [10, 12]])))
    assert pd.isna(t.n_rows.iloc[0])  # N=2 is itself a small count
    assert pd.isna(t.n_rows.iloc[2])  # next smallest row N, else 2 = total - others
    assert t.n_rows.iloc[1] == 50


def test_frequency_total_row_is_a_margin(frame):
    t = suppress(frequency(frame, "origin", "municipality"))
    interior = t.suppressed.drop(index="I alt").to_numpy()
    assert_protected(interior)
    assert t.counts.loc["I alt"].notna().any()


def test_weighted_shares_of_hidden_cells_are_hidden(frame):
    t = suppress(crosstab(frame, "origin", "direction", weighted=True), threshold=30)
    m = t.suppressed
    assert m.to_numpy().any()
    assert t.weighted["share"].where(m).isna().all().all()


@settings(max_examples=200, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(2, 6), st.integers(2, 6)), elements=st.integers(0, 12)),
       st.integers(1, 6))
def test_secondary_suppression_property(counts, threshold):
    mask = secondary_mask(counts, primary_mask(counts, threshold))
    assert_protected(mask)
    assert (mask >= primary_mask(counts, threshold)).all()  # primary cells stay hidden
