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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from audit import csvio, workbook
from audit.instrument import Instrument
from audit.labels import vocabulary

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
    items = list(instrument.items_at("case")) if instrument is not None else []
    by_name = {i.name: i for i in items}
    names = [i.name for i in items if i.name in frame.columns]
    names += [c for c in frame.columns if c not in REGISTER and c not in names]
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
            values = {c: c for c in _present_codes(frame[name])}
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


def wide_frame(frame: pd.DataFrame, instrument: Instrument | None = None) -> tuple[pd.DataFrame, list[Variable]]:
    """The export table: multiple choice joined with spaces plus 0/1 dummies."""
    vars_ = variables(frame, instrument)
    cols: dict[str, Any] = {}
    for var in vars_:
        if var.type == "dummy":
            code = var.name.split(DUMMY_SEP, 1)[1]
            cols[var.name] = [None if _missing(v) else int(code in {str(x) for x in v}) for v in frame[var.source]]
        elif str(var.type).startswith("select_multiple"):
            cols[var.name] = [None if _missing(v) else " ".join(str(x) for x in v) for v in frame[var.name]]
        else:
            cols[var.name] = [None if _missing(v) else (v.item() if isinstance(v, np.generic) else v)
                              for v in frame[var.name]]
    return pd.DataFrame(cols, columns=[v.name for v in vars_]), vars_


def codebook_rows(vars_: list[Variable]) -> list[list[Any]]:
    rows = [["variabel", "label", "type", "værdier", "relevant når"]]
    for v in vars_:
        values = "; ".join(f"{k}={lab}" for k, lab in v.values.items())
        rows.append([v.name, v.label, v.type, values, v.relevant])
    return rows


def write_xlsx(frame: pd.DataFrame, out: str | Path, instrument: Instrument | None = None,
               progress: Callable[[int], None] | None = None) -> int:
    """Streaming XLSX writer: sheet `data` (frozen header) and sheet `codebook`."""
    from openpyxl import Workbook

    data, vars_ = wide_frame(frame, instrument)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("data")
    ws.freeze_panes = "B2"
    ws.append(workbook.header_row(ws, [v.name for v in vars_]))
    for k, row in enumerate(data.itertuples(index=False, name=None), start=1):
        ws.append(workbook.row(ws, [None if _missing(x) else x for x in row]))
        if progress is not None and k % 500 == 0:
            progress(500)
    if progress is not None:
        progress(len(data) % 500)
    cb = wb.create_sheet("codebook")
    for i, r in enumerate(codebook_rows(vars_)):
        cb.append(workbook.header_row(cb, r) if i == 0 else workbook.row(cb, r))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return len(data)


def write_csv(frame: pd.DataFrame, out: str | Path, instrument: Instrument | None = None,
              dialect: csvio.Dialect = csvio.PEOPLE, progress: Callable[[int], None] | None = None) -> int:
    """PEOPLE (Danish Excel: `;`, decimal comma, BOM) or SCRIPTS (`,`, decimal point)."""
    data, _ = wide_frame(frame, instrument)

    def rows():  # type: ignore[no-untyped-def]
        for k, row in enumerate(data.itertuples(index=False, name=None), start=1):
            yield row
            if progress is not None and k % 500 == 0:
                progress(500)

    csvio.write(out, list(data.columns), rows(), dialect)
    if progress is not None:
        progress(len(data) % 500)
    return len(data)


def write_codebook_csv(frame: pd.DataFrame, out: str | Path, instrument: Instrument | None = None) -> int:
    _, vars_ = wide_frame(frame.head(0) if len(frame) == 0 else frame, instrument)
    rows = codebook_rows(vars_)
    csvio.write(out, rows[0], rows[1:], csvio.PEOPLE)
    return len(rows) - 1


def write_sav(frame: pd.DataFrame, out: str | Path, instrument: Instrument | None = None,
              progress: Callable[[int], None] | None = None) -> int:
    """SPSS .sav with variable labels and value labels (needs pyreadstat)."""
    try:
        import pyreadstat
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise RuntimeError("SPSS export needs pyreadstat (a dependency of the package): pip install -e .") \
            from exc
    data, vars_ = wide_frame(frame, instrument)
    out_cols: dict[str, Any] = {}
    value_labels: dict[str, dict[Any, str]] = {}
    labels: list[str] = []
    for v in vars_:
        col = data[v.name]
        if v.type == "dummy":
            out_cols[v.name] = pd.to_numeric(col, errors="coerce").astype(float)
            value_labels[v.name] = {float(k): text for k, text in v.values.items()}
        elif v.values and not str(v.type).startswith("select_multiple") and v.name not in ("case_id",):
            codes = list(v.values)
            extra = [c for c in _present_codes(col) if c not in codes]
            codes += extra
            number = {c: float(k) for k, c in enumerate(codes, start=1)}
            out_cols[v.name] = [np.nan if _missing(x) else number[str(x)] for x in col]
            value_labels[v.name] = {number[c]: v.values.get(c, c) for c in codes}
        elif v.type in ("integer", "decimal", "scale", "calculate") and pd.api.types.is_numeric_dtype(
                pd.to_numeric(col, errors="coerce")) and col.map(lambda x: _missing(x) or isinstance(
                    x, (int, float, np.number))).all():
            out_cols[v.name] = pd.to_numeric(col, errors="coerce").astype(float)
        elif v.type == "register" and v.name in ("case_id", "age", "stratum_population", "stratum_sample", "weight"):
            out_cols[v.name] = pd.to_numeric(col, errors="coerce").astype(float)
        else:
            out_cols[v.name] = ["" if _missing(x) else str(x) for x in col]
        labels.append(v.label[:250])
    sav = pd.DataFrame(out_cols, columns=[v.name for v in vars_])
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    pyreadstat.write_sav(sav, str(out), column_labels=labels, variable_value_labels=value_labels)
    if progress is not None:
        progress(len(sav))
    return len(sav)


def write_raw(frame: pd.DataFrame, out: str | Path, instrument: Instrument | None = None,
              dialect: csvio.Dialect = csvio.PEOPLE, progress: Callable[[int], None] | None = None) -> int:
    """Dispatch on the file extension: .xlsx, .csv or .sav."""
    suffix = Path(out).suffix.lower()
    if suffix == ".xlsx":
        return write_xlsx(frame, out, instrument, progress)
    if suffix == ".csv":
        return write_csv(frame, out, instrument, dialect, progress)
    if suffix == ".sav":
        return write_sav(frame, out, instrument, progress)
    raise ValueError(f"unknown raw export format {suffix!r}: use .xlsx, .csv or .sav")
