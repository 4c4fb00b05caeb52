"""Raw data export: one row per case, one column per variable, with a codebook.

Columns, in order: the register and design variables of the case frame
(case_id, municipality, seniority_band, sex, age, age_band, origin, stratum,
stratum_population, stratum_sample, weight), then every item code and calculated
field in instrument order. A multiple-choice item is written twice:
  - `challenges`: the chosen codes separated by spaces ("fysiske psykiske"), and
  - one 0/1 dummy per choice, `challenges__fysiske`, empty when the item does not apply.
Missing (not applicable or unanswered) is an empty cell.

Formats: XLSX (sheets `data` and `codebook`, written in streaming mode), CSV
(audit.csvio: PEOPLE by default, UTF-8 with BOM, `;` and decimal comma as Danish Excel
expects; SCRIPTS gives plain comma/point CSV) and SPSS .sav via pyreadstat with
variable labels and value labels; in .sav, coded variables are stored as numbers
1..k with the codes' labels as value labels, dummies as 0/1 with Nej/Ja.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np
import pandas as pd

from audit import csvio, workbook
from audit.instrument import Instrument
from audit.labels import vocabulary
from audit.statistics.variables import DERIVED, ORDERS

DERIVED_ORDERS = {name: ORDERS[name] for name in DERIVED if name in ORDERS}

REGISTER = ("case_id", "municipality", "seniority_band", "sex", "age", "age_band", "origin", "stratum",
            "stratum_population", "stratum_sample", "weight")
DUMMY_SEP = "__"


@dataclass
class Variable:
    name: str
    label: str
    type: str                                   # register | item type | dummy
    values: dict[str, str] = field(default_factory=dict)   # code -> label
    source: str = ""                            # the item a dummy belongs to
    relevant: str = ""


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def variables(frame: pd.DataFrame, instrument: Instrument | None = None) -> list[Variable]:
    """The export's columns, in order, with labels and value labels (the codebook)."""
    vocab = vocabulary(instrument)  # every label: the instrument's and the register definition's
    orders = frame.attrs.get("orders", {})  # the audit's own codes (its seniority bands)
    out = [Variable(n, vocab.label(n), "register", vocab.values(n, orders.get(n))) for n in REGISTER
           if n in frame.columns]
    # the case frame's items, or on the municipality frame (theme 7) the theme-7 items
    items = list(instrument.items_at(frame.attrs.get("unit", "case"))) if instrument is not None else []
    by_name = {i.name: i for i in items}
    names = [i.name for i in items if i.name in frame.columns]
    # the raw data are what was recorded: the derived variables (audit.statistics.derived) are
    # computed for the tables and left out here, so a file streamed in chunks equals the whole
    from audit.statistics.derived import default_derived

    spec = default_derived()
    derived = {v.name for v in spec} if spec is not None else set()
    names += [c for c in frame.columns if c not in REGISTER and c not in names and c not in derived]
    for name in names:
        item = by_name.get(name)
        kind = item.type if item is not None else _guess_type(frame[name])
        label = vocab.label(name)
        values: dict[str, str] = {}
        if item is not None and item.choices:
            values = {code: vocab.label(name, code) for code in item.codes}
        elif kind in ("yes_no", "yes_no_na"):
            values = vocab.choice_list(kind)
        elif kind in ("select_one", "select_multiple"):
            # a derived variable (Table 4's profile) has declared codes: the codebook and the
            # .sav numbers do not depend on which codes the first chunk of cases holds
            declared = orders.get(name) or DERIVED_ORDERS.get(name)
            values = {c: c for c in (declared or _present_codes(frame[name]))}
        out.append(Variable(name, label, kind, values, relevant=(item.relevant or "") if item is not None else ""))
        if str(kind).startswith("select_multiple"):
            codes = list(values) or _present_codes(frame[name])
            for code in codes:
                out.append(Variable(f"{name}{DUMMY_SEP}{code}", f"{label}: {values.get(code, code)}", "dummy",
                                    vocab.dummy(), source=name))
    return out


def _present_codes(series: pd.Series) -> list[str]:
    codes: set[str] = set()
    for v in series:
        if _missing(v):
            continue
        codes.update(str(x) for x in (v if isinstance(v, (tuple, list, set)) else (v,)))
    return sorted(codes)


def _guess_type(series: pd.Series) -> str:
    sample = [v for v in series[:200] if not _missing(v)]
    if any(isinstance(v, (tuple, list, set)) for v in sample):
        return "select_multiple"
    if sample and all(isinstance(v, (int, np.integer)) for v in sample):
        return "integer"
    if sample and all(isinstance(v, (int, float, np.number)) for v in sample):
        return "decimal"
    if sample and set(map(str, sample)) <= set(vocabulary().choice_list("yes_no_na")):
        return "yes_no_na"
    return "select_one"


