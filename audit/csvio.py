"""Every CSV file the tool reads or writes goes through this module.

Writing comes in two named dialects:
- `PEOPLE`: semicolon, decimal comma, UTF-8 with BOM: what Danish Excel opens correctly
  with a double click (downloads meant for a person);
- `SCRIPTS`: comma, decimal point, UTF-8 without BOM: for R, Python and other programs.

Text that a person typed or a file supplied is never executable where it lands: a cell
that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
apostrophe, as OWASP recommends for CSV injection ("CSV Injection", OWASP Foundation),
and the csv module quotes it where the delimiter or a quote requires. Numbers are written
as numbers and are never prefixed.

Reading detects, the same way for every file (register extracts, review sheets): the
encoding (UTF-8 with or without BOM, else Windows-1252 as older Danish Excel writes it)
and the delimiter (the most frequent of `;`, `,` and tab in the header line).
"""
from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DELIMITERS = (";", ",", "\t")
ENCODINGS = ("utf-8-sig", "cp1252")


@dataclass(frozen=True)
class Dialect:
    name: str
    delimiter: str
    decimal: str
    encoding: str  # "utf-8-sig" writes a BOM

    @property
    def bom(self) -> bytes:
        return "\ufeff".encode() if self.encoding == "utf-8-sig" else b""


PEOPLE = Dialect("people", ";", ",", "utf-8-sig")
SCRIPTS = Dialect("scripts", ",", ".", "utf-8")


def neutralize(text: str) -> str:
    """`text` made inert for a spreadsheet: a formula-like start gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def unneutralize(text: str) -> str:
    """The text `neutralize` was given, for reading back a file the tool wrote itself (a wide
    review sheet): the apostrophe in front of a formula-like start is dropped. (Text that a
    person began with an apostrophe followed by `=` loses that apostrophe.)"""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_START)


def cell(value: Any, dialect: Dialect = PEOPLE) -> str:
    """One value as CSV text: missing is empty, numbers in the dialect's decimal, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
        return text.replace(".", dialect.decimal) if dialect.decimal != "." else text
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return cell(value.item(), dialect)
    if isinstance(value, (list, tuple)):
        return neutralize(" ".join(str(v) for v in value))
    return neutralize(str(value))


