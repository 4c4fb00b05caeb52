"""The expression language on its own: tokens, precedence, every operator and function,
missing-value behaviour and parse errors with positions."""
from __future__ import annotations

import pytest

from audit.instrument import expressions as ex


def ev(text: str, values: dict | None = None, this=None):
    return ex.evaluate(ex.parse(text), (values or {}).get, this=this)


@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("10 - 4 - 3", 3),           # left-associative
    ("8 / 2 / 2", 2),
    ("7 / 2", 3.5),
    ("-3 + 5", 2),
    ("- (2 * 3)", -6),
    ("2.5 * 2", 5),
])
def test_arithmetic_and_precedence(text, expected):
    assert ev(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("1 = 1", True), ("1 != 1", False), ("1 < 2", True), ("2 <= 2", True),
    ("3 > 2", True), ("2 >= 3", False), ("'a' = 'a'", True), ("'a' != 'b'", True),
    ("'2020-01-01' < '2020-02-01'", True), ("true = true", True), ("true != false", True),
])
def test_comparisons(text, expected):
    assert ev(text) is expected


def test_and_binds_tighter_than_or_and_not_tighter_than_and():
    assert ev("true or true and false") is True       # true or (true and false)
    assert ev("(true or true) and false") is False
    assert ev("not false and false") is False          # (not false) and false
    assert ev("not (false and false)") is True
    assert ev("1 + 1 = 2 and 2 * 2 = 4") is True       # arithmetic before comparison before and


def test_references_and_this():
    values = {"a": 3, "b": "ja"}
    assert ev("${a} * 2", values) == 6
    assert ev("${b} = 'ja'", values) is True
    assert ev(". > 2 and . < ${a} + 5", values, this=4) is True
    assert ev(". > 2", values, this=1) is False


def test_missing_values_propagate():
    assert ev("${x} + 1") is None
    assert ev("${x} * 0") is None
    assert ev("${x} = 'ja'") is False
    assert ev("${x} != 'ja'") is False       # comparison with a missing answer is false
    assert ev("${x} < 3") is False
    assert ev("${x} = null") is True
    assert ev("${x} != null", {"x": 2}) is True
    assert ev("null = ${x}", {"x": 2}) is False
    assert ev("not (${x} = 'ja')") is True
    assert ev("${x} or true") is True
    assert ev("${x} and true") is False
    assert ev("1 / 0") is None                # division by zero is missing, not a crash


def test_wrong_shaped_values_never_crash():
    assert ev("${a} + 1", {"a": "text"}) is None
    assert ev("${a} < 3", {"a": "text"}) is False
    assert ev("${a} = 1", {"a": True}) is False
    assert ev("-${a}", {"a": [1]}) is None
    assert ev("count_selected(${a})", {"a": "ja"}) == 0
    assert ev("selected(${a}, 'x')", {"a": 5}) is False


def test_functions():
    v = {"m": ["misbrug", "fysiske"], "one": "ja", "n": 4, "e": [], "s": ""}
    assert ev("selected(${m}, 'fysiske')", v) is True
    assert ev("selected(${m}, 'andet')", v) is False
    assert ev("selected(${one}, 'ja')", v) is True           # a single choice compares equal
    assert ev("count_selected(${m})", v) == 2
    assert ev("count_selected(${missing})", v) == 0
    assert ev("answered(${n})", v) is True
    assert ev("answered(${e})", v) is False                  # empty list is unanswered
    assert ev("answered(${s})", v) is False                  # empty text is unanswered
    assert ev("not answered(${missing})", v) is True
    assert ev("if(${n} > 3, 'big', 'small')", v) == "big"
    assert ev("if(${missing} > 3, 'big', 'small')", v) == "small"
    assert ev("min(3, ${n}, 9)", v) == 3
    assert ev("max(3, ${n}, ${missing})", v) == 4
    assert ev("max(${missing})", v) is None
    assert ev("selected(${m}, .)", v, this="misbrug") is True


def test_if_evaluates_only_the_chosen_branch():
    # the other branch divides by zero: it must not matter
    assert ev("if(true, 1, 1 / 0)") == 1


def test_challenge_breadth_style_chain():
    text = ("if(count_selected(${c}) >= 4, '4+', if(count_selected(${c}) = 3, '3', "
            "if(count_selected(${c}) = 2, '2', if(count_selected(${c}) = 1, '1', '0'))))")
    node = ex.parse(text)
    got = [ex.evaluate(node, {"c": [f"x{i}" for i in range(k)]}.get) for k in range(7)]
    assert got == ["0", "1", "2", "3", "4+", "4+", "4+"]


def test_tokens_and_references():
    tokens = ex.tokenize("${a} >= 'x' and .")
    assert [t.kind for t in tokens] == ["REF", "OP", "STRING", "NAME", "DOT", "END"]
    assert [r.name for r in ex.references(ex.parse("${a} = 1 or selected(${b}, 'c') and ${a} > 0"))] == ["a", "b", "a"]
    assert ex.parse('"double"') == ex.Literal("double", 0)