def wide_frame(frame: pd.DataFrame, instrument: Instrument | None = None,
               vars_: list[Variable] | None = None) -> tuple[pd.DataFrame, list[Variable]]:
    """The export table: multiple choice joined with spaces plus 0/1 dummies (`vars_`: the
    variables already chosen for the first chunk of a streamed export)."""
    vars_ = vars_ if vars_ is not None else variables(frame, instrument)
    cols: dict[str, Any] = {}
    for var in vars_:
        source, cell_of = _cell_rule(var)
        cols[var.name] = [cell_of(v) for v in frame[source]]
    return pd.DataFrame(cols, columns=[v.name for v in vars_]), vars_


def _cell_rule(var: Variable) -> tuple[str, Callable[[Any], Any]]:
    """Which case-frame column a variable comes from, and what its cell holds for a value there:
    missing stays missing; multiple choice joined with spaces; a dummy 0/1 for its code."""
    if var.type == "dummy":
        code = var.name.split(DUMMY_SEP, 1)[1]
        return var.source, lambda v: None if _missing(v) else int(code in {str(x) for x in v})
    if str(var.type).startswith("select_multiple"):
        return var.name, lambda v: None if _missing(v) else " ".join(str(x) for x in v)
    return var.name, lambda v: None if _missing(v) else (v.item() if isinstance(v, np.generic) else v)


def _csv_column(series: pd.Series, cell_of: Callable[[Any], Any], dialect: csvio.Dialect) -> np.ndarray:
    """The CSV text of a variable for one chunk: `csvio.cell(cell_of(v))` for every value, worked
    out once per distinct value (pandas' factorize) and spread back. Values pandas counts as
    equal (1, 1.0, True; None and NaN) have the same text under this rule, so this is exact."""
    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # an unhashable stored value (a malformed answer): value by value
        return np.array([csvio.cell(cell_of(v), dialect) for v in series.tolist()], dtype=object)
    texts = [csvio.cell(cell_of(u), dialect) for u in list(uniques)] + [csvio.cell(cell_of(None), dialect)]
    return np.array(texts, dtype=object)[codes]


def codebook_rows(vars_: list[Variable]) -> list[list[Any]]:
    rows = [["variabel", "label", "type", "værdier", "relevant når"]]
    for v in vars_:
        values = "; ".join(f"{k}={lab}" for k, lab in v.values.items())
        rows.append([v.name, v.label, v.type, values, v.relevant])
    return rows


# ---------------------------------------------------------------- writing, in chunks of cases
#
# Every writer takes either one frame or an iterable of frames (chunks of cases, as
# `audit.statistics.dataset.iter_case_frames` gives them) and holds one chunk at a time:
# CSV and XLSX memory stays flat in the number of cases. The columns (and the codebook)
# come from the first chunk; every chunk has the same columns.

Frames = Union[pd.DataFrame, Iterable[pd.DataFrame]]
Progress = Optional[Callable[[int], None]]


def _chunks(frames: Frames, rows: int = 2000) -> Iterator[pd.DataFrame]:
    if isinstance(frames, pd.DataFrame):
        if len(frames) <= rows:
            yield frames
            return
        for lo in range(0, len(frames), rows):
            part = frames.iloc[lo:lo + rows].reset_index(drop=True)
            part.attrs = frames.attrs
            yield part
        return
    yield from frames


def _wide_chunks(frames: Frames, instrument: Instrument | None) -> tuple[list[Variable], Iterator[pd.DataFrame]]:
    """The export's variables and the wide table chunk by chunk."""
    it = _chunks(frames)
    first = next(it, None)
    if first is None:
        raise ValueError("no frame to export")
    vars_ = variables(first, instrument)

    def wide() -> Iterator[pd.DataFrame]:
        for chunk in itertools.chain([first], it):
            data, _ = wide_frame(chunk, instrument, vars_)
            yield data
    return vars_, wide()


def iter_csv(frames: Frames, instrument: Instrument | None = None, dialect: csvio.Dialect = csvio.PEOPLE,
             progress: Progress = None) -> Iterator[bytes]:
    """The CSV file as chunks of bytes (streamed downloads). PEOPLE: Danish Excel (BOM, `;`,
    decimal comma); SCRIPTS: R, Python (`,`, decimal point, no BOM). Every cell through
    `csvio` (text neutralised, numbers in the dialect's decimal)."""
    it = _chunks(frames)
    first = next(it, None)
    if first is None:
        raise ValueError("no frame to export")
    vars_ = variables(first, instrument)
    header = [v.name for v in vars_]
    chunks = itertools.chain([first], it)  # the case frame's chunks: no wide table in between

    rules = [_cell_rule(v) for v in vars_]

    def rows() -> Iterator[tuple[str, ...]]:
        for chunk in chunks:
            yield from zip(*(_csv_column(chunk[source], cell_of, dialect).tolist() for source, cell_of in rules))
            if progress is not None:
                progress(len(chunk))
    yield from csvio.iter_text_bytes(header, rows(), dialect)


