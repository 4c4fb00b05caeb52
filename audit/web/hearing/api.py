"""The comment-round room's downloads and JSON API: the municipality's hearing and
feedback workbooks, the rounds of an audit, answering a remark. Each JSON operation
has a response model (`…Public`) and documents its refusals."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, Field

from audit.i18n import _
from audit.hearing import overview
from audit.hearing.remarks import respond
from audit.hearing.rounds import HearingError, as_utc, round_status, rounds_of
from audit.hearing.workbooks import export_filename, feedback_workbook, hearing_workbook
from audit.models import Audit
from audit.permissions import require
from audit.review.answers import AnswerError, case_answers
from audit.web.deps import DB, AuditInPath, CurrentUser, MunicipalityInPath, allowed, audit_or_404, remark_for
from audit.web.downloads import XLSX, download, file_responses
from audit.web.schemas import READ, WRITE, RequestBody, errors, limited_text, limited_value

router = APIRouter(tags=["hearing"])
Viewer = allowed("audit.view")
Responder = allowed("remark.answer")
Answerable = remark_for("remark.answer")


# --- downloads -----------------------------------------------------------------------

def _export_scope(audit_id: int, municipality: MunicipalityInPath, user: CurrentUser, db: DB) -> tuple[Audit, str]:
    require(user, "export.municipality", municipality)
    audit = audit_or_404(db, audit_id)
    if not overview.has_cases(db, audit, municipality):
        raise HTTPException(status_code=404, detail=_("not found"))
    return audit, municipality


ExportScope = Annotated[tuple[Audit, str], Depends(_export_scope)]
"""(audit, municipality) of a municipality's download: an admin, or that municipality's user."""


@router.get("/hearing/export/{audit_id}/{municipality}/hearing.xlsx", response_class=Response,
            responses={**file_responses(XLSX), **errors(*READ, 422)})
def hearing_download(scope: ExportScope, user: CurrentUser, db: DB) -> Response:
    """The municipality's hearing workbook: its cases, their assessments, its remarks and the responses."""
    audit, municipality = scope
    data = hearing_workbook(db, audit, municipality, actor=user)
    return download(data, XLSX, export_filename(audit, municipality, "hoering"))


@router.get("/hearing/export/{audit_id}/{municipality}/feedback.xlsx", response_class=Response,
            responses={**file_responses(XLSX), **errors(*READ, 409, 422)})
def feedback_download(scope: ExportScope, user: CurrentUser, db: DB) -> Response:
    """After locking: the municipality's shares next to all municipalities for the key items."""
    audit, municipality = scope
    if audit.locked_at is None:
        raise HTTPException(status_code=409, detail=_("the feedback workbook is available once the audit is locked"))
    data = feedback_workbook(db, audit, municipality, actor=user)
    return download(data, XLSX, export_filename(audit, municipality, "tilbagemelding"))


# --- JSON API ------------------------------------------------------------------------

class RespondIn(RequestBody):
    decision: str = Field(description="accepted or maintained")
    response: limited_text("response") = Field("", description="The reply to the municipality")
    value: limited_value("value") = Field(None, description="On accept: the revised answer (default the proposed one)")


class MunicipalityRoundPublic(BaseModel):
    municipality: str
    cases: int
    drafts: int
    submitted: int = Field(description="Remarks submitted and waiting for an answer")
    answered: int
    submitted_at: str | None = Field(description="When the municipality submitted (ISO 8601, UTC)")


class RoundPublic(BaseModel):
    number: int
    deadline: str = Field(description="ISO 8601, UTC")
    open: bool
    municipalities: list[MunicipalityRoundPublic]


class RemarkAnsweredPublic(BaseModel):
    id: int
    status: str
    decision: str | None
    response: str | None
    answer: Any = Field(description="The case's answer to the item after the response (null for a case remark)")


@router.get("/api/hearing/audits/{audit_id}/rounds", responses=errors(*READ, 422))
def api_rounds(user: Viewer, audit: AuditInPath, db: DB) -> list[RoundPublic]:
    """Rounds of an audit with each municipality's response status."""
    return [RoundPublic(number=r.number, deadline=as_utc(r.deadline).isoformat(), open=r.closed_at is None,
                        municipalities=[MunicipalityRoundPublic(
                            municipality=s.municipality, cases=s.cases, drafts=s.drafts, submitted=s.submitted,
                            answered=s.answered,
                            submitted_at=s.submitted_at.isoformat() if s.submitted_at else None) for s in round_status(db, r)])
            for r in rounds_of(db, audit.id)]


@router.post("/api/hearing/remarks/{remark_id}/respond", responses=errors(*WRITE, 409))
def api_respond(user: Responder, found: Answerable, body: RespondIn, db: DB) -> RemarkAnsweredPublic:
    """Answer a submitted remark: accepted (value: the revised answer, default the proposed one) or maintained."""
    remark, case = found
    kwargs = {"new_value": body.value} if body.value is not None else {}
    try:
        respond(db, remark, body.decision, body.response, user, **kwargs)
        db.commit()
    except AnswerError as exc:
        db.rollback()
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    except HearingError as exc:
        db.rollback()
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return {"id": remark.id, "status": remark.status, "decision": remark.decision, "response": remark.response,
            "answer": case_answers(db, case.id).get(remark.item) if remark.item else None}
