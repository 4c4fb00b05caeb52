"""The admins' exports page: the audit's annex, raw data and codebook downloads, with
links to the per-municipality feedback workbooks (which belong to the hearing room,
/hearing/export/...). The downloads themselves are in `audit.web.exports.api`.

The slow files (`audit.exports.jobs.JOB_KINDS`) can also be made in the background: a
button queues a job (POST .../job), and the job's state (GET .../job, an htmx fragment
that polls itself while the job is queued or running) ends in a download link."""
from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response

from audit.audits import all_audits
from audit.exports import jobs
from audit.i18n import _, lazy_gettext as _l
from audit.models import Audit
from audit.web.deps import DB, AuditInPath, allowed, render

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
JobKind = Annotated[str, Path(description="Which file", json_schema_extra={"enum": list(jobs.JOB_KINDS)})]
POLL_SECONDS = 2


@router.get("/exports")
def exports_page(request: Request, user: Exporter, db: DB):  # type: ignore[no-untyped-def]
    rows = [{"audit": a, "municipalities": json.loads(a.municipalities_json or "[]")} for a in all_audits(db)]
    for row in rows:
        row["jobs"] = {kind: jobs.latest(db, row["audit"], kind) for kind in jobs.JOB_KINDS}
    return render(request, "exports/index.html", {"rows": rows, "downloads": DOWNLOADS, "job_kinds": jobs.JOB_KINDS,
                                                  "poll_seconds": POLL_SECONDS}, user=user)


def _job_kind(kind: str) -> str:
    if kind not in jobs.JOB_KINDS:
        raise HTTPException(status_code=404, detail=_("not found"))
    return kind


def _job_state(request: Request, user, audit: Audit, kind: str, view: jobs.JobView):  # type: ignore[no-untyped-def]
    return render(request, "exports/_job.html", {"audit": audit, "kind": kind, "view": view,
                                                 "poll_seconds": POLL_SECONDS}, user=user)


@router.get("/exports/{audit_id}/{kind}/job")
def job_state(request: Request, user: Exporter, audit: AuditInPath, kind: JobKind, db: DB):  # type: ignore[no-untyped-def]
    """The state of the latest background job of the file (the page's fragment; polls itself)."""
    kind = _job_kind(kind)
    return _job_state(request, user, audit, kind, jobs.latest(db, audit, kind))


@router.post("/exports/{audit_id}/{kind}/job")
def queue_job(request: Request, user: Exporter, audit: AuditInPath, kind: JobKind, db: DB) -> Response:
    """Make the file in the background (or show the job already under way or ready)."""
    kind = _job_kind(kind)
    view = jobs.queue(db.get_bind(), db, audit, kind, requester=user)  # type: ignore[arg-type]
    if request.headers.get("HX-Request") == "true":
        return _job_state(request, user, audit, kind, view)
    return RedirectResponse(f"/exports#job-{audit.id}-{kind.replace('.', '-')}", status_code=303)
