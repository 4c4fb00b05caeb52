"""The register definition: what each variable of the register extract is, as a reviewed
data file beside the instrument (``registers/*.yaml``).

Parse -> validate -> build, like the instrument: the YAML is read with line numbers,
checked as a whole (every problem at once, each naming the variable and the line), and
only then turned into a typed, immutable ``RegisterDefinition``. Per variable: its code,
type, Danish and English label, value labels, allowed range, whether a municipality
may see it, and for a derived variable the bands it is cut into.

The labels are read through ``audit.labels.Vocabulary``; nothing else writes them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from audit import resources
from audit.bands import Bands
from audit.instrument.loader import (BUILTIN_LISTS, LINE_KEY, DataFileError, InstrumentError, Problem,
                                     content_version, read_raw, strip_lines)
from audit.instrument.model import Choice

DEFAULT_FILE = resources.register_definition()

TYPES = ("category", "yes_no", "integer", "number", "date", "id")
SOURCES = ("register", "derived", "design")
VALUES_FROM = ("municipalities",)
VARIABLE_KEYS = {"code", "type", "source", "label_da", "label_en", "values", "values_from", "value_label",
                 "min", "max", "max_length", "from", "bands", "showable_to_municipality", "required"}
RANGED = ("integer", "number", "date")


class RegisterDefinitionError(DataFileError):
    """The register definition has problems; ``problems`` lists every one with its line."""


@dataclass(frozen=True)
class RegisterVariable:
    """One variable of the register extract (or derived from it, or added by the draw)."""

    code: str
    type: str
    label_da: str
    label_en: str
    source: str = "register"
    values: tuple[Choice, ...] = ()
    values_from: str | None = None
    value_label_da: str | None = None     # template for codes not in `values`: "{code} år"
    value_label_en: str | None = None
    minimum: Any = None                   # a number, or an ISO date for a date
    maximum: Any = None
    max_length: int | None = None
    derived_from: str | None = None
    bands: Bands | None = None
    showable_to_municipality: bool = False
    required: bool = False                # a column every extract must carry
    line: int | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        """Declared codes in print order: the listed values, the bands, or the reference list."""
        if self.values:
            return tuple(c.code for c in self.values)
        if self.bands is not None:
            return self.bands.codes
        if self.values_from == "municipalities":
            from audit.population.municipalities import municipality_names

            return municipality_names()
        return ()

    def label(self, lang: str = "da") -> str:
        return (self.label_da or self.label_en) if lang == "da" else (self.label_en or self.label_da)

    def value_label(self, code: Any, lang: str = "da") -> str:
        """A code's label: the listed one, else the template's, else the code itself."""
        text = str(code)
        for c in self.values:
            if c.code == text:
                return (c.label_da or c.label_en) if lang == "da" else (c.label_en or c.label_da)
        template = self.value_label_da if lang == "da" else self.value_label_en
        return template.format(code=text) if template else text


@dataclass(frozen=True)
class RegisterDefinition:
    """A validated register definition bound to one version (settings.version + content hash)."""

    id: str
    title: str
    version: str
    variables: tuple[RegisterVariable, ...]
    path: Path | None = None
    content: Any = field(default=None, repr=False, compare=False)  # the file's content, no line numbers
    _by_code: dict[str, RegisterVariable] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {v.code: v for v in self.variables})

    def variable(self, code: str) -> RegisterVariable:
        return self._by_code[code]

    def find(self, code: str | None) -> RegisterVariable | None:
        return self._by_code.get(code) if isinstance(code, str) else None

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(v.code for v in self.variables)

    @property
    def register_columns(self) -> tuple[str, ...]:
        """The columns an extract carries (source register), in file order."""
        return tuple(v.code for v in self.variables if v.source == "register")

    @property
    def required_columns(self) -> tuple[str, ...]:
        """The register columns every extract must carry (the sampling frame's)."""
        return tuple(v.code for v in self.variables if v.source == "register" and v.required)

    @property
    def optional_columns(self) -> tuple[str, ...]:
        """Declared register columns an extract may carry: stored per person when present."""
        return tuple(v.code for v in self.variables if v.source == "register" and not v.required)

    def derived_of(self, code: str) -> tuple[RegisterVariable, ...]:
        """The derived variables banded from `code`."""
        return tuple(v for v in self.variables if v.source == "derived" and v.derived_from == code)

    @property
    def showable(self) -> tuple[str, ...]:
        """Variables a municipality user may see for its own cases."""
        return tuple(v.code for v in self.variables if v.showable_to_municipality)


# --------------------------------------------------------------------------- validate + build

def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError
    return float(value)


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, where: str, message: str, line: int | None) -> None:
        self.problems.append(Problem(where, message, line))


