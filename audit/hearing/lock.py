"""Locking the audit after the last round: answers become final everywhere
(`set_answer` refuses a locked audit, and every page, API call and import goes through it)."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from audit.i18n import _
from audit import auditlog
from audit.hearing.rounds import HearingError, close_round
from audit.models import Audit, Case, HearingRound, Remark, User, utcnow


def lock_problems(session: Session, audit: Audit) -> list[str]:
    """Why the audit should not be locked yet (empty when it can be)."""
    problems = []
    open_rounds = session.exec(select(HearingRound).where(HearingRound.audit_id == audit.id,
                                                          HearingRound.closed_at == None)).all()  # noqa: E711
    for rnd in open_rounds:
        problems.append(f"round {rnd.number} is still open")
    unanswered = session.exec(select(func.count()).select_from(Remark)
                              .join(HearingRound, HearingRound.id == Remark.round_id)
                              .where(HearingRound.audit_id == audit.id, Remark.status == "submitted")).one()
    if unanswered:
        problems.append(f"{unanswered} submitted remark(s) are not answered")
    return problems


def lock_audit(session: Session, audit: Audit, user: User | None, force: bool = False) -> list[str]:
    """Lock the audit: closes nothing silently. Refuses while a round is open or a submitted
    remark is unanswered, unless `force` (then open rounds are closed first and the
    unanswered remarks stay unanswered, both logged). Cases in hearing or completed become
    final. Returns the problems that were overridden."""
    if audit.locked_at is not None:
        raise HearingError(_('audit {audit_name} is already locked').format(audit_name=repr(audit.name)))
    problems = lock_problems(session, audit)
    if problems and not force:
        raise HearingError("cannot lock: " + "; ".join(problems) + " (use force to lock anyway)")
    for rnd in session.exec(select(HearingRound).where(HearingRound.audit_id == audit.id,
                                                       HearingRound.closed_at == None)).all():  # noqa: E711
        close_round(session, rnd, user)
    for case in session.exec(select(Case).where(Case.audit_id == audit.id, Case.active == True,  # noqa: E712
                                                Case.status.in_(("in_hearing", "completed")))).all():
        auditlog.record(session, user=user, audit_id=audit.id, entity="case", entity_id=case.id,
                        field="status", old=case.status, new="final", reason="audit locked")
        case.status = "final"
        session.add(case)
    audit.locked_at = utcnow()
    audit.locked_by = user.username if user else "system"
    session.add(audit)
    auditlog.record(session, user=user, audit_id=audit.id, entity="audit", entity_id=audit.id,
                    field="locked_at", old=None, new=audit.locked_at.isoformat(),
                    reason=("forced: " + "; ".join(problems)) if problems else None)
    session.flush()
    return problems
