"""Derived variables from the reviewed file, checked against pandas written here."""
from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from audit.exports.service import default_instrument
from audit.statistics.dataset import case_frame
from audit.statistics.derived import DerivedError, apply_derived, load_derived, parse
from audit.statistics.frequencies import frequency

N = 375


@pytest.fixture(scope="module")
def frame():  # type: ignore[no-untyped-def]
    inst = default_instrument()
    rng = random.Random(15)
    cases = pd.DataFrame({"case_id": range(1, N + 1), "municipality": ["Odense"] * N,
                          "seniority_band": ["5-7"] * N, "sex": ["mand"] * N, "age": [45] * N,
                          "origin": ["dansk"] * N, "stratum_population": [100] * N,
                          "stratum_sample": [N] * N, "weight": [1.0] * N})
    answers = {}
    for cid in cases["case_id"]:
        med = rng.choice(["ja", "ja", "nej"])
        a = {"meetings_other_departments": rng.choice(["ja", "nej", "nej"]),
             "roundtable": rng.choice(["ja", "nej", "nej"]),
             "direction": rng.choice(["jobrettet", "rehabiliterende", "fritaget"]),
             "medical_certificates": med}
        if med == "ja":
            a["medical_certificates_count"] = rng.randint(1, 9)
        answers[int(cid)] = a
    return apply_derived(case_frame(cases, answers, inst), load_derived(instrument=inst)), answers


def test_any_of_is_the_or_of_the_items(frame):  # type: ignore[no-untyped-def]
    f, answers = frame
    raw = pd.DataFrame.from_dict(answers, orient="index")
    expected = ((raw["meetings_other_departments"] == "ja") | (raw["roundtable"] == "ja")).mean() * 100
    t = frequency(f, "structured_dialogue")
    assert int(t.n_total) == N
    assert t.percents.loc["I alt", "ja"] == pytest.approx(expected)


def test_count_with_zeros_and_band_with_ingen(frame):  # type: ignore[no-untyped-def]
    f, answers = frame
    raw = pd.DataFrame.from_dict(answers, orient="index")
    counts = raw["medical_certificates_count"].fillna(0)
    assert f["medical_certificates_count0"].mean() == pytest.approx(counts.mean())
    by_dir = counts.groupby(raw["direction"]).mean()
    got = f.groupby("direction")["medical_certificates_count0"].mean()
    for d, m in by_dir.items():
        assert got[d] == pytest.approx(m)
    bands = pd.cut(counts, [-0.5, 0.5, 2.5, 4.5, 6.5, np.inf], labels=["Ingen", "1-2", "3-4", "5-6", "7+"])
    t = frequency(f, "medical_certificates_band")
    shares = bands.value_counts(normalize=True) * 100
    assert list(t.counts.columns) == ["Ingen", "1-2", "3-4", "5-6", "7+"]
    for code, share in shares.items():
        assert t.percents.loc["I alt", code] == pytest.approx(share)


def test_not_asked_counts_as_no_within_the_base() -> None:
    spec = parse({"variables": {"x": {"value": "child", "not_asked": "nej",
                                      "within": [{"item": "parent_any", "is": "ja"}]}}}, [])
    f = pd.DataFrame({"child": ["ja", None, None, "nej", None],
                      "parent_any": ["ja", "ja", "nej", "ja", None]})
    out = apply_derived(f, spec)["x"].tolist()
    assert out == ["ja", "nej", None, "nej", None]


def test_file_problems_name_the_variable_and_field(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "d.yaml"
    p.write_text("variables:\n  a: {any_of: [{item: roundtable, is: maybe}]}\n  b: {value: nosuch}\n"
                 "  c: {bands: {from: roundtable, edges: [2, 1], codes: [x, y]}}\n", encoding="utf-8")
    with pytest.raises(DerivedError) as err:
        load_derived(p, instrument=default_instrument())
    text = "\n".join(err.value.problems)
    assert "variable a" in text and "'maybe' is not a code of `roundtable`" in text
    assert "variable b: unknown variable `nosuch`" in text
    assert "variable c" in text and "bands" in text
