"""Derived variables as a reviewed data file (questionnaires/derived_2022.yaml).

Recodes, any-of / all-of / count combinations of items, counts of ticked codes, copies with
"not asked counts as ..." and bands, declared once and computed column-wise (pandas) on the
case frame, so `audit stats`, /stats, the annex and the report read them by name like items.
The file's format is in its header; `load_derived` checks it and names the variable and the
field of every problem; `apply_derived` adds the columns and their kinds, orders and labels.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from audit.bands import Bands
from audit.instrument import Instrument

KINDS = ("any_of", "all_of", "count_of", "count_selected", "value", "recode", "bands")
KEYS = {*KINDS, "label", "labels", "not_asked", "within"}
YES, NO = "ja", "nej"
DEFAULT_FILE = "derived_2022.yaml"


class DerivedError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("derived variables have problems:\n" + "\n".join(f"- {p}" for p in problems))


@dataclass(frozen=True)
class Condition:
    item: str
    codes: tuple[str, ...] = ()
    above: float | None = None


@dataclass(frozen=True)
class DerivedVar:
    name: str
    kind: str
    label: str = ""
    conditions: tuple[Condition, ...] = ()
    source: str | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    bands: Bands | None = None
    not_asked: Any = None
    labels: Mapping[str, str] = field(default_factory=dict)
    within: tuple[Condition, ...] = ()   # the base: blank outside (e.g. the cases with an offer)

    def sources(self) -> list[str]:
        return [c.item for c in (*self.conditions, *self.within)] + ([self.source] if self.source else [])

    @property
    def codes(self) -> tuple[str, ...]:
        if self.kind in ("any_of", "all_of"):
            return (YES, NO)
        if self.bands is not None:
            return self.bands.codes
        if self.kind == "recode":
            return tuple(dict.fromkeys(self.mapping.values()))
        return ()

    @property
    def stats_kind(self) -> str:
        return "numeric" if self.kind in ("count_of", "count_selected") or (
            self.kind == "value" and isinstance(self.not_asked, (int, float))) else "categorical"


@dataclass
class DerivedSet:
    variables: dict[str, DerivedVar]
    path: Path | None = None
    version: str = ""

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.variables.values())

    def __contains__(self, name: object) -> bool:
        return name in self.variables


def _condition(raw: Any, where: str, problems: list[str]) -> Condition | None:
    if not isinstance(raw, dict) or "item" not in raw or not (set(raw) <= {"item", "is", "above"}) \
            or ("is" in raw) == ("above" in raw):
        problems.append(f"{where}: a condition is {{item: NAME, is: CODE or [CODES]}} or {{item: NAME, above: N}}")
        return None
    if "above" in raw:
        try:
            return Condition(str(raw["item"]), above=float(raw["above"]))
        except (TypeError, ValueError):
            problems.append(f"{where}: `above` must be a number")
            return None
    codes = raw["is"] if isinstance(raw["is"], list) else [raw["is"]]
    return Condition(str(raw["item"]), tuple(str(c) for c in codes))


def parse(raw: Any, problems: list[str]) -> DerivedSet:
    if not isinstance(raw, dict) or not isinstance(raw.get("variables"), dict):
        problems.append("the file must be a mapping with the variables under `variables:`")
        return DerivedSet({})
    out: dict[str, DerivedVar] = {}
    for name, d in raw["variables"].items():
        where = f"variable {name}"
        if not isinstance(d, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        for key in sorted(set(d) - KEYS):
            problems.append(f"{where}: unknown key `{key}`")
        kinds = [k for k in KINDS if k in d]
        if len(kinds) != 1:
            problems.append(f"{where}: needs exactly one of {', '.join(KINDS)}")
            continue
        kind = kinds[0]
        body = d[kind]
        conds: list[Condition] = []
        source = None
        mapping: dict[str, str] = {}
        bands = None
        if kind in ("any_of", "all_of", "count_of"):
            if not isinstance(body, list) or not body:
                problems.append(f"{where}: `{kind}` is a list of conditions")
            else:
                for k, c in enumerate(body, start=1):
                    cond = _condition(c, f"{where}: {kind} #{k}", problems)
                    if cond is not None:
                        conds.append(cond)
        elif kind in ("count_selected", "value"):
            if not isinstance(body, str):
                problems.append(f"{where}: `{kind}` names one item")
            source = str(body)
        elif kind == "recode":
            if not isinstance(body, dict) or "from" not in body or not isinstance(body.get("map", {}), dict):
                problems.append(f"{where}: `recode` is {{from: ITEM, map: {{old code: new code}}}}")
            else:
                source = str(body["from"])
                mapping = {str(k): str(v) for k, v in (body.get("map") or {}).items()}
        elif kind == "bands":
            try:
                source = str(body["from"])
                bands = Bands(tuple(float(e) for e in body["edges"]), tuple(str(c) for c in body["codes"]))
            except (KeyError, TypeError, ValueError) as exc:
                problems.append(f"{where}: `bands` is {{from: VARIABLE, edges: [increasing lower edges], "
                                f"codes: [one per edge]}} ({exc})")
        within: list[Condition] = []
        raw_within = d.get("within") or []
        for k, c in enumerate(raw_within if isinstance(raw_within, list) else [raw_within], start=1):
            cond = _condition(c, f"{where}: within #{k}", problems)
            if cond is not None:
                within.append(cond)
        labels = d.get("labels") or {}
        if not isinstance(labels, dict):
            problems.append(f"{where}: `labels` is a mapping {{code: label}}")
            labels = {}
        out[str(name)] = DerivedVar(str(name), kind, str(d.get("label") or ""), tuple(conds), source, mapping,
                                    bands, d.get("not_asked"), {str(k): str(v) for k, v in labels.items()},
                                    tuple(within))
    return DerivedSet(out, version=str(raw.get("version") or ""))


def validate(spec: DerivedSet, known: Iterable[str], choices: Mapping[str, set[str]] | None = None,
             problems: list[str] | None = None) -> list[str]:
    """Every source is an item (or a register variable, or a derived variable declared above it);
    condition codes are codes of their item."""
    problems = problems if problems is not None else []
    names = set(known)
    choices = choices or {}
    for var in spec:
        if var.name in names:
            problems.append(f"variable {var.name}: the name is already an item or register variable")
        for src in var.sources():
            if src not in names:
                problems.append(f"variable {var.name}: unknown variable `{src}` (an item, a register variable "
                                f"or a derived variable declared above this one)")
        for k, c in enumerate((*var.conditions, *var.within), start=1):
            allowed = choices.get(c.item)
            for code in c.codes:
                if allowed and code not in allowed:
                    problems.append(f"variable {var.name}: condition #{k}: {code!r} is not a code of `{c.item}` "
                                    f"({', '.join(sorted(allowed))})")
        names.add(var.name)
    return problems


def read(path: str | Path, problems: list[str] | None = None) -> DerivedSet:
    """The file's variables; shape problems raise DerivedError, or with `problems` are appended."""
    path = Path(path)
    collect = problems is not None
    problems = problems if problems is not None else []
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DerivedError([f"{path}: {exc}"]) from exc
    spec = parse(raw, problems)
    spec.path = path
    if problems and not collect:
        raise DerivedError([f"{path}: {p}" for p in problems])
    return spec


