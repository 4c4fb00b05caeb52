"""Downloads of the annex, raw data and codebook for admins (`export.all`).

Thin: ask `permissions`, load the audit's data through `audit.exports.service`,
answer the bytes (never stored by a browser: Cache-Control no-store)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import Response

from audit.i18n import _
from audit.exports.definitions import DefinitionError
from audit.exports.service import load_audit_data, render_bytes
from audit.web.deps import DB, AuditInPath, allowed
from audit.web.downloads import CSV, XLSX, download, file_responses, slug
from audit.web.exports.pages import KINDS
from audit.web.schemas import READ, errors

router = APIRouter(tags=["exports"])
Exporter = allowed("export.all")
# documented as a list of values; any other answers 404 (like any address that does not exist)
Kind = Annotated[str, Path(description="Which file", json_schema_extra={"enum": sorted(KINDS)})]


@router.get("/exports/{audit_id}/{kind}", summary="Download an export of an audit (admins)",
            response_class=Response,
            responses={**file_responses(XLSX, CSV, "application/x-spss-sav"), **errors(*READ, 409, 422),
                       501: {"description": "The format needs a package that is not installed"}})
def download_export(user: Exporter, audit: AuditInPath, kind: Kind, db: DB) -> Response:
    if kind not in KINDS:
        raise HTTPException(status_code=404, detail=_("not found"))
    try:
        data = load_audit_data(db, audit.name, with_population=kind == "annex.xlsx", actor=user, purpose=kind)
    except ValueError as exc:  # no instrument bound yet
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    try:
        body, media = render_bytes(kind, data)
    except DefinitionError as exc:
        raise HTTPException(status_code=500, detail=str(exc)) from exc
    except RuntimeError as exc:  # e.g. SPSS without pyreadstat
        raise HTTPException(status_code=501, detail=str(exc)) from exc
    return download(body, media, f"{slug(data.name)}_{kind}")
