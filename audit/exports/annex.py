"""The Excel annex: a contents sheet and one sheet per table, laid out from grids.

The writer only places values that `audit.exports.compute` took from the statistics
room; it never computes a share. Per sheet: title, back-link to the contents, header
rows (fill, borders), row labels, counts as integers, shares as numbers formatted
'0%', the note ("Anm.: N=… . <note> <suppression rule>") and the source line, pink
fill on key cells, frozen panes below the header, landscape print fitted to width and
a native bar chart where the definition asks for one.
"""
from __future__ import annotations

import re

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.legend import Legend
from openpyxl.chart.series import SeriesLabel
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from audit import i18n, workbook
from audit.exports.compute import Grid, build_grids
from audit.exports.definitions import AnnexSpec
from audit.exports.statsbridge import SUPPRESSED
from audit.instrument import Instrument
from audit.statistics.suppression import published_mean, published_share

CONTENTS = "Indhold"
SHARE_FORMAT = "0%"
MEAN_FORMAT = "0.0"
COUNT_FORMAT = "#,##0"
# The house style (audit.workbook), under the names this module has always used.
PINK = workbook.KEY_FILL        # key results, as the report marks them
HEADER_FILL = workbook.HEADER_FILL
BLOCK_FILL = workbook.BLOCK_FILL
THIN = workbook.THIN
BORDER = workbook.BORDER
BOTTOM = workbook.BOTTOM
TITLE_FONT = workbook.TITLE_FONT
BOLD = workbook.BOLD
LINK_FONT = workbook.LINK_FONT
NOTE_FONT = workbook.NOTE_FONT
put = workbook.put  # every value goes in by the text rule: labels from files are text, never formulas


ONE_PAGE_ROWS = 45  # tables up to this many rows are printed on one page


def danish_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def n_phrase(ns: list[int | None]) -> str:
    """[99, 135, 90, 44] -> 'N=99, 135, 90 og 44'; identical N's collapse to one; a
    hidden N (None) prints as x."""
    if not ns:
        return "N=0"
    if len(set(ns)) == 1:
        return f"N={SUPPRESSED if ns[0] is None else danish_int(ns[0])}"
    parts = [SUPPRESSED if n is None else danish_int(n) for n in ns]
    return "N=" + ", ".join(parts[:-1]) + " og " + parts[-1]


def note_text(grid: Grid) -> str:
    municipal = grid.definition.frame == "municipality"
    parts = [n_phrase(grid.n_note) + (" kommuner." if municipal else ".")]
    if municipal:
        parts += [n for t in grid.stats_tables[:1] for n in getattr(getattr(t, "table", t), "notes", ())
                  if "tema 7" in n]
    if grid.definition.note:
        parts.append(grid.definition.note.rstrip(".") + ".")
    if grid.weighted:
        parts.append("Andelene er vægtet med designvægte (population/stikprøve i hvert stratum); "
                     "N er antal sager i stikprøven.")
    if any(any(r.highlight) for r in grid.rows):
        parts.append("Centrale resultater er markeret med lyserødt.")
    parts += test_sentences(grid)
    if grid.suppression_rule:
        parts.append(f"{SUPPRESSED}: {grid.suppression_rule}")
    return "Anm.: " + " ".join(parts)


def test_sentences(grid: Grid) -> list[str]:
    """The Rao-Scott test of each weighted crosstab behind the sheet, its small-expected-count
    warning, or why it is withheld (a suppressed table prints no test); and the rule for
    weighted shares withheld in small groups."""
    from audit.statistics.designtests import describe, small_expected_note
    from audit.statistics.suppression import TEST_WITHHELD, THIN_NOTE

    out: list[str] = []
    tables = [getattr(cell, "table", None) for cell in grid.stats_tables]
    tables = [t for t in tables if t is not None and t.weighted is not None and t.kind == "crosstab"]
    several = len(tables) > 1
    for t in tables:
        line = describe(t.test)
        if line:
            out.append((f"{t.row_var} × {t.col_var}: " if several else "") + line + ".")
            warning = small_expected_note(t.test)
            if warning:
                out.append(warning)
        elif TEST_WITHHELD in t.notes and TEST_WITHHELD not in out:
            out.append(str(TEST_WITHHELD))
    if any(THIN_NOTE in getattr(getattr(cell, "table", None), "notes", ()) for cell in grid.stats_tables):
        out.append(str(THIN_NOTE))  # weighted shares of small groups are withheld
    return out


