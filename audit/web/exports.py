"""Downloads of the annex, raw data and codebook for admins (`export.all`).

Thin: ask `permissions`, load the audit's data through `audit.exports.service`,
stream the bytes. The per-municipality feedback workbooks belong to the hearing
room (/hearing/export/...); this page only links to them.
"""
from __future__ import annotations

import json
import re
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import select

from audit.exports.definitions import DefinitionError
from audit.exports.service import load_audit_data, render_bytes
from audit.models import Audit
from audit.permissions import require
from audit.web.deps import DB, CurrentUser, render

router = APIRouter()

DOWNLOADS = (
    ("annex.xlsx", "Tabelbilag (Excel)", "Indholdsfortegnelse og ét ark pr. tabel med N, kilde og diagrammer; "
                                         "små celler udeladt."),
    ("data.xlsx", "Rådata (Excel)", "Én række pr. sag, én kolonne pr. variabel, ark med kodebog."),
    ("data.csv", "Rådata (CSV)", "UTF-8 med BOM, semikolon og decimalkomma (dansk Excel)."),
    ("data.sav", "Rådata (SPSS)", "Variabel- og værdilabels."),
    ("codebook.csv", "Kodebog (CSV)", "Variabel, label, type, værdier, relevans."),
)
KINDS = {k for k, _, _ in DOWNLOADS}


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower() or "audit"


@router.get("/exports", include_in_schema=False)
def exports_page(request: Request, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    require(user, "export.all")
    audits = db.exec(select(Audit).order_by(Audit.created_at.desc())).all()
    rows = [{"audit": a, "municipalities": json.loads(a.municipalities_json or "[]")} for a in audits]
    return render(request, "exports/index.html", {"rows": rows, "downloads": DOWNLOADS}, user=user)


@router.get("/exports/{audit_id}/{kind}", summary="Download an export of an audit (admins)")
def download(audit_id: int, kind: str, user: CurrentUser, db: DB) -> Response:
    require(user, "export.all")
    if kind not in KINDS:
        raise HTTPException(status_code=404, detail="not found")
    if db.get(Audit, audit_id) is None:
        raise HTTPException(status_code=404, detail="not found")
    data = load_audit_data(db, audit_id, with_population=kind == "annex.xlsx", actor=user, purpose=kind)
    try:
        body, media = render_bytes(kind, data)
    except DefinitionError as exc:
        raise HTTPException(status_code=500, detail=str(exc)) from exc
    except RuntimeError as exc:  # e.g. SPSS without pyreadstat
        raise HTTPException(status_code=501, detail=str(exc)) from exc
    filename = f"{_slug(data.name)}_{kind}"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"})