def load_derived(path: str | Path | None = None, instrument: Instrument | None = None,
                 known: Iterable[str] = ()) -> DerivedSet:
    """Read and check a derived-variables file (default: the shipped 2022 file) against an
    instrument's items (and the register variables)."""
    from audit.statistics.variables import DERIVED, REGISTER

    if path is None:
        from audit import resources

        path = resources.questionnaire(DEFAULT_FILE)
    problems: list[str] = []
    spec = read(path, problems)
    names = set(known) | set(REGISTER) | set(DERIVED)
    choices: dict[str, set[str]] = {}
    if instrument is not None:  # case items and theme 7's (a variable of theme-7 items is one per municipality)
        names |= {i.name for i in instrument.items}
        choices = {i.name: set(i.codes) for i in instrument.items if i.codes}
    validate(spec, names, choices, problems)
    if problems:
        raise DerivedError([f"{spec.path}: {p}" for p in problems])
    return spec


@lru_cache(maxsize=8)
def _default() -> DerivedSet | None:
    try:
        return read(_default_path())
    except (DerivedError, FileNotFoundError, LookupError):
        return None


def _default_path() -> Path:
    from audit import resources

    return resources.questionnaire(DEFAULT_FILE)


def default_derived() -> DerivedSet | None:
    """The shipped file, read once (None when it is not shipped)."""
    return _default()


# ---------------------------------------------------------------- evaluation (column-wise)

def _blank(series: pd.Series) -> np.ndarray:
    return series.map(lambda v: v is None or (isinstance(v, float) and np.isnan(v))).to_numpy(dtype=bool)


def _holds(frame: pd.DataFrame, c: Condition) -> np.ndarray:
    s = frame[c.item]
    if c.above is not None:
        return (pd.to_numeric(s, errors="coerce") > c.above).fillna(False).to_numpy(dtype=bool)
    codes = set(c.codes)
    return s.map(lambda v: bool(codes & set(v)) if isinstance(v, (tuple, list, set))
                 else (v is not None and str(v) in codes)).to_numpy(dtype=bool)


def evaluate(var: DerivedVar, frame: pd.DataFrame) -> pd.Series:
    """The variable's column on `frame` (object dtype for codes, float for numbers); blank
    outside its `within` base."""
    out = _evaluate(var, frame)
    if var.within and len(frame):
        inside = np.vstack([_holds(frame, c) for c in var.within]).all(axis=0)
        out = out.astype(float) if out.dtype != object else out.copy()
        out[~inside] = np.nan if out.dtype != object else None
    return out