@dataclass
class SheetLayout:
    """Where things landed on a sheet; used by the contents sheet and the tests."""

    sheet: str
    title_row: int
    header_rows: tuple[int, ...]
    first_data_row: int
    last_data_row: int
    note_row: int
    source_row: int
    first_col: int = 2      # first value column (B)
    chart: bool = False
    block_rows: bool = False   # stacked row variables get a heading row each


def _label_column_title(grid: Grid) -> str | None:
    """With one row variable its label heads column A; stacked blocks get heading rows."""
    blocks = {r.block for r in grid.rows if not r.total}
    if grid.definition.kind in ("frequency", "crosstab") and len(blocks) == 1:
        return next(iter(blocks)) or ""
    return None


def write_table_sheet(ws: Worksheet, grid: Grid, number: int) -> SheetLayout:
    tdef = grid.definition
    ncols = len(grid.columns) + 1
    # a report exhibit is numbered as the report numbers it ("Figur 10", "Tabel 4")
    numbered = re.fullmatch(r"(Figur|Tabel) \d+", tdef.id) is not None
    put(ws, 1, 1, f"{tdef.id}: {grid.title}" if numbered else f"Tabel {number} ({tdef.id}): {grid.title}",
        font=TITLE_FONT)
    back = put(ws, 2, 1, "← Tilbage til indhold", font=LINK_FONT)
    back.hyperlink = Hyperlink(ref="A2", location=f"'{CONTENTS}'!A1", display="← Tilbage til indhold")
    row = 4
    header_rows: list[int] = []
    has_groups = any(c.group for c in grid.columns)  # a frequency of several variables: one group each
    label_title = _label_column_title(grid)
    if has_groups:
        put(ws, row, 1, None)
        start = 0
        while start < len(grid.columns):
            group = grid.columns[start].group
            end = start
            while end + 1 < len(grid.columns) and grid.columns[end + 1].group == group:
                end += 1
            put(ws, row, start + 2, group)
            if end > start:
                ws.merge_cells(start_row=row, start_column=start + 2, end_row=row, end_column=end + 2)
            start = end + 1
        for col in range(1, ncols + 1):
            c = ws.cell(row=row, column=col)
            c.font, c.fill, c.border = BOLD, HEADER_FILL, BORDER
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        header_rows.append(row)
        row += 1
    put(ws, row, 1, label_title or "")
    for k, column in enumerate(grid.columns):
        put(ws, row, k + 2, column.label)
    for col in range(1, ncols + 1):
        c = ws.cell(row=row, column=col)
        c.font, c.fill, c.border = BOLD, HEADER_FILL, BORDER
        c.alignment = Alignment(horizontal="left" if col == 1 else "center", vertical="center", wrap_text=True)
    header_rows.append(row)
    if has_groups:
        ws.merge_cells(start_row=header_rows[0], start_column=1, end_row=row, end_column=1)
        put(ws, header_rows[0], 1, label_title or "")
    row += 1
    first_data = row
    current_block: object = object()
    use_block_rows = label_title is None
    for grow in grid.rows:
        if use_block_rows and grow.block != current_block and grow.block is not None and not grow.total:
            put(ws, row, 1, grow.block, font=BOLD)
            for col in range(1, ncols + 1):
                ws.cell(row=row, column=col).fill = BLOCK_FILL
                ws.cell(row=row, column=col).border = BORDER
            row += 1
        current_block = grow.block
        label = put(ws, row, 1, grow.label)
        label.border = BORDER
        label.alignment = Alignment(indent=0 if (grow.total or not use_block_rows) else 1, wrap_text=True)
        if grow.total:
            label.font = BOLD
        for k, value in enumerate(grow.values):
            kind = grow.kind(k, grid.columns)
            if grow.suppressed[k]:
                cell = put(ws, row, k + 2, SUPPRESSED)
            elif value is None:
                cell = put(ws, row, k + 2, None)
            elif kind in ("share", "reference"):  # as printed (a full-precision share gives counts away)
                cell = put(ws, row, k + 2, published_share(value), number_format=SHARE_FORMAT)
            elif kind == "mean":
                cell = put(ws, row, k + 2, published_mean(value), number_format=MEAN_FORMAT)
            else:
                cell = put(ws, row, k + 2, int(value), number_format=COUNT_FORMAT)
            cell.border = BORDER
            cell.alignment = Alignment(horizontal="right")
            if grow.highlight[k]:
                cell.fill = PINK
                cell.font = BOLD
            if grow.total:
                cell.font = BOLD
        row += 1
    last_data = row - 1
    row += 1
    note_row = row
    put(ws, row, 1, note_text(grid), font=NOTE_FONT, alignment=Alignment(wrap_text=False, vertical="top"))
    source_row = row + 1
    put(ws, source_row, 1, tdef.source, font=NOTE_FONT)

    # widths: the label column fits its longest label (capped), value columns their header;
    # header rows tall enough for the wrapped labels (bold headers: a little under one character per width unit)
    longest = max([len(str(r.label)) for r in grid.rows] + [len(label_title or ""), 12])
    ws.column_dimensions["A"].width = label_width = min(max(longest + 2, 18), 55)
    widths = [min(max(len(column.label) + 2, 9), 22) for column in grid.columns]
    for group in dict.fromkeys(c.group for c in grid.columns if c.group):  # a group heading's longest word fits
        members = [k for k, c in enumerate(grid.columns) if c.group == group]
        short = max(len(w) for w in str(group).split() or [""]) * 1.15 + 3 - sum(widths[k] for k in members)
        for k in members:
            widths[k] += max(short, 0) / len(members)
    for k, w in enumerate(widths):
        ws.column_dimensions[get_column_letter(k + 2)].width = w

    def lines(text: str | None, width: float) -> int:
        return max(1, -(-len(text or "") // max(int(width * 0.95) - 2, 1)))

    for r in range(first_data, last_data + 1):  # a wrapped row label gets the lines it needs (not bold: wider)
        text = ws.cell(row=r, column=1).value
        if isinstance(text, str) and (n_lines := lines(text, label_width * 1.2)) > 1:
            ws.row_dimensions[r].height = 15 * n_lines + 1
    label_row = header_rows[-1]
    need = max([lines(c.label, w) for c, w in zip(grid.columns, widths)] + [1])
    if not has_groups:
        need = max(need, lines(label_title, label_width))
    ws.row_dimensions[label_row].height = 15 * need + 3
    if has_groups:
        group_need = 1
        start = 0
        while start < len(grid.columns):
            end = start
            while end + 1 < len(grid.columns) and grid.columns[end + 1].group == grid.columns[start].group:
                end += 1
            group_need = max(group_need, lines(grid.columns[start].group, sum(widths[start:end + 1])))
            start = end + 1
        ws.row_dimensions[header_rows[0]].height = 15 * group_need + 3

    ws.freeze_panes = ws.cell(row=first_data, column=2)
    ws.print_title_rows = f"{header_rows[0]}:{header_rows[-1]}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3 if len(grid.columns) > 14 else ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    # A table with its note, source and chart prints on one page; only a very long table
    # (more rows than fit legibly) runs on over several pages, one page wide.
    ws.page_setup.fitToHeight = 1 if len(grid.rows) <= ONE_PAGE_ROWS else 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.oddFooter.center.text = "Side &P af &N"
    ws.oddHeader.left.text = f"{tdef.id}"

    layout = SheetLayout(ws.title, 1, tuple(header_rows), first_data, last_data, note_row, source_row,
                         block_rows=use_block_rows)
    if tdef.chart == "bar":
        layout.chart = add_bar_chart(ws, grid, layout)
    return layout


def add_bar_chart(ws: Worksheet, grid: Grid, layout: SheetLayout) -> bool:
    """A clustered bar chart over the share cells of the data rows (not the N rows)."""
    share_cols = grid.share_columns
    data_rows = [layout.first_data_row + i for i, r in enumerate(grid.rows) if not r.total]
    if not share_cols or not data_rows or data_rows != list(range(data_rows[0], data_rows[-1] + 1)):
        return False  # stacked blocks: no single contiguous range to chart
    header = layout.header_rows[-1]
    chart = BarChart()
    longest = max(len(str(grid.rows[r - layout.first_data_row].label)) for r in data_rows)
    # long or many category labels read better as horizontal bars, in the table's order top down
    horizontal = len(data_rows) > 6 or longest > 18
    chart.type = "bar" if horizontal else "col"
    if horizontal:
        chart.x_axis.scaling.orientation = "maxMin"
        chart.y_axis.crosses = "max"
    chart.grouping = "clustered"
    chart.style = 10
    chart.y_axis.numFmt = SHARE_FORMAT
    chart.y_axis.majorGridlines = None
    chart.y_axis.scaling.min = 0
    chart.y_axis.title = "Andel"
    chart.y_axis.delete = False
    chart.x_axis.delete = False
    chart.legend.position = "b"
    # share columns that print the same header ("Andel ja") each under its own group (an items table
    # by direction) are named by the group's heading, the first cell of its merged range
    by_group = len(share_cols) > 1 and len(layout.header_rows) > 1 and \
        len({grid.columns[k].label for k in share_cols}) == 1 and \
        len({grid.columns[k].group for k in share_cols}) == len(share_cols)
    for k in share_cols:
        col = k + 2
        data = Reference(ws, min_col=col, max_col=col, min_row=header, max_row=data_rows[-1])
        # the header cell of a share column names the series; rows between are skipped by the range
        if by_group:
            chart.add_data(Reference(ws, min_col=col, max_col=col, min_row=data_rows[0], max_row=data_rows[-1]),
                           titles_from_data=False)
            ref = f"{quote_sheetname(ws.title)}!${get_column_letter(col)}${layout.header_rows[0]}"
            chart.series[-1].tx = SeriesLabel(strRef=StrRef(ref))
        elif data_rows[0] != header + 1:
            data = Reference(ws, min_col=col, max_col=col, min_row=data_rows[0], max_row=data_rows[-1])
            chart.add_data(data, titles_from_data=False)
        else:
            chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, max_col=1, min_row=data_rows[0], max_row=data_rows[-1]))
    if len(share_cols) == 1:
        chart.legend = None
    reference = [k for k, c in enumerate(grid.columns) if c.kind == "reference"]
    if reference:  # a comparison: the all-cases share as a line across the bars, columns upright
        chart.type = "col"
        chart.x_axis.scaling.orientation = "minMax"
        chart.y_axis.crosses = "autoZero"
        line = LineChart()
        col = reference[0] + 2
        line.add_data(Reference(ws, min_col=col, max_col=col, min_row=header, max_row=data_rows[-1]),
                      titles_from_data=True)
        line.set_categories(Reference(ws, min_col=1, max_col=1, min_row=data_rows[0], max_row=data_rows[-1]))
        chart += line
        chart.legend = Legend()
        chart.legend.position = "b"
    chart.height = 7.5
    chart.width = 16
    ws.add_chart(chart, f"A{layout.source_row + 2}")
    return True


