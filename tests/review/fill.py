"""Test helper: a valid value for any item, and filling every applicable required item."""
from __future__ import annotations

from typing import Any

from audit.instrument import Item
from audit.models import Audit
from audit.review.answers import case_answers, set_answer
from audit.review.instrument import instrument_for


def candidates_for(item: Item) -> list[Any]:
    k = item.kind
    codes = [c for c, _ in item.options()]
    candidates: list[Any]
    if k == "multiple":
        candidates = [[c] for c in codes]
    elif k in ("yes_no", "yes_no_na", "single", "scale"):
        candidates = codes if k != "scale" else [int(c) for c in codes]
        if k == "scale":
            candidates = [3, 1, 5]
    elif k == "integer":
        candidates = [1, 0, 2, 4, 12, 52]
    elif k == "date":
        candidates = ["2019-06-01", "2020-01-15", "2018-06-01"]
    else:
        candidates = ["tekst"]
    return candidates


def value_for(item: Item) -> Any:
    return candidates_for(item)[0]


def fill_required(session, case, user=None, skip: tuple[str, ...] = (), pass_no: int = 1) -> list[str]:  # type: ignore[no-untyped-def]
    """Answer every applicable required item (re-checking skip logic after each), except `skip`.
    Returns the items filled."""
    inst = instrument_for(session.get(Audit, case.audit_id))
    filled = []
    for _ in range(200):
        answers = case_answers(session, case.id, pass_no)
        todo = [n for n in inst.missing_required(answers)
                if n not in skip and inst.item(n).is_case_level]
        if not todo:
            return filled
        name = todo[0]
        for value in candidates_for(inst.item(name)):
            if not inst.check_answer(name, value, answers):
                set_answer(session, case=case, item=name, value=value, user=user, instrument=inst, pass_no=pass_no)
                filled.append(name)
                break
        else:
            raise AssertionError(f"no valid test value for {name}")
    raise AssertionError("fill_required did not converge")


def fill_municipality(session, review, user=None) -> list[str]:  # type: ignore[no-untyped-def]
    """Answer every applicable required theme-7 item of a municipality."""
    from audit.review.answers import municipality_answers, set_municipality_answer

    inst = instrument_for(session.get(Audit, review.audit_id))
    filled = []
    for _ in range(200):
        answers = municipality_answers(session, review.id)
        todo = [n for n in inst.missing_required(answers) if inst.item(n).level == "municipality"]
        if not todo:
            return filled
        for value in candidates_for(inst.item(todo[0])):
            if not inst.check_answer(todo[0], value, answers):
                set_municipality_answer(session, review=review, item=todo[0], value=value, user=user,
                                        instrument=inst, expected_version=review.version)
                filled.append(todo[0])
                break
        else:
            raise AssertionError(f"no valid test value for {todo[0]}")
    raise AssertionError("fill_municipality did not converge")