def _values(entry: dict[str, Any], where: str, line: int | None, check: _Checker) -> tuple[Choice, ...]:
    raw = entry.get("values")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        check.add(where, "'values' must be a list of {code, da, en}", line)
        return ()
    out: list[Choice] = []
    seen: set[str] = set()
    for v in raw:
        vline = v.get(LINE_KEY, line) if isinstance(v, dict) else line
        if not isinstance(v, dict) or set(v) - {"code", "da", "en", LINE_KEY}:
            check.add(where, "each value is {code, da, en}", vline)
            continue
        code = _text(v.get("code"))
        if code is None:
            check.add(where, "a value has no code", vline)
            continue
        if code in seen:
            check.add(where, f"value code '{code}' is listed twice", vline)
        seen.add(code)
        da, en = _text(v.get("da")), _text(v.get("en"))
        if da is None or en is None:
            check.add(where, f"value '{code}' needs both a Danish (da) and an English (en) label", vline)
        out.append(Choice(code, da or "", en or ""))
    return tuple(out)


def _range(entry: dict[str, Any], vtype: str, where: str, line: int | None,
           check: _Checker) -> tuple[Any, Any]:
    bounds: list[Any] = []
    for key in ("min", "max"):
        value = entry.get(key)
        if value is None:
            bounds.append(None)
            continue
        if vtype not in RANGED:
            check.add(where, f"'{key}' is only for {', '.join(RANGED)} variables", line)
            bounds.append(None)
            continue
        if vtype == "date":
            import datetime as dt

            try:
                bounds.append(dt.date.fromisoformat(str(value)).isoformat())
            except ValueError:
                check.add(where, f"'{key}' must be a date written YYYY-MM-DD, not {value!r}", line)
                bounds.append(None)
            continue
        try:
            bounds.append(_number(value))
        except ValueError:
            check.add(where, f"'{key}' must be a number, not {value!r}", line)
            bounds.append(None)
    low, high = bounds
    if low is not None and high is not None and low > high:
        check.add(where, f"min {low} is above max {high}", line)
    return low, high


def _bands(entry: dict[str, Any], values: tuple[Choice, ...], where: str, line: int | None,
           check: _Checker) -> Bands | None:
    raw = entry.get("bands")
    if not isinstance(raw, list) or not raw:
        check.add(where, "a derived variable needs 'bands': the lower edge of each band (null: open below)", line)
        return None
    try:
        edges = tuple(float("-inf") if (e is None and i == 0) else _number(e) for i, e in enumerate(raw))
        if values:
            if len(values) != len(edges):
                check.add(where, f"{len(edges)} band edges but {len(values)} values: list one value per band",
                          line)
                return None
            return Bands(edges, tuple(c.code for c in values))  # type: ignore[arg-type]
        if edges[0] == float("-inf"):
            check.add(where, "a band open below needs 'values' naming each band", line)
            return None
        return Bands.from_boundaries(edges)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        check.add(where, f"'bands' must be increasing numbers (null only first): {exc or raw}", line)
        return None


def _variable(entry: Any, index: int, seen: dict[str, int | None], check: _Checker) -> RegisterVariable | None:
    if not isinstance(entry, dict):
        check.add(f"variables[{index}]", "must be a mapping with code, type and labels", None)
        return None
    line = entry.get(LINE_KEY)
    code = _text(entry.get("code"))
    where = code or f"variables[{index}]"
    if code is None:
        check.add(where, "'code' is missing", line)
        return None
    if code in seen:
        check.add(where, f"code used twice (first on line {seen[code]})", line)
    seen[code] = line
    for key in sorted(set(entry) - VARIABLE_KEYS - {LINE_KEY}):
        check.add(where, f"unknown key '{key}' (allowed: {', '.join(sorted(VARIABLE_KEYS))})", line)
    vtype = _text(entry.get("type")) or ""
    if vtype not in TYPES:
        check.add(where, f"type must be one of {', '.join(TYPES)}, not {vtype or 'nothing'!r}", line)
    source = _text(entry.get("source")) or "register"
    if source not in SOURCES:
        check.add(where, f"source must be one of {', '.join(SOURCES)}, not {source!r}", line)
    label_da, label_en = _text(entry.get("label_da")), _text(entry.get("label_en"))
    for key, value in (("label_da", label_da), ("label_en", label_en)):
        if value is None:
            check.add(where, f"'{key}' is missing", line)
    showable = entry.get("showable_to_municipality")
    if not isinstance(showable, bool):
        check.add(where, "'showable_to_municipality' must be true or false (say which, for every variable)", line)
    values = _values(entry, where, line, check)
    if vtype == "yes_no":
        if values:
            check.add(where, "a yes_no variable takes the instrument's ja/nej labels; remove 'values'", line)
        values = tuple(Choice(c["code"], c["da"], c["en"]) for c in BUILTIN_LISTS["yes_no"])
    elif values and vtype != "category":
        check.add(where, "'values' is only for category variables", line)
    values_from = _text(entry.get("values_from"))
    if values_from is not None and values_from not in VALUES_FROM:
        check.add(where, f"values_from must be one of {', '.join(VALUES_FROM)}, not {values_from!r}", line)
    if values_from is not None and values:
        check.add(where, "give either 'values' or 'values_from', not both", line)
    template = entry.get("value_label")
    template_da = template_en = None
    if template is not None:
        if not isinstance(template, dict) or not _text(template.get("da")) or not _text(template.get("en")) \
                or set(template) - {"da", "en", LINE_KEY}:
            check.add(where, "'value_label' is {da: ..., en: ...} with {code} where the code goes", line)
        else:
            template_da, template_en = _text(template["da"]), _text(template["en"])
    low, high = _range(entry, vtype, where, line, check)
    max_length = entry.get("max_length")
    if max_length is not None and (vtype != "id" or not isinstance(max_length, int) or max_length < 1):
        check.add(where, "'max_length' is a positive whole number, for id variables only", line)
        max_length = None
    derived_from, bands = _text(entry.get("from")), None
    if source == "derived":
        if derived_from is None:
            check.add(where, "a derived variable names the variable it comes 'from'", line)
        # a yes/no cut: the band below the edge is 'nej', the one from it 'ja'
        band_values = tuple(sorted(values, key=lambda c: c.code != "nej")) if vtype == "yes_no" else values
        bands = _bands(entry, band_values, where, line, check)
    elif derived_from is not None or entry.get("bands") is not None:
        check.add(where, "'from' and 'bands' are only for derived variables (source: derived)", line)
    required = entry.get("required", False)
    if not isinstance(required, bool):
        check.add(where, "'required' must be true or false", line)
        required = False
    if required and source != "register":
        check.add(where, "only a register column can be 'required'", line)
    return RegisterVariable(
        required=bool(required),
        code=code, type=vtype, label_da=label_da or "", label_en=label_en or "", source=source, values=values,
        values_from=values_from, value_label_da=template_da, value_label_en=template_en, minimum=low,
        maximum=high, max_length=max_length, derived_from=derived_from, bands=bands,
        showable_to_municipality=bool(showable), line=line)