def write_contents(ws: Worksheet, entries: list[tuple[int, Grid, SheetLayout]], title: str, audit_name: str,
                   spec: AnnexSpec, suppressed: bool) -> None:
    put(ws, 1, 1, title, font=workbook.BIG_TITLE_FONT)
    put(ws, 2, 1, f"Revision: {audit_name}. Dannet {date.today().isoformat()}.", font=NOTE_FONT)
    put(ws, 3, 1, ("Andelene er andele af de gennemgåede sager (uvægtede), medmindre tabellens note "
                   "siger andet. " + ("Små celler er udeladt af diskretionshensyn (vist som \"x\")."
                                      if suppressed else
                                      "Uden diskretionsudeladelse: kun til intern brug.")), font=NOTE_FONT)
    headers = ("Tabel", "Ark", "Titel", "Sager (N)")
    for k, h in enumerate(headers, start=1):
        put(ws, 5, k, h, font=BOLD, fill=HEADER_FILL).border = BORDER
    for i, (number, grid, layout) in enumerate(entries):
        r = 6 + i
        put(ws, r, 1, f"Tabel {number}").border = BORDER
        link = put(ws, r, 2, layout.sheet, font=LINK_FONT)
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{layout.sheet}'!A1", display=layout.sheet)
        link.border = BORDER
        put(ws, r, 3, grid.title).border = BORDER
        put(ws, r, 4, grid.n_cases, number_format=COUNT_FORMAT).border = BORDER
    put(ws, 7 + len(entries), 1, spec.source, font=NOTE_FONT)
    ws.column_dimensions["A"].width = 10
    ws.column_dimensions["B"].width = 8
    ws.column_dimensions["C"].width = 90
    ws.column_dimensions["D"].width = 14
    ws.freeze_panes = "A6"
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    # the contents on one page while its rows fit legibly; a longer list runs on, one page wide
    ws.page_setup.fitToHeight = 1 if len(entries) <= ONE_PAGE_ROWS else 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