def _writer(fh: Any, dialect: Dialect) -> Any:
    return csv.writer(fh, delimiter=dialect.delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")


def write(path: str | Path, header: Sequence[Any], rows: Iterable[Sequence[Any]],
          dialect: Dialect = PEOPLE) -> int:
    """Write a whole file; returns the number of data rows."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding=dialect.encoding, newline="") as fh:
        w = _writer(fh, dialect)
        w.writerow([cell(h, dialect) for h in header])
        for row in rows:
            w.writerow([cell(v, dialect) for v in row])
            n += 1
    return n


def iter_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]], dialect: Dialect = PEOPLE,
               chunk_rows: int = 2000) -> Iterator[bytes]:
    """The same file as `write`, as chunks of bytes for a streamed HTTP response."""
    buf = io.StringIO()
    w = _writer(buf, dialect)
    enc = "utf-8" if dialect.encoding == "utf-8-sig" else dialect.encoding
    yield dialect.bom
    w.writerow([cell(h, dialect) for h in header])
    k = 0
    for row in rows:
        w.writerow([cell(v, dialect) for v in row])
        k += 1
        if k % chunk_rows == 0:
            yield buf.getvalue().encode(enc)
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode(enc)


def iter_text_bytes(header: Sequence[Any], rows: Iterable[Sequence[str]], dialect: Dialect = PEOPLE,
                    chunk_rows: int = 2000) -> Iterator[bytes]:
    """`iter_bytes` for rows whose cells are already `cell` text (a writer that works out each
    distinct value's text once, as the raw export does): no second pass over the cells."""
    buf = io.StringIO()
    w = _writer(buf, dialect)
    enc = "utf-8" if dialect.encoding == "utf-8-sig" else dialect.encoding
    yield dialect.bom
    w.writerow([cell(h, dialect) for h in header])
    k = 0
    for row in rows:
        w.writerow(row)
        k += 1
        if k % chunk_rows == 0:
            yield buf.getvalue().encode(enc)
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode(enc)


def to_text(header: Sequence[Any], rows: Iterable[Sequence[Any]], dialect: Dialect = SCRIPTS) -> str:
    """A small CSV as a string (tables printed by the CLI, JSON-adjacent downloads); no BOM."""
    buf = io.StringIO()
    w = _writer(buf, dialect)
    w.writerow([cell(h, dialect) for h in header])
    for row in rows:
        w.writerow([cell(v, dialect) for v in row])
    return buf.getvalue()


# ---------------------------------------------------------------- reading

@dataclass(frozen=True)
class Detected:
    encoding: str
    delimiter: str


def detect_encoding(head: bytes, complete: bool) -> str:
    """UTF-8 (BOM or not) if the bytes decode as UTF-8, else Windows-1252.
    `complete` says `head` is the whole file (else a cut multi-byte character at the end is fine)."""
    try:
        head.decode("utf-8-sig", errors="strict")
        return "utf-8-sig"
    except UnicodeDecodeError as exc:
        if not complete and exc.start >= len(head) - 3:
            return "utf-8-sig"
        return "cp1252"


def detect_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def detect(data: bytes | Path, sample_size: int = 65536) -> Detected:
    if isinstance(data, Path):
        with data.open("rb") as fh:
            head = fh.read(sample_size + 1)
    else:
        head = data[:sample_size + 1]
    complete = len(head) <= sample_size
    head = head[:sample_size]
    encoding = detect_encoding(head, complete)
    text = head.decode(encoding, errors="ignore")
    first = text.splitlines()[0] if text else ""
    return Detected(encoding, detect_delimiter(first))


def read_rows(data: bytes | Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, cells) of every non-blank data row. Line numbers count the header as 1."""
    found = detect(data)
    raw = data.read_bytes() if isinstance(data, Path) else data
    text = raw.decode(found.encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=found.delimiter)
    rows = list(reader)
    if not rows:
        return [], []
    header = [h.strip() for h in rows[0]]
    body = [(n, r) for n, r in enumerate(rows[1:], start=2) if any(c.strip() for c in r)]
    return header, body


def read_frame(data: bytes | Path, nrows: int | None = None) -> Any:
    """The whole file (or its first `nrows` data rows) as a pandas frame of strings (nothing
    interpreted, empty cells as ""), with the same encoding and delimiter detection as
    `read_rows`; blank lines are kept so row numbers stay those of the file. A file that is
    neither UTF-8 nor Windows-1252 text raises ValueError."""
    import pandas as pd

    found = detect(data)
    encodings = [found.encoding] + [e for e in ENCODINGS if e != found.encoding]
    last: Exception | None = None
    for encoding in encodings:  # the head decoded as UTF-8, a byte further on may not
        try:
            source = io.BytesIO(data) if isinstance(data, bytes) else data
            return pd.read_csv(source, sep=found.delimiter, dtype=str, encoding=encoding, keep_default_na=False,
                               na_filter=False, skip_blank_lines=False, engine="c", quoting=csv.QUOTE_MINIMAL,
                               nrows=nrows)
        except UnicodeDecodeError as exc:
            last = exc
    raise ValueError(f"the file is neither UTF-8 nor Windows-1252 text ({last})")


# ---------------------------------------------------------------- frames

def frame_rows(frame: Any) -> tuple[list[str], Iterator[list[Any]]]:
    """Header and rows of a pandas frame for `write`/`to_text`/`iter_bytes`: pandas' missing
    values (NaN, NaT, NA) become empty cells."""
    import pandas as pd

    def rows() -> Iterator[list[Any]]:
        for row in frame.itertuples(index=False, name=None):
            yield [None if (not isinstance(v, (list, tuple)) and pd.isna(v)) else v for v in row]

    return [str(c) for c in frame.columns], rows()


def frame_to_text(frame: Any, dialect: Dialect = SCRIPTS) -> str:
    """A pandas frame as CSV text (what the CLI prints)."""
    header, rows = frame_rows(frame)
    return to_text(header, rows, dialect)
