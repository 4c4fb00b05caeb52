"""The view-model of a case form (and of a municipality's theme 7 form): themes,
items with applicability from the instrument's one skip-logic engine, answered /
applicable counts, kept answers of items that no longer apply."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from audit import access, i18n
from audit.instrument import Instrument
from audit.models import Answer, Audit, Case, MunicipalityReview, Person
from audit.population.age import age_band
from audit.review.answers import decode
from audit.review.instrument import instrument_for

EDITABLE_STATUSES = ("not_started", "in_progress")


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

    display_value: str = ""

    def checked(self, code: str) -> bool:
        if isinstance(self.value, list):
            return code in self.value
        return self.value is not None and str(self.value) == code

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.name, "label": self.label, "type": self.kind, "required": self.required,
                "applicable": self.applicable, "value": self.value, "note": self.note,
                "kept_not_counted": self.kept, "choices": [c for c, _ in self.choices]}


@dataclass
class ThemeView:
    number: int
    label: str
    items: list[ItemView] = field(default_factory=list)

    @property
    def applicable(self) -> int:
        return sum(1 for i in self.items if i.applicable and i.kind != "calculated")

    @property
    def answered(self) -> int:
        return sum(1 for i in self.items if i.applicable and i.answered and i.kind != "calculated")

    @property
    def kept(self) -> int:
        return sum(1 for i in self.items if i.kept)


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

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "answered": self.answered, "applicable": self.applicable,
                "themes": [{"number": t.number, "label": t.label, "answered": t.answered,
                            "applicable": t.applicable, "items": [i.to_dict() for i in t.items]}
                           for t in self.themes]}


def _rows(session: Session, column: Any, owner_id: int, pass_no: int) -> dict[str, Answer]:
    return {a.item: a for a in session.exec(select(Answer).where(column == owner_id, Answer.pass_no == pass_no)).all()}


def build(inst: Instrument, rows: dict[str, Answer], level: str, version: int) -> FormView:
    answers = {k: decode(a.value_json) for k, a in rows.items() if a.value_json is not None}
    applicable = inst.applicable(answers)
    derived = inst.derive(answers) if any(i.is_calculated for i in inst.items) else {}
    lang = i18n.current()  # the instrument's own texts in the reader's language
    theme_labels = {t[0]: (t[2] or t[1]) if lang == "en" else t[1] for t in inst.themes}
    themes: dict[int, ThemeView] = {}
    for item in inst.items_at(level):
        k = item.kind
        theme = themes.setdefault(item.theme, ThemeView(item.theme, theme_labels.get(item.theme, f"{item.theme}")))
        value = derived.get(item.name) if k == "calculated" else answers.get(item.name)
        row = rows.get(item.name)
        view = ItemView(name=item.name, label=item.label(lang), hint=(item.hint_en or item.hint_da or "") if lang == "en"
                        else item.hint or "", kind=k,
                        choices=item.options(lang), required=item.required,
                        applicable=bool(applicable.get(item.name, True)), value=value,
                        note=row.note if row else "", theme=item.theme)
        view.display_value = item.display(value, lang)
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
    return build(inst, _rows(session, Answer.case_id, case.id, pass_no), "case", case.version)


def municipality_form(session: Session, review: MunicipalityReview,
                      instrument: Instrument | None = None) -> FormView:
    inst = instrument or instrument_for(session.get(Audit, review.audit_id))
    return build(inst, _rows(session, Answer.municipality_review_id, review.id, 1), "municipality", review.version)


def case_facts(session: Session, case: Case, *, actor: Any) -> dict[str, Any]:
    """Register facts shown at the top: never more personal data than the review needs
    (no person id, exact age or birth date). A use logged for `actor` (audit.access)."""
    if actor is not None:
        access.record(session, actor, what="case facts", cases=[case.id], audit_id=case.audit_id)
    person = session.get(Person, case.person_pk)
    return {"case_id": case.id, "audit_id": case.audit_id, "municipality": case.municipality,
            "seniority_band": case.seniority_band, "sex": person.sex if person else None,
            "age_band": age_band(person.age) if person else None,
            "origin": person.origin if person else None, "status": case.status}


def state(inst: Instrument, answers: dict[str, Any]) -> tuple[dict[str, bool], dict[str, Any]]:
    """Applicability and calculated values for a set of answers: what a save can change elsewhere."""
    calculated = any(i.is_calculated for i in inst.items)
    return inst.applicable(answers), (inst.derive(answers) if calculated else {})


def changed_items(before: tuple[dict[str, bool], dict[str, Any]], after: FormView) -> list[ItemView]:
    """Items whose applicability (or calculated value) differs from the state `before` a save."""
    applicable, derived = before
    out = []
    for item in after.items:
        if bool(applicable.get(item.name, True)) != item.applicable or \
                (item.kind == "calculated" and derived.get(item.name) != item.value):
            out.append(item)
    return out
