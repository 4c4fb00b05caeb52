"""Read and validate a register extract (the sampling frame) and a benefit-spells file.

Parse -> validate -> build, as separate steps: `read_table` turns a CSV or XLSX
file into a frame of strings (nothing interpreted yet), `validate_register` and
`validate_spells` check every cell at once with vectorised pandas operations and
collect *all* problems, so an auditor fixes the file in one round instead of one
error per upload. Row numbers are those the user sees in Excel: the header is
row 1, the first data row is row 2.
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
import pandas as pd

from audit import csvio
from audit.population.definition import RegisterDefinition, RegisterVariable, default_definition
from audit.population.municipalities import municipality_names

Source = Union[str, Path, BinaryIO]

# Codes, ranges and labels of the register variables are the register definition's
# (registers/kontanthjaelp_2022.yaml, why each range is what it is written there).
DEFINITION = default_definition()
REGISTER_COLUMNS = DEFINITION.required_columns
SPELL_COLUMNS = ("person_id", "benefit", "start", "end")
SEXES = DEFINITION.variable("sex").codes
ORIGINS = DEFINITION.variable("origin").codes
MIN_AGE, MAX_AGE = int(DEFINITION.variable("age").minimum), int(DEFINITION.variable("age").maximum)
MAX_SENIORITY = float(DEFINITION.variable("seniority_years").maximum)
ROW_OFFSET = 2  # data index 0 is Excel row 2


@dataclass(frozen=True)
class RowError:
    """One problem in one cell (or one row / the whole file when row/column is None)."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f", row {self.row}" if self.row is not None else "")
        where += f", column {self.column}" if self.column else ""
        val = f" (value {self.value!r})" if self.value not in (None, "") else ""
        return f"{where}: {self.message}{val}"


class RegisterError(Exception):
    """The file is rejected. `errors` lists the first problems found, in file order (at most
    `audit.limits.current().errors_listed`); `total` counts all of them."""

    def __init__(self, errors: Iterable[RowError], total: int | None = None):
        self.errors: list[RowError] = list(errors)
        self.total: int = max(total or 0, len(self.errors))
        files = " and ".join(dict.fromkeys(e.file for e in self.errors)) or "the file"
        listed = f" (the first {len(self.errors):,} are listed)" if self.total > len(self.errors) else ""
        super().__init__(f"{self.total:,} error(s) in {files}{listed}; nothing was imported")

    @property
    def unlisted(self) -> int:
        return self.total - len(self.errors)


# ---------------------------------------------------------------- reading

def _name_of(source: Source, filename: str | None) -> str:
    if filename:
        return filename
    if isinstance(source, (str, Path)):
        return Path(source).name
    return getattr(source, "name", None) or "upload"


def _cell_text(value: object) -> str:
    """XLSX cells arrive typed; turn them into the text the user typed."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sniff_delimiter(first_line: str) -> str:
    return csvio.detect_delimiter(first_line)


def read_table(source: Source, filename: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read a CSV (comma, semicolon or tab; UTF-8 with or without BOM, falling back to
    Windows-1252 as older Danish Excel writes it) or an XLSX file (first sheet) into
    a frame of stripped strings with lower-case column names and a `_row` column
    holding the Excel row number. Blank lines are dropped but keep their numbering.

    Limits (audit.limits, before or while parsing, never after): an upload larger than
    `upload_bytes`, an .xlsx whose XML would expand beyond the allowed size or ratio, and
    more than `import_rows` data rows are refused as a whole-file error; a cell longer than
    `cell_chars` is an error of its row and column."""
    from audit import limits

    name = _name_of(source, filename)
    if hasattr(source, "read"):
        data: bytes | Path = source.read()  # type: ignore[union-attr]
        if isinstance(data, str):
            data = data.encode("utf-8")
    else:
        data = Path(source)
    suffix = Path(name).suffix.lower()
    max_rows = limits.current().import_rows
    try:
        if isinstance(data, bytes):
            limits.check_upload_size(len(data), name)
        if suffix in (".xlsx", ".xlsm"):
            limits.check_xlsx_archive(data, name)
            raw = pd.read_excel(io.BytesIO(data) if isinstance(data, bytes) else data, dtype=object,
                                engine="openpyxl", na_filter=False, nrows=max_rows + 1)
            frame = raw.apply(lambda col: col.map(_cell_text)) if len(raw) else raw.astype(str)
        else:
            frame = _read_csv(data, nrows=max_rows + 1)
        limits.check_rows(len(frame), name)
    except RegisterError:
        raise
    except limits.LimitExceeded as exc:
        raise RegisterError([RowError(name, None, None, None, str(exc))]) from exc
    except (ValueError, pd.errors.ParserError, OSError, KeyError, zipfile.BadZipFile) as exc:
        raise RegisterError([RowError(name, None, None, None, f"cannot read the file: {exc}")]) from exc
    frame.columns = [str(c).replace("\ufeff", "").strip().lower() for c in frame.columns]
    frame = frame.loc[:, [c for c in frame.columns if c and not c.startswith("unnamed:")]]
    frame["_row"] = np.arange(ROW_OFFSET, ROW_OFFSET + len(frame))
    cells = [c for c in frame.columns if c != "_row"]
    for col in cells:
        frame[col] = frame[col].astype(str).str.strip()
    if cells:
        blank = (frame[cells] == "").all(axis=1)
        if blank.any():
            frame = frame.loc[~blank]
    frame = frame.reset_index(drop=True)
    _long_cells(frame, name, cells, limits.current().cell_chars)
    return frame, name


