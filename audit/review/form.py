"""The view-model of a case form (and of a municipality's theme 7 form): themes,
items with applicability from the instrument's one skip-logic engine, answered /
applicable counts, kept answers of items that no longer apply."""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlmodel import Session

from audit import access, i18n
from audit.instrument import Instrument, Item
from audit.models import Audit, Case, MunicipalityReview, Person
from audit.population.age import age_band
from audit.review.answers import OPEN_STATUSES, decode, read_state
from audit.review.instrument import instrument_for

EDITABLE_STATUSES = OPEN_STATUSES


@dataclass
class ItemView:
    name: str
    label: str
    hint: str
    kind: str
    choices: list[tuple[str, str]]
    required: bool
    applicable: bool
    value: Any
    note: str
    theme: int

    @property
    def answered(self) -> bool:
        return self.value not in (None, "", [])

    @property
    def kept(self) -> bool:
        """Answered, but the item does not apply: kept, not counted."""
        return self.answered and not self.applicable

    @property
    def text(self) -> str:
        """The value as the input shows it."""
        if self.value is None:
            return ""
        if isinstance(self.value, list):
            return " ".join(self.value)
        return str(self.value)

    @property
    def shown(self) -> str:
        return self.display_value

    source: Item | None = field(default=None, repr=False, compare=False)   # the instrument's item
    lang: str = field(default="da", repr=False, compare=False)

    @property
    def display_value(self) -> str:
        """The value as a person reads it (labels, not codes), worked out when shown."""
        return "" if self.value is None or self.source is None else self.source.display(self.value, self.lang)

    def checked(self, code: str) -> bool:
        return code in self.selected

    @cached_property
    def selected(self) -> frozenset[Any]:
        """The codes the value holds (`code in it.selected` in the form's template: a set test,
        not a call per choice)."""
        if isinstance(self.value, list):
            return frozenset(self.value)
        return frozenset() if self.value is None else frozenset((str(self.value),))

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.name, "label": self.label, "type": self.kind, "required": self.required,
                "applicable": self.applicable, "value": self.value, "note": self.note,
                "kept_not_counted": self.kept, "choices": [c for c, _ in self.choices]}


@dataclass
class ThemeView:
    """One theme of the form. Its counters are worked out in one pass over the items the
    first time one is read (the page and the save's fragment read each several times);
    `build` adds every item before that."""
    number: int
    label: str
    items: list[ItemView] = field(default_factory=list)

    @cached_property
    def _counts(self) -> tuple[int, int, int, int, int, int]:
        applicable = answered = kept = required = required_answered = optional_answered = 0
        for i in self.items:
            if i.kept:
                kept += 1
            if not i.applicable or i.kind == "calculated":
                continue
            applicable += 1
            done = i.answered
            answered += done
            if i.required:
                required += 1
                required_answered += done
            else:
                optional_answered += done
        return applicable, answered, kept, required, required_answered, optional_answered

    @property
    def applicable(self) -> int:
        return self._counts[0]

    @property
    def answered(self) -> int:
        return self._counts[1]

    @property
    def kept(self) -> int:
        return self._counts[2]

    # What completion needs: the applicable required items (the counters a person reads).
    @property
    def required(self) -> int:
        return self._counts[3]

    @property
    def required_answered(self) -> int:
        return self._counts[4]

    @property
    def optional_answered(self) -> int:
        return self._counts[5]


@dataclass
class FormView:
    themes: list[ThemeView]
    version: int
    answers: dict[str, Any]
    applicability: dict[str, bool]

    def item(self, name: str) -> ItemView:
        for t in self.themes:
            for i in t.items:
                if i.name == name:
                    return i
        raise KeyError(name)

    @property
    def items(self) -> list[ItemView]:
        return [i for t in self.themes for i in t.items]

    @property
    def answered(self) -> int:
        return sum(t.answered for t in self.themes)

    @property
    def applicable(self) -> int:
        return sum(t.applicable for t in self.themes)

    @property
    def required(self) -> int:
        return sum(t.required for t in self.themes)

    @property
    def required_answered(self) -> int:
        return sum(t.required_answered for t in self.themes)

    @property
    def optional_answered(self) -> int:
        return sum(t.optional_answered for t in self.themes)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "answered": self.answered, "applicable": self.applicable,
                "themes": [{"number": t.number, "label": t.label, "answered": t.answered,
                            "applicable": t.applicable, "items": [i.to_dict() for i in t.items]}
                           for t in self.themes]}


@dataclass(frozen=True)
class _Static:
    """What a form shows of one item that never changes for an instrument."""
    item: Item
    label: str
    hint: str
    kind: str
    choices: list[tuple[str, str]]
    required: bool


_STATIC: "weakref.WeakKeyDictionary[Instrument, dict[tuple[str, str], list[_Static]]]" = weakref.WeakKeyDictionary()


