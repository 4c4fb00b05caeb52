"""The audit's frozen instrument as the hearing room needs it: items by theme,
choice labels, and a proposed value parsed from a form field.

Loading, caching and value helpers are the review room's (`audit.review.instrument`);
this module only adds the hearing's read-only view of an assessment.
"""
from __future__ import annotations

from typing import Any

# One loader, cache and value vocabulary for the whole app: the review room's, so an
# answer is parsed and shown the same way on review pages, sheets and the hearing.
from audit.review.instrument import (  # noqa: F401
    NoInstrument, choices, clear_cache, display, instrument_for, kind, load_snapshot, parse)


def item_or_none(inst: Any, name: str | None) -> Any:
    if inst is None or name is None:
        return None
    try:
        return inst.item(name)
    except KeyError:
        return None


def assessment(inst: Any, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's assessment by theme: applicable case-level items only, with labels.
    [{"number", "label", "items": [{"name", "label", "value", "display", "kind", "choices"}]}]"""
    applicable = inst.applicable(answers)
    values = dict(answers)
    try:
        values.update({k: v for k, v in inst.derive(answers).items() if v is not None})
    except Exception:  # a derivation problem must not hide the assessment
        pass
    labels = {t[0]: t[1] for t in getattr(inst, "themes", [])}
    themes: dict[int, dict[str, Any]] = {}
    for item in inst.items:
        if getattr(item, "level", "case") != "case" or not applicable.get(item.name, True):
            continue
        theme = themes.setdefault(item.theme, {"number": item.theme, "label": labels.get(item.theme, ""),
                                               "items": []})
        value = values.get(item.name)
        theme["items"].append({"name": item.name, "label": item.label_da, "value": value,
                               "display": display(item, value), "kind": kind(item),
                               "choices": choices(item)})
    return [themes[k] for k in sorted(themes)]


def case_assessment(session: Any, case: Any, inst: Any, *, actor: Any) -> list[dict[str, Any]]:
    """The assessment of one case as the hearing case page shows it (`assessment` of its
    review answers), logged as a view of the case for `actor` (audit.access)."""
    from audit import access
    from audit.review.answers import case_answers

    if actor is not None:
        access.record(session, actor, what="hearing case page", cases=[case.id], audit_id=case.audit_id)
    return assessment(inst, case_answers(session, case.id))
