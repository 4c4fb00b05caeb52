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
        problems.append(_("round {number} is still open").format(number=rnd.number))
    unanswered = session.exec(select(func.count()).select_from(Remark)
                              .join(HearingRound, HearingRound.id == Remark.round_id)
                              .where(HearingRound.audit_id == audit.id, Remark.status == "submitted")).one()
    if unanswered:
        problems.append(_("{n} submitted remark(s) are not answered").format(n=unanswered))
    return problems


def unreviewed_cases(session: Session, audit: Audit) -> dict[str, list[int]]:
    """The active cases whose review is not completed, by status (`not_started`: never
    reviewed; `in_progress`: begun, not completed), case ids in order. Locking makes their
    missing answers final, so the lock page and `audit hearing lock` warn about them; they do
    not block the lock (an audit may end with cases that could not be reviewed)."""
    found: dict[str, list[int]] = {"not_started": [], "in_progress": []}
    for case_id, status in session.exec(select(Case.id, Case.status).where(
            Case.audit_id == audit.id, Case.active == True, Case.status.in_(tuple(found)))  # noqa: E712
            .order_by(Case.id)).all():
        found[status].append(case_id)
    return found


def lock_audit(session: Session, audit: Audit, user: User | None, force: bool = False) -> list[str]:
    """Lock the audit: closes nothing silently. Refuses while a round is open or a submitted
    remark is unanswered, unless `force` (then open rounds are closed first and the
    unanswered remarks stay unanswered, both logged). Cases in hearing or completed become
    final. Returns the problems that were overridden."""
    if audit.locked_at is not None:
        raise HearingError(_('audit {audit_name} is already locked').format(audit_name=repr(audit.name)))
    problems = lock_problems(session, audit)
    if problems and not force:
        raise HearingError(_("cannot lock: {problems}").format(problems="; ".join(problems)))
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