def write_csv(frames: Frames, out: str | Path, instrument: Instrument | None = None,
              dialect: csvio.Dialect = csvio.PEOPLE, progress: Progress = None) -> int:
    """PEOPLE (Danish Excel: `;`, decimal comma, BOM) or SCRIPTS (`,`, decimal point)."""
    counted = _Counter(progress)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh:
        for part in iter_csv(frames, instrument, dialect, counted):
            fh.write(part)
    return counted.n


class _Counter:
    """Counts rows written and passes them on to a progress callback."""

    def __init__(self, progress: Progress) -> None:
        self.n = 0
        self.progress = progress

    def __call__(self, k: int) -> None:
        self.n += k
        if self.progress is not None:
            self.progress(k)


THEME7_SHEET = "tema7"


def write_xlsx(frames: Frames, out: str | Path, instrument: Instrument | None = None,
               progress: Progress = None, municipalities: pd.DataFrame | None = None) -> int:
    """Streaming XLSX writer (openpyxl write-only): sheet `data` (frozen header) and sheet
    `codebook`; rows go to disk as they are appended, so memory is one chunk. With
    `municipalities` (the theme-7 frame) a sheet `tema7`: one row per municipality that
    answered, its codebook rows in `codebook` after the cases'."""
    from openpyxl import Workbook

    vars_, chunks = _wide_chunks(frames, instrument)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("data")
    ws.freeze_panes = "B2"
    ws.append(workbook.header_row(ws, [v.name for v in vars_]))
    n = 0
    for data in chunks:
        for values in data.itertuples(index=False, name=None):
            ws.append(workbook.row(ws, [None if _missing(x) else (x.item() if isinstance(x, np.generic) else x)
                                        for x in values]))
        n += len(data)
        if progress is not None:
            progress(len(data))
    theme7_vars: list[Variable] = []
    if municipalities is not None:
        t7, theme7_vars = wide_frame(municipalities, instrument)
        ws7 = wb.create_sheet(THEME7_SHEET)
        ws7.freeze_panes = "B2"
        ws7.append(workbook.header_row(ws7, [v.name for v in theme7_vars]))
        for values in t7.itertuples(index=False, name=None):
            ws7.append(workbook.row(ws7, [None if _missing(x) else (x.item() if isinstance(x, np.generic) else x)
                                          for x in values]))
    cb = wb.create_sheet("codebook")
    rows = codebook_rows(vars_)
    seen = {v.name for v in vars_}
    rows += codebook_rows([v for v in theme7_vars if v.name not in seen])[1:]
    cb.append(workbook.header_row(cb, rows[0]))
    for r in rows[1:]:
        cb.append(workbook.row(cb, r))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return n


def codebook_csv_bytes(vars_: list[Variable], dialect: csvio.Dialect = csvio.PEOPLE) -> bytes:
    rows = codebook_rows(vars_)
    return b"".join(csvio.iter_bytes(rows[0], rows[1:], dialect))


def write_codebook_csv(frame: pd.DataFrame, out: str | Path, instrument: Instrument | None = None) -> int:
    vars_ = variables(frame, instrument)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(codebook_csv_bytes(vars_))
    return len(vars_)


