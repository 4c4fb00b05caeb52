"""The figure book: every figure of a report definition as PNG and SVG, in one zip.

Lays out grids that `audit.exports.compute.build_grids` made (the same grids, suppression and
numbers as the report workbook) as horizontal bar charts with matplotlib (Agg backend, no
display); it never computes a share. Each image carries the report's number and title
("Figur 8: ..."), the annex's note (`audit.exports.annex.note_text`: "Anm.: N=...") and the
source line, and is sized for print: 16 cm wide (an A4 text column), PNG at 200 dpi, no text
under 8 pt at that size.

Per grid: frequency = one bar per row; crosstab and breakdown = grouped bars per row, one per
share column, with a legend of the column labels (more columns than colours, e.g. one per
municipality: each bar names its column instead); indicators = bars of the means (or of the
shares when the table has no mean); N rows are left out; a suppressed cell gets no bar and an
"x"; an empty grid (no columns) prints the title, note and source only. Each bar has the SVG id
`bar|<row key>|<column key>` (row key: the code, or `variable:code` when several row variables
are stacked), each "x" `x|<row key>|<column key>`.

Text from definitions and data is never executable in the SVG: text is written as SVG text
(`svg.fonttype: none`), which matplotlib XML-escapes, and never parsed as mathtext
(`parse_math=False`), so a `$` in a title stays a dollar.
"""
from __future__ import annotations

import io
import math
import re
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import matplotlib

matplotlib.use("Agg")  # no display, ever (a server and a CLI)

from matplotlib import rc_context  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

from audit.exports.annex import note_text  # noqa: E402
from audit.exports.compute import Grid, GridRow  # noqa: E402
from audit.exports.statsbridge import SUPPRESSED  # noqa: E402
from audit.statistics.suppression import published_mean, published_share  # noqa: E402

CM = 1 / 2.54
DPI = 200              # PNG resolution
WIDTH_IN = 1260 / DPI  # 16.0 cm (an A4 text column): 1,260 whole pixels, never a pixel short of 16 cm
TITLE_PT = 10.5
TEXT_PT = 8.5          # row labels, legend, bar values
NOTE_PT = 8            # note and source: the smallest text on the image
BAR_IN = 0.16          # one bar (holds an 8.5 pt value label)
GAP_IN = 0.10          # between rows
LEFT = 0.36            # fraction of the width for the row labels
RIGHT = 0.97
# characters per line at these sizes (DejaVu Sans, conservatively)
TITLE_CHARS = 72
NOTE_CHARS = 100
LABEL_CHARS = 31
LEGEND_CHARS = 28
COLOURS = ("#1f4e79", "#c0504d", "#9bbb59", "#8064a2", "#4bacc6", "#f79646", "#7f7f7f", "#2c7f6f",
           "#d4a017", "#a05195")

RC = {"svg.fonttype": "none", "svg.hashsalt": "audit-figures", "text.parse_math": False,
      # the PNG is drawn in DejaVu Sans (matplotlib's own); an SVG viewer without it falls back to Arial
      "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"], "font.size": TEXT_PT, "axes.linewidth": 0.6,
      "xtick.labelsize": NOTE_PT, "xtick.major.width": 0.6}


def is_figure(table_id: str) -> bool:
    """A report figure: an id "Figur N" (the report's numbering)."""
    return table_id.startswith("Figur")


def file_stem(table_id: str) -> str:
    """The zip member name of a figure: its id, "Figur 8" (slashes and the like never reach a path)."""
    return re.sub(r"[^\w .-]", "_", table_id).strip() or "figur"


def source_line(source: str) -> str:
    return source if source.lstrip().lower().startswith("kilde") else f"Kilde: {source}"


@dataclass
class Bar:
    row: int            # index of the drawing row (top down)
    series: int         # index among the plotted columns
    gid: str
    value: float | None  # the published value (None: no bar)
    label: str           # printed at the bar end ("43 %", "4,2", "x")
    suppressed: bool


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(str(text), width=width, break_long_words=True, break_on_hyphens=False) or [""]


def _plotted_columns(grid: Grid) -> tuple[list[int], str]:
    """The columns drawn as bars and their kind ('share' or 'mean')."""
    if grid.definition.kind == "means":  # the mean (the interval and the median stay in the workbook)
        return [k for k, c in enumerate(grid.columns) if c.key == "mean"], "mean"
    if grid.definition.kind == "indicators":
        means = [k for k, c in enumerate(grid.columns) if c.kind == "mean"]
        if means:
            return means, "mean"
    return grid.share_columns, "share"


def _drawn_rows(grid: Grid, columns: list[int]) -> list[GridRow]:
    """The data rows: N rows left out (an indicators table's 'I alt' row is the all-cases
    figure, not an N, and stays), and rows with nothing to draw (a municipality without
    cases: every plotted cell empty, none hidden)."""
    keep_total = grid.definition.kind in ("indicators", "means") or grid.definition.total  # `total: true`: all cases
    return [r for r in grid.rows if (not r.total or (keep_total and r.key != "N"))
            and any(r.values[k] is not None or r.suppressed[k] for k in columns)]


