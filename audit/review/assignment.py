"""Who reviews what: assignment of sampled cases to auditors (whole
municipalities at a time, so one auditor also answers that municipality's
theme 7), the subsample for independent second review, and progress."""
from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, select

from audit.i18n import _
from audit import auditlog, permissions
from audit.models import Audit, Case, MunicipalityReview, User


class AssignmentError(ValueError):
    pass


def audit_by_name(session: Session, name: str) -> Audit:
    audit = session.exec(select(Audit).where(Audit.name == name)).first()
    if audit is None:
        raise AssignmentError(_('no audit named {name}').format(name=repr(name)))
    return audit


def auditor_by_name(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise AssignmentError(_('no user named {username}').format(username=repr(username)))
    if user.role not in ("auditor", "admin") or not user.is_active:
        raise AssignmentError(_('{username} is not an active auditor').format(username=username))
    return user


def audit_municipalities(session: Session, audit: Audit) -> list[str]:
    names = sorted(set(session.exec(select(Case.municipality).where(Case.audit_id == audit.id,
                                                                     Case.active == True)).all()))  # noqa: E712
    return names or sorted(json.loads(audit.municipalities_json or "[]"))


def municipality_review(session: Session, audit: Audit, municipality: str, create: bool = True) -> MunicipalityReview | None:
    row = session.exec(select(MunicipalityReview).where(MunicipalityReview.audit_id == audit.id,
                                                        MunicipalityReview.municipality == municipality)).first()
    if row is None and create:
        row = MunicipalityReview(audit_id=audit.id, municipality=municipality)
        session.add(row)
        session.flush()
    return row


def assign(session: Session, audit: Audit, auditor: User, municipalities: list[str], by: User | None) -> int:
    """Assign every active case of the municipalities (and their theme 7) to one auditor.
    Returns the number of cases whose assignee changed. Refused once the audit is locked."""
    permissions.check(by, "audit.assign", audit, AssignmentError)
    known = set(audit_municipalities(session, audit))
    unknown = [m for m in municipalities if m not in known]
    if unknown:
        raise AssignmentError(_('no sampled cases in {join_unknown} for audit {audit_name}').format(
                                  join_unknown=', '.join(unknown), audit_name=repr(audit.name)))
    changed = 0
    for m in municipalities:
        cases = session.exec(select(Case).where(Case.audit_id == audit.id, Case.municipality == m,
                                                Case.active == True)).all()  # noqa: E712
        for case in cases:
            if case.assigned_to != auditor.id:
                auditlog.record(session, user=by, audit_id=audit.id, entity="case", entity_id=case.id,
                                field="assigned_to", old=case.assigned_to, new=auditor.id)
                case.assigned_to = auditor.id
                session.add(case)
                changed += 1
        review = municipality_review(session, audit, m)
        if review.assigned_to != auditor.id:
            auditlog.record(session, user=by, audit_id=audit.id, entity="municipality_review",
                            entity_id=review.id, field="assigned_to", old=review.assigned_to, new=auditor.id)
            review.assigned_to = auditor.id
            session.add(review)
    return changed


def assign_round_robin(session: Session, audit: Audit, auditors: list[User], by: User | None) -> dict[str, str]:
    """Municipalities in alphabetical order dealt to the auditors in turn. Returns municipality -> username."""
    permissions.check(by, "audit.assign", audit, AssignmentError)
    if not auditors:
        raise AssignmentError(_('name at least one auditor'))
    plan: dict[str, str] = {}
    for i, m in enumerate(audit_municipalities(session, audit)):
        auditor = auditors[i % len(auditors)]
        assign(session, audit, auditor, [m], by)
        plan[m] = auditor.username
    return plan


def mark_second_review(session: Session, audit: Audit, share: float, seed: int, auditors: list[User],
                       by: User | None) -> list[int]:
    """Draw `share` of the audit's active cases (reproducibly from `seed`) for an
    independent second review by another auditor than the first. Returns case ids.
    Refused once the audit is locked."""
    permissions.check(by, "audit.assign", audit, AssignmentError)
    if not 0 < share <= 1:
        raise AssignmentError(_('share must be in (0, 1]'))
    if not auditors:
        raise AssignmentError(_('name at least one second reviewer'))
    cases = session.exec(select(Case).where(Case.audit_id == audit.id, Case.active == True)  # noqa: E712
                         .order_by(Case.id)).all()
    pool = [c for c in cases if c.second_reviewer is None]
    n = max(1, round(share * len(cases))) - (len(cases) - len(pool))
    rng = random.Random(seed)
    chosen = sorted(rng.sample(pool, min(max(n, 0), len(pool))), key=lambda c: c.id)
    marked = []
    for k, case in enumerate(chosen):
        candidates = [a for a in auditors if a.id != case.assigned_to]
        if not candidates:
            raise AssignmentError(_('case {case_id}: the second reviewer must differ from the first ({auditors} given)').format(
                                      case_id=case.id, auditors=', '.join(a.username for a in auditors)))
        reviewer = candidates[k % len(candidates)]
        auditlog.record(session, user=by, audit_id=audit.id, entity="case", entity_id=case.id,
                        field="second_reviewer", old=None, new=reviewer.id, reason=f"second review, seed {seed}")
        case.second_reviewer = reviewer.id
        case.second_status = "not_started"
        session.add(case)
        marked.append(case.id)
    return marked


@dataclass
class Progress:
    municipality: str
    total: int
    completed: int
    in_progress: int

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.total) if self.total else 0


DONE = ("completed", "in_hearing", "final")


def progress(session: Session, audit_id: int | None = None, auditor_id: int | None = None) -> list[Progress]:
    query = select(Case.municipality, Case.status).where(Case.active == True)  # noqa: E712
    if audit_id is not None:
        query = query.where(Case.audit_id == audit_id)
    if auditor_id is not None:
        query = query.where(Case.assigned_to == auditor_id)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for m, status in session.exec(query).all():
        counts[m][0] += 1
        counts[m][1] += status in DONE
        counts[m][2] += status == "in_progress"
    return [Progress(m, *v) for m, v in sorted(counts.items())]
