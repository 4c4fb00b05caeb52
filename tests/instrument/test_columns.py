"""The column engine (audit.instrument.columns) gives exactly what the row engine gives:
`expressions.evaluate` per case for random expressions over random values, and
`Instrument.applicable`/`effective` per case for the real instrument."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.instrument import expressions as ex
from audit.instrument.columns import Vec, applicable_and_values, compile_expression, engine_for, objects

CODES = ("ja", "nej", "fysiske", "psykiske", "")
# Values an item can hold once cleaned, plus what only calculated fields produce.
ANY_VALUES = [None, "", "ja", "nej", "2019-01-01", 0, 1, -3, 7, 2 ** 53 + 1, 2 ** 60, 0.5, -0.0, 1.0, 3.25,
              True, False, (), ("fysiske",), ("fysiske", "psykiske"), ("ja",)]
STR_VALUES = [None, "ja", "nej", "", "2019-01-01", "fysiske"]
NUM_VALUES = [None, 0, 1, 2, -4, 13, 104, 52]
MULTI_VALUES = [None, ("fysiske",), ("fysiske", "psykiske"), ("psykiske",), ("ja",)]
REFS = {"a": ANY_VALUES, "b": STR_VALUES, "c": NUM_VALUES, "d": MULTI_VALUES}
KINDS = {"a": "any", "b": "str", "c": "num", "d": "multi"}

literal = st.one_of(st.none(), st.booleans(), st.sampled_from(CODES),
                    st.integers(-5, 110), st.sampled_from([0.5, 2.0, -1.5, 1e300]))
leaf = st.one_of(literal.map(ex.Literal), st.sampled_from(list(REFS)).map(ex.Ref), st.just(ex.This()))


def _node(children: st.SearchStrategy) -> st.SearchStrategy:
    ops = ["or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/"]
    return st.one_of(
        st.tuples(st.sampled_from(ops), children, children).map(lambda t: ex.Binary(t[0], t[1], t[2])),
        children.map(lambda c: ex.Unary("not", c)),
        children.map(lambda c: ex.Unary("-", c)),
        st.tuples(children, st.sampled_from(CODES)).map(lambda t: ex.Call("selected", (t[0], ex.Literal(t[1])))),
        st.tuples(children, children).map(lambda t: ex.Call("selected", t)),
        children.map(lambda c: ex.Call("count_selected", (c,))),
        st.sampled_from(list(REFS)).map(lambda r: ex.Call("answered", (ex.Ref(r),))),
        st.tuples(children, children, children).map(lambda t: ex.Call("if", t)),
        st.lists(children, min_size=1, max_size=3).map(lambda a: ex.Call("min", tuple(a))),
        st.lists(children, min_size=1, max_size=3).map(lambda a: ex.Call("max", tuple(a))),
    )


expressions = st.recursive(leaf, _node, max_leaves=12)


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _columns(rng: np.random.Generator, n: int, typed: bool) -> tuple[dict[str, Vec], list[dict]]:
    env, rows = {}, [{} for _ in range(n)]
    for name, pool in REFS.items():
        picks = [pool[k] for k in rng.integers(0, len(pool), n)]
        for r, v in zip(rows, picks):
            r[name] = v
        arr = objects(picks)
        kind = KINDS[name] if typed else "any"
        env[name] = Vec.numbers(arr) if kind == "num" else Vec.objects(arr, kind)
    return env, rows


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(node=expressions, seed=st.integers(0, 2 ** 16), typed=st.booleans())
def test_compiled_expression_equals_the_row_engine(node, seed, typed):
    n = 40
    env, rows = _columns(np.random.default_rng(seed), n, typed)
    try:
        expected = [ex.evaluate(node, r.get) for r in rows]
    except (OverflowError, ZeroDivisionError):
        return  # the row engine itself fails here (e.g. int(inf)); nothing to agree with
    from audit.instrument.columns import NotExact

    try:
        got = compile_expression(node)(env, n).obj
    except NotExact:
        return  # the engine hands such an item to the row engine (tested below)
    bad = [(i, rows[i], e, g) for i, (e, g) in enumerate(zip(expected, got)) if not same(e, g)]
    assert not bad, f"{node}: {bad[:3]}"


def test_not_exact_columns_fall_back_to_the_row_engine():
    """A whole number beyond 2**53 is not exact in float64: such a column is refused column-wise
    (NotExact), and the row engine's answer is used for the item instead."""
    import pytest

    from audit.instrument.columns import NotExact, _row_engine

    values = objects([2 ** 53 + 1, 2 ** 53, None, 5])
    with pytest.raises(NotExact):
        Vec.numbers(values)
    node = ex.parse("${c} + 1 > 9007199254740993")
    with pytest.raises(NotExact):  # 2**53 - 1 + 1 + ... : a sum beyond 2**53
        compile_expression(node)({"c": Vec.numbers(objects([2 ** 53 - 1, 3]))}, 2)
    out = _row_engine(node, {"c": Vec.objects(values)}, np.ones(4, dtype=bool), 4)
    assert out.tolist() == [True, False, False, False]  # exact: 2**53 + 2 > 2**53 + 1


def test_real_instrument_matches_row_engine_case_by_case(real):
    """Every item's applicability and effective value for generated, stale and malformed answers."""
    from audit.demo import AnswerGenerator, load_spec

    inst = real
    rng = np.random.default_rng(11)
    answers = AnswerGenerator(inst, load_spec(), rng).fill(200, "case")
    # stale answers to items that do not apply, malformed and odd values
    names = [i.name for i in inst.items if not i.is_calculated]
    odd = ["ja", "nej", "maybe", 3, 2 ** 60, -1, 0, [], ["fysiske"], ["x", "y"], "", None, 2.5, True,
           "2019-13-01", "2019-01-01", {"a": 1}, "ikke_relevant"]
    for k in range(200):
        for name in rng.choice(names, 8, replace=False):
            answers[k][str(name)] = odd[int(rng.integers(0, len(odd)))]
    answers[0]["activation_weeks"] = 2 ** 60  # beyond float64's exact integers
    result = applicable_and_values(inst, answers)
    for k, a in enumerate(answers):
        app, eff = inst.applicable(a), inst.effective(a)
        for name in app:
            assert bool(result.applicable[name][k]) == app[name], (k, name)
            assert same(result.values[name][k], eff[name]), (k, name, result.values[name][k], eff[name])
    assert engine_for(inst) is engine_for(inst)  # compiled once per instrument version
