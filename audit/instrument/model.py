"""The runtime instrument: items, choices and the one engine for skip logic.

Everything that decides whether an item applies, what a calculated field is worth
or whether an answer is acceptable lives here, so review pages, completion checks
and statistics cannot disagree. Instances are built by ``audit.instrument.loader``
from a validated questionnaire file or from a stored snapshot.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from audit.i18n import _
from audit.instrument import expressions as ex

ITEM_TYPES = ("yes_no", "yes_no_na", "select_one", "select_multiple", "integer", "date",
              "text", "scale", "calculate")
LEVELS = ("case", "municipality")
SCALE_MIN, SCALE_MAX = 1, 5
# How a form asks for an item of each type (the templates and the JSON API speak these words).
FORM_KINDS = {"yes_no": "yes_no", "yes_no_na": "yes_no_na", "select_one": "single", "select_multiple": "multiple",
              "integer": "integer", "date": "date", "text": "text", "scale": "scale", "calculate": "calculated"}
# How the statistics room counts an item of each type: one code, several codes, or a number.
# A scale (1-5) prints as categories; a calculated field is counted as its values turn out.
STATS_KINDS = {"yes_no": "categorical", "yes_no_na": "categorical", "select_one": "categorical",
               "select_multiple": "multiple", "integer": "numeric", "date": "categorical", "text": "categorical",
               "scale": "categorical", "calculate": None}
LANGUAGES = ("da", "en")
SNAPSHOT_FORMAT = 1


@dataclass(frozen=True)
class Choice:
    code: str
    label_da: str
    label_en: str


@dataclass(frozen=True)
class Item:
    """One question (or calculated field). ``type`` is the base type without the list
    name; ``list_name``/``choices`` are set for choice types."""
    name: str
    type: str
    label_da: str
    label_en: str
    theme: int
    level: str = "case"
    list_name: str | None = None
    choices: tuple[Choice, ...] | None = None
    hint_da: str | None = None
    hint_en: str | None = None
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: str | None = None
    required: bool = False
    calculation: str | None = None
    line: int | None = None
    relevant_ast: ex.Node | None = field(default=None, compare=False, repr=False)
    constraint_ast: ex.Node | None = field(default=None, compare=False, repr=False)
    calculation_ast: ex.Node | None = field(default=None, compare=False, repr=False)

    @property
    def hint(self) -> str | None:
        """Guidance text in the primary language (Danish), falling back to English."""
        return self.hint_da or self.hint_en

    @property
    def is_calculated(self) -> bool:
        return self.type == "calculate"

    @property
    def is_case_level(self) -> bool:
        """Answered once per case (themes 1-6), not once per municipality (theme 7)."""
        return self.level == "case"

    @property
    def kind(self) -> str:
        """How a form asks for it: yes_no, yes_no_na, single, multiple, integer, scale, date,
        text or calculated (``FORM_KINDS``)."""
        return FORM_KINDS[self.type]

    @property
    def stats_kind(self) -> str | None:
        """How the statistics room counts it: categorical, multiple or numeric; None for a
        calculated field, whose values decide (a share is a number, a band a category)."""
        return STATS_KINDS[self.type]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.choices or ())

    def label(self, lang: str = "da") -> str:
        """The question text in `lang` (da or en), falling back to the other language."""
        first, second = (self.label_da, self.label_en) if lang == "da" else (self.label_en, self.label_da)
        return first or second or self.name

    def choice_label(self, code: str, lang: str = "da") -> str:
        """The label of one answer code in `lang`; the code itself when the item has no such code."""
        for c in self.choices or ():
            if c.code == str(code):
                return (c.label_da or c.label_en) if lang == "da" else (c.label_en or c.label_da)
        return str(code)

    def options(self, lang: str = "da") -> list[tuple[str, str]]:
        """(code, label) pairs a person picks from: the choices, or the scores of a scale."""
        if self.type == "scale":
            return [(str(i), str(i)) for i in range(SCALE_MIN, SCALE_MAX + 1)]
        return [(c.code, self.choice_label(c.code, lang)) for c in self.choices or ()]

    def display(self, value: Any, lang: str = "da") -> str:
        """An answer as a person reads it: codes replaced by their labels, several joined by commas."""
        if value is None:
            return ""
        if isinstance(value, (list, tuple)):
            return ", ".join(self.choice_label(str(v), lang) for v in value)
        return self.choice_label(str(value), lang)


def is_answered(value: Any) -> bool:
    return not (value is None or value == "" or (isinstance(value, (list, tuple)) and len(value) == 0))


def _valid_date(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def type_problem(item: Item, value: Any) -> str | None:
    """Why ``value`` is not a well-formed answer for ``item`` (None if it is)."""
    t = item.type
    if t in ("yes_no", "yes_no_na", "select_one"):
        if not isinstance(value, str) or value not in item.codes:
            return _('{item_name}: {value} is not one of the codes {join_item_codes}').format(
                       item_name=item.name, value=repr(value), join_item_codes=', '.join(item.codes))
    elif t == "select_multiple":
        if not isinstance(value, (list, tuple)):
            return _('{item_name}: a multiple-choice answer must be a list of codes, not {type_value___name}').format(
                       item_name=item.name, type_value___name=type(value).__name__)
        bad = [v for v in value if not isinstance(v, str) or v not in item.codes]
        if bad:
            return _('{item_name}: unknown code(s) {join_map_repr_bad}; allowed: {join_item_codes}').format(
                       item_name=item.name, join_map_repr_bad=', '.join(map(repr, bad)), join_item_codes=', '.join(item.codes))
        if len(set(value)) != len(value):
            return _('{item_name}: a code is ticked twice').format(item_name=item.name)
    elif t == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return _('{item_name}: {value} is not a whole number').format(
                       item_name=item.name, value=repr(value))
    elif t == "scale":
        if not isinstance(value, int) or isinstance(value, bool) or not SCALE_MIN <= value <= SCALE_MAX:
            return _('{item_name}: {value} is not a score from {scale_min} to {scale_max}').format(
                       item_name=item.name, value=repr(value), scale_min=SCALE_MIN, scale_max=SCALE_MAX)
    elif t == "date":
        if not _valid_date(value):
            return _('{item_name}: {value} is not a date written YYYY-MM-DD').format(
                       item_name=item.name, value=repr(value))
    elif t == "text":
        if not isinstance(value, str):
            return _('{item_name}: {value} is not text').format(item_name=item.name, value=repr(value))
    return None


@dataclass(frozen=True)
class BindCheck:
    """Result of comparing the instrument an audit is bound to with the file today."""
    changed: bool
    bound_version: str
    current_version: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()

    def describe(self) -> str:
        if not self.changed:
            return f"unchanged: the audit and the file are both {self.bound_version}"
        parts = [f"the file is now {self.current_version}, the audit stays bound to {self.bound_version}"]
        for label, names in (("added", self.added), ("removed", self.removed), ("modified", self.modified)):
            if names:
                parts.append(f"{label}: {', '.join(names)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Transition:
    """One answer changed (`Instrument.transition`): (applicability, effective values)
    before and after, the items whose applicability or value moved, and the new
    value's problems (empty: acceptable)."""
    problems: list[str]
    before: tuple[dict[str, bool], dict[str, Any]]
    after: tuple[dict[str, bool], dict[str, Any]]
    moved: frozenset[str]


