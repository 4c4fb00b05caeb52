"""What the review pages and the review API share: the audit's instrument (409 without
one), the second-review independence check, whether a case may still be edited, the
municipality's theme-7 review, and reopening a case."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException
from sqlmodel import Session

from audit.i18n import _
from audit.instrument import Instrument
from audit.models import Audit, Case, MunicipalityReview, User
from audit.permissions import require
from audit.review import assignment, form as form_mod, workflow
from audit.review.answers import AnswerError
from audit.review.instrument import NoInstrument, instrument_for
from audit.web.deps import DB, CurrentUser, MunicipalityInPath, audit_or_404, load_case


def _instrument(audit: Audit) -> Instrument:
    try:
        return instrument_for(audit)
    except NoInstrument as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc


def _check_pass(user: User, case: Case, pass_no: int) -> None:
    """Independence of the second review: the first reviewer never sees pass 2 and the
    second reviewer never sees pass 1 (admins see both)."""
    if pass_no not in (1, 2):
        raise HTTPException(status_code=404, detail=_("not found"))
    if user.role == "admin":
        if pass_no == 2 and case.second_reviewer is None:
            raise HTTPException(status_code=404, detail=_("this case is not in the second-review subsample"))
        return
    owner = case.assigned_to if pass_no == 1 else case.second_reviewer
    if owner != user.id:
        raise HTTPException(status_code=403, detail=_("this review of the case is not assigned to you"))


def _editable(case: Case, pass_no: int) -> bool:
    if pass_no == 2:
        return case.second_status != "completed"
    return case.status in form_mod.EDITABLE_STATUSES


def _municipality_review(db: Session, user: User, audit_id: int, municipality: str,
                         action: str = "case.edit") -> tuple[Audit, MunicipalityReview]:
    audit = audit_or_404(db, audit_id)
    if user.role == "municipality":
        raise HTTPException(status_code=404, detail=_("not found"))
    review = assignment.municipality_review(db, audit, municipality, create=False)
    if review is None:
        if municipality not in assignment.audit_municipalities(db, audit):
            raise HTTPException(status_code=404, detail=_("not found"))
        review = assignment.municipality_review(db, audit, municipality)
        db.commit()
    require(user, action, review)
    return audit, review


def _reopen(db, user, case_id: int):  # type: ignore[no-untyped-def]
    """Reopen a completed case (admins only); shared by the page and the API."""
    case = load_case(db, user, case_id, "case.edit")
    require(user, "audit.manage")
    try:
        workflow.reopen_case(db, case, user)
    except AnswerError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    db.commit()
    return case


def _theme7(audit_id: int, municipality: MunicipalityInPath, user: CurrentUser,
            db: DB) -> tuple[Audit, MunicipalityReview]:
    return _municipality_review(db, user, audit_id, municipality)


Theme7InPath = Annotated[tuple[Audit, MunicipalityReview], Depends(_theme7)]
"""(audit, the municipality's theme-7 review) named by `{audit_id}/{municipality}`, if the
user may edit it (404 for municipality users and unknown municipalities)."""