def _row_keys(grid: Grid, rows: Sequence[GridRow]) -> list[str]:
    """A row's key in the bar ids: its code; `variable:code` when row variables are stacked
    (the blocks follow the definition's row variables in order)."""
    variables = list(grid.definition.rows)
    blocks = list(dict.fromkeys(r.block for r in grid.rows if not r.total))
    if len(variables) <= 1 or len(blocks) != len(variables):
        return [r.key for r in rows]
    var_of = dict(zip(blocks, variables))
    return [f"{var_of.get(r.block, '')}:{r.key}" if r.block in var_of else r.key for r in rows]


def value_label(value: float, kind: str) -> str:
    if kind == "share":
        return f"{round(value * 100):d} %"
    return f"{value:.1f}".replace(".", ",")


def _bars(grid: Grid, rows: Sequence[GridRow], columns: list[int], kind: str) -> list[Bar]:
    out: list[Bar] = []
    for i, (row, key) in enumerate(zip(rows, _row_keys(grid, rows))):
        for s, k in enumerate(columns):
            gid = f"{key}|{grid.columns[k].key}"
            if row.suppressed[k]:
                out.append(Bar(i, s, "x|" + gid, None, SUPPRESSED, True))
                continue
            v = row.values[k]
            if v is None:
                continue
            # the value as the report prints it: a full-precision share would give counts away
            pub = published_share(v) if kind == "share" else published_mean(v)
            out.append(Bar(i, s, "bar|" + gid, float(pub), value_label(float(pub), kind), False))
    return out


def render_figure(grid: Grid) -> Figure:
    """One grid as a matplotlib figure, 16 cm wide, its height following its content."""
    tdef = grid.definition
    title = [*_wrap(f"{tdef.id}: {grid.title}", TITLE_CHARS)]
    note = _wrap(note_text(grid), NOTE_CHARS)
    source = _wrap(source_line(tdef.source), NOTE_CHARS)
    columns, kind = _plotted_columns(grid)
    rows = _drawn_rows(grid, columns) if columns else []
    series = len(columns)
    stacked = len({r.block for r in rows if not r.total}) > 1
    # more columns than colours (a municipality per column): each bar names its column instead of a legend
    named = series > len(COLOURS)
    # drawing rows: block headings (stacked row variables) and data rows, top down, in inches
    lines: list[tuple[str, GridRow | None]] = []
    current: object = object()
    for r in rows:
        if stacked and r.block != current and r.block:
            lines.append(("heading", r))
        current = r.block
        lines.append(("row", r))
    label_h = TEXT_PT * 1.25 / 72
    heights = []
    for what, r in lines:
        n_lines = len(_wrap(r.block if what == "heading" else r.label, LABEL_CHARS))  # type: ignore[union-attr]
        if what == "heading":
            heights.append(n_lines * label_h + GAP_IN)
        else:
            heights.append(max(series * BAR_IN, n_lines * label_h) + GAP_IN)
    axes_h = sum(heights)
    legend_labels = [_wrap(grid.columns[k].label, LEGEND_CHARS) for k in columns] if 1 < series and not named else []
    legend_cols = 3 if series > 4 else max(series, 1)
    legend_rows = math.ceil(len(legend_labels) / legend_cols) if legend_labels else 0
    legend_line_h = max((len(lab) for lab in legend_labels), default=1) * label_h + 0.06
    title_h = len(title) * TITLE_PT * 1.3 / 72
    note_h = (len(note) + len(source)) * NOTE_PT * 1.35 / 72
    top, gap, bottom = 0.15, 0.14, 0.12
    axis_h = 0.30 if rows else 0.0
    legend_h = legend_rows * legend_line_h + (0.1 if legend_rows else 0.0)
    height = top + title_h + gap + axes_h + axis_h + legend_h + (gap if rows else 0) + note_h + bottom

    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    y = 1 - top / height
    fig.text(0.03, y, "\n".join(title), fontsize=TITLE_PT, fontweight="bold", va="top", ha="left",
             parse_math=False, linespacing=1.2)
    y -= (title_h + gap) / height
    if rows:
        ax = fig.add_axes((LEFT, y - axes_h / height, RIGHT - LEFT, axes_h / height))
        _draw_axes(fig, ax, grid, lines, heights, columns, kind, rows, named)
        y -= (axes_h + axis_h) / height
        if legend_labels:
            handles = [Patch(color=COLOURS[s % len(COLOURS)]) for s in range(series)]
            legend = fig.legend(handles, ["\n".join(lab) for lab in legend_labels], loc="upper left",
                                bbox_to_anchor=(0.03, y), ncol=legend_cols, frameon=False, fontsize=TEXT_PT,
                                handlelength=1.2, columnspacing=1.2, borderaxespad=0, borderpad=0)
            for t in legend.get_texts():
                t.set_parse_math(False)
            y -= legend_h / height
        y -= gap / height
    fig.text(0.03, y, "\n".join(note + source), fontsize=NOTE_PT, va="top", ha="left", parse_math=False,
             linespacing=1.25, gid="note")
    return fig


