"""The one answer to "what is the label of variable X, or of code C of variable X, in
language L": from the audit's instrument (items, calculated fields, their choice lists)
and the register definition (register, derived and design variables).

Every page, workbook, annex sheet, raw export and codebook asks a ``Vocabulary``; no
other module writes a label for a variable or a code. Variables neither source knows
(an annex file's own derived variable, say) can be given labels by the caller (`extra`),
and anything still unknown prints as its code, never as an error.

    vocab = vocabulary(instrument)          # the instrument + registers/kontanthjaelp_2022.yaml
    vocab.label("seniority_band")           # 'Anciennitet'
    vocab.label("seniority_band", "5-7")    # '5-7 år'
    vocab.label("direction", "jobrettet", "en")
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from audit.instrument import Instrument
from audit.instrument.loader import BUILTIN_LISTS
from audit.population.definition import RegisterDefinition, default_definition

#: Key of a variable's own label in an `extra` mapping (the annex files' convention).
VARIABLE = "_"


class Vocabulary:
    """Labels of the variables and codes of one audit: its instrument and register definition."""

    def __init__(self, instrument: Instrument | None = None, register: RegisterDefinition | None = None,
                 extra: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.instrument = instrument
        self.register = register if register is not None else default_definition()
        self.extra = {k: dict(v) for k, v in (extra or {}).items()}

    def knows(self, variable: str) -> bool:
        """Does the instrument or the register definition define this variable?"""
        return (self.instrument is not None and variable in self.instrument) or variable in self.register

    def label(self, variable: str, code: Any = None, lang: str = "da") -> str:
        """The label of `variable` (code None) or of one of its codes, in `lang` ('da' or 'en')."""
        item = self.instrument.find(variable) if self.instrument is not None else None
        if item is not None:
            return item.label(lang) if code is None else item.choice_label(str(code), lang)
        var = self.register.find(variable)
        if var is not None:
            return var.label(lang) if code is None else var.value_label(code, lang)
        own = self.extra.get(variable, {})
        key = VARIABLE if code is None else str(code)
        if code is None and key not in own:
            from audit.statistics.variables import DERIVED_LABELS  # the statistics room's own (profile)

            derived = DERIVED_LABELS.get(variable)
            if derived:
                return derived.get(lang, derived["da"])
        return own.get(key, variable if code is None else str(code))

    def codes(self, variable: str) -> tuple[str, ...]:
        """The declared codes of `variable` in print order (empty: none declared)."""
        item = self.instrument.find(variable) if self.instrument is not None else None
        if item is not None:
            return item.codes
        var = self.register.find(variable)
        if var is not None:
            return var.codes
        return tuple(k for k in self.extra.get(variable, {}) if k != VARIABLE)

    def values(self, variable: str, codes: Iterable[Any] | None = None, lang: str = "da") -> dict[str, str]:
        """Value labels of `variable` for `codes` (default: its declared codes), leaving out
        codes whose label is just the code (a municipality's name, a score): a codebook's list."""
        wanted = self.codes(variable) if codes is None else [str(c) for c in codes]
        labels = {code: self.label(variable, code, lang) for code in wanted}
        return {code: text for code, text in labels.items() if text != code}

    def choice_list(self, name: str, lang: str = "da") -> dict[str, str]:
        """A choice list of the instrument by name, e.g. 'yes_no' or 'yes_no_na': code -> label
        (without an instrument, the instrument loader's built-in lists)."""
        if self.instrument is not None and name in self.instrument.choices:
            return {c.code: (c.label_da if lang == "da" else c.label_en) for c in self.instrument.choices[name]}
        return {c["code"]: c[lang] for c in BUILTIN_LISTS.get(name, [])}

    def dummy(self, lang: str = "da") -> dict[str, str]:
        """Labels of a 0/1 indicator (a multiple-choice dummy): the instrument's nej and ja."""
        yes_no = self.choice_list("yes_no", lang)
        return {"0": yes_no["nej"], "1": yes_no["ja"]}

def vocabulary(instrument: Instrument | None = None, extra: Mapping[str, Mapping[str, str]] | None = None
               ) -> Vocabulary:
    """The vocabulary of an instrument with the repository's register definition."""
    return Vocabulary(instrument, default_definition(), extra)


def frame_vocabulary(instrument: Instrument | None, attrs: Mapping[str, Any] | None = None,
                     extra: Mapping[str, Mapping[str, str]] | None = None) -> Vocabulary:
    """The vocabulary of a case or municipality frame: the instrument and the register
    definition, then the labels the frame carries for its derived variables (attrs 'labels'
    and 'choice_labels', questionnaires/derived_2022.yaml), then the caller's `extra`."""
    own: dict[str, dict[str, str]] = {}
    attrs = attrs or {}
    for name, text in attrs.get("labels", {}).items():
        own[name] = {VARIABLE: text, **attrs.get("choice_labels", {}).get(name, {})}
    for name, labels in (extra or {}).items():
        own[name] = {**own.get(name, {}), **labels}
    return vocabulary(instrument, extra=own)
