"""The bar chart beside a crosstab: the geometry is computed here (numbers only), the
SVG is written by the template `statistics/_chart.html`, so every label (a variable's
category can be free text someone typed) goes through the template engine's escaping."""
from __future__ import annotations

from dataclasses import dataclass, field

from audit.labels import Vocabulary
from audit.statistics.tables import Table

COLORS = ("#1f5f8b", "#c0504d", "#9bbb59", "#8064a2", "#4bacc6", "#f79646")
BAR_H, GAP, LABEL_W, WIDTH = 12, 10, 180, 640
LABEL_CHARS = 28


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str          # "column: 40%", the tooltip
    value: Text         # the share printed after the bar


@dataclass(frozen=True)
class Key:
    x: float
    y: float
    color: str
    label: Text


@dataclass
class Chart:
    title: str
    width: int
    height: int
    labels: list[Text] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    legend: list[Key] = field(default_factory=list)


def bar_chart(table: Table, vocab: Vocabulary | None = None, lang: str = "da", title: str | None = None
              ) -> Chart | None:
    """A small grouped bar chart of a crosstab's shares: one group per row, one bar per
    column; suppressed (NaN) cells have no bar. None when there is nothing to draw. With a
    vocabulary, rows and columns are named by their labels in `lang`, not their codes."""
    perc = table.percents
    if perc is None or perc.empty:
        return None
    rows, cols = list(perc.index), list(perc.columns)
    if vocab is not None:
        perc = perc.copy()
        perc.index = [vocab.label(table.row_var, r, lang) for r in rows]
        perc.columns = [vocab.label(table.col_var, c, lang) for c in cols]
        rows, cols = list(perc.index), list(perc.columns)
    height = len(rows) * (len(cols) * BAR_H + GAP) + 30
    chart = Chart(title=title or str(table.title), width=WIDTH, height=height)
    y = 5.0
    for r in rows:
        chart.labels.append(Text(0, y + len(cols) * BAR_H / 2 + 4, str(r)[:LABEL_CHARS]))
        for i, c in enumerate(cols):
            v = perc.at[r, c]
            if v is not None and v == v:  # not NaN / suppressed
                w = round((WIDTH - LABEL_W - 60) * float(v) / 100, 1)
                chart.bars.append(Bar(LABEL_W, y, w, BAR_H - 2, COLORS[i % len(COLORS)], f"{c}: {float(v):.0f}%",
                                      Text(round(LABEL_W + w + 4, 1), y + BAR_H - 3, f"{float(v):.0f}%")))
            y += BAR_H
        y += GAP
    x = float(LABEL_W)
    for i, c in enumerate(cols):
        chart.legend.append(Key(x, y + 5, COLORS[i % len(COLORS)], Text(x + 14, y + 14, str(c))))
        x += 14 + 8 * len(str(c)) + 16
    return chart
