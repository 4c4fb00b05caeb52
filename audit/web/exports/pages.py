"""The admins' exports page: the audit's annex, raw data and codebook downloads, with
links to the per-municipality feedback workbooks (which belong to the hearing room,
/hearing/export/...). The downloads themselves are in `audit.web.exports.api`."""
from __future__ import annotations

import json

from fastapi import APIRouter, Request

from audit.audits import all_audits
from audit.i18n import lazy_gettext as _l
from audit.web.deps import DB, allowed, render

router = APIRouter(include_in_schema=False)
Exporter = allowed("export.all")

DOWNLOADS = (
    ("annex.xlsx", _l("Table annex (Excel)"), _l("Table of contents and one sheet per table with N, source and charts; "
                                                 "small cells suppressed.")),
    ("report.xlsx", _l("The report's exhibits (Excel)"),
     _l("Every exhibit of the report that the data can hold, numbered as in the report (Figur N, Tabel N), "
        "one sheet each with N, note and source; small cells suppressed across the whole workbook.")),
    ("figures.zip", _l("Figure book (PNG and SVG)"),
     _l("Every figure of the report, numbered and titled as in the report, with N and source on the image; "
        "16 cm wide for print; small cells suppressed.")),
    ("data.xlsx", _l("Raw data (Excel)"), _l("One row per case, one column per variable, a sheet with the codebook.")),
    ("data.csv", _l("Raw data (CSV)"), _l("UTF-8 with BOM, semicolons and decimal commas (Danish Excel).")),
    ("data.sav", _l("Raw data (SPSS)"), _l("Variable and value labels.")),
    ("codebook.csv", _l("Codebook (CSV)"), _l("Variable, label, type, values, relevance.")),
)
KINDS = {k for k, _, _ in DOWNLOADS}


@router.get("/exports")
def exports_page(request: Request, user: Exporter, db: DB):  # type: ignore[no-untyped-def]
    rows = [{"audit": a, "municipalities": json.loads(a.municipalities_json or "[]")} for a in all_audits(db)]
    return render(request, "exports/index.html", {"rows": rows, "downloads": DOWNLOADS}, user=user)