@pytest.mark.parametrize("text, position, fragment", [
    ("${a} = ", 8, "unexpected end of expression"),
    ("${a} = 'ja", 8, "unterminated string"),
    ("(1 + 2", 7, "expected ')'"),
    ("1 + # 2", 5, "unexpected character '#'"),
    ("${a", 1, "unclosed item reference"),
    ("foo(1)", 1, "unknown function 'foo'"),
    ("ja = 1", 1, "unknown word 'ja'"),
    ("1 < 2 < 3", 7, "cannot be chained"),
    ("selected(${a})", 1, "selected() takes 2 argument(s), got 1"),
    ("1 2", 3, "unexpected 2"),
    ("", 1, "empty expression"),
    ("and 1", 1, "'and' needs an operand"),
    ("${1x} = 1", 1, "bad item name"),
])
def test_parse_errors_name_the_position(text, position, fragment):
    with pytest.raises(ex.ExpressionError) as info:
        ex.parse(text)
    assert info.value.position + 1 == position
    assert fragment in str(info.value)
    assert f"position {position}" in str(info.value)


def types(name: str) -> ex.ValueType:
    table = {
        "yn": ex.ValueType("choice", frozenset({"ja", "nej"}), "yes_no"),
        "dir": ex.ValueType("choice", frozenset({"jobrettet", "fritaget"}), "direction"),
        "multi": ex.ValueType("multi", frozenset({"a", "b"}), "ch"),
        "num": ex.NUMBER, "txt": ex.STRING, "day": ex.ValueType("date"),
    }
    return table[name]


def infer(text: str, this=None) -> ex.ValueType:
    return ex.infer_type(ex.parse(text), types, this, text)


def test_type_inference_accepts_good_expressions():
    assert infer("${yn} = 'ja' and ${num} > 2").kind == "bool"
    assert infer("${num} * 2 + 1").kind == "number"
    assert infer("selected(${multi}, 'a')").kind == "bool"
    assert infer("count_selected(${multi}) >= 1").kind == "bool"
    assert infer("${day} >= '2018-03-01'").kind == "bool"
    assert infer("if(${yn} = 'ja', 'x', 'y')").kind == "string"
    assert infer("if(${yn} = 'ja', 'x', null)").kind == "string"
    assert infer(". <= 5", this=ex.NUMBER).kind == "bool"
    assert infer("${dir} = null").kind == "bool"


@pytest.mark.parametrize("text, fragment", [
    ("${dir} = 'jobret'", "unknown choice code 'jobret' for list 'direction'"),
    ("${yn} = 1", "cannot compare a choice from list 'yes_no' with a number"),
    ("selected(${yn}, 'ja')", "selected() needs a multiple-choice item"),
    ("selected(${multi}, 'z')", "unknown choice code 'z'"),
    ("count_selected(${num})", "count_selected() needs a multiple-choice item"),
    ("${multi} = 'a'", "cannot be compared directly"),
    ("${num} = 'x'", "cannot compare a number with text"),
    ("${txt} + 1", "'+' needs numbers"),
    ("${yn} and true", "compare the yes/no item with 'ja'"),
    ("not ${num}", "'not' needs a condition"),
    ("${dir} < 'fritaget'", "choices have no order"),
    ("${day} > '1 March'", "is not a date"),
    ("${day} = 3", "cannot compare a date with a number"),
    (". > 1", "only allowed in a constraint"),
    ("answered(1)", "answered() takes an item reference"),
    ("if(${num}, 1, 2)", "if() needs a condition"),
    ("if(true, 1, 'a')", "if() branches differ"),
    ("min(${txt}, 1)", "min() needs numbers or dates"),
    ("-${txt}", "'-' needs a number"),
    ("true < false", "true/false values have no order"),
    ("${num} > null", "null can only be compared with = or !="),
])
def test_type_errors(text, fragment):
    with pytest.raises(ex.ExpressionError) as info:
        infer(text)
    assert fragment in str(info.value)
    assert "position" in str(info.value)


@pytest.mark.parametrize("text, lang, words", [
    ("${plan_job_goal} = 'ja'", "en", "plan_job_goal = ja"),
    ("${a} = 'ja' and (${b} = 'x' or ${c} > 2)", "en", "a = ja and (b = x or c > 2)"),
    ("${a} = 'ja' and ${b} = 'x'", "da", "a = ja og b = x"),
    ("selected(${ch}, 'misbrug')", "en", "ch includes misbrug"),
    ("selected(${ch}, 'misbrug')", "da", "ch omfatter misbrug"),
    ("not answered(${x})", "en", "x is not answered"),
    ("not answered(${x})", "da", "x er ikke besvaret"),
    ("not (${x} = 'ja')", "en", "not (x = ja)"),
    ("if(${n} > 1, 'a', 'b')", "en", "if n > 1 then a else b"),
    ("answered(${x})", "da", "x er besvaret"),
    ("${x} = null", "en", "x unanswered"),
    ("count_selected(${ch}) >= 2", "en", "number ticked in ch >= 2"),
])
def test_to_words(text, lang, words):
    assert ex.to_words(ex.parse(text), lang) == words