def build_definition(raw: Any, source: str = "", path: Path | None = None) -> RegisterDefinition:
    """Plain data (with line numbers) -> RegisterDefinition, or RegisterDefinitionError."""
    check = _Checker()
    if not isinstance(raw, dict):
        raise RegisterDefinitionError([Problem("file", "must be a mapping with 'settings' and 'variables'", None)],
                                      source)
    for key in sorted(set(raw) - {"settings", "variables", LINE_KEY}):
        check.add("file", f"unknown section '{key}' (allowed: settings, variables)", raw.get(LINE_KEY))
    settings = raw.get("settings")
    if not isinstance(settings, dict):
        check.add("settings", "is missing (id, version, title)", raw.get(LINE_KEY))
        settings = {}
    for key in ("id", "version", "title"):
        if _text(settings.get(key)) is None:
            check.add("settings", f"'{key}' is missing", settings.get(LINE_KEY))
    entries = raw.get("variables")
    if not isinstance(entries, list) or not entries:
        check.add("variables", "must list the variables", raw.get(LINE_KEY))
        entries = []
    seen: dict[str, int | None] = {}
    variables = [v for i, e in enumerate(entries) if (v := _variable(e, i, seen, check)) is not None]
    by_code = {v.code: v for v in variables}
    for v in variables:
        if v.derived_from is not None and v.derived_from not in by_code:
            check.add(v.code, f"'from: {v.derived_from}' is not a variable of this definition", v.line)
        elif v.derived_from is not None and by_code[v.derived_from].type not in ("integer", "number"):
            check.add(v.code, f"'from: {v.derived_from}' must be an integer or number variable to be banded",
                      v.line)
    for required in ("person_id", "municipality"):
        if required in by_code and not by_code[required].required:
            check.add(required, "must be 'required: true': every extract needs it", by_code[required].line)
    if check.problems:
        raise RegisterDefinitionError(check.problems, source)
    content = strip_lines(raw)
    return RegisterDefinition(id=str(settings["id"]), title=str(settings["title"]),
                              version=content_version(content), variables=tuple(variables), path=path,
                              content=content)


def load_register_definition(path: str | Path = DEFAULT_FILE) -> RegisterDefinition:
    """Read and check a register definition file; every problem names its line."""
    path = Path(path)
    try:
        raw = read_raw(path)
    except InstrumentError as exc:  # the shared YAML reader: not valid YAML, with the line
        raise RegisterDefinitionError(exc.problems, str(path)) from None
    except OSError as exc:
        raise RegisterDefinitionError([Problem("file", f"cannot be read: {exc}", None)], str(path)) from None
    return build_definition(raw, str(path), path)


@lru_cache(maxsize=1)
def default_definition() -> RegisterDefinition:
    """The repository's register definition (registers/kontanthjaelp_2022.yaml), read once."""
    return load_register_definition(DEFAULT_FILE)
