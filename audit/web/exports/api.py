"""Downloads of the annex, the figure book, raw data and codebook for admins (`export.all`).

Thin: ask `permissions`, let `audit.exports.service` produce the file (and log its use for
the user), answer it (never stored by a browser: Cache-Control no-store): a small audit's
file whole (kept per data version), a larger audit's raw CSV streamed as it is written and
its XLSX/SPSS once written chunk by chunk to a temporary file."""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import Response, StreamingResponse

from audit.i18n import _
from audit.audits import NoInstrument, instrument_for
from audit.exports.definitions import DefinitionError
from audit.exports import jobs
from audit.exports.service import (WHOLE_KINDS, codebook_bytes, media_type, raw_file, record_export, small_download,
                                   stream_raw_csv)
from audit.web.deps import DB, AuditInPath, allowed, checked_id
from audit.web.downloads import CSV, XLSX, attachment_headers, download, file_responses, slug
from audit.web.exports.pages import KINDS
from audit.web.schemas import READ, errors

router = APIRouter(tags=["exports"])
Exporter = allowed("export.all")
# documented as a list of values; any other answers 404 (like any address that does not exist)
Kind = Annotated[str, Path(description="Which file", json_schema_extra={"enum": sorted(KINDS)})]


@router.get("/exports/{audit_id}/{kind}", summary="Download an export of an audit (admins)",
            response_class=Response,
            responses={**file_responses(XLSX, CSV, "application/x-spss-sav", "application/zip"), **errors(*READ, 409, 422),
                       501: {"description": "The format needs a package that is not installed"}})
def download_export(user: Exporter, audit: AuditInPath, kind: Kind, db: DB) -> Response:
    if kind not in KINDS:
        raise HTTPException(status_code=404, detail=_("not found"))
    try:
        instrument_for(audit)
    except (NoInstrument, ValueError) as exc:  # no instrument bound yet
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    filename = f"{slug(audit.name)}_{kind}"
    media = media_type(kind)
    if kind == "codebook.csv":  # variables only, no personal data
        return download(codebook_bytes(audit), media, filename)
    engine = db.get_bind()
    try:
        body = small_download(engine, audit.id, kind, actor=user)  # a small audit's file, kept per data version
    except DefinitionError as exc:
        raise HTTPException(status_code=500, detail=str(exc)) from exc
    except RuntimeError as exc:  # e.g. SPSS without pyreadstat; the annex and figures: a count suppression cannot protect
        raise HTTPException(status_code=409 if kind in WHOLE_KINDS else 501, detail=str(exc)) from exc
    if body is not None:
        return download(body, media, filename)
    headers = attachment_headers(filename)
    if kind == "data.csv":  # streamed as it is written, chunk by chunk of cases
        return StreamingResponse(stream_raw_csv(engine, audit.id, actor=user), media_type=media, headers=headers)
    # data.xlsx / data.sav: written chunk by chunk to a temporary file, then streamed
    tmp = FilePath(tempfile.mkdtemp(prefix="audit-export-"))
    try:
        path = raw_file(engine, audit.id, kind, tmp, actor=user)
    except RuntimeError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise HTTPException(status_code=501, detail=str(exc)) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return StreamingResponse(_file_chunks(path, tmp), media_type=media, headers=headers)


@router.get("/exports/{audit_id}/{kind}/job/{job_id}", summary="Download the file of a finished background job (admins)",
            response_class=Response,
            responses={**file_responses(XLSX, "application/zip"), **errors(*READ, 409)})
def download_job_file(user: Exporter, audit: AuditInPath, kind: Kind, job_id: int, db: DB) -> Response:
    """The file a background job made (audit.exports.jobs): the same file, name, headers and
    access-log entry as the direct download; 409 while it is not ready or once it is stale."""
    checked_id(job_id)
    try:
        view = jobs.get_job(db, audit, job_id)
        if view.job is None or view.job.kind != kind:
            raise jobs.JobError(_("not found"), 404)
        body = jobs.file_of(db, view)
    except jobs.JobError as exc:
        raise HTTPException(status_code=exc.status, detail=str(exc)) from exc
    record_export(db, audit, kind, actor=user, population=kind in WHOLE_KINDS)
    return download(body, media_type(kind), f"{slug(audit.name)}_{kind}")


def _file_chunks(path: FilePath, folder: FilePath, size: int = 1 << 20) -> Iterator[bytes]:
    try:
        with path.open("rb") as fh:
            while block := fh.read(size):
                yield block
    finally:
        shutil.rmtree(folder, ignore_errors=True)
