"""Every Excel workbook the tool writes takes its look and its cell rule from here.

One styling (header fill and font, titles, notes, links, the report's pink key cells)
so the annex, the raw data, the codebook and the municipalities' workbooks look like
one product.

One rule for text: a string is always stored as a text cell, never as a formula, and
marked "quote prefix" so that editing it in Excel keeps it text. openpyxl would otherwise
turn any string starting with `=` into a live formula. Characters that XML cannot
carry (control characters other than tab, newline and carriage return) are replaced by
U+FFFD, so a stray byte in a remark cannot make the file unreadable.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
BLOCK_FILL = PatternFill("solid", fgColor="F2F2F2")
KEY_FILL = PatternFill("solid", fgColor="F4C2D7")  # key results, marked pink as the report does
BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=13)
BIG_TITLE_FONT = Font(bold=True, size=14)
NOTE_FONT = Font(italic=True, size=9)
LINK_FONT = Font(color="0563C1", underline="single")
WRAP = Alignment(wrap_text=True, vertical="top")
THIN = Side(style="thin", color="808080")
BORDER = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)  # table cells of the annex
BOTTOM = Border(bottom=THIN)


def clean_text(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)


def _as_text(target: Cell | WriteOnlyCell, value: Any) -> None:
    if isinstance(value, str):
        target.value = clean_text(value)
        target.data_type = "s"  # never "f": a leading "=" stays text
        if value[:1] in ("=", "+", "-", "@"):
            target.quotePrefix = True
    else:
        target.value = value


def put(ws: Worksheet, row: int, column: int, value: Any, *, font: Font | None = None,
        fill: PatternFill | None = None, alignment: Alignment | None = None,
        number_format: str | None = None) -> Cell:
    """Write one cell of a normal worksheet by the text rule, with optional styling."""
    c = ws.cell(row=row, column=column)
    _as_text(c, value)
    if font is not None:
        c.font = font
    if fill is not None:
        c.fill = fill
    if alignment is not None:
        c.alignment = alignment
    if number_format is not None:
        c.number_format = number_format
    return c


def cell(ws: Worksheet, value: Any, *, font: Font | None = None, fill: PatternFill | None = None,
         number_format: str | None = None) -> WriteOnlyCell:
    """One cell for a write-only worksheet (`ws.append([...])`), by the text rule."""
    c = WriteOnlyCell(ws)
    _as_text(c, value)
    if font is not None:
        c.font = font
    if fill is not None:
        c.fill = fill
    if number_format is not None:
        c.number_format = number_format
    return c


def row(ws: Worksheet, values: Sequence[Any]) -> list[Any]:
    """A row for `ws.append` in write-only mode: text by the text rule, numbers as they are."""
    return [cell(ws, v) if isinstance(v, str) else v for v in values]


def header_row(ws: Worksheet, values: Iterable[Any]) -> list[WriteOnlyCell]:
    """A styled header row for a write-only worksheet."""
    return [cell(ws, v, font=BOLD, fill=HEADER_FILL) for v in values]


def append(ws: Worksheet, values: Sequence[Any]) -> None:
    """Append a row to a normal worksheet by the text rule."""
    r = ws.max_row + 1 if ws.max_row > 1 or ws.cell(1, 1).value is not None else 1
    for k, v in enumerate(values, start=1):
        put(ws, r, k, v)


def style_header(ws: Worksheet, row_no: int = 1, columns: int | None = None) -> None:
    """Give an already written header row of a normal worksheet the house style."""
    last = columns or ws.max_column
    for k in range(1, last + 1):
        c = ws.cell(row=row_no, column=k)
        c.font = BOLD
        c.fill = HEADER_FILL