ANNEX_LANGUAGE = "da"  # the published report's language, whatever the language of the page or the CLI


def write_annex(frame: pd.DataFrame, spec: AnnexSpec, out: str | Path, *, instrument: Instrument | None = None,
                audit_name: str = "", suppress: bool = True,
                progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
                population: pd.DataFrame | None = None, protocol: str | Path | None = None,
                language: str | None = None, municipality_frame: pd.DataFrame | None = None) -> list[SheetLayout]:
    """Compute every table of `spec` from the case frame (and, for Table 12, the register
    population) and write the workbook. With `protocol`, the suppression protocol (every
    hidden count, its value and the attacker's interval: for the agency only, never to be
    published) is written to that separate workbook. The statistics room's notes (tests,
    suppression, weighting) are written in `language`, by default the report's: Danish."""
    with i18n.language(language or ANNEX_LANGUAGE):
        return _write_annex(frame, spec, out, instrument=instrument, audit_name=audit_name, suppress=suppress,
                            progress=progress, population=population, protocol=protocol,
                            municipality_frame=municipality_frame)


def _write_annex(frame: pd.DataFrame, spec: AnnexSpec, out: str | Path, *, instrument: Instrument | None,
                 audit_name: str, suppress: bool, progress: Callable[[Iterable[Any]], Iterable[Any]] | None,
                 population: pd.DataFrame | None, protocol: str | Path | None,
                 municipality_frame: pd.DataFrame | None = None) -> list[SheetLayout]:
    hidden: list[dict[str, Any]] = []
    grids = build_grids(frame, spec, instrument, suppress, population, protocol=hidden, progress=progress,
                        municipality_frame=municipality_frame)
    wb = Workbook()
    contents = wb.active
    contents.title = CONTENTS
    entries: list[tuple[int, Grid, SheetLayout]] = []
    for number, (tdef, grid) in enumerate(zip(spec.tables, grids), start=1):
        ws = wb.create_sheet(tdef.id)
        layout = write_table_sheet(ws, grid, number)
        entries.append((number, grid, layout))
    write_contents(contents, entries, "Bilag: tabeller fra sagsgennemgangen", audit_name, spec, suppress)
    wb.properties.title = f"Tabelbilag {audit_name}".strip()
    wb.properties.creator = "audit (sagsrevision)"
    wb.active = 0
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    if protocol is not None and suppress:
        from audit.exports.protocol import write_protocol

        write_protocol(hidden, protocol, audit_name=audit_name, threshold=spec.min_cell)
    return [e[2] for e in entries]
