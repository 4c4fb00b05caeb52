"""Case status workflow: not_started -> in_progress (first saved answer) ->
completed (every applicable required item answered) -> in_hearing -> final.
An admin may reopen a completed case; the hearing room moves cases on."""
from __future__ import annotations

from sqlmodel import Session

from audit.i18n import _, lazy_gettext as _l
from audit import auditlog, permissions
from audit.instrument import Instrument
from audit.models import CASE_STATUSES, Audit, Case, MunicipalityReview, User, utcnow
from audit.review.answers import (AnswerError, NotAllowed, bump_version, case_answers, ensure_unlocked,
                                  municipality_answers)
from audit.review.instrument import instrument_for

STATUS_LABELS = {"not_started": _l("not started"), "in_progress": _l("in progress"), "completed": _l("completed"),
                 "in_hearing": _l("in hearing"), "final": _l("final")}  # translated where shown (audit.i18n)

# allowed moves (old -> new); reopening is admin only (checked by the caller's permission)
TRANSITIONS = {
    ("not_started", "in_progress"), ("in_progress", "completed"), ("not_started", "completed"),
    ("completed", "in_progress"), ("completed", "in_hearing"), ("in_hearing", "completed"),
    ("in_hearing", "final"), ("completed", "final"),
}


class WorkflowError(AnswerError):
    """A status change that is not allowed; the message says why."""


def case_level_names(inst: Instrument) -> set[str]:
    return {i.name for i in inst.items_at("case")}


def municipality_level_names(inst: Instrument) -> set[str]:
    return {i.name for i in inst.items_at("municipality")}


def missing_for_case(session: Session, case: Case, pass_no: int = 1, instrument: Instrument | None = None) -> list[str]:
    """Applicable required case-level items that are not answered (in instrument order)."""
    inst = instrument or instrument_for(session.get(Audit, case.audit_id))
    names = case_level_names(inst)
    return [n for n in inst.missing_required(case_answers(session, case.id, pass_no)) if n in names]


def missing_for_municipality(session: Session, review: MunicipalityReview, instrument: Instrument | None = None) -> list[str]:
    inst = instrument or instrument_for(session.get(Audit, review.audit_id))
    names = municipality_level_names(inst)
    return [n for n in inst.missing_required(municipality_answers(session, review.id)) if n in names]


def _check_move(case: Case, new: str) -> None:
    if (case.status, new) not in TRANSITIONS:
        raise WorkflowError(_('case {case_id}: cannot go from {status} to {status_labels_new}').format(
            case_id=case.id, status=STATUS_LABELS[case.status], status_labels_new=STATUS_LABELS[new]))


def set_status(session: Session, case: Case, new: str, user: User | None, reason: str | None = None) -> None:
    """Move the case to `new`. The version is bumped first, in the one atomic statement
    (`bump_version`), and the move is checked on the status it returns, so two people
    completing or reopening at once cannot both log the same old status."""
    if new not in CASE_STATUSES:
        raise WorkflowError(_('unknown status {new}; expected one of {join_case_statuses}').format(
                                new=repr(new), join_case_statuses=', '.join(CASE_STATUSES)))
    if new == case.status:
        return
    _check_move(case, new)
    ensure_unlocked(session.get(Audit, case.audit_id))
    bump_version(session, case)
    if new == case.status:
        return
    _check_move(case, new)
    auditlog.record(session, user=user, audit_id=case.audit_id, entity="case", entity_id=case.id,
                    field="status", old=case.status, new=new, reason=reason)
    case.status = new
    case.completed_at = utcnow() if new == "completed" else (None if new in ("not_started", "in_progress")
                                                             else case.completed_at)
    session.add(case)


def complete_case(session: Session, case: Case, user: User | None, pass_no: int = 1,
                  instrument: Instrument | None = None) -> list[str]:
    """Complete the case when nothing applicable and required is missing.
    Returns the missing item codes (and changes nothing) otherwise."""
    permissions.check(user, "case.edit", case, NotAllowed)
    permissions.check(user, "review.pass", permissions.ReviewPass(case, pass_no), NotAllowed)
    ensure_unlocked(session.get(Audit, case.audit_id))
    missing = missing_for_case(session, case, pass_no, instrument)
    if missing:
        return missing
    if pass_no == 2:
        if case.second_status != "completed":
            bump_version(session, case)
            if case.second_status != "completed":
                auditlog.record(session, user=user, audit_id=case.audit_id, entity="case", entity_id=case.id,
                                field="second_status", old=case.second_status, new="completed")
                case.second_status = "completed"
                session.add(case)
        return []
    if case.status in ("completed", "in_hearing", "final"):
        return []
    set_status(session, case, "completed", user)
    return []


def reopen_case(session: Session, case: Case, user: User | None, reason: str | None = None) -> None:
    """Back to in progress (an admin corrects a completed case)."""
    if case.status != "completed":
        raise WorkflowError(_('case {case_id} is {status}; only a completed case can be reopened').format(
                                case_id=case.id, status=STATUS_LABELS[case.status]))
    set_status(session, case, "in_progress", user, reason=reason or "reopened")


def complete_municipality(session: Session, review: MunicipalityReview, user: User | None,
                          instrument: Instrument | None = None) -> list[str]:
    permissions.check(user, "case.edit", review, NotAllowed)
    ensure_unlocked(session.get(Audit, review.audit_id))
    missing = missing_for_municipality(session, review, instrument)
    if missing:
        return missing
    if review.status != "completed":
        bump_version(session, review)
        if review.status != "completed":
            auditlog.record(session, user=user, audit_id=review.audit_id, entity="municipality_review",
                            entity_id=review.id, field="status", old=review.status, new="completed")
            review.status = "completed"
            session.add(review)
    return []


# Theme 7: a municipality may not answer the management survey at all (3 of 25 in the 2022
# report). Recorded as the review's status, it leaves the municipality frame's N
# (audit.statistics.dataset.MUNICIPALITY_NOT_ANSWERED); its answers, if any, are kept.
MUNICIPALITY_NOT_ANSWERED = "not_answered"
STATUS_LABELS[MUNICIPALITY_NOT_ANSWERED] = _l("did not answer")


def set_municipality_not_answered(session: Session, review: MunicipalityReview, user: User | None,
                                  not_answered: bool = True, reason: str = "") -> None:
    """Record that the municipality did not answer theme 7 (or, with `not_answered=False`,
    take that back: the review is in progress again). Traced in the audit trail with the reason."""
    permissions.check(user, "case.edit", review, NotAllowed)
    ensure_unlocked(session.get(Audit, review.audit_id))
    new = MUNICIPALITY_NOT_ANSWERED if not_answered else "in_progress"
    if review.status == new or (not not_answered and review.status != MUNICIPALITY_NOT_ANSWERED):
        return
    bump_version(session, review)
    auditlog.record(session, user=user, audit_id=review.audit_id, entity="municipality_review",
                    entity_id=review.id, field="status", old=review.status, new=new,
                    reason=reason or None)
    review.status = new
    session.add(review)