def _static(inst: Instrument, level: str, lang: str) -> list[_Static]:
    """The items of one level with their labels, kinds and choices in one language, worked
    out once per instrument."""
    per_level = _STATIC.setdefault(inst, {})
    found = per_level.get((level, lang))
    if found is None:
        found = per_level[(level, lang)] = [
            _Static(item=item, label=item.label(lang),
                    hint=(item.hint_en or item.hint_da or "") if lang == "en" else item.hint or "",
                    kind=item.kind, choices=item.options(lang), required=item.required)
            for item in inst.items_at(level)]
    return found


def build(inst: Instrument, rows: dict[str, Any], level: str, version: int,
          evaluated: tuple[dict[str, bool], dict[str, Any]] | None = None,
          answers: dict[str, Any] | None = None) -> FormView:
    """The form from stored rows (anything with `value_json` and `note`) and, when the
    caller has them, the decoded answers and their skip-logic state (else worked out here),
    in the reader's language (audit.i18n) for the instrument's own texts."""
    if answers is None:
        answers = {k: decode(a.value_json) for k, a in rows.items() if a.value_json is not None}
    applicable, derived = evaluated if evaluated is not None else inst.evaluate(answers)
    lang = i18n.current()
    theme_labels = {t[0]: (t[2] or t[1]) if lang == "en" else t[1] for t in inst.themes}
    themes: dict[int, ThemeView] = {}
    for st in _static(inst, level, lang):
        item = st.item
        theme = themes.get(item.theme)
        if theme is None:
            theme = themes[item.theme] = ThemeView(item.theme, theme_labels.get(item.theme, f"{item.theme}"))
        value = derived.get(item.name) if st.kind == "calculated" else answers.get(item.name)
        row = rows.get(item.name)
        view = ItemView(name=item.name, label=st.label, hint=st.hint, kind=st.kind, choices=st.choices,
                        required=st.required, applicable=bool(applicable.get(item.name, True)), value=value,
                        note=row.note if row else "", theme=item.theme, source=item, lang=lang)
        theme.items.append(view)
    return FormView(themes=[themes[n] for n in sorted(themes)], version=version, answers=answers,
                    applicability=applicable)


def case_form(session: Session, case: Case, pass_no: int = 1, instrument: Instrument | None = None, *,
              actor: Any) -> FormView:
    """The case's assessment as a form. `actor` (the user, or audit.access.cli_actor()) is
    logged as a view of the case (audit.access); None only for a re-computation that hands out
    nothing new (the applicability after the same user's save)."""
    inst = instrument or instrument_for(session.get(Audit, case.audit_id))
    if actor is not None:
        access.record(session, actor, what="case form", cases=[case.id], audit_id=case.audit_id)
    return build(inst, read_state(session, case, pass_no).rows, "case", case.version)


def municipality_form(session: Session, review: MunicipalityReview,
                      instrument: Instrument | None = None) -> FormView:
    inst = instrument or instrument_for(session.get(Audit, review.audit_id))
    return build(inst, read_state(session, review, 1).rows, "municipality", review.version)


def case_facts(session: Session, case: Case, *, actor: Any) -> dict[str, Any]:
    """Register facts shown at the top: never more personal data than the review needs
    (no person id, exact age or birth date). A use logged for `actor` (audit.access)."""
    if actor is not None:
        access.record(session, actor, what="case facts", cases=[case.id], audit_id=case.audit_id)
    person = session.get(Person, case.person_pk)
    return {"case_id": case.id, "audit_id": case.audit_id, "municipality": case.municipality,
            "seniority_band": case.seniority_band, "sex": person.sex if person else None,
            "age_band": age_band(person.age) if person else None,
            "origin": person.origin if person else None, "status": case.status,
            "register_variables": register_facts(session, case, person, actor)}


def register_facts(session: Session, case: Case, person: Person | None, actor: Any) -> dict[str, Any]:
    """The declared register variables the extract carried for the case's person, labelled by
    the audit's register definition: for a municipality user only those marked
    showable_to_municipality (the case itself is already confined to its own municipality)."""
    import json

    from audit.population.binding import definition_for

    if person is None or not person.values_json:
        return {}
    definition = definition_for(session.get(Audit, case.audit_id))
    municipal = getattr(actor, "role", None) == "municipality"
    out: dict[str, Any] = {}
    for code, value in json.loads(person.values_json).items():
        var = definition.find(code)
        if var is None or (municipal and not var.showable_to_municipality):
            continue
        out[code] = value
    return out


def changed_items(before: tuple[dict[str, bool], dict[str, Any]], after: FormView) -> list[ItemView]:
    """Items whose applicability (or calculated value) differs from the state `before` a save
    (applicability and effective values, as `Instrument.evaluate` gives them)."""
    applicable, values = before
    out = []
    for item in after.items:
        if bool(applicable.get(item.name, True)) != item.applicable or \
                (item.kind == "calculated" and values.get(item.name) != item.value):
            out.append(item)
    return out
