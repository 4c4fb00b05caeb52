"""The sampling room's downloads: the sample and its protocol as CSV, the same files
`audit sample export` writes. (The register import and the draw are page forms.)"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response

from audit.i18n import _
from audit.models import Audit
from audit.sampling.draw import has_sample
from audit.sampling.protocol import protocol_csv, sample_csv
from audit.web.deps import DB, AuditInPath, CurrentUser, allowed
from audit.web.downloads import CSV, download, file_responses, slug
from audit.web.schemas import READ, errors

router = APIRouter(tags=["sampling"])
Manager = allowed("audit.manage")


def _sampled_audit(user: Manager, audit: AuditInPath, db: DB) -> Audit:
    if not has_sample(db, audit):
        raise HTTPException(status_code=409, detail=_("the audit has no sample yet"))
    return audit


SampledAudit = Annotated[Audit, Depends(_sampled_audit)]
"""The audit of `{audit_id}` (admins), 409 until it has a sample."""


@router.get("/sampling/{audit_id}/sample.csv", response_class=Response,
            responses={**file_responses(CSV), **errors(*READ, 409, 422)})
def sample_download(audit: SampledAudit, user: CurrentUser, db: DB) -> Response:
    """The sample as `audit sample export` writes it: case_id, person_id, municipality,
    seniority_band, weight, is_reserve, reserve_rank (reserves included)."""
    return download(sample_csv(db, audit, actor=user), CSV, f"{slug(audit.name)}_sample.csv")


@router.get("/sampling/{audit_id}/protocol.csv", response_class=Response,
            responses={**file_responses(CSV), **errors(*READ, 409, 422)})
def protocol_download(audit: SampledAudit, user: CurrentUser, db: DB) -> Response:
    """The sampling protocol as `audit sample export` writes it next to the sample."""
    return download(protocol_csv(db, audit, actor=user), CSV, f"{slug(audit.name)}_sample.protocol.csv")