def write_sav(frames: Frames, out: str | Path, instrument: Instrument | None = None,
              progress: Progress = None) -> int:
    """SPSS .sav with variable labels and value labels (pyreadstat).

    pyreadstat writes only from one whole DataFrame (it has no append mode), so the .sav is
    the one format whose memory grows with the audit. It is bounded instead: the chunks are
    reduced as they arrive to what the file holds, a float64 per numeric or coded cell and a
    shared text object per text cell (about 8 bytes a cell: 0.25 GB for 100,000 cases x 300
    variables), never the wide table of Python objects."""
    try:
        import pyreadstat
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise RuntimeError("SPSS export needs pyreadstat (a dependency of the package): pip install -e .") \
            from exc
    vars_, chunks = _wide_chunks(frames, instrument)
    kinds: dict[str, str] = {}
    numbers: dict[str, dict[str, float]] = {}
    for v in vars_:
        if v.type == "dummy":
            kinds[v.name] = "float"
        elif v.values and not str(v.type).startswith("select_multiple") and v.name not in ("case_id",):
            kinds[v.name] = "coded"
            numbers[v.name] = {c: float(k) for k, c in enumerate(v.values, start=1)}
        elif v.type in ("integer", "decimal", "scale", "calculate"):
            kinds[v.name] = "maybe"  # numbers unless a stored value is not a number
        elif v.type == "register" and v.name in ("case_id", "age", "stratum_population", "stratum_sample", "weight"):
            kinds[v.name] = "float"
        else:
            kinds[v.name] = "text"
    parts: dict[str, list[np.ndarray]] = {v.name: [] for v in vars_}
    n = 0
    for data in chunks:
        for v in vars_:
            col = data[v.name]
            kind = kinds[v.name]
            if kind == "float":
                parts[v.name].append(pd.to_numeric(col, errors="coerce").to_numpy(dtype=float))
            elif kind == "coded":
                codes = numbers[v.name]
                vals = col.tolist()
                for x in vals:  # a stored code the instrument does not list gets the next number
                    if not _missing(x) and str(x) not in codes:
                        codes[str(x)] = float(len(codes) + 1)
                parts[v.name].append(np.array([np.nan if _missing(x) else codes[str(x)] for x in vals], dtype=float))
            elif kind == "maybe":
                vals = np.array(col.tolist(), dtype=object)
                if all(_missing(x) or (isinstance(x, (int, float, np.number)) and not isinstance(x, bool))
                       for x in vals):
                    parts[v.name].append(pd.to_numeric(pd.Series(vals), errors="coerce").to_numpy(dtype=float))
                else:
                    kinds[v.name] = "text"
                    parts[v.name] = [_as_text(p) for p in parts[v.name]] + [_as_text(vals)]
            else:
                parts[v.name].append(_as_text(np.array(col.tolist(), dtype=object)))
        n += len(data)
        if progress is not None:
            progress(len(data))
    out_cols = {name: np.concatenate(p) if p else np.zeros(0) for name, p in parts.items()}
    del parts
    value_labels: dict[str, dict[Any, str]] = {}
    for v in vars_:
        if v.type == "dummy":
            value_labels[v.name] = {float(k): text for k, text in v.values.items()}
        elif kinds[v.name] == "coded":
            value_labels[v.name] = {num: v.values.get(c, c) for c, num in numbers[v.name].items()}
    sav = pd.DataFrame(out_cols, columns=[v.name for v in vars_])
    del out_cols
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    pyreadstat.write_sav(sav, str(out), column_labels=[v.label[:250] for v in vars_],
                         variable_value_labels=value_labels)
    return n


def _as_text(values: np.ndarray) -> np.ndarray:
    """A text column of the .sav: missing is empty, else `str` of the value, one object per distinct value."""
    if values.dtype != object:  # a numeric part turned text by a later chunk
        values = values.astype(object)
    memo: dict[Any, str] = {}
    out = np.empty(len(values), dtype=object)
    for k, x in enumerate(values):
        if _missing(x):
            out[k] = ""
            continue
        key = (type(x), x)
        text = memo.get(key)
        if text is None:
            text = memo[key] = str(x.item() if isinstance(x, np.generic) else x)
        out[k] = text
    return out


def theme7_path(out: str | Path) -> Path:
    """Where a CSV or .sav export puts theme 7: beside it, `<name>.tema7<suffix>`."""
    out = Path(out)
    return out.with_name(f"{out.stem}.{THEME7_SHEET}{out.suffix}")


def write_raw(frames: Frames, out: str | Path, instrument: Instrument | None = None,
              dialect: csvio.Dialect = csvio.PEOPLE, progress: Progress = None,
              municipalities: pd.DataFrame | None = None) -> int:
    """Dispatch on the file extension: .xlsx, .csv or .sav. `frames`: a case frame or its chunks.
    With `municipalities` (theme 7): a sheet `tema7` in a workbook, a file `theme7_path(out)`
    beside a CSV or .sav."""
    suffix = Path(out).suffix.lower()
    if suffix == ".xlsx":
        return write_xlsx(frames, out, instrument, progress, municipalities=municipalities)
    if municipalities is not None and suffix in (".csv", ".sav"):
        (write_csv if suffix == ".csv" else write_sav)(
            *((municipalities, theme7_path(out), instrument, dialect) if suffix == ".csv"
              else (municipalities, theme7_path(out), instrument)))
    if suffix == ".csv":
        return write_csv(frames, out, instrument, dialect, progress)
    if suffix == ".sav":
        return write_sav(frames, out, instrument, progress)
    raise ValueError(f"unknown raw export format {suffix!r}: use .xlsx, .csv or .sav")
