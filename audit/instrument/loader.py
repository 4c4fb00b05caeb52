"""Questionnaire file -> validated Instrument, in three steps: parse, validate, build.

As in pyxform, the YAML is first read into plain data (keeping line numbers), then
checked as a whole so an author sees every problem at once, each citing the item
name and line to fix, and only then turned into the runtime ``Instrument``.
"""
from __future__ import annotations

import graphlib
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from audit.instrument import expressions as ex
from audit.instrument.model import (ITEM_TYPES, LEVELS, SNAPSHOT_FORMAT, BindCheck, Choice, Instrument,
                                    Item)

LINE_KEY = "__line__"
BUILTIN_LISTS: dict[str, list[dict[str, str]]] = {
    "yes_no": [{"code": "ja", "da": "Ja", "en": "Yes"}, {"code": "nej", "da": "Nej", "en": "No"}],
    "yes_no_na": [{"code": "ja", "da": "Ja", "en": "Yes"}, {"code": "nej", "da": "Nej", "en": "No"},
                  {"code": "ikke_relevant", "da": "Ikke relevant", "en": "Not relevant"}],
}
ITEM_KEYS = {"type", "name", "label_da", "label_en", "hint", "hint_da", "hint_en", "relevant",
             "constraint", "constraint_message", "required", "calculation", "theme", "level", "choices"}
_NAME_RE = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a questionnaire; ``where`` is an item name or a section."""
    where: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        at = f" (line {self.line})" if self.line else ""
        return f"{self.where}{at}: {self.message}"


class DataFileError(ValueError):
    """A reviewed data file (questionnaire, register definition) has problems; ``problems``
    lists all of them, each with where and the line."""

    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + f"{len(self.problems)} problem(s)\n" + "\n".join(f"  {p}" for p in self.problems))


class InstrumentError(DataFileError):
    """The questionnaire has problems; ``problems`` lists all of them."""


# --------------------------------------------------------------------------- parse

class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records each mapping's line and leaves dates as text,
    so the content is plain JSON-able data."""


_LineLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (str, int, float, bool)) and key in seen:
            # PyYAML would silently keep the last value: a second `relevant:` must not win unseen
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark)
        seen.add(key)
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    mapping[LINE_KEY] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_raw(path: str | Path) -> Any:
    """Parse YAML into plain data with ``__line__`` on every mapping."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InstrumentError([Problem("file", f"not valid YAML: {getattr(exc, 'problem', exc)}", line)],
                              str(path)) from None


def strip_lines(data: Any) -> Any:
    """The content without line numbers: what the version hash and snapshots cover."""
    if isinstance(data, dict):
        return {k: strip_lines(v) for k, v in data.items() if k != LINE_KEY}
    if isinstance(data, list):
        return [strip_lines(v) for v in data]
    return data


def canonical_json(content: Any) -> str:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_version(content: Mapping[str, Any]) -> str:
    """settings.version + ':' + 12 hex of the sha256 of the canonical content.
    Comments and layout do not change it; any change in meaning does."""
    digest = hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()[:12]
    settings = content.get("settings") if isinstance(content, Mapping) else None
    version = settings.get("version") if isinstance(settings, Mapping) else None
    return f"{version}:{digest}"


# --------------------------------------------------------------------------- validate + build

@dataclass
class CheckResult:
    """Everything ``audit instrument check`` reports."""
    problems: list[Problem]
    instrument: Instrument | None
    counts: dict[int, int]
    themes: list[tuple[int, str, str]]
    calculated: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = str(value).strip()
        return text or None
    return None


def validate(raw: Any) -> CheckResult:
    """Check the whole file and build the instrument if nothing is wrong."""
    problems: list[Problem] = []

    def add(where: str, message: str, line: int | None = None) -> None:
        problems.append(Problem(where, message, line))

    if not isinstance(raw, dict):
        add("file", "the file must be a mapping with the sections settings, choices and survey")
        return CheckResult(problems, None, {}, [])
    for section in ("settings", "choices", "survey"):
        if section not in raw:
            add("file", f"missing section '{section}'")
    for key in raw:
        if key not in ("settings", "choices", "survey", LINE_KEY):
            add("file", f"unknown section '{key}'")

    # settings -------------------------------------------------------------
    settings = raw.get("settings") if isinstance(raw.get("settings"), dict) else {}
    s_line = settings.get(LINE_KEY)
    for key in ("id", "version", "title"):
        if _text(settings.get(key)) is None:
            add("settings", f"'{key}' is missing", s_line)
    required_default = settings.get("required_default", False)
    if not isinstance(required_default, bool):
        add("settings", "'required_default' must be true or false", s_line)
        required_default = False
    expected_items = settings.get("expected_items")
    if expected_items is not None and (not isinstance(expected_items, int) or isinstance(expected_items, bool)):
        add("settings", "'expected_items' must be a whole number", s_line)
        expected_items = None
    themes: list[tuple[int, str, str]] = []
    theme_level: dict[int, str] = {}
    theme_expected: dict[int, int] = {}
    raw_themes = settings.get("themes")
    if not isinstance(raw_themes, list) or not raw_themes:
        add("settings", "'themes' must list the themes (number, da, en)", s_line)
        raw_themes = []
    for t in raw_themes:
        if not isinstance(t, dict) or not isinstance(t.get("number"), int) \
                or _text(t.get("da")) is None or _text(t.get("en")) is None:
            add("settings", "each theme needs a number, a Danish (da) and an English (en) title",
                t.get(LINE_KEY) if isinstance(t, dict) else s_line)
            continue
        number = t["number"]
        if number in theme_level:
            add("settings", f"theme {number} is listed twice", t.get(LINE_KEY))
            continue
        level = t.get("level", "case")
        if level not in LEVELS:
            add("settings", f"theme {number}: level must be one of {', '.join(LEVELS)}", t.get(LINE_KEY))
            level = "case"
        theme_level[number] = level
        if isinstance(t.get("expected_items"), int):
            theme_expected[number] = t["expected_items"]
        themes.append((number, _text(t["da"]) or "", _text(t["en"]) or ""))

    # choices --------------------------------------------------------------
    raw_choices = raw.get("choices")
    if raw_choices is None:
        raw_choices = {}
    if not isinstance(raw_choices, dict):
        add("choices", "'choices' must map list names to lists of {code, da, en}")
        raw_choices = {}
    lists: dict[str, tuple[Choice, ...]] = {}
    for list_name, entries in list(BUILTIN_LISTS.items()) + [
            (k, v) for k, v in raw_choices.items() if k != LINE_KEY]:
        where = f"choices.{list_name}"
        line = raw_choices.get(LINE_KEY) if isinstance(raw_choices, dict) else None
        if not isinstance(entries, list) or not entries:
            add(where, "must be a non-empty list of {code, da, en}", line)
            continue
        seen: set[str] = set()
        built: list[Choice] = []
        for e in entries:
            e_line = e.get(LINE_KEY) if isinstance(e, dict) else line
            code = _text(e.get("code")) if isinstance(e, dict) else None
            if code is None or not isinstance(e, dict) or _text(e.get("da")) is None or _text(e.get("en")) is None:
                add(where, "each choice needs a code, a Danish (da) and an English (en) label", e_line)
                continue
            stray = [str(k) for k in e if k not in ("code", "da", "en", LINE_KEY)]
            if stray:
                # typically an unquoted comma inside {...}: "da: Løntilskud, privat" ends the label at the comma
                add(where, f"choice '{code}' has unknown key(s) {', '.join(repr(k) for k in stray)}; "
                           "a label with a comma must be quoted", e_line)
            if code in seen:
                add(where, f"code '{code}' appears twice", e_line)
            seen.add(code)
            built.append(Choice(code, _text(e["da"]) or "", _text(e["en"]) or ""))
        if list_name in BUILTIN_LISTS and list_name in lists:
            if [c.code for c in built] != [c.code for c in lists[list_name]]:
                add(where, f"the built-in list '{list_name}' must keep the codes "
                           f"{', '.join(c.code for c in lists[list_name])}", line)
                continue
        lists[list_name] = tuple(built)

    # survey: structure ----------------------------------------------------
    survey = raw.get("survey")
    if survey is None:
        survey = []
    if not isinstance(survey, list):
        add("survey", "'survey' must be a list of items")
        survey = []
    items: list[dict[str, Any]] = []
    names: dict[str, int | None] = {}
    for index, entry in enumerate(survey, start=1):
        if not isinstance(entry, dict):
            add(f"survey item {index}", "must be a mapping of columns (type, name, label_da, ...)")
            continue
        line = entry.get(LINE_KEY)
        name = entry.get("name")
        where = name if isinstance(name, str) and name else f"survey item {index}"
        ok = True
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            add(where, "name must be lower-case letters, digits and _ (starting with a letter)", line)
            ok = False
        elif name in names:
            add(where, f"duplicate name (first defined on line {names[name]})", line)
            ok = False
        else:
            names[name] = line
        for key in entry:
            if key not in ITEM_KEYS and key != LINE_KEY:
                add(where, f"unknown column '{key}'", line)
        type_text = _text(entry.get("type")) or ""
        parts = type_text.split()
        base = parts[0] if parts else ""
        list_name: str | None = None
        if base not in ITEM_TYPES:
            add(where, f"unknown type '{type_text}' (allowed: {', '.join(ITEM_TYPES)})", line)
            ok = False
        elif base in ("select_one", "select_multiple"):
            if len(parts) != 2:
                add(where, f"type '{base}' needs a choice list name, e.g. '{base} direction'", line)
                ok = False
            else:
                list_name = parts[1]
        elif base in ("yes_no", "yes_no_na"):
            list_name = base
            if len(parts) != 1:
                add(where, f"type '{base}' takes no list name", line)
        elif len(parts) != 1:
            add(where, f"type '{base}' takes no list name", line)
        if base == "calculate" and entry.get("choices") is not None:
            list_name = _text(entry.get("choices"))
        elif entry.get("choices") is not None:
            add(where, "'choices' is only used on calculate items (the list its values come from)", line)
        if list_name is not None and list_name not in lists:
            add(where, f"choice list '{list_name}' is missing from choices", line)
            ok = False
        for key in ("label_da", "label_en"):
            if _text(entry.get(key)) is None:
                add(where, f"'{key}' is missing", line)
        theme = entry.get("theme")
        if theme not in theme_level:
            add(where, f"theme {theme!r} is not one of the themes in settings", line)
            ok = False
        level = entry.get("level", theme_level.get(theme, "case"))
        if level not in LEVELS:
            add(where, f"level must be one of {', '.join(LEVELS)}", line)
            ok = False
        if base == "calculate" and _text(entry.get("calculation")) is None:
            add(where, "a calculate item needs a calculation", line)
            ok = False
        if base != "calculate" and entry.get("calculation") is not None:
            add(where, "only calculate items may have a calculation", line)
        if base == "calculate" and (entry.get("constraint") is not None or entry.get("required") is not None):
            add(where, "a calculate item cannot have a constraint or be required", line)
        required = entry.get("required", required_default if base != "calculate" else False)
        if not isinstance(required, bool):
            add(where, "'required' must be true or false", line)
            required = False
        if ok:
            items.append({"entry": entry, "name": name, "base": base, "list": list_name, "theme": theme,
                          "level": level, "required": required, "line": line})

    # expressions: syntax ------------------------------------------------
    asts: dict[tuple[str, str], ex.Node] = {}
    for it in items:
        for column in ("relevant", "constraint", "calculation"):
            text = it["entry"].get(column)
            if text is None:
                continue
            if not isinstance(text, str) or not text.strip():
                add(it["name"], f"{column}: must be an expression in text", it["line"])
                continue
            try:
                asts[(it["name"], column)] = ex.parse(text)
            except ex.ExpressionError as exc:
                add(it["name"], f"{column}: {exc.describe()}", it["line"])

    by_name = {it["name"]: it for it in items}
    all_names = set(names)

    # references -----------------------------------------------------------
    bad_refs: set[tuple[str, str]] = set()
    for (name, column), node in asts.items():
        it = by_name[name]
        for ref in ex.references(node):
            if ref.name not in all_names:
                add(name, f"{column}: unknown item '${{{ref.name}}}' at position {ref.pos + 1}", it["line"])
                bad_refs.add((name, column))
            elif ref.name in by_name and by_name[ref.name]["level"] != it["level"]:
                add(name, f"{column}: a {it['level']}-level item cannot depend on the "
                          f"{by_name[ref.name]['level']}-level item '{ref.name}'", it["line"])

    # cycles (relevance + calculation) ------------------------------------
    graph: dict[str, set[str]] = {it["name"]: set() for it in items}
    for (name, column), node in asts.items():
        if column in ("relevant", "calculation"):
            graph[name].update(r.name for r in ex.references(node) if r.name in graph)
    order: tuple[str, ...] = ()
    in_cycle: set[str] = set()
    remaining = {k: set(v) for k, v in graph.items()}
    while True:
        try:
            order = tuple(graphlib.TopologicalSorter(remaining).static_order())
            break
        except graphlib.CycleError as exc:
            cycle = list(exc.args[1])
            first = cycle[0]
            add(first, "circular dependency in relevance/calculation: " + " -> ".join(reversed(cycle)),
                by_name[first]["line"] if first in by_name else None)
            in_cycle.update(cycle)
            for n in cycle:  # break the cycle and keep looking for others
                remaining[n] = set()

    # types ----------------------------------------------------------------
    type_cache: dict[str, ex.ValueType] = {}

    def base_type(it: dict[str, Any]) -> ex.ValueType:
        base = it["base"]
        if base in ("yes_no", "yes_no_na", "select_one"):
            return ex.ValueType("choice", frozenset(c.code for c in lists[it["list"]]), it["list"])
        if base == "select_multiple":
            return ex.ValueType("multi", frozenset(c.code for c in lists[it["list"]]), it["list"])
        if base in ("integer", "scale"):
            return ex.NUMBER
        if base == "date":
            return ex.ValueType("date")
        if base == "text":
            return ex.STRING
        return ex.ANY

    def type_of(name: str) -> ex.ValueType:
        if name in type_cache:
            return type_cache[name]
        it = by_name.get(name)
        if it is None:
            return ex.ANY
        if it["base"] != "calculate":
            return base_type(it)
        if it["list"] is not None:
            return ex.ValueType("choice", frozenset(c.code for c in lists[it["list"]]), it["list"])
        return ex.ANY

    for name in order:
        it = by_name.get(name)
        if it is None:
            continue
        for column in ("calculation", "relevant", "constraint"):
            node = asts.get((name, column))
            if node is None or (name, column) in bad_refs or (name in in_cycle and column != "constraint"):
                continue
            this_type = base_type(it) if column == "constraint" else None
            try:
                t = ex.infer_type(node, type_of, this_type, it["entry"][column])
            except ex.ExpressionError as exc:
                add(name, f"{column}: type error: {exc.describe()}", it["line"])
                continue
            if column in ("relevant", "constraint") and t.kind not in ("bool", "any"):
                add(name, f"{column}: must be a condition (true/false), but gives "
                          f"{'a ' + t.kind if t.kind != 'choice' else 'a choice code'}", it["line"])
            if column == "calculation":
                if it["list"] is not None:
                    declared = type_of(name)
                    codes = declared.choices or frozenset()
                    outputs = [n.value for n in _leaf_literals(node) if isinstance(n.value, str)]
                    unknown = [o for o in outputs if o not in codes]
                    if unknown:
                        add(name, f"calculation: gives {', '.join(map(repr, unknown))}, "
                                  f"not codes of list '{it['list']}'", it["line"])
                else:
                    type_cache[name] = t

    # counts ---------------------------------------------------------------
    counts = {number: 0 for number, _, _ in themes}
    calculated = 0
    for it in items:
        if it["base"] == "calculate":
            calculated += 1
        elif it["theme"] in counts:
            counts[it["theme"]] += 1
    total = sum(counts.values())
    if expected_items is not None and total != expected_items:
        add("survey", f"{total} assessment items, but settings.expected_items says {expected_items}")
    for number, expected in theme_expected.items():
        if counts.get(number, 0) != expected:
            add("survey", f"theme {number} has {counts.get(number, 0)} assessment items, "
                          f"but its expected_items says {expected}")

    if problems:
        return CheckResult(problems, None, counts, themes, calculated)

    # build ----------------------------------------------------------------
    built: list[Item] = []
    for it in items:
        e = it["entry"]
        built.append(Item(
            name=it["name"], type=it["base"], label_da=_text(e.get("label_da")) or "",
            label_en=_text(e.get("label_en")) or "", theme=it["theme"], level=it["level"],
            list_name=it["list"], choices=lists[it["list"]] if it["list"] else None,
            hint_da=_text(e.get("hint_da")) or _text(e.get("hint")), hint_en=_text(e.get("hint_en")),
            relevant=e.get("relevant"), constraint=e.get("constraint"),
            constraint_message=_text(e.get("constraint_message")), required=it["required"],
            calculation=e.get("calculation"), line=it["line"],
            relevant_ast=asts.get((it["name"], "relevant")),
            constraint_ast=asts.get((it["name"], "constraint")),
            calculation_ast=asts.get((it["name"], "calculation")),
        ))
    content = strip_lines(raw)
    instrument = Instrument(settings=strip_lines(settings), choices=lists, items=tuple(built), themes=themes,
                            order=tuple(n for n in order if n in by_name), content=content,
                            version=content_version(content))
    return CheckResult([], instrument, counts, themes, calculated)


def _leaf_literals(node: ex.Node) -> list[ex.Literal]:
    """Literals a calculation can return (the branches of if(), not its conditions)."""
    if isinstance(node, ex.Literal):
        return [node]
    if isinstance(node, ex.Call) and node.name == "if":
        return _leaf_literals(node.args[1]) + _leaf_literals(node.args[2])
    return []


# --------------------------------------------------------------------------- public entry points

def check_file(path: str | Path) -> CheckResult:
    """Validate a questionnaire file without raising (for the check command)."""
    try:
        raw = read_raw(path)
    except InstrumentError as exc:
        return CheckResult(exc.problems, None, {}, [])
    except OSError as exc:
        return CheckResult([Problem("file", f"cannot read {path}: {exc.strerror}")], None, {}, [])
    return validate(raw)


def load_instrument(path: str | Path) -> Instrument:
    """Parse, validate and build; raises InstrumentError listing every problem."""
    result = check_file(path)
    if result.instrument is None:
        raise InstrumentError(result.problems, str(path))
    return result.instrument


def instrument_from_snapshot(data: Mapping[str, Any]) -> Instrument:
    """Rebuild an instrument from ``Instrument.to_dict()``; refuses a snapshot whose
    content no longer matches its recorded version."""
    if not isinstance(data, Mapping) or data.get("snapshot_format") != SNAPSHOT_FORMAT \
            or not isinstance(data.get("content"), Mapping):
        raise InstrumentError([Problem("snapshot", "not an instrument snapshot (format 1)")])
    result = validate(json.loads(json.dumps(data["content"])))
    if result.instrument is None:
        raise InstrumentError(result.problems, "snapshot")
    if result.instrument.version != data.get("version"):
        raise InstrumentError([Problem("snapshot", f"content hashes to {result.instrument.version}, "
                                                   f"but the snapshot says {data.get('version')}")])
    return result.instrument


def bind_check(snapshot: Mapping[str, Any], current_file: str | Path) -> BindCheck:
    """Compare the instrument an audit is bound to with the questionnaire file today.

    The audit keeps using its snapshot either way; this only tells the user (and
    `audit audits create` / review pages) whether the file has moved on and how."""
    bound = instrument_from_snapshot(snapshot)
    current = load_instrument(current_file)
    if bound.version == current.version:
        return BindCheck(False, bound.version, current.version)
    old = {i.name: bound.item_content(i.name) for i in bound.items}
    new = {i.name: current.item_content(i.name) for i in current.items}
    added = tuple(n for n in new if n not in old)
    removed = tuple(n for n in old if n not in new)
    modified = tuple(n for n in new if n in old and canonical_json(new[n]) != canonical_json(old[n]))
    return BindCheck(True, bound.version, current.version, added, removed, modified)
