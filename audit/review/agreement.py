"""Agreement between the first and the independent second review, per item:
percent agreement and Cohen's kappa over the cases where both reviewers
answered the item (multiple choice compared as the whole set of codes). Values are
compared typed: numbers by value (3 and 3.0 agree), codes as text."""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
from sqlmodel import Session, select

from audit.instrument import Instrument
from audit.models import Answer, Audit, Case
from audit.review.answers import decode
from audit.review.instrument import instrument_for

NUMERIC_TYPES = ("integer", "scale")  # items whose answers are numbers, whatever their stored form


def _key(value: Any, numeric: bool = False) -> Hashable:
    """The value as compared: typed, not as text. Numbers by value (3, 3.0 and, for a numeric
    item, "3" are one answer), yes/no flags as flags, codes as text, a multiple choice as
    the set of its codes."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(_key(v, numeric) for v in value)
    if isinstance(value, (bool, np.bool_)):
        return ("flag", bool(value))
    if numeric and isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        f = float(value)
        return int(f) if math.isfinite(f) and f.is_integer() else f
    return value


def _label(key: Hashable) -> str:
    if isinstance(key, frozenset):
        return " ".join(sorted(_label(k) for k in key))
    if isinstance(key, tuple) and len(key) == 2 and key[0] == "flag":
        return "ja" if key[1] else "nej"
    return str(key)


def _pairs(pairs: Iterable[tuple[Any, Any]], numeric: bool = False) -> list[tuple[Hashable, Hashable]]:
    return [(_key(a, numeric), _key(b, numeric)) for a, b in pairs]


def cohen_kappa(pairs: Iterable[tuple[Any, Any]], numeric: bool = False) -> float | None:
    """kappa = (p_o - p_e) / (1 - p_e), with p_e from the two raters' marginals, over typed
    values (`numeric`: the item is a number, so "3" and 3.0 agree with 3).
    None when undefined (no pairs, or both raters used one and the same category)."""
    pairs = _pairs(pairs, numeric)
    n = len(pairs)
    if n == 0:
        return None
    p_o = sum(a == b for a, b in pairs) / n
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    p_e = sum(first[c] * second.get(c, 0) for c in first) / (n * n)
    if math.isclose(p_e, 1.0):
        return None
    return (p_o - p_e) / (1 - p_e)


def confusion_table(pairs: Iterable[tuple[Any, Any]], numeric: bool = False) -> tuple[list[str], list[list[int]]]:
    """Square table rows = first review, columns = second review (for checks and display)."""
    pairs = _pairs(pairs, numeric)
    cats = sorted({c for p in pairs for c in p}, key=lambda k: (_label(k), repr(k)))
    index = {c: i for i, c in enumerate(cats)}
    table = [[0] * len(cats) for _ in cats]
    for a, b in pairs:
        table[index[a]][index[b]] += 1
    return [_label(c) for c in cats], table


@dataclass
class ItemAgreement:
    item: str
    label: str
    n: int
    agree: int
    kappa: float | None

    @property
    def percent(self) -> float | None:
        return 100.0 * self.agree / self.n if self.n else None

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, "label": self.label, "n": self.n, "agree": self.agree,
                "percent_agreement": None if self.percent is None else round(self.percent, 1),
                "kappa": None if self.kappa is None else round(self.kappa, 3)}


def pairs_by_item(session: Session, audit: Audit, inst: Instrument | None = None) -> dict[str, list[tuple[Any, Any]]]:
    """(first, second) answer pairs per item over the double-reviewed cases, counting an
    item only where both answered it and it applies under both reviews' answers."""
    inst = inst or instrument_for(audit)
    rows = session.exec(select(Answer).join(Case, Case.id == Answer.case_id).where(
        Case.audit_id == audit.id, Case.second_reviewer != None, Answer.value_json != None)).all()  # noqa: E711
    answers: dict[tuple[int, int], dict[str, Any]] = {}
    for a in rows:
        answers.setdefault((a.case_id, a.pass_no), {})[a.item] = decode(a.value_json)
    out: dict[str, list[tuple[Any, Any]]] = {}
    for (case_id, pass_no), second in answers.items():
        if pass_no != 2 or (case_id, 1) not in answers:
            continue
        first = answers[(case_id, 1)]
        app1, app2 = inst.applicable(first), inst.applicable(second)
        for item, v2 in second.items():
            if item in first and app1.get(item, True) and app2.get(item, True):
                out.setdefault(item, []).append((first[item], v2))
    return out


def agreement(session: Session, audit: Audit) -> list[ItemAgreement]:
    """One row per case-level item answered in both reviews of at least one case, in instrument order."""
    inst = instrument_for(audit)
    pairs = pairs_by_item(session, audit, inst)
    out = []
    for item in inst.items:
        if item.name not in pairs or item.type in ("calculate", "text"):
            continue
        p = pairs[item.name]
        numeric = item.type in NUMERIC_TYPES
        typed = _pairs(p, numeric)
        out.append(ItemAgreement(item.name, item.label_da or item.name, len(p),
                                 sum(a == b for a, b in typed), cohen_kappa(p, numeric)))
    return out