def _draw_axes(fig: Figure, ax: Any, grid: Grid, lines: list[tuple[str, GridRow | None]], heights: list[float],
               columns: list[int], kind: str, rows: list[GridRow], named: bool = False) -> None:
    series = len(columns)
    # where each data row's group of bars starts (inches from the top of the axes)
    tops: dict[int, float] = {}
    label_at: list[tuple[float, str, bool]] = []
    y0 = 0.0
    data_index = 0
    for (what, r), h in zip(lines, heights):
        text = r.block if what == "heading" else r.label  # type: ignore[union-attr]
        label_at.append((y0 + (h - GAP_IN) / 2 + GAP_IN / 2, "\n".join(_wrap(text, LABEL_CHARS)), what == "heading"))
        if what == "row":
            tops[data_index] = y0 + (h - series * BAR_IN) / 2
            data_index += 1
        y0 += h
    bars = _bars(grid, rows, columns, kind)
    values = [b.value for b in bars if b.value is not None]
    if kind == "share":
        limit = 1.0
    else:
        limit = max(values, default=1.0) or 1.0
    right = limit * 1.12
    ax.set_xlim(0, right)
    axes_pt = (RIGHT - LEFT) * WIDTH_IN * 72
    ax.set_ylim(y0, 0)
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if kind == "share":
        ticks = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
        ax.set_xticks(ticks, labels=[f"{round(t * 100)} %" for t in ticks])
    ax.xaxis.grid(True, color="#d9d9d9", linewidth=0.5)
    ax.set_axisbelow(True)
    pad = limit * 0.012
    for b in bars:
        yc = tops[b.row] + (b.series + 0.5) * BAR_IN
        if b.value is not None:
            patch = ax.barh(yc, b.value, height=BAR_IN * 0.9,
                            color=COLOURS[b.series % 2 if named else b.series % len(COLOURS)], linewidth=0)[0]
            patch.set_gid(b.gid)
        label = f"{grid.columns[columns[b.series]].label}: {b.label}" if named else b.label
        x, ha, colour = (b.value or 0.0) + pad, "left", "black"
        # a label that would run past the right edge goes inside its bar's end, in white
        width = len(label) * TEXT_PT * 0.62 / axes_pt * right
        if b.value is not None and x + width > right * 1.04 and b.value - pad > width:
            x, ha, colour = b.value - pad, "right", "white"
        ax.text(x, yc, label, va="center", ha=ha, color=colour, fontsize=TEXT_PT, parse_math=False,
                gid=b.gid if b.suppressed else None)
    # a comparison's all-cases share: one line across the bars, named at its foot
    reference = [k for k, c in enumerate(grid.columns) if c.kind == "reference"]
    ref = next((r.values[reference[0]] for r in rows if reference and r.values[reference[0]] is not None
                and not r.suppressed[reference[0]]), None)
    if ref is not None and kind == "share":
        at = float(published_share(ref))
        ax.axvline(at, color="#c00000", linewidth=1.0, gid="reference")
        ax.text(at, 0, f"{grid.columns[reference[0]].label}: {value_label(at, 'share')}", va="bottom",
                ha="center", color="#c00000", fontsize=TEXT_PT, parse_math=False, clip_on=False)
    trans = blended_transform_factory(ax.transAxes, ax.transData)
    for yc, text, heading in label_at:
        ax.text(-0.015, yc, text, transform=trans, ha="right", va="center", fontsize=TEXT_PT,
                fontweight="bold" if heading else "normal", parse_math=False, linespacing=1.1)


def figure_files(grid: Grid) -> tuple[bytes, bytes]:
    """(PNG, SVG) of one grid."""
    with rc_context(RC):
        fig = render_figure(grid)
        png, svg = io.BytesIO(), io.BytesIO()
        fig.savefig(png, format="png", dpi=DPI, metadata={"Software": None})
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return png.getvalue(), svg.getvalue()


def write_figures(grids: Iterable[Grid], out: str | Path | None = None,
                  progress: Callable[[Iterable[Grid]], Iterable[Grid]] | None = None) -> bytes:
    """The figure book: `<id>.png` and `<id>.svg` of every grid whose id is a figure, in the
    given order, zipped; written to `out` when given. Returns the zip's bytes."""
    buf = io.BytesIO()
    chosen = [g for g in grids if is_figure(g.definition.id)]
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for grid in (progress(chosen) if progress else chosen):
            png, svg = figure_files(grid)
            stem = file_stem(grid.definition.id)
            for name, body in ((f"{stem}.png", png), (f"{stem}.svg", svg)):
                # a fixed date: the same figures make the same zip, byte for byte
                zf.writestr(zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0)), body,
                            compress_type=zipfile.ZIP_DEFLATED)
    body = buf.getvalue()
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(body)
    return body
