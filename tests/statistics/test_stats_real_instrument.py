"""The case frame with the real questionnaire. Skipped until the instrument room is merged;
then it checks the contract (applicable/derive, snapshot round trip) end to end."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import audit.instrument

QUESTIONNAIRE = Path(__file__).resolve().parents[2] / "questionnaires" / "kontanthjaelp_2022.yaml"
pytestmark = pytest.mark.skipif(not hasattr(audit.instrument, "load_instrument") or not QUESTIONNAIRE.exists(),
                                reason="instrument room not merged yet")


def test_case_frame_with_the_real_instrument():
    from audit.instrument import Instrument, load_instrument
    from audit.statistics import table2
    from audit.statistics.dataset import case_frame
    from audit.exports.definitions import load_definitions

    inst = Instrument.from_dict(json.loads(json.dumps(load_instrument(QUESTIONNAIRE).to_dict())))
    cases = pd.DataFrame({"case_id": [1, 2], "municipality": ["Odense", "Nordfyn"], "seniority_band": ["5-7", "10+"],
                          "sex": ["mand", "kvinde"], "age": [40, 55], "origin": ["dansk", "dansk"],
                          "stratum_population": [100, 20], "stratum_sample": [5, 5], "weight": [20.0, 4.0]})
    answers = {1: {"has_challenges": "ja", "challenges": ["misbrug", "fysiske"], "stable_participation": "ja",
                   "activation_weeks": 52},
               2: {"has_challenges": "nej", "challenges": ["misbrug"], "stable_participation": "nej"}}
    f = case_frame(cases, answers, inst)
    assert f.at[0, "challenges"] == ("misbrug", "fysiske")
    assert f.at[1, "challenges"] is None  # does not apply when has_challenges = nej
    assert f.at[0, "challenge_breadth"] == "2"
    assert f.at[0, "activation_weeks_share"] == pytest.approx(0.5)
    table14 = next(t for t in load_definitions(instrument=inst).tables if t.kind == "indicators")
    for code in table14.indicators:  # the default annex's Table 14 codes are case-level items of the questionnaire
        assert code in f.columns, code
    assert table2(f).n_rows.to_dict() == {"2": 1}
