"""The suppression protocol of an annex: every count the annex hides, its true value, why
it is hidden and the interval an attacker can narrow it to from everything the annex
prints (audit.statistics.disclosure).

It is a separate workbook, never a sheet of the annex: the annex is published as it is,
and a sheet holding the hidden values would leave with it the first time someone forgets
to delete it. The protocol is for the agency's own records and its discretion review."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from audit.workbook import BIG_TITLE_FONT, BOLD, HEADER_FILL, KEY_FILL, NOTE_FONT, put

HEADERS = ("Tabel", "Titel", "Udeladt tal", "Værdi", "Grund", "Angriberens interval fra", "til", "Bredde",
           "Krævet bredde")
REASONS = {"primær": "primær: færre end grænsen",
           "sekundær": "sekundær: ville kunne udledes af totalerne",
           "revision": "revision: angriberens interval var for snævert",
           "tabel": "tabel: hele tabellen udeladt, da tallet ellers kunne udledes gennem andre tabeller"}


def write_protocol(rows: Iterable[Mapping[str, Any]], out: str | Path, *, audit_name: str = "",
                   threshold: int = 3) -> Path:
    rows = list(rows)
    wb = Workbook()
    ws = wb.active
    ws.title = "Diskretionsprotokol"
    put(ws, 1, 1, "Diskretionsprotokol: KUN TIL STYRELSENS INTERNE BRUG, MÅ IKKE OFFENTLIGGØRES",
        font=BIG_TITLE_FONT, fill=KEY_FILL)
    put(ws, 2, 1, f"Revision: {audit_name}. Dannet {date.today().isoformat()}. Tabelbilaget selv indeholder "
                  "ingen af disse værdier.", font=NOTE_FONT)
    put(ws, 3, 1, (f"Metode: tal under {threshold} sager er udeladt (primært), dernæst tal, der ville kunne udledes "
                   "af totalerne (sekundært). For hvert udeladt tal er det mindste og største værdi, der er "
                   "forenelig med alt, hvad bilaget offentliggør (alle tabeller, der tæller de samme sager), "
                   "fundet ved lineær programmering (HiGHS); er intervallet smallere end den krævede bredde, "
                   "udelades endnu et tal, og kan intet nabotal udelades, resten af tabellen. Et uendeligt "
                   "interval vises som tomt 'til'."), font=NOTE_FONT)
    for k, h in enumerate(HEADERS, start=1):
        put(ws, 5, k, h, font=BOLD, fill=HEADER_FILL)
    for i, r in enumerate(rows, start=6):
        high = r["high"]
        values = (r["table"], r["title"], r["figure"], r["value"], REASONS.get(r["reason"], r["reason"]),
                  round(float(r["low"]), 6), None if math.isinf(high) else round(float(high), 6),
                  None if math.isinf(r["width"]) else round(float(r["width"]), 6), r["protection"])
        for k, v in enumerate(values, start=1):
            put(ws, i, k, v)
    for col, width in zip("ABCDEFGHI", (9, 50, 50, 8, 42, 12, 10, 10, 12)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A6"
    wb.properties.title = f"Diskretionsprotokol {audit_name}".strip()
    wb.properties.creator = "audit (sagsrevision)"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