def _long_cells(frame: pd.DataFrame, name: str, cells: list[str], limit: int) -> None:
    """Refuse the file when a cell is longer than `limit` characters (each such cell listed)."""
    errs = _Errors(name)
    for col in cells:
        lengths = frame[col].str.len()
        too_long = lengths > limit
        if too_long.any():
            shown = frame.loc[too_long, col].str.slice(0, 40) + "…"
            errs.add(frame.assign(**{col: shown.reindex(frame.index)}), too_long, col,
                     f"the cell has more than the {limit:,} characters a cell may have")
    if errs:
        errs.raise_errors(cells)


def _read_csv(data: bytes | Path, nrows: int | None = None) -> pd.DataFrame:
    """Encoding, delimiter and BOM are detected by audit.csvio, as for every CSV the tool reads."""
    return csvio.read_frame(data, nrows=nrows)


# ---------------------------------------------------------------- validating

class _Errors:
    """Collects problems as small frames (vectorised) and turns them into RowErrors once.

    Memory stays flat in the number of problems: each check keeps only its first
    `errors_listed` problems (the file's first problems are among them, since every check
    finds its problems in file order) and counts the rest."""

    def __init__(self, file: str):
        from audit import limits

        self.file = file
        self.keep = limits.current().errors_listed
        self.parts: list[pd.DataFrame] = []
        self.file_level: list[RowError] = []
        self.total = 0

    def add(self, frame: pd.DataFrame, mask: pd.Series, column: str, message: str | pd.Series) -> None:
        count = int(mask.sum())
        if not count:
            return
        self.total += count
        sub = frame.loc[mask].head(self.keep)
        msg = message.loc[sub.index] if isinstance(message, pd.Series) else message
        self.parts.append(pd.DataFrame({"row": sub["_row"].to_numpy(), "column": column,
                                        "value": sub[column].to_numpy() if column in sub else "",
                                        "message": msg if isinstance(msg, str) else msg.to_numpy()}))

    def whole_file(self, message: str, column: str | None = None) -> None:
        self.file_level.append(RowError(self.file, None, column, None, message))
        self.total += 1

    def __bool__(self) -> bool:
        return bool(self.parts or self.file_level)

    def errors(self, column_order: Iterable[str]) -> list[RowError]:
        out = list(self.file_level)
        if self.parts:
            order = {c: i for i, c in enumerate(column_order)}
            df = pd.concat(self.parts, ignore_index=True)
            df["_c"] = df["column"].map(order).fillna(len(order))
            df = df.sort_values(["row", "_c"], kind="mergesort").head(max(0, self.keep - len(out)))
            out += [RowError(self.file, int(r), c, str(v), m)
                    for r, c, v, m in zip(*(df[k].tolist() for k in ("row", "column", "value", "message")))]
        return out[:self.keep]

    def raise_errors(self, column_order: Iterable[str]) -> None:
        raise RegisterError(self.errors(column_order), total=self.total)


def _missing_columns(frame: pd.DataFrame, required: Iterable[str], errs: _Errors) -> bool:
    missing = [c for c in required if c not in frame.columns]
    for col in missing:
        errs.whole_file(f"required column {col!r} is missing (found: {', '.join(c for c in frame.columns if c != '_row') or 'none'})", col)
    return bool(missing)


def _empty(frame: pd.DataFrame, columns: Iterable[str], errs: _Errors) -> pd.Series:
    any_empty = pd.Series(False, index=frame.index)
    for col in columns:
        mask = frame[col] == ""
        errs.add(frame, mask, col, "empty cell")
        any_empty |= mask
    return any_empty


