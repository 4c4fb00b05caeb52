"""Annex table definitions: the YAML files in the top-level `exports/` folder.

parse -> validate -> build, like the instrument: `load_definitions(path, known=...)`
reads the file, checks every table (kind, keys, variable codes, filter values) and
returns an `AnnexSpec`, or raises `DefinitionError` listing every problem with the
table id an author must fix. The definitions hold no numbers; `audit.exports.compute`
turns each `TableDef` into figures through `audit.statistics`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import yaml

from audit import resources
from audit.bands import Bands
from audit.population.definition import default_definition
from audit.statistics.variables import DERIVED, REGISTER

if TYPE_CHECKING:
    from audit.instrument import Instrument

DEFAULT_FILE = resources.export_definition("annex_default.yaml")
REPORT_FILE = resources.export_definition("report_2022.yaml")  # the report's exhibits, Figur N / Tabel N
DEFAULT_SOURCE = "Kilde: Sagsgennemgang, revision af langvarige kontanthjælpsmodtagere."

KINDS = ("frequency", "crosstab", "breakdown", "matrix", "indicators", "representativeness", "comparison", "means", "items",
         "composition")
# Table 12 compares the register population with the sample on register variables only.
REPRESENTATIVENESS_VARIABLES = ("sex", "age_band", "origin")
PERCENTS = ("row", "col")  # the statistics room's percent bases
WEIGHTINGS = ("none", "design")
CHARTS = ("bar", "none")
TABLE_KEYS = {"id", "title", "kind", "row", "col", "filter", "weighting", "percent", "note", "source",
              "chart", "highlight", "suppress", "characteristics", "indicators", "frame",
              "share_of", "items", "total"}
from audit.statistics.tables import MUNICIPALITY_SOURCE  # noqa: E402 - the theme-7 source line, written once

# What a table counts: the reviewed cases (a sample, design-weighted when asked), every person of
# the register extract (a census, unweighted), or municipalities (theme 7, answered once each).
# "case" is read as "sample" (the name the report definitions used first).
TABLE_FRAMES = ("sample", "population", "municipality")
FRAME_ALIASES = {"case": "sample"}
MUNICIPALITY_KINDS = ("frequency", "crosstab", "breakdown", "means")
# Columns of the municipality frame besides the theme-7 items.
MUNICIPALITY_VARIABLES = ("municipality",)
HIGHLIGHT_KEYS = {"column", "above", "below", "rows"}
INDICATOR_KEYS = {"item", "as"}
INDICATOR_AS = ("percent",)  # a numeric indicator whose mean is a share (0-1), printed as a percentage
ITEM_KEYS = {"item", "label"}  # an entry of an items table: a code, or {item: code, label: "the row's text"}
SHARE_KINDS = ("comparison", "items")  # the kinds that print the share of one code (`share_of`)

# Register and design variables of the case frame (docs/contracts.md) and the statistics
# room's derived ones (Table 4's profile), always known.
REGISTER_VARIABLES = (*REGISTER, *DERIVED)


class DefinitionError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("annex definitions have problems:\n" + "\n".join(f"- {p}" for p in problems))


@dataclass(frozen=True)
class Highlight:
    column: str | None = None      # a column category (e.g. "ja"); None = every share column
    above: float | None = None     # mark shares above this
    below: float | None = None     # mark shares below this
    rows: tuple[str, ...] = ()     # mark whole rows with these category codes


@dataclass(frozen=True)
class TableDef:
    id: str
    title: str
    kind: str
    rows: tuple[str, ...] = ()           # row variable(s); several = stacked blocks
    cols: tuple[str, ...] = ()           # column variable(s); several = column groups
    filter: dict[str, tuple[str, ...]] = field(default_factory=dict)
    filter_expr: str | None = None       # instrument expression, e.g. "${direction} = 'jobrettet'"
    weighting: str = "none"
    percent: str = "row"
    note: str = ""
    source: str = DEFAULT_SOURCE
    chart: str = "none"
    highlight: Highlight | None = None
    suppress: bool = True
    characteristics: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()
    indicator_as: dict[str, str] = field(default_factory=dict)   # indicator -> "percent"
    frame: str = "sample"                # TABLE_FRAMES: cases (sample), register (population) or theme 7
    share_of: str = "ja"                 # comparison: the code of `col` whose share is compared; items: of each item
    items: tuple[str, ...] = ()          # items: the items side by side, one row each
    item_labels: dict[str, str] = field(default_factory=dict)   # items: a row's own text instead of the item's label
    total: bool = False                  # crosstab/breakdown by row: an "I alt" row, every case of the table

    def variables(self) -> list[str]:
        return [*self.rows, *self.cols, *self.filter, *expression_references(self.filter_expr),
                *self.characteristics, *self.indicators, *self.items]


def _expressions():  # type: ignore[no-untyped-def]
    """The instrument's expression language (never eval), if that room is installed."""
    try:
        from audit.instrument import expressions
    except ImportError:
        return None
    return expressions


