"""Property: the engine never crashes on arbitrary answer sets for the real instrument,
whatever the keys and value types; and its outputs keep their basic shape."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.instrument import load_instrument
from conftest import REAL_FILE

INST = load_instrument(REAL_FILE)
NAMES = [i.name for i in INST.items]
CODES = sorted({c.code for choices in INST.choices.values() for c in choices})

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(CODES), st.dates().map(lambda d: d.isoformat()),
)
values = st.one_of(scalars, st.lists(st.one_of(scalars, st.sampled_from(CODES)), max_size=6),
                   st.tuples(st.sampled_from(CODES)), st.dictionaries(st.text(max_size=3), scalars, max_size=2))
keys = st.one_of(st.sampled_from(NAMES), st.text(max_size=10))
answer_sets = st.dictionaries(keys, values, max_size=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer_sets)
def test_applicable_derive_missing_never_raise(answers):
    ap = INST.applicable(answers)
    assert set(ap) == set(NAMES) and all(isinstance(v, bool) for v in ap.values())
    derived = INST.derive(answers)
    assert set(derived) == {i.name for i in INST.items if i.is_calculated}
    assert derived["challenge_breadth"] in (None, "0", "1", "2", "3", "4+")
    missing = INST.missing_required(answers)
    assert all(ap[name] for name in missing)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer_sets, st.sampled_from(NAMES + ["unknown_item"]), values)
def test_check_answer_never_raises(answers, name, value):
    problems = INST.check_answer(name, value, answers)
    assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)