class Instrument:
    """A validated, immutable review instrument bound to one version."""

    def __init__(self, *, settings: Mapping[str, Any], choices: Mapping[str, tuple[Choice, ...]],
                 items: tuple[Item, ...], themes: list[tuple[int, str, str]], order: tuple[str, ...],
                 content: Mapping[str, Any], version: str) -> None:
        self.settings = dict(settings)
        self.choices = dict(choices)
        self.items = items
        self.themes = themes
        self.version = version
        self._content = content
        self._order = order
        self._by_name = {i.name: i for i in items}
        self._deps = {
            i.name: tuple(dict.fromkeys(r.name for r in ex.references(i.relevant_ast)))
            if i.relevant_ast is not None else () for i in items
        }
        # everything an item's applicability or calculated value reads (for `transition`)
        self._reads = {
            i.name: frozenset(self._deps[i.name]) | (frozenset(r.name for r in ex.references(i.calculation_ast))
                                                     if i.calculation_ast is not None else frozenset())
            for i in items
        }

    # ---------------------------------------------------------------- identity
    @property
    def id(self) -> str:
        return str(self.settings.get("id", ""))

    @property
    def title(self) -> str:
        return str(self.settings.get("title", ""))

    def item(self, name: str) -> Item:
        return self._by_name[name]

    def find(self, name: str | None) -> Item | None:
        """The item of that name, or None (no item asked, or not in this instrument)."""
        return self._by_name.get(name) if isinstance(name, str) else None

    def items_at(self, level: str) -> tuple[Item, ...]:
        """Items (calculated fields included) answered at `level`: 'case' or 'municipality'."""
        return tuple(i for i in self.items if i.level == level)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def assessment_items(self) -> tuple[Item, ...]:
        """Items an auditor answers (calculated fields excluded)."""
        return tuple(i for i in self.items if not i.is_calculated)

    def counts_per_theme(self) -> dict[int, int]:
        counts = {number: 0 for number, _, _ in self.themes}
        for i in self.assessment_items:
            counts[i.theme] = counts.get(i.theme, 0) + 1
        return counts

    # ---------------------------------------------------------------- snapshots
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable frozen copy; stored on the audit so the file may change freely."""
        return {"snapshot_format": SNAPSHOT_FORMAT, "version": self.version,
                "content": json.loads(json.dumps(self._content))}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Instrument":
        from audit.instrument.loader import instrument_from_snapshot
        return instrument_from_snapshot(data)

    def item_content(self, name: str) -> dict[str, Any]:
        for raw in self._content.get("survey", []):
            if raw.get("name") == name:
                return raw
        raise KeyError(name)

    # ---------------------------------------------------------------- engine
    def _clean(self, item: Item, value: Any) -> Any:
        """The value the engine reasons with: a malformed answer counts as missing."""
        if not is_answered(value) or type_problem(item, value) is not None:
            return None
        if item.type == "select_multiple":
            return tuple(value)
        return value

    def _run(self, answers: Mapping[str, Any], override: tuple[str, Any] | None = None
             ) -> tuple[dict[str, bool], dict[str, Any]]:
        """Walk items in dependency order computing applicability and effective values."""
        if not isinstance(answers, Mapping):
            answers = {}
        applicable: dict[str, bool] = {}
        values: dict[str, Any] = {}
        lookup = values.get
        for name in self._order:
            raw = override[1] if override is not None and override[0] == name else answers.get(name)
            applicable[name], values[name] = self._step(self._by_name[name], raw, applicable, lookup)
        return applicable, values

    def _step(self, item: Item, raw: Any, applicable: Mapping[str, bool], lookup: Any) -> tuple[bool, Any]:
        """One item of the walk: does it apply, and its effective value."""
        if item.relevant_ast is not None:
            if not (all(applicable.get(d, False) for d in self._deps[item.name])
                    and ex.evaluate(item.relevant_ast, lookup) is True):
                return False, None
        if item.is_calculated:
            return True, (ex.evaluate(item.calculation_ast, lookup) if item.calculation_ast else None)
        return True, self._clean(item, raw)

    def evaluate(self, answers: Mapping[str, Any]) -> tuple[dict[str, bool], dict[str, Any]]:
        """Applicability and effective values (calculated fields included) in one walk."""
        return self._run(answers)

    def transition(self, answers: Mapping[str, Any], name: str, value: Any) -> "Transition":
        """What changing one answer does, in one walk of the items: applicability and
        effective values before and after, and the messages the new value gets (type,
        constraint; the same as `check_answer`). An item is evaluated twice only when
        something it reads changed. Raises KeyError for an unknown item."""
        item = self._by_name[name]
        problems = self.check_answer(name, value, answers) if item.is_calculated else []
        if not problems and is_answered(value):
            problem = type_problem(item, value)
            problems = [problem] if problem else []
        if not isinstance(answers, Mapping):
            answers = {}
        b_app: dict[str, bool] = {}
        b_val: dict[str, Any] = {}
        a_app: dict[str, bool] = {}
        a_val: dict[str, Any] = {}
        moved: set[str] = set()
        for n in self._order:
            it = self._by_name[n]
            raw = answers.get(n)
            if n != name and moved.isdisjoint(self._reads[n]):
                ok, v = self._step(it, raw, b_app, b_val.get)
                b_app[n] = a_app[n] = ok
                b_val[n] = a_val[n] = v
                continue
            b_app[n], b_val[n] = self._step(it, raw, b_app, b_val.get)
            a_app[n], a_val[n] = self._step(it, value if n == name else raw, a_app, a_val.get)
            if b_app[n] != a_app[n] or b_val[n] != a_val[n]:
                moved.add(n)
        if not problems and is_answered(value) and item.constraint_ast is not None:
            problems = self._constraint_problems(item, value, a_val)
        return Transition(problems=problems, before=(b_app, b_val), after=(a_app, a_val), moved=frozenset(moved))

    def applicable(self, answers: Mapping[str, Any]) -> dict[str, bool]:
        """Skip logic: which items apply given these answers (every item, in survey order)."""
        applicable, _ = self._run(answers)
        return {i.name: applicable[i.name] for i in self.items}

    def derive(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Values of the calculated fields (None where a field does not apply)."""
        _, values = self._run(answers)
        return {i.name: values[i.name] for i in self.items if i.is_calculated}

    def effective(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Answers as statistics should see them: not-applicable and malformed ones become None,
        calculated fields filled in."""
        _, values = self._run(answers)
        return {i.name: values[i.name] for i in self.items}

    def check_answer(self, name: str, value: Any, answers: Mapping[str, Any]) -> list[str]:
        """Type and constraint messages for one value given the other answers (empty: fine)."""
        item = self._by_name.get(name) if isinstance(name, str) else None
        if item is None:
            return [f"{name!r} is not an item of instrument {self.version}"]
        if item.is_calculated:
            return [f"{name}: is calculated and cannot be answered"]
        if not is_answered(value):
            return []
        problem = type_problem(item, value)
        if problem:
            return [problem]
        if item.constraint_ast is not None:
            _, values = self._run(answers, override=(name, value))
            return self._constraint_problems(item, value, values)
        return []

    def _constraint_problems(self, item: Item, value: Any, values: Mapping[str, Any]) -> list[str]:
        ok = ex.evaluate(item.constraint_ast, values.get, this=self._clean(item, value))
        if ok is not True:
            message = item.constraint_message or \
                f"the answer must satisfy: {ex.to_words(item.constraint_ast, 'en')}"
            return [f"{item.name}: {message}"]
        return []

    def missing_required(self, answers: Mapping[str, Any], level: str | None = None) -> list[str]:
        """Required items that apply but are unanswered, in survey order."""
        if not isinstance(answers, Mapping):
            answers = {}
        applicable, _ = self._run(answers)
        return [i.name for i in self.items
                if i.required and not i.is_calculated and applicable[i.name]
                and (level is None or i.level == level) and not is_answered(answers.get(i.name))]

    def __repr__(self) -> str:
        return f"<Instrument {self.id} {self.version}: {len(self.assessment_items)} items>"
