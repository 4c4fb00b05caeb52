"""The admins' exports page: the audit's annex, raw data and codebook downloads, with
links to the per-municipality feedback workbooks (which belong to the hearing room,
/hearing/export/...). The downloads themselves are in `audit.web.exports.api`."""
from __future__ import annotations

import json

from fastapi import APIRouter, Request

from audit.audits import all_audits
from audit.web.deps import DB, allowed, render

router = APIRouter(include_in_schema=False)
Exporter = allowed("export.all")

DOWNLOADS = (
    ("annex.xlsx", "Tabelbilag (Excel)", "Indholdsfortegnelse og ét ark pr. tabel med N, kilde og diagrammer; "
                                         "små celler udeladt."),
    ("data.xlsx", "Rådata (Excel)", "Én række pr. sag, én kolonne pr. variabel, ark med kodebog."),
    ("data.csv", "Rådata (CSV)", "UTF-8 med BOM, semikolon og decimalkomma (dansk Excel)."),
    ("data.sav", "Rådata (SPSS)", "Variabel- og værdilabels."),
    ("codebook.csv", "Kodebog (CSV)", "Variabel, label, type, værdier, relevans."),
)
KINDS = {k for k, _, _ in DOWNLOADS}


@router.get("/exports")
def exports_page(request: Request, user: Exporter, db: DB):  # type: ignore[no-untyped-def]
    rows = [{"audit": a, "municipalities": json.loads(a.municipalities_json or "[]")} for a in all_audits(db)]
    return render(request, "exports/index.html", {"rows": rows, "downloads": DOWNLOADS}, user=user)
