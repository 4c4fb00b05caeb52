"""Every static validation error, each provoked by a small bad questionnaire.
Problems must name the item (or section) and the line an author has to fix."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from audit.instrument import InstrumentError, check_file, load_instrument


def problems_of(write, data) -> list[str]:
    result = check_file(write(data))
    assert result.instrument is None, "the file should have been rejected"
    return [str(p) for p in result.problems]


def only(problems: list[str], fragment: str) -> str:
    hits = [p for p in problems if fragment in p]
    assert hits, f"{fragment!r} not in {problems}"
    return hits[0]


def test_minimal_file_is_valid(write, mini):
    inst = load_instrument(write(mini))
    assert [i.name for i in inst.items] == ["direction", "q_yes", "challenges", "n", "d", "t", "s"]
    assert inst.item("s").level == "municipality"        # level inherited from theme 7
    assert inst.item("t").required is False and inst.item("n").required is True


def test_duplicate_name(write, mini):
    mini["survey"].append(dict(mini["survey"][1]))
    p = only(problems_of(write, mini), "duplicate name")
    assert p.startswith("q_yes (line ") and "first defined on line" in p


def test_unknown_reference(write, mini):
    mini["survey"][1]["relevant"] = "${nope} = 'ja'"
    p = only(problems_of(write, mini), "unknown item '${nope}'")
    assert p.startswith("q_yes (line ") and "relevant:" in p and "position 1" in p


def test_cycle_in_relevance(write, mini):
    mini["survey"][1]["relevant"] = "${n} > 1"
    mini["survey"][3]["relevant"] = "${q_yes} = 'ja'"
    p = only(problems_of(write, mini), "circular dependency")
    assert "q_yes" in p and "n" in p


def test_cycle_through_a_calculation(write, mini):
    mini["survey"].append({"type": "calculate", "name": "c1", "theme": 1, "label_da": "c", "label_en": "c",
                           "calculation": "${c2} + 1"})
    mini["survey"].append({"type": "calculate", "name": "c2", "theme": 1, "label_da": "c", "label_en": "c",
                           "calculation": "${c1} + 1"})
    p = only(problems_of(write, mini), "circular dependency")
    assert "c1" in p and "c2" in p


def test_self_reference_is_a_cycle(write, mini):
    mini["survey"][3]["relevant"] = "${n} > 1"
    only(problems_of(write, mini), "n -> n")


def test_missing_choice_list(write, mini):
    mini["survey"][0]["type"] = "select_one retning"
    p = only(problems_of(write, mini), "choice list 'retning' is missing")
    assert p.startswith("direction (line ")


def test_select_without_list_name(write, mini):
    mini["survey"][0]["type"] = "select_one"
    only(problems_of(write, mini), "needs a choice list name")


def test_bad_type(write, mini):
    mini["survey"][1]["type"] = "yesno"
    only(problems_of(write, mini), "unknown type 'yesno'")


def test_unknown_column_catches_typos(write, mini):
    mini["survey"][1]["relevent"] = "${n} > 1"
    only(problems_of(write, mini), "unknown column 'relevent'")


def test_syntax_error_with_position(write, mini):
    mini["survey"][1]["relevant"] = "${n} >"
    p = only(problems_of(write, mini), "relevant:")
    assert "q_yes" in p and "position 7" in p and "${n} >" in p


def test_type_error_selected_on_single_choice(write, mini):
    mini["survey"][1]["relevant"] = "selected(${direction}, 'jobrettet')"
    only(problems_of(write, mini), "selected() needs a multiple-choice item")


def test_type_error_yes_no_against_number(write, mini):
    mini["survey"][3]["relevant"] = "${q_yes} = 1"
    only(problems_of(write, mini), "cannot compare a choice from list 'yes_no' with a number")


def test_unknown_choice_code(write, mini):
    mini["survey"][1]["relevant"] = "${direction} = 'jobret'"
    p = only(problems_of(write, mini), "unknown choice code 'jobret'")
    assert "allowed: fritaget, jobrettet, rehabiliterende" in p


def test_unknown_code_in_selected(write, mini):
    mini["survey"][1]["relevant"] = "selected(${challenges}, 'drugs')"
    only(problems_of(write, mini), "unknown choice code 'drugs' for list 'challenges'")


def test_relevance_must_be_a_condition(write, mini):
    mini["survey"][1]["relevant"] = "${n} + 1"
    only(problems_of(write, mini), "must be a condition")


def test_this_outside_constraint(write, mini):
    mini["survey"][1]["relevant"] = ". > 1"
    only(problems_of(write, mini), "only allowed in a constraint")


def test_calculated_codes_must_be_in_its_list(write, mini):
    mini["survey"].append({"type": "calculate", "name": "band", "theme": 1, "label_da": "b", "label_en": "b",
                           "choices": "direction", "calculation": "if(${n} > 2, 'jobrettet', 'nowhere')"})
    only(problems_of(write, mini), "gives 'nowhere', not codes of list 'direction'")


def test_count_mismatch(write, mini):
    mini["settings"]["expected_items"] = 194
    only(problems_of(write, mini), "7 assessment items, but settings.expected_items says 194")


def test_theme_count_mismatch(write, mini):
    mini["settings"]["themes"][0]["expected_items"] = 3
    only(problems_of(write, mini), "theme 1 has 6 assessment items, but its expected_items says 3")


def test_cross_level_reference(write, mini):
    mini["survey"][1]["relevant"] = "${s} > 2"
    only(problems_of(write, mini), "a case-level item cannot depend on the municipality-level item 's'")


def test_missing_labels_theme_and_settings(write, mini):
    del mini["survey"][1]["label_en"]
    mini["survey"][2]["theme"] = 9
    del mini["settings"]["version"]
    problems = problems_of(write, mini)
    only(problems, "'label_en' is missing")
    only(problems, "theme 9 is not one of the themes")
    only(problems, "'version' is missing")


def test_duplicate_choice_code_and_bad_name(write, mini):
    mini["choices"]["direction"].append({"code": "fritaget", "da": "x", "en": "x"})
    mini["survey"][1]["name"] = "Bad-Name"
    problems = problems_of(write, mini)
    only(problems, "code 'fritaget' appears twice")
    only(problems, "name must be lower-case")


def test_calculate_needs_calculation(write, mini):
    mini["survey"].append({"type": "calculate", "name": "c", "theme": 1, "label_da": "c", "label_en": "c"})
    mini["survey"][1]["calculation"] = "1"
    problems = problems_of(write, mini)
    only(problems, "a calculate item needs a calculation")
    only(problems, "only calculate items may have a calculation")


def test_builtin_list_cannot_change_codes(write, mini):
    mini["choices"]["yes_no"] = [{"code": "y", "da": "J", "en": "Y"}, {"code": "n", "da": "N", "en": "N"}]
    only(problems_of(write, mini), "built-in list 'yes_no' must keep the codes ja, nej")


def test_invalid_yaml_cites_the_line(write):
    problems = problems_of(write, "settings:\n  id: x\n survey: [\n")
    assert "not valid YAML" in problems[0] and "line" in problems[0]


def test_duplicate_key_in_one_item_cites_the_line(write):
    text = ("settings: {id: x, version: '1', title: t, themes: [{number: 1, da: a, en: b}]}\n"
            "choices: {}\n"
            "survey:\n"
            "  - type: integer\n"
            "    name: n\n"
            "    relevant: 1 = 1\n"
            "    relevant: 1 = 2\n")
    problems = problems_of(write, text)
    assert problems == ["file (line 7): not valid YAML: duplicate key 'relevant'"]


def test_all_problems_reported_at_once_and_raised_by_load(write, mini):
    mini["survey"][1]["relevant"] = "${nope} = 'ja'"
    mini["survey"][3]["type"] = "number"
    path = write(mini)
    with pytest.raises(InstrumentError) as info:
        load_instrument(path)
    assert len(info.value.problems) == 2
    assert "unknown item" in str(info.value) and "unknown type 'number'" in str(info.value)


def test_bad_example_files_in_folder_are_rejected():
    files = sorted((Path(__file__).parent / "bad").glob("*.yaml"))
    assert files, "tests/instrument/bad/ should hold example bad files"
    for path in files:
        expected = path.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect: ").strip()
        result = check_file(path)
        assert result.instrument is None, path.name
        assert any(expected in str(p) for p in result.problems), (path.name, [str(p) for p in result.problems])


def _set(path: str, value):
    """A mutation that sets a value at a dotted path such as 'survey.1.required'."""
    def mutate(data):
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return mutate


@pytest.mark.parametrize("mutate, fragment", [
    (_set("extra_section", {}), "unknown section 'extra_section'"),
    (_set("settings.themes", []), "'themes' must list the themes"),
    (_set("settings.themes.1.level", "region"), "theme 7: level must be one of case, municipality"),
    (_set("settings.themes.1.number", 1), "theme 1 is listed twice"),
    (_set("settings.required_default", "yes please"), "'required_default' must be true or false"),
    (_set("settings.expected_items", "many"), "'expected_items' must be a whole number"),
    (_set("survey.1.required", "sometimes"), "'required' must be true or false"),
    (_set("survey.1.level", "region"), "level must be one of case, municipality"),
    (_set("survey.1.type", "yes_no direction"), "type 'yes_no' takes no list name"),
    (_set("survey.3.type", "integer direction"), "type 'integer' takes no list name"),
    (_set("survey.1.choices", "direction"), "'choices' is only used on calculate items"),
    (_set("survey.1.relevant", 5), "relevant: must be an expression in text"),
    (_set("survey.1", "just text"), "must be a mapping of columns"),
    (_set("choices.direction", []), "must be a non-empty list"),
    (_set("choices.direction.0", {"code": "x"}), "each choice needs a code, a Danish (da) and an English (en) label"),
    (_set("survey.3.constraint", ". > 'a'"), "cannot compare a number with text"),
    (_set("survey.4.constraint", ". >= '2018-3-1'"), "is not a date in the form YYYY-MM-DD"),
])
def test_other_structural_errors(write, mini, mutate, fragment):
    mutate(mini)
    only(problems_of(write, mini), fragment)


def test_calculate_cannot_be_required_or_constrained(write, mini):
    mini["survey"].append({"type": "calculate", "name": "c", "theme": 1, "label_da": "c", "label_en": "c",
                           "calculation": "${n} * 2", "required": True})
    only(problems_of(write, mini), "a calculate item cannot have a constraint or be required")


def test_missing_sections(write):
    problems = problems_of(write, {"settings": {"id": "x"}})
    only(problems, "missing section 'choices'")
    only(problems, "missing section 'survey'")
    assert problems_of(write, "- just\n- a list\n")[0].startswith("file: the file must be a mapping")


def test_unquoted_comma_in_a_choice_label_is_refused(write, mini):
    """`{code: x, da: Løntilskud, privat, en: ...}` silently cuts the label at the comma in
    YAML; the loader names the choice and the stray key instead of accepting 'Løntilskud'."""
    text = yaml.safe_dump(mini, allow_unicode=True, sort_keys=False)
    name, entries = next(iter(mini["choices"].items()))
    first = entries[0]
    bad = f"  {name}:\n  - {{code: {first['code']}, da: Løntilskud, privat, en: Wage subsidy}}\n"
    good = yaml.safe_dump({"choices": {name: entries}}, allow_unicode=True, sort_keys=False).split("\n", 1)[1]
    assert good in text
    p = only(problems_of(write, text.replace(good, bad + "".join(
        f"  - {{code: {e['code']}, da: {e['da']}, en: {e['en']}}}\n" for e in entries[1:]))), "unknown key(s)")
    assert f"choices.{name} (line" in p and "'privat'" in p and "must be quoted" in p


def test_real_instrument_keeps_labels_with_commas():
    inst = load_instrument(Path(__file__).resolve().parents[2] / "questionnaires" / "kontanthjaelp_2022.yaml")
    labels = {c.code: c.label_da for c in inst.item("challenges").choices}
    assert labels["laese_skrive_regne"] == "Læse-, skrive- eller regneudfordringer"
