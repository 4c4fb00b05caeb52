"""One status per person by a declared priority order (seed 000's hierarchies)."""
from __future__ import annotations

import pandas as pd
import pytest

from audit.statistics.hierarchy import classify, classify_by, classify_codes, load_hierarchies


def test_declared_orders_follow_seed_000():
    h = load_hierarchies()
    assert h["benefit"].labels == ("Førtidspension", "Ledighedsydelse/Fleksjob", "Ressourceforløb", "Andet")
    assert h["offer"].labels == ("Ordinære timer", "Virksomhedsrettet indsats",
                                 "Vejledning og opkvalificering", "Mentor")
    assert h["offer"].none == "Ingen tilbud modtaget"


def test_first_applicable_status_wins():
    f = pd.DataFrame({
        "pension": ["ja", "nej", None, "nej"],
        "flex": ["ja", "ja", "nej", "nej"],
        "resource": ["ja", "ja", "ja", None],
    })
    s = classify(f, ["pension", "flex", "resource"], {"pension": "P", "flex": "F", "resource": "R"}, none="-")
    assert s.tolist() == ["P", "F", "R", "-"]
    # The order is the declaration, not the column order of the frame.
    s2 = classify(f, ["resource", "flex", "pension"], ["R", "F", "P"])
    assert s2.tolist()[:3] == ["R", "R", "R"]
    assert s2.isna().tolist()[3]


def test_booleans_and_numbers_count_as_indicators():
    f = pd.DataFrame({"a": [True, False, 0], "b": [1, 1, 0]})
    assert classify(f, ["a", "b"]).tolist()[:2] == ["a", "b"]


def test_each_person_counted_once():
    f = pd.DataFrame({c: ["ja"] * 5 for c in ("ordinaere_timer", "virksomhedsrettet",
                                               "vejledning_opkvalificering", "mentor")})
    s = classify_by(f, "offer")
    assert s.value_counts().to_dict() == {"Ordinære timer": 5}


def test_classify_multiple_choice_codes():
    h = load_hierarchies()["offer"]
    s = pd.Series([("mentor", "virksomhedsrettet"), ("mentor",), None, ()])
    assert classify_codes(s, h).tolist() == ["Virksomhedsrettet indsats", "Mentor",
                                             "Ingen tilbud modtaget", "Ingen tilbud modtaget"]


def test_duplicates_and_unknown_columns_are_refused():
    f = pd.DataFrame({"a": ["ja"]})
    with pytest.raises(ValueError):
        classify(f, ["a", "a"])
    with pytest.raises(KeyError):
        classify(f, ["a", "b"])
