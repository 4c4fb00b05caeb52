"""Downloads of the annex, raw data and codebook for admins (`export.all`).

Thin: ask `permissions`, let `audit.exports.service` produce the file, stream it: the
raw CSV as it is written, XLSX/SPSS once written chunk by chunk to a temporary file. The per-municipality feedback workbooks belong to the hearing
room (/hearing/export/...); this page only links to them.
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from sqlmodel import select

from audit.exports.definitions import DefinitionError
from audit.exports.service import codebook_bytes, media_type, raw_file, small_download, stream_raw_csv
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
    audit = db.get(Audit, audit_id)
    filename = f"{_slug(audit.name)}_{kind}"
    headers = {"Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"}
    if not audit.instrument_json:
        raise HTTPException(status_code=409, detail="the audit is not bound to an instrument")
    engine = db.get_bind()
    if kind == "codebook.csv":
        return Response(codebook_bytes(audit), media_type=media_type(kind), headers=headers)
    try:
        body = small_download(engine, audit_id, kind)  # a small audit's file, kept per data version
    except DefinitionError as exc:
        raise HTTPException(status_code=500, detail=str(exc)) from exc
    except RuntimeError as exc:  # e.g. SPSS without pyreadstat
        raise HTTPException(status_code=501, detail=str(exc)) from exc
    if body is not None:
        return Response(body, media_type=media_type(kind), headers=headers)
    if kind == "data.csv":  # streamed as it is written, chunk by chunk of cases
        return StreamingResponse(stream_raw_csv(engine, audit_id), media_type=media_type(kind), headers=headers)
    # data.xlsx / data.sav: written chunk by chunk to a temporary file, then streamed
    tmp = Path(tempfile.mkdtemp(prefix="audit-export-"))
    try:
        path = raw_file(engine, audit_id, kind, tmp)
    except RuntimeError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise HTTPException(status_code=501, detail=str(exc)) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return StreamingResponse(_file_chunks(path, tmp), media_type=media_type(kind), headers=headers)


def _file_chunks(path: Path, folder: Path, size: int = 1 << 20) -> Iterator[bytes]:
    try:
        with path.open("rb") as fh:
            while block := fh.read(size):
                yield block
    finally:
        shutil.rmtree(folder, ignore_errors=True)
