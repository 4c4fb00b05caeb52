"""Test helper: a valid value for any item, and filling every applicable required item."""
from __future__ import annotations

from typing import Any

from audit.models import Audit
from audit.review.answers import case_answers, set_answer
from audit.review.instrument import choices, instrument_for, kind


def candidates_for(item: Any) -> list[Any]:
    k = kind(item)
    codes = [c for c, _ in choices(item)]
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


def value_for(item: Any) -> Any:
    return candidates_for(item)[0]


def fill_required(session, case, user=None, skip: tuple[str, ...] = (), pass_no: int = 1) -> list[str]:  # type: ignore[no-untyped-def]
    """Answer every applicable required item (re-checking skip logic after each), except `skip`.
    Returns the items filled."""
    inst = instrument_for(session.get(Audit, case.audit_id))
    filled = []
    for _ in range(200):
        answers = case_answers(session, case.id, pass_no)
        todo = [n for n in inst.missing_required(answers)
                if n not in skip and getattr(inst.item(n), "level", "case") != "municipality"]
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