def expression_references(text: str | None) -> list[str]:
    ex = _expressions()
    if not text or ex is None:
        return []
    try:
        return [r.name for r in ex.references(ex.parse(text))]
    except ex.ExpressionError:
        return []


@dataclass(frozen=True)
class Derived:
    """A variable the file bands from an item (`audit.bands`): its codes, and its own label."""
    name: str
    source: str
    bands: Bands
    label: str | None = None


@dataclass
class AnnexSpec:
    tables: list[TableDef]
    source: str = DEFAULT_SOURCE
    suppress: bool = True
    min_cell: int = 3
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    derive: dict[str, Derived] = field(default_factory=dict)
    path: Path | None = None

    def own_labels(self) -> dict[str, dict[str, str]]:
        """Labels the file gives its own derived variables (and variables nobody else labels),
        for the one label function (`audit.labels.Vocabulary`, key "_": the variable's label)."""
        out = {k: dict(v) for k, v in self.labels.items()}
        for d in self.derive.values():
            if d.label:
                out.setdefault(d.name, {})["_"] = d.label
        return out

    def table(self, table_id: str) -> TableDef:
        for t in self.tables:
            if t.id == table_id:
                return t
        raise KeyError(table_id)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),)


def parse(raw: Any, problems: list[str]) -> AnnexSpec:
    """Plain structure -> AnnexSpec; shape problems are appended to `problems`."""
    if not isinstance(raw, dict) or not isinstance(raw.get("tables"), list):
        problems.append("the file must be a mapping with a list under `tables:`")
        return AnnexSpec(tables=[])
    source = str(raw.get("source") or DEFAULT_SOURCE)
    spec = AnnexSpec(tables=[], source=source, suppress=bool(raw.get("suppress", True)),
                     min_cell=int(raw.get("min_cell", 3)))
    for var, labels in (raw.get("labels") or {}).items():
        spec.labels[str(var)] = {str(k): str(v) for k, v in (labels or {}).items()}
    for name, d in (raw.get("derive") or {}).items():
        try:
            bands = Bands(tuple(float(b) for b in d["bins"]), tuple(str(x) for x in d["labels"]))
            label = None if d.get("label") is None else str(d["label"])
            spec.derive[str(name)] = Derived(str(name), str(d["from"]), bands, label)
        except (KeyError, TypeError, ValueError, AttributeError):
            problems.append(f"derive {name}: needs `from`, increasing `bins` and as many `labels` "
                            f"(and may name its `label`)")
    seen: set[str] = set()
    for i, t in enumerate(raw["tables"], start=1):
        where = f"table {t.get('id', f'#{i}')}" if isinstance(t, dict) else f"table #{i}"
        if not isinstance(t, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        for key in sorted(set(t) - TABLE_KEYS):
            problems.append(f"{where}: unknown key `{key}`")
        tid = str(t.get("id") or "")
        if not tid:
            problems.append(f"{where}: missing `id`")
        elif len(tid) > 31 or any(c in tid for c in "[]:*?/\\"):
            problems.append(f"{where}: id must be a valid sheet name (max 31 characters, no []:*?/\\)")
        elif tid in seen or tid == "Indhold":
            problems.append(f"{where}: id used twice")
        seen.add(tid)
        if not t.get("title"):
            problems.append(f"{where}: missing `title`")
        kind = t.get("kind")
        if kind not in KINDS:
            problems.append(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
        rows, cols = _as_tuple(t.get("row")), _as_tuple(t.get("col"))
        chars = _as_tuple(t.get("characteristics"))
        inds, ind_as = _indicators(t.get("indicators"), where, problems)
        items, item_labels = _items(t.get("items"), where, problems)
        if kind in ("frequency", "crosstab", "breakdown") and not rows:
            problems.append(f"{where}: `row` is required for kind {kind}")
        if kind in ("crosstab", "breakdown") and not cols:
            problems.append(f"{where}: `col` is required for kind {kind}")
        if kind == "frequency" and cols:
            problems.append(f"{where}: a frequency table has `row` variables (several print side by side) and no `col`")
        if kind == "frequency" and len(rows) > 1 and t.get("chart") == "bar":
            problems.append(f"{where}: a frequency table of several `row` variables has no chart")
        if kind == "crosstab" and (len(rows) > 1 or len(cols) > 1):
            problems.append(f"{where}: a crosstab has one `row` and one `col`; use kind breakdown for several")
        if kind == "means" and (not cols or len(rows) > 1 or (len(cols) > 1 and rows)):
            problems.append(f"{where}: a means table has one `col` (the number whose mean and median are shown) "
                            f"and at most one `row` (the groups), or several `col` numbers (one row each) and no `row`")
        if kind == "comparison" and (len(rows) != 1 or len(cols) != 1):
            problems.append(f"{where}: a comparison has one `row` (the groups compared, e.g. municipality) and "
                            f"one `col` (the item whose share of `share_of` is compared)")
        if kind == "items":
            if not items and t.get("items") is None:
                problems.append(f"{where}: `items` is required for kind items (the items side by side, "
                                f"e.g. items: [focus_job_wishes, focus_job_options])")
            if rows:
                problems.append(f"{where}: an items table lists its rows under `items`, not `row`")
            if len(cols) > 1:
                problems.append(f"{where}: an items table takes at most one `col` (the groups, e.g. direction)")
        elif kind == "composition":
            if len(items) < 2:
                problems.append(f"{where}: a composition lists two or more numbers under `items` (each its sum "
                                f"as a share of the sum of them all, e.g. the weeks in each tool)")
            if rows or cols:
                problems.append(f"{where}: a composition lists its rows under `items` and takes no `row` or `col`")
        elif t.get("items") is not None:
            problems.append(f"{where}: `items` belongs to kinds items and composition")
        if kind not in SHARE_KINDS and t.get("share_of") is not None:
            problems.append(f"{where}: `share_of` belongs to kinds comparison and items")
        if t.get("total") is not None and (kind not in ("crosstab", "breakdown") or t.get("percent", "row") != "row"
                                           or not isinstance(t.get("total"), bool)):
            problems.append(f"{where}: `total: true` belongs to a crosstab or breakdown in row percentages")
        if kind in ("matrix", "indicators") and not chars:
            problems.append(f"{where}: `characteristics` is required for kind {kind}")
        if kind == "indicators" and not inds:
            problems.append(f"{where}: `indicators` is required for kind indicators")
        if kind == "representativeness":
            chars = chars or REPRESENTATIVENESS_VARIABLES
            for key in ("row", "col", "filter", "indicators"):
                if t.get(key):
                    problems.append(f"{where}: a representativeness table takes no `{key}`")
            for c in chars:
                if c not in REPRESENTATIVENESS_VARIABLES:
                    problems.append(f"{where}: characteristics of a representativeness table are register "
                                    f"variables ({', '.join(REPRESENTATIVENESS_VARIABLES)}), not {c!r}")
            if str(t.get("weighting", "none")) != "none":
                problems.append(f"{where}: a representativeness table compares unweighted compositions")
        frame = str(t.get("frame", "sample"))
        frame = FRAME_ALIASES.get(frame, frame)
        if frame not in TABLE_FRAMES:
            problems.append(f"{where}: frame must be one of {', '.join(TABLE_FRAMES)}, not {frame!r}")
        elif frame == "municipality":
            if kind not in MUNICIPALITY_KINDS:
                problems.append(f"{where}: a municipality (theme 7) table is one of {', '.join(MUNICIPALITY_KINDS)}, "
                                f"not {kind!r}")
            if str(t.get("weighting", "none")) != "none":
                problems.append(f"{where}: a municipality (theme 7) table has no design weights (every "
                                "municipality is in it): drop `weighting`")
        weighting = str(t.get("weighting", "none"))
        if weighting not in WEIGHTINGS:
            problems.append(f"{where}: weighting must be none or design, not {weighting!r}")
        if weighting == "design" and t.get("filter") and kind in ("matrix", "indicators"):
            problems.append(f"{where}: a {kind} table cannot be both filtered and weighted; "
                            "weight it over all cases or drop the weighting")
        percent = str(t.get("percent", "col" if kind in ("matrix", "representativeness") else "row"))
        if percent not in PERCENTS:
            problems.append(f"{where}: percent must be row or col, not {percent!r}")
        chart = str(t.get("chart", "none"))
        if chart not in CHARTS:
            problems.append(f"{where}: chart must be bar or none, not {chart!r}")
        filt: dict[str, tuple[str, ...]] = {}
        filter_expr = None
        raw_filter = t.get("filter") or {}
        if isinstance(raw_filter, str):
            ex = _expressions()
            if ex is None:
                problems.append(f"{where}: an expression filter needs the instrument's expression language; "
                                f"use {{variable: [allowed values]}}")
            else:
                try:
                    ex.parse(raw_filter)
                    filter_expr = raw_filter
                except ex.ExpressionError as exc:
                    problems.append(f"{where}: filter: {exc.describe() if hasattr(exc, 'describe') else exc}")
        elif not isinstance(raw_filter, dict):
            problems.append(f"{where}: filter must be an expression or a mapping {{variable: [allowed values]}}")
        else:
            filt = {str(k): _as_tuple(v) for k, v in raw_filter.items()}
        hl = None
        raw_hl = t.get("highlight")
        if raw_hl is not None:
            if not isinstance(raw_hl, dict) or set(raw_hl) - HIGHLIGHT_KEYS:
                problems.append(f"{where}: highlight takes {', '.join(sorted(HIGHLIGHT_KEYS))}")
            else:
                hl = Highlight(column=None if raw_hl.get("column") is None else str(raw_hl["column"]),
                               above=raw_hl.get("above"), below=raw_hl.get("below"),
                               rows=_as_tuple(raw_hl.get("rows")))
        if frame == "population" and weighting != "none":
            problems.append(f"{where}: a population table is a census: it takes no weighting")
        elif frame == "population" and kind == "representativeness":
            problems.append(f"{where}: a representativeness table reads both frames itself; drop `frame`")
        spec.tables.append(TableDef(
            id=tid, title=str(t.get("title") or ""), kind=str(kind), rows=rows, cols=cols, filter=filt,
            filter_expr=filter_expr,
            weighting=weighting, percent=percent, note=str(t.get("note") or "").strip(),
            source=str(t.get("source") or (MUNICIPALITY_SOURCE if frame == "municipality" else source)), chart=chart, highlight=hl,
            # theme 7 describes municipalities, not citizens: not suppressed unless the table says so
            suppress=bool(t.get("suppress", spec.suppress and frame != "municipality")),
            characteristics=chars, indicators=inds, indicator_as=ind_as, frame=frame,
            share_of=str(t.get("share_of", "ja")), items=items, item_labels=item_labels,
            total=t.get("total") is True))
    return spec


def _items(raw: Any, where: str, problems: list[str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """An items table's rows: item codes, or {item: code, label: "text"} for a row that prints its
    own text (the report's short bar label) instead of the item's question."""
    if raw is None:
        return (), {}
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: `items` must be a non-empty list of item codes or {{item: code, label: text}}")
        return (), {}
    codes: list[str] = []
    labels: dict[str, str] = {}
    for entry in raw:
        if isinstance(entry, dict):
            if set(entry) - ITEM_KEYS or not entry.get("item"):
                problems.append(f"{where}: an entry of `items` is an item code or {{item: code, label: text}}, "
                                f"not {entry!r}")
                continue
            code = str(entry["item"])
            if entry.get("label") is not None:
                labels[code] = str(entry["label"])
        elif isinstance(entry, (str, int)) and str(entry):
            code = str(entry)
        else:
            problems.append(f"{where}: an entry of `items` is an item code or {{item: code, label: text}}, "
                            f"not {entry!r}")
            continue
        if code in codes:
            problems.append(f"{where}: item `{code}` is listed twice")
            continue
        codes.append(code)
    return tuple(codes), labels


def _indicators(raw: Any, where: str, problems: list[str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """Table 14's indicators: item codes, or {item: code, as: percent} for a numeric item
    whose mean is a share (e.g. the share of weeks in activation)."""
    if raw is None:
        return (), {}
    codes: list[str] = []
    shown_as: dict[str, str] = {}
    for entry in raw if isinstance(raw, list) else [raw]:
        if isinstance(entry, dict):
            if set(entry) - INDICATOR_KEYS or "item" not in entry:
                problems.append(f"{where}: an indicator is an item code or {{item: code, as: percent}}")
                continue
            if entry.get("as") is not None and entry["as"] not in INDICATOR_AS:
                problems.append(f"{where}: indicator {entry['item']}: `as` must be percent, not {entry['as']!r}")
            codes.append(str(entry["item"]))
            if entry.get("as"):
                shown_as[str(entry["item"])] = str(entry["as"])
        else:
            codes.append(str(entry))
    return tuple(codes), shown_as


def validate(spec: AnnexSpec, known: Iterable[str] | None, choices: dict[str, set[str]] | None = None,
             problems: list[str] | None = None, municipality_items: Iterable[str] | None = None) -> list[str]:
    """Every variable a table uses must be a register variable, an item or calculated
    field of the instrument, or a derived variable of the file. Filter values must be
    choice codes of the variable when the instrument lists them. With `municipality_items`
    (the theme-7 items), a case table may not use them and a municipality table may use
    only them (and `municipality`): the error names the table, the variable and the frame."""
    problems = problems if problems is not None else []
    if known is None:
        return problems
    theme7 = set(municipality_items or ())
    names = set(known) | set(REGISTER_VARIABLES) | set(default_definition().codes) | set(spec.derive)
    for d in spec.derive.values():
        if d.source not in names:
            problems.append(f"derive {d.name}: unknown variable `{d.source}`")
    register = default_definition()
    for var in spec.labels:  # one source of labels: the instrument's and the register definition's own
        if var in register or (var in set(known) and var not in spec.derive):
            source = "the register definition" if var in register else "the instrument"
            problems.append(f"labels: `{var}` is labelled by {source}; remove it here (a label is written once)")
    choices = choices or {}
    for t in spec.tables:
        if theme7:
            for var in t.variables():
                if t.frame != "municipality" and var in theme7:
                    problems.append(f"table {t.id}: `{var}` is a theme-7 item, answered per municipality; "
                                    f"put it in a table with `frame: municipality`")
                elif t.frame == "municipality" and var in names and var not in theme7 \
                        and var not in MUNICIPALITY_VARIABLES:
                    problems.append(f"table {t.id}: `{var}` is not a theme-7 item; a `frame: municipality` "
                                    f"table counts municipalities and holds theme-7 items and `municipality` only")
        for var in t.variables():
            if var not in names:
                problems.append(f"table {t.id}: unknown variable `{var}` (not an item of the instrument "
                                f"nor a register or derived variable)")
        for var, allowed in t.filter.items():
            codes = choices.get(var) or (set(spec.derive[var].bands.codes) if var in spec.derive else None) \
                or (set(register.variable(var).codes) if var in register and register.variable(var).values else None)
            if codes:
                for v in allowed:
                    if v not in codes:
                        problems.append(f"table {t.id}: filter value {v!r} is not a code of `{var}` "
                                        f"({', '.join(sorted(codes))})")
        compared = t.cols[:1] if t.kind == "comparison" else t.items if t.kind == "items" else ()
        for var in compared:
            codes = choices.get(var) or (set(spec.derive[var].bands.codes) if var in spec.derive else None) \
                or (set(register.variable(var).codes) if var in register and register.variable(var).values else None)
            if codes and t.share_of not in codes:
                problems.append(f"table {t.id}: share_of {t.share_of!r} is not a code of `{var}` "
                                f"({', '.join(sorted(codes))})")
    return problems


def instrument_vocabulary(instrument: Instrument) -> tuple[set[str], dict[str, set[str]]]:
    """(item and calculated-field names, choice codes per item) of an instrument."""
    names = {item.name for item in instrument.items}
    choices = {item.name: set(item.codes) for item in instrument.items if item.codes}
    return names, choices


def load_definitions(path: str | Path | None = None, instrument: Instrument | None = None,
                     known: Iterable[str] | None = None) -> AnnexSpec:
    """Read, check and return the annex definitions. With an instrument (or a list of
    known variable names) every code is checked; problems raise DefinitionError."""
    path = Path(path) if path else DEFAULT_FILE
    problems: list[str] = []
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError([f"{path}: {exc}"]) from exc
    spec = parse(raw, problems)
    spec.path = path
    choices: dict[str, set[str]] = {}
    theme7: set[str] = set()
    if instrument is not None:
        names, choices = instrument_vocabulary(instrument)
        known = set(names) | set(known or ())
        from audit.statistics.derived import municipality_names

        theme7 = {i.name for i in instrument.items_at("municipality")} | municipality_names(instrument)
    if known is not None:  # the reviewed derived variables (questionnaires/derived_2022.yaml) by name
        from audit.statistics.derived import default_derived, names as derived_names

        known = set(known) | set(derived_names())
        numeric = {v.name for v in (default_derived() or ())  if v.stats_kind == "numeric"}
        if instrument is not None:
            numeric |= {i.name for i in instrument.items if i.stats_kind == "numeric"}
        scales = {i.name for i in instrument.items if i.type == "scale"} if instrument is not None else set()
        for t in spec.tables:
            if t.kind in ("frequency", "crosstab", "breakdown", "items"):
                for var in (*t.rows, *t.cols, *t.items):
                    if var in numeric and var not in spec.derive:
                        problems.append(f"table {t.id}: `{var}` is a number; a {t.kind} table needs codes: band it "
                                        f"(`derive:` here or bands in questionnaires/derived_2022.yaml), or use "
                                        f"it as an indicator (kind indicators: its mean)")
            register_numbers = {v.code for v in default_definition().variables if v.type in ("integer", "number")}
            for var in t.items if t.kind == "composition" else ():
                if var in set(known) and var not in numeric | register_numbers:
                    problems.append(f"table {t.id}: `{var}` is not a number; a composition adds up numbers")
            for col in t.cols if t.kind == "means" else ():
                if col in set(known) and col not in numeric | scales and col not in register_numbers:
                    problems.append(f"table {t.id}: `{col}` is not a number; a means table shows the mean and "
                                    f"median of a number item (use kind frequency or crosstab for codes)")
    validate(spec, known, choices, problems, municipality_items=theme7)
    if problems:
        raise DefinitionError(problems)
    return spec
