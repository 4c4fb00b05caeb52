"""The codebook workbook: what auditors and analysts read instead of the YAML.

One row per item (theme, code, labels, type, choices, relevance in words,
required, level) and a second sheet with every choice list, so an exported data
set can be read without the questionnaire file.
"""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from audit import workbook
from audit.instrument import expressions as ex
from audit.instrument.model import Instrument, Item

ITEM_COLUMNS = [
    ("Tema / Theme", 8), ("Kode / Code", 30), ("Spørgsmål (da)", 60), ("Question (en)", 60),
    ("Type", 22), ("Svarkategorier / Choices", 45), ("Relevans (da)", 45), ("Relevance (en)", 45),
    ("Betingelse / Constraint", 30), ("Beregning / Calculation", 45), ("Påkrævet / Required", 12),
    ("Niveau / Level", 14), ("Vejledning / Guidance (da)", 60), ("Guidance (en)", 60),
]
CHOICE_COLUMNS = [("Liste / List", 24), ("Kode / Code", 24), ("Dansk", 50), ("English", 50)]


def type_label(item: Item) -> str:
    if item.type in ("select_one", "select_multiple"):
        return f"{item.type} {item.list_name}"
    if item.type == "scale":
        return "scale (1-5)"
    return item.type


def relevance_words(item: Item, lang: str) -> str:
    """'always' / 'altid' or 'only if ...' rendered from the relevance AST."""
    if item.relevant_ast is None:
        return "altid" if lang == "da" else "always"
    prefix = "kun hvis" if lang == "da" else "only if"
    return f"{prefix} {ex.to_words(item.relevant_ast, lang)}"


def item_row(item: Item) -> list[object]:
    choices = "; ".join(f"{c.code} = {c.label_da}" for c in item.choices or ())
    return [
        item.theme, item.name, item.label_da, item.label_en, type_label(item), choices,
        relevance_words(item, "da"), relevance_words(item, "en"),
        ex.to_words(item.constraint_ast, "en") if item.constraint_ast is not None else "",
        ex.to_words(item.calculation_ast, "en") if item.calculation_ast is not None else "",
        "ja" if item.required else "nej", item.level, item.hint_da or "", item.hint_en or "",
    ]


HEADER_ALIGNMENT = Alignment(vertical="top", wrap_text=True)


def _rows(ws, rows: list[list[object]], first: int = 1) -> None:  # type: ignore[no-untyped-def]
    """Rows by the house text rule: labels and guidance are text, never formulas."""
    for r, row in enumerate(rows, start=first):
        for k, value in enumerate(row, start=1):
            workbook.put(ws, r, k, value)


def _sheet(ws, columns: list[tuple[str, int]], rows: list[list[object]]) -> None:  # type: ignore[no-untyped-def]
    for k, (title, _) in enumerate(columns, start=1):
        workbook.put(ws, 1, k, title, font=workbook.BOLD, fill=workbook.HEADER_FILL, alignment=HEADER_ALIGNMENT)
    _rows(ws, rows, first=2)
    for index, (_, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(rows) + 1)}"


def write_codebook(instrument: Instrument, path: str | Path) -> Path:
    """Write the codebook workbook and return its path."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Items"
    _sheet(ws, ITEM_COLUMNS, [item_row(i) for i in instrument.items])
    lists = wb.create_sheet("Choices")
    rows = [[name, c.code, c.label_da, c.label_en]
            for name, choices in instrument.choices.items() for c in choices]
    _sheet(lists, CHOICE_COLUMNS, rows)
    about = wb.create_sheet("About")
    counts = instrument.counts_per_theme()
    _rows(about, [["Instrument", instrument.id], ["Titel / Title", instrument.title], ["Version", instrument.version],
                  ["Vurderingspunkter / Assessment items", len(instrument.assessment_items)]]
          + [[f"Tema {number}", da, en, counts.get(number, 0)] for number, da, en in instrument.themes])
    about.column_dimensions["A"].width = 34
    about.column_dimensions["B"].width = 60
    about.column_dimensions["C"].width = 60
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
