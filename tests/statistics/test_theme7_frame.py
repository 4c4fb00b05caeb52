"""Theme 7 as a frame of its own: one row per municipality that answered, N = municipalities.

The shares are checked against pandas written here, on answers drawn in the test, with 22 of
25 municipalities answering (the report's Figures 10 and 66-68)."""
from __future__ import annotations

import random

import pandas as pd
import pytest

from audit.exports.definitions import DefinitionError, load_definitions
from audit.exports.service import default_instrument
from audit.statistics.dataset import municipality_frame
from audit.statistics.frequencies import frequency

FOCUS = ["samtaler_rettidighed", "jobfokus", "cv", "min_plan", "aktiv_indsats", "ordinaere_timer"]


def _answers(seed: int = 7) -> tuple[pd.DataFrame, dict[int, dict], list[str]]:
    rng = random.Random(seed)
    names = [f"Kommune {k:02d}" for k in range(25)]
    answered, not_answered = names[:22], names[22:]
    reviews = pd.DataFrame({"municipality_review_id": range(1, 23), "municipality": answered})
    answers: dict[int, dict] = {}
    for rid in reviews["municipality_review_id"]:
        sup = rng.choice(["ja", "ja", "nej"])
        a = {"political_focus": str(rng.randint(1, 4)), "management_focus": str(rng.randint(2, 5)),
             "supervision": sup}
        # a focus answer kept from before 'supervision' became 'nej' must not count
        a["supervision_focus"] = rng.sample(FOCUS, rng.randint(1, 3))
        answers[int(rid)] = a
    return reviews, answers, not_answered


@pytest.fixture(scope="module")
def instrument():  # type: ignore[no-untyped-def]
    return default_instrument()


def test_frame_has_one_row_per_answering_municipality_and_only_theme7_items(instrument):  # type: ignore[no-untyped-def]
    reviews, answers, missing = _answers()
    frame = municipality_frame(reviews, answers, instrument, not_answered=missing, municipalities=25)
    assert len(frame) == 22
    theme7 = {i.name for i in instrument.items_at("municipality")}
    # beside the items, the derived variables of theme-7 items (questionnaires/derived_2022.yaml)
    derived = {"supervision_focus_all", "dashboard_focus_all", "management_info_focus_all"}
    assert set(frame.columns) - {"municipality_review_id", "municipality"} == theme7 | derived
    assert frame.attrs["kinds"]["supervision_focus_all"] == "multiple"
    assert "direction" not in frame.columns
    assert frame.attrs["not_answered"] == tuple(missing)


def test_scale_shares_and_n_match_pandas(instrument):  # type: ignore[no-untyped-def]
    reviews, answers, missing = _answers()
    frame = municipality_frame(reviews, answers, instrument, not_answered=missing, municipalities=25)
    t = frequency(frame, "management_focus")
    raw = pd.Series([answers[i]["management_focus"] for i in reviews["municipality_review_id"]])
    expected = raw.value_counts(normalize=True) * 100
    assert int(t.n_total) == 22
    for code, share in expected.items():
        assert t.percents.loc["I alt", code] == pytest.approx(share)
    assert t.n_note() == "N=22 kommuner"
    assert t.source == "Survey til ledelsen i de deltagende kommuner"
    assert any("3 af 25 kommuner" in n for n in t.notes)


def test_skip_logic_applies_per_municipality(instrument):  # type: ignore[no-untyped-def]
    reviews, answers, missing = _answers()
    frame = municipality_frame(reviews, answers, instrument, not_answered=missing)
    t = frequency(frame, "supervision_focus")
    asked = [answers[i] for i in reviews["municipality_review_id"] if answers[i]["supervision"] == "ja"]
    assert 0 < len(asked) < 22
    assert int(t.n_total) == len(asked)
    ticked = pd.Series([c for a in asked for c in a["supervision_focus"]]).value_counts()
    for code, count in ticked.items():
        assert t.counts.loc["I alt", code] == count
        assert t.percents.loc["I alt", code] == pytest.approx(100 * count / len(asked))


def _write(tmp_path, body: str):  # type: ignore[no-untyped-def]
    p = tmp_path / "annex.yaml"
    p.write_text(body, encoding="utf-8")
    return p


def test_check_refuses_theme7_item_in_a_case_table_naming_table_and_variable(tmp_path, instrument):  # type: ignore[no-untyped-def]
    p = _write(tmp_path, "tables:\n  - {id: F66, title: t, kind: frequency, row: supervision_focus}\n")
    with pytest.raises(DefinitionError) as err:
        load_definitions(p, instrument=instrument)
    assert any("F66" in m and "supervision_focus" in m and "frame: municipality" in m for m in err.value.problems)


def test_check_refuses_case_variable_and_weights_in_a_municipality_table(tmp_path, instrument):  # type: ignore[no-untyped-def]
    p = _write(tmp_path, "tables:\n  - {id: X, title: t, kind: crosstab, row: supervision, col: direction,"
                         " frame: municipality, weighting: design}\n")
    with pytest.raises(DefinitionError) as err:
        load_definitions(p, instrument=instrument)
    text = "\n".join(err.value.problems)
    assert "`direction` is not a theme-7 item" in text and "design weights" in text


def test_municipality_table_passes_and_builds_from_the_theme7_frame(tmp_path, instrument):  # type: ignore[no-untyped-def]
    from audit.exports.compute import build_grids
    from audit.statistics.dataset import case_frame

    p = _write(tmp_path, "tables:\n  - {id: F10, title: t, kind: frequency, row: political_focus, frame: municipality}\n")
    spec = load_definitions(p, instrument=instrument)
    assert spec.tables[0].frame == "municipality" and spec.tables[0].suppress is False
    reviews, answers, missing = _answers()
    mframe = municipality_frame(reviews, answers, instrument, not_answered=missing, municipalities=25)
    cases = pd.DataFrame({c: pd.Series([], dtype=object) for c in
                          ("case_id", "municipality", "seniority_band", "sex", "age", "origin",
                           "stratum_population", "stratum_sample", "weight")})
    cframe = case_frame(cases, {}, instrument)
    with pytest.raises(ValueError, match="F10"):
        build_grids(cframe, spec, instrument)
    grid = build_grids(cframe, spec, instrument, municipality_frame=mframe)[0]
    counts = pd.Series([answers[i]["political_focus"] for i in reviews["municipality_review_id"]]).value_counts()
    by_key = {r.key: r.values[0] for r in grid.rows}
    assert by_key["N"] == 22
    for code, count in counts.items():
        assert by_key[code] == count
