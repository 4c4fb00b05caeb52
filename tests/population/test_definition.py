"""The register definition file: what it declares, how a bad one is refused, and the band
and label functions that read it."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from audit.bands import Bands
from audit.labels import Vocabulary, vocabulary
from audit.population.definition import (DEFAULT_FILE, RegisterDefinitionError, default_definition,
                                         load_register_definition)
from audit.population.register import REGISTER_COLUMNS

RAW = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))


def test_the_six_register_columns_and_the_derived_bands_are_declared():
    d = default_definition()
    assert d.required_columns == ("person_id", "municipality", "seniority_years", "sex", "age", "origin")
    assert REGISTER_COLUMNS == d.required_columns  # the import reads the same list
    for v in d.variables:  # every variable is labelled in both languages and says whether it may be shown
        raw = next(r for r in RAW["variables"] if r["code"] == v.code)
        assert (v.label_da, v.label_en) == (raw["label_da"], raw["label_en"]) and v.label_da and v.label_en
        assert v.showable_to_municipality is raw["showable_to_municipality"]
    assert d.variable("sex").codes == ("kvinde", "mand")
    assert d.variable("age").minimum == 18 and d.variable("age").maximum == 80
    assert d.variable("seniority_band").codes == ("5-7", "7-10", "10+")
    assert d.variable("age_band").codes == ("<40", "40-49", "50-59", "60+")
    assert "person_id" not in d.showable and "age" not in d.showable and "age_band" in d.showable
    assert d.version.startswith("1.1:")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "register.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BAD = """settings: {id: x, version: "1", title: X}
variables:
  - code: sex
    type: categroy
    label_da: Køn
    label_en: Sex
    showable_to_municipality: true
  - code: age
    type: integer
    label_da: Alder
    min: 80
    max: 18
    showable_to_municipality: false
  - code: sex
    type: category
    label_da: Køn
    label_en: Sex
    values: [{code: mand, da: Mand}]
    colour: blue
  - code: age_band
    type: category
    source: derived
    from: alder
    bands: [40, 30]
    label_da: Alder
    label_en: Age
    showable_to_municipality: yes please
"""


def test_a_bad_definition_is_refused_whole_with_every_problem_and_its_line(tmp_path):
    with pytest.raises(RegisterDefinitionError) as err:
        load_register_definition(_write(tmp_path, BAD))
    problems = [(p.where, p.line, p.message) for p in err.value.problems]
    text = "\n".join(f"{w} {line} {m}" for w, line, m in problems)
    assert ("sex", 3) in {(w, line) for w, line, _ in problems} and "type must be one of" in text  # typo in type
    assert any(w == "age" and line == 8 and "'label_en' is missing" in m for w, line, m in problems)
    assert any(w == "age" and "min 80.0 is above max 18.0" in m for w, _, m in problems)
    assert any(w == "sex" and line == 14 and "code used twice (first on line 3)" in m for w, line, m in problems)
    assert any(w == "sex" and line == 14 and "unknown key 'colour'" in m for w, line, m in problems)
    assert any(w == "sex" and line == 18 and "needs both a Danish (da) and an English (en) label" in m
               for w, line, m in problems)
    assert any(w == "sex" and "'showable_to_municipality' must be true or false" in m for w, _, m in problems)
    assert any(w == "age_band" and "'bands' must be increasing" in m for w, _, m in problems)
    assert any(w == "age_band" and "'from: alder' is not a variable" in m for w, _, m in problems)
    assert str(err.value).startswith(f"{tmp_path / 'register.yaml'}: ")


def test_not_yaml_names_the_line(tmp_path):
    with pytest.raises(RegisterDefinitionError) as err:
        load_register_definition(_write(tmp_path, "settings: {id: x\nvariables: [\n"))
    assert err.value.problems[0].line is not None and "not valid YAML" in err.value.problems[0].message


def test_bands_follow_the_documented_rule():
    seniority = Bands.from_boundaries((5, 7, 10))
    assert seniority.codes == ("5-7", "7-10", "10+")
    values = [4.99, 5.0, 6.999, 7.0, 9.99, 10.0, 28.0, None, float("nan"), "x"]
    want = [None, "5-7", "5-7", "7-10", "7-10", "10+", "10+", None, None, None]
    assert seniority.assign(pd.Series(values, dtype=object)).tolist() == want
    assert [seniority.code_of(v) for v in values] == want
    age = default_definition().variable("age_band").bands
    assert [age.code_of(a) for a in (18, 39, 40, 49.5, 50, 60, 80)] == ["<40", "<40", "40-49", "40-49", "50-59",
                                                                          "60+", "60+"]
    assert math.isinf(age.edges[0])
    with pytest.raises(ValueError):
        Bands((1, 1), ("a", "b"))


def test_one_label_function_for_items_and_register_variables():
    from audit.exports.service import default_instrument

    inst = default_instrument()
    vocab = vocabulary(inst)
    direction = inst.item("direction")
    assert vocab.label("direction") == direction.label_da
    assert vocab.label("direction", "jobrettet", "en") == direction.choices[0].label_en
    assert vocab.label("sex") == "Køn" and vocab.label("sex", "kvinde") == "Kvinde"
    assert vocab.label("sex", "kvinde", "en") == "Woman"
    assert vocab.label("seniority_band", "5-7") == "5-7 år"        # the audit's own bands too
    assert vocab.label("seniority_band", "5-8", "en") == "5-8 years"
    assert vocab.label("age_band", "<40") == "Under 40 år"
    assert vocab.label("municipality", "Odense") == "Odense"
    assert vocab.label("weight") == "Designvægt (N_h/n_h)"
    assert vocab.label("origin", "ukendt") == "ukendt"             # unknown codes print as themselves
    assert vocab.values("sex") == {"kvinde": "Kvinde", "mand": "Mand"}
    assert vocab.values("municipality") == {}                      # nothing to say beyond the name
    assert vocab.dummy() == {"0": "Nej", "1": "Ja"} and vocab.dummy("en") == {"0": "No", "1": "Yes"}
    own = Vocabulary(inst, default_definition(), extra={"medical_band": {"_": "Lægeerklæringer"}})
    assert own.label("medical_band") == "Lægeerklæringer" and own.label("medical_band", "1-2") == "1-2"
