"""The demo population follows the report's Table 11 counts and Table 12 compositions, deterministically."""
from __future__ import annotations

import pandas as pd

from audit.demo import generate_population, load_spec


def test_population_matches_table_11_and_is_deterministic():
    spec = load_spec()
    df = generate_population(7)
    assert len(df) == 14164
    assert df.groupby("municipality").size().to_dict() == spec["population"]
    assert df.person_id.is_unique
    pd.testing.assert_frame_equal(df, generate_population(7))
    assert not df.equals(generate_population(8))
    band = pd.cut(df.seniority_years, [5, 7, 10, 99], right=False, labels=["5-7", "7-10", "10+"])
    assert band.notna().all()
    assert abs((band == "10+").mean() - 0.40) < 0.02  # report: 40 % above 10 years
    assert abs(df.seniority_years.mean() - 10.4) < 0.5  # report: mean 10.4 years
    women_10 = (df.sex[band == "10+"] == "kvinde").mean()
    assert abs(women_10 - 0.59) < 0.03  # Table 12: 59 % women in the 10+ band
