"""The audit's frozen instrument as the hearing room needs it: a case's assessment by
theme, with labels.

The instrument is `audit.audits.instrument_for` (one cache for the whole app) and an
item is the instrument's typed `Item`, so an answer is parsed and shown the same way on
review pages, sheets and the hearing. `parse` is the review room's one value parser.
"""
from __future__ import annotations

from typing import Any

from sqlmodel import Session

from audit import i18n
from audit.audits import NoInstrument, clear_instrument_cache, instrument_for
from audit.instrument import Instrument, Item
from audit.models import Case
from audit.review.instrument import parse

__all__ = ["NoInstrument", "assessment", "clear_cache", "display", "instrument_for", "item_or_none", "parse"]

clear_cache = clear_instrument_cache


def item_or_none(inst: Instrument | None, name: str | None) -> Item | None:
    """The item a remark is about; None for a remark on the whole case (or no instrument)."""
    return inst.find(name) if inst is not None else None


def display(item: Item | None, value: Any) -> str:
    """A value as a person reads it (`Item.display`, in the current language); without an item, its plain text."""
    if item is not None:
        return item.display(value, i18n.current())
    if value is None:
        return ""
    return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def assessment(inst: Instrument, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's assessment by theme: applicable case-level items only, with labels.
    [{"number", "label", "items": [{"name", "label", "value", "display", "kind", "choices"}]}]"""
    applicable = inst.applicable(answers)
    values = dict(answers)
    values.update({k: v for k, v in inst.derive(answers).items() if v is not None})
    lang = i18n.current()  # the instrument's own texts in the reader's language
    labels = {number: (en or da) if lang == "en" else da for number, da, en in inst.themes}
    themes: dict[int, dict[str, Any]] = {}
    for item in inst.items_at("case"):
        if not applicable.get(item.name, True):
            continue
        theme = themes.setdefault(item.theme, {"number": item.theme, "label": labels.get(item.theme, ""),
                                               "items": []})
        value = values.get(item.name)
        theme["items"].append({"name": item.name, "label": item.label(lang), "value": value,
                               "display": item.display(value, lang), "kind": item.kind,
                               "choices": item.options(lang)})
    return [themes[k] for k in sorted(themes)]


def case_assessment(session: Session, case: Case, inst: Instrument, *, actor: Any) -> list[dict[str, Any]]:
    """The assessment of one case as the hearing case page shows it (`assessment` of its
    review answers), logged as a view of the case for `actor` (audit.access)."""
    from audit import access
    from audit.review.answers import case_answers

    if actor is not None:
        access.record(session, actor, what="hearing case page", cases=[case.id], audit_id=case.audit_id)
    return assessment(inst, case_answers(session, case.id))