def _evaluate(var: DerivedVar, frame: pd.DataFrame) -> pd.Series:
    n = len(frame)
    if var.kind in ("any_of", "all_of", "count_of"):
        held = np.vstack([_holds(frame, c) for c in var.conditions]) if n else np.zeros((len(var.conditions), 0), bool)
        blank = np.vstack([_blank(frame[c.item]) for c in var.conditions]) if n else held
        all_blank = blank.all(axis=0)
        if var.kind == "count_of":
            out = held.sum(axis=0).astype(float)
            out[all_blank] = np.nan
            return pd.Series(out, index=frame.index, name=var.name)
        yes = held.any(axis=0) if var.kind == "any_of" else held.all(axis=0)
        values = np.where(yes, YES, NO).astype(object)
        values[all_blank] = None
        return pd.Series(values, index=frame.index, name=var.name, dtype=object)
    src = frame[var.source]
    blank = _blank(src)
    if var.kind == "count_selected":
        out = src.map(lambda v: float(len(v)) if isinstance(v, (tuple, list, set)) else np.nan).to_numpy(dtype=float)
        out = np.where(blank, np.nan if var.not_asked is None else float(var.not_asked), out)
        return pd.Series(out, index=frame.index, name=var.name)
    if var.kind == "value":
        if isinstance(var.not_asked, (int, float)) and not isinstance(var.not_asked, bool):
            out = pd.to_numeric(src, errors="coerce").to_numpy(dtype=float)
            out = np.where(blank, float(var.not_asked), out)
            return pd.Series(out, index=frame.index, name=var.name)
        values = src.astype(object).to_numpy(copy=True)
        if isinstance(var.not_asked, (list, tuple)):  # multiple choice: not asked counts as these codes ticked
            ticked = tuple(str(c) for c in var.not_asked)
            for i in np.flatnonzero(blank):
                values[i] = ticked
        else:
            values[blank] = var.not_asked
        return pd.Series(values, index=frame.index, name=var.name, dtype=object)
    if var.kind == "recode":
        values = src.map(lambda v: None if v is None else var.mapping.get(str(v), v)).astype(object).to_numpy(copy=True)
        values[blank] = var.not_asked
        return pd.Series(values, index=frame.index, name=var.name, dtype=object)
    if var.kind == "bands":
        assert var.bands is not None
        return var.bands.assign(src).rename(var.name)
    raise ValueError(f"variable {var.name}: unknown kind {var.kind}")


def apply_derived(frame: pd.DataFrame, spec: DerivedSet | None = None) -> pd.DataFrame:
    """The frame plus every derived variable whose sources it has, in the file's order, with
    their kinds, code orders and labels in attrs (as an item's). The case frame gets the
    variables of case items, the municipality frame (theme 7) those of theme-7 items."""
    from audit.statistics.dataset import FrozenDict

    spec = spec if spec is not None else default_derived()
    if spec is None:
        return frame
    new: dict[str, pd.Series] = {}
    work = frame
    for var in spec:
        if var.name in work.columns or any(s not in work.columns and s not in new for s in var.sources()):
            continue
        if new:
            work = pd.concat([frame, pd.DataFrame(new, index=frame.index)], axis=1)
        new[var.name] = evaluate(var, work)
    if not new:
        return frame
    attrs = frame.attrs
    out = pd.concat([frame, pd.DataFrame(new, index=frame.index)], axis=1)
    out.attrs = dict(attrs)
    kinds = dict(attrs.get("kinds", {}))
    orders = dict(attrs.get("orders", {}))
    labels = dict(attrs.get("labels", {}))
    choice_labels = dict(attrs.get("choice_labels", {}))
    for name in new:
        var = spec.variables[name]
        kinds[name] = "multiple" if var.kind == "value" and kinds.get(var.source) == "multiple" else var.stats_kind
        if var.kind == "recode" and var.source in orders:
            # the source's order with each code recoded (LÆ 265 -> "andet" takes "andet"'s place)
            orders[name] = tuple(dict.fromkeys(var.mapping.get(c, c) for c in orders[var.source]))
        elif var.codes:
            orders[name] = var.codes
        elif var.kind == "value" and var.source in orders and var.stats_kind != "numeric":
            orders[name] = orders[var.source]
        if var.label:
            labels[name] = var.label
        # a value or recode keeps its source's code labels, unless the file gives its own
        inherited = choice_labels.get(var.source, {}) if var.kind in ("value", "recode") else {}
        if var.labels or inherited:
            choice_labels[name] = FrozenDict({**inherited, **var.labels})
    out.attrs.update(kinds=FrozenDict(kinds), orders=FrozenDict(orders), labels=FrozenDict(labels),
                     choice_labels=FrozenDict(choice_labels))
    return out


def municipality_names(instrument: Instrument, spec: DerivedSet | None = None) -> set[str]:
    """The derived variables of theme-7 items only: one value per municipality, so they belong
    to the municipality frame (N = the municipalities that answered)."""
    spec = spec if spec is not None else default_derived()
    theme7 = {i.name for i in instrument.items_at("municipality")}
    out: set[str] = set()
    for var in spec or ():
        sources = var.sources()
        if sources and all(s in theme7 or s in out for s in sources):
            out.add(var.name)
    return out


def names(spec: DerivedSet | None = None) -> list[str]:
    spec = spec if spec is not None else default_derived()
    return [] if spec is None else list(spec.variables)