def _by_value(series: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`fn(series)`, computed once per distinct value and spread back to every row.

    A register column such as sex, origin, age or municipality holds a few dozen distinct
    values in a million rows, and pandas runs casefold, regex replace and to_numeric on
    strings element by element in Python: this does the same work on the distinct values."""
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    return fn(pd.Series(uniques)).take(codes).set_axis(series.index)


def _number(series: pd.Series) -> pd.Series:
    """Numbers as typed in Danish Excel too: a decimal comma is accepted."""
    return _by_value(series, lambda s: pd.to_numeric(s.str.replace(",", ".", regex=False), errors="coerce"))


def municipality_lookup(allowed: Iterable[str] | None = None) -> dict[str, str]:
    """casefolded name -> canonical name, restricted to `allowed` when given."""
    names = list(allowed) if allowed else list(municipality_names())
    return {n.casefold(): n for n in names}


DUPLICATE_ROWS_SHOWN = 5  # rows named in a duplicate's message; a group of 20,000 is counted, not listed


def _duplicates(frame: pd.DataFrame, errs: _Errors) -> None:
    present = frame["person_id"] != ""
    dup = frame["person_id"].duplicated(keep=False) & present
    if dup.any():
        groups = frame.loc[dup].groupby("person_id", sort=False)["_row"]
        size = groups.size()
        rows = groups.agg(lambda r: ", ".join(str(x) for x in sorted(r)[:DUPLICATE_ROWS_SHOWN]))
        text = "duplicate person_id (rows " + rows + np.where(
            size > DUPLICATE_ROWS_SHOWN, " and " + (size - DUPLICATE_ROWS_SHOWN).map("{:,}".format) + " more", "") + ")"
        # one message per id, shared by its rows (not one string per row)
        errs.add(frame, dup, "person_id", frame["person_id"].map(text).where(dup))


# A person id goes into sample files and workbooks: it must be plain text, never a formula.
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f]"
FORMULA_START = r"^[=+\-@\t\r]"


def _person_id_text(pid: pd.Series, frame: pd.DataFrame, errs: _Errors, column: str = "person_id") -> None:
    control = pid.str.contains(CONTROL_CHARACTERS, regex=True)
    errs.add(frame, control, column, "person_id contains a control character (a tab, line break or other "
                                     "invisible character); ids must be plain text")
    formula = pid.str.contains(FORMULA_START, regex=True) & ~control
    errs.add(frame, formula, column, "person_id starts with =, +, -, @, a tab or a carriage return, which a "
                                     "spreadsheet would run as a formula; ids must not start so")


YES = {"ja", "j", "yes", "y", "1", "true", "sand"}
NO = {"nej", "n", "no", "0", "false", "falsk"}


def _declared_value(variable: "RegisterVariable", raw: pd.Series, frame: pd.DataFrame, errs: _Errors) -> pd.Series:
    """One declared optional column, typed after its definition entry; every bad cell an error
    naming the row, column and value. An empty cell is a missing value (kept as missing)."""
    code, present = variable.code, raw != ""
    if variable.type == "category":
        lookup = {c.casefold(): c for c in variable.codes}
        value = _by_value(raw, lambda s: s.str.casefold().map(lookup))
        shown = ", ".join(variable.codes[:12]) + (" ..." if len(variable.codes) > 12 else "")
        errs.add(frame, present & value.isna(), code, f"not one of the codes of {code} ({shown})")
        return value.astype(object).where(present, None)
    if variable.type == "yes_no":
        value = _by_value(raw, lambda s: s.str.casefold().map(lambda t: "ja" if t in YES else "nej" if t in NO
                                                               else None))
        errs.add(frame, present & value.isna(), code, "must be ja or nej (also 1/0, yes/no)")
        return value.astype(object).where(present, None)
    if variable.type in ("integer", "number"):
        value = _number(raw)
        errs.add(frame, present & value.isna(), code, "not a number")
        if variable.type == "integer":
            errs.add(frame, value.notna() & (value % 1 != 0), code, "must be a whole number")
        low, high = variable.minimum, variable.maximum
        if low is not None or high is not None:
            outside = value.notna() & ((value < (low if low is not None else -np.inf))
                                       | (value > (high if high is not None else np.inf)))
            errs.add(frame, outside, code, f"outside the allowed range {_bound(low)}-{_bound(high)}")
        return value
    if variable.type == "date":
        value = parse_dates(raw)
        errs.add(frame, present & value.isna(), code, "not a date (use YYYY-MM-DD or DD-MM-YYYY)")
        low, high = variable.minimum, variable.maximum
        if low is not None or high is not None:
            outside = value.notna() & ((value < pd.Timestamp(low or "1678-01-01"))
                                       | (value > pd.Timestamp(high or "2261-12-31")))
            errs.add(frame, outside, code, f"outside the allowed range {low or ''} to {high or ''}")
        return value.dt.strftime("%Y-%m-%d").astype(object).where(value.notna(), None)
    # id / text
    if variable.max_length:
        errs.add(frame, raw.str.len() > variable.max_length, code,
                 f"longer than {variable.max_length} characters")
    control = raw.str.contains(CONTROL_CHARACTERS, regex=True)
    errs.add(frame, control, code, "contains a control character")
    errs.add(frame, raw.str.contains(FORMULA_START, regex=True) & ~control, code,
             "starts with =, +, -, @, a tab or a carriage return, which a spreadsheet would run as a formula")
    return raw.astype(object).where(present, None)


def _bound(value: object) -> str:
    return "" if value is None else f"{value:g}"


def extra_columns(frame: pd.DataFrame, definition: "RegisterDefinition") -> list[str]:
    """Columns of the file the definition does not declare as register columns."""
    declared = set(definition.register_columns)
    return [c for c in frame.columns if c != "_row" and c not in declared]


def validate_declared(frame: pd.DataFrame, file: str, definition: "RegisterDefinition", *,
                      ignore_extra: bool = False, errs: _Errors | None = None,
                      columns: Iterable[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The declared optional columns the file carries, typed (numbers float, codes and dates
    text, missing None), and the undeclared columns. An undeclared column is an error of the
    whole file (data minimisation: nothing undeclared is stored) unless `ignore_extra`, when
    it is dropped. With `errs` the problems are added there; otherwise raised here."""
    own = errs is None
    errs = errs if errs is not None else _Errors(file)
    extra = extra_columns(frame, definition)
    if extra and not ignore_extra:
        for col in extra:
            errs.whole_file(f"column {col!r} is not declared in the register definition {definition.id} "
                            f"{definition.version}; declare it, remove it or import with --ignore-extra", col)
    present = [c for c in (definition.optional_columns if columns is None else columns) if c in frame.columns]
    out = pd.DataFrame(index=frame.index)
    for code in present:
        out[code] = _declared_value(definition.variable(code), frame[code], frame, errs)
    if own and errs:
        errs.raise_errors(list(frame.columns))
    return out.reset_index(drop=True), extra


def validate_register(frame: pd.DataFrame, file: str, *, municipalities: Iterable[str] | None = None,
                      min_seniority: float = 5.0, seniority: pd.Series | None = None,
                      seniority_source: str | None = None, definition: "RegisterDefinition | None" = None,
                      ignore_extra: bool = True) -> pd.DataFrame:
    """Check every cell and return the clean frame (canonical codes, numbers typed), or
    raise `RegisterError` with all problems. `municipalities` restricts the accepted
    names (the audit's list); `seniority` (indexed by person_id, from a spells file)
    replaces the `seniority_years` column. The declared optional columns of `definition`
    (default: the repository's) that the file carries are checked and returned typed, after
    the six; an undeclared column is an error unless `ignore_extra`."""
    errs = _Errors(file)
    definition = definition or DEFINITION
    declared, _extra = validate_declared(frame, file, definition, ignore_extra=ignore_extra, errs=errs)
    required = [c for c in REGISTER_COLUMNS if seniority is None or c != "seniority_years"]
    if _missing_columns(frame, required, errs):
        errs.raise_errors(REGISTER_COLUMNS)
    if frame.empty:
        errs.whole_file("the file has no data rows")
        errs.raise_errors(REGISTER_COLUMNS)
    frame = frame.copy()
    _empty(frame, required, errs)

    pid = frame["person_id"]
    errs.add(frame, pid.str.len() > 64, "person_id", "person_id is longer than 64 characters")
    _person_id_text(pid, frame, errs)
    _duplicates(frame, errs)

    lookup = municipality_lookup(municipalities)
    folded = _by_value(frame["municipality"], lambda s: s.str.casefold())
    canon = folded.map(lookup)
    bad = canon.isna() & (frame["municipality"] != "")
    if municipalities:
        known_elsewhere = folded.isin(municipality_lookup(None).keys())
        errs.add(frame, bad & known_elsewhere, "municipality", "municipality is not one of the audit's municipalities")
        errs.add(frame, bad & ~known_elsewhere, "municipality", "unknown municipality (not in the list of 98 Danish municipalities)")
    else:
        errs.add(frame, bad, "municipality", "unknown municipality (not in the list of 98 Danish municipalities)")

    sex = _by_value(frame["sex"], lambda s: s.str.casefold())
    errs.add(frame, ~sex.isin(SEXES) & (frame["sex"] != ""), "sex", "sex must be 'mand' or 'kvinde'")
    origin = _by_value(frame["origin"], lambda s: s.str.casefold().str.replace(r"[\s_]+", "-", regex=True))
    errs.add(frame, ~origin.isin(ORIGINS) & (frame["origin"] != ""), "origin",
             "origin must be 'dansk', 'vestlig' or 'ikke-vestlig'")

    age = _number(frame["age"])
    nonnum = age.isna() & (frame["age"] != "")
    errs.add(frame, nonnum, "age", "age is not a number")
    errs.add(frame, age.notna() & (age % 1 != 0), "age", "age must be a whole number of years")
    errs.add(frame, age.notna() & ((age < MIN_AGE) | (age > MAX_AGE)), "age",
             f"impossible age for the target group (must be {MIN_AGE}-{MAX_AGE})")

    if seniority is None:
        sen = _number(frame["seniority_years"])
        errs.add(frame, sen.isna() & (frame["seniority_years"] != ""), "seniority_years", "seniority_years is not a number")
        source_note = ""
    else:
        sen = frame["person_id"].map(seniority)
        frame["seniority_years"] = _by_value(sen, lambda s: s.map(lambda v: "" if pd.isna(v) else f"{v:.2f}"))
        errs.add(frame, sen.isna() & (pid != ""), "seniority_years",
                 f"no benefit spell for this person in {seniority_source or 'the spells file'}")
        source_note = f" (computed from the spells in {seniority_source or 'the spells file'} at the reference date)"
    below = sen.notna() & (sen < min_seniority)
    errs.add(frame, below, "seniority_years",
             f"below the target group's minimum of {min_seniority:g} years{source_note}")
    errs.add(frame, sen.notna() & (sen > MAX_SENIORITY), "seniority_years",
             f"above {MAX_SENIORITY:g} years, impossible{source_note}")

    if errs:
        errs.raise_errors(REGISTER_COLUMNS)
    # .array hands the string columns over as they are (to_numpy() would turn a million
    # strings into Python objects and the constructor back into a string array)
    clean = pd.DataFrame({
        "row": frame["_row"].to_numpy(),
        "person_id": pid.array,
        "municipality": canon.array,
        "seniority_years": sen.astype(float).to_numpy(),
        "sex": sex.array,
        "age": age.astype(int).to_numpy(),
        "origin": origin.array,
    })
    for code in declared.columns:
        clean[code] = declared[code].to_numpy()
    return clean


_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y")


def parse_dates(series: pd.Series) -> pd.Series:
    """ISO dates or Danish dd-mm-yyyy / dd.mm.yyyy / dd/mm/yyyy; NaT where none fits."""
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    for fmt in _DATE_FORMATS:
        todo = out.isna() & (series != "")
        if not todo.any():
            break
        out.loc[todo] = pd.to_datetime(series.loc[todo], format=fmt, errors="coerce")
    return out


def validate_spells(frame: pd.DataFrame, file: str) -> pd.DataFrame:
    """Check a spells file (person_id, benefit, start, end; end empty = ongoing) and
    return it with datetime `start`/`end`, or raise `RegisterError` with all problems."""
    errs = _Errors(file)
    if _missing_columns(frame, SPELL_COLUMNS, errs):
        errs.raise_errors(SPELL_COLUMNS)
    if frame.empty:
        errs.whole_file("the file has no data rows")
        errs.raise_errors(SPELL_COLUMNS)
    _empty(frame, ("person_id", "benefit", "start"), errs)
    start = parse_dates(frame["start"])
    end = parse_dates(frame["end"])
    msg = "not a date (use YYYY-MM-DD or DD-MM-YYYY)"
    errs.add(frame, start.isna() & (frame["start"] != ""), "start", msg)
    errs.add(frame, end.isna() & (frame["end"] != ""), "end", msg)
    errs.add(frame, end.notna() & start.notna() & (end < start), "end", "end is before start")
    if errs:
        errs.raise_errors(SPELL_COLUMNS)
    return pd.DataFrame({"row": frame["_row"].to_numpy(), "person_id": frame["person_id"].array,
                         "benefit": frame["benefit"].array, "start": start.to_numpy(), "end": end.to_numpy()})

