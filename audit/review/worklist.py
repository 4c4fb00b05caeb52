"""What the review pages and the work-list API read: the cases a user works on (with
filters), the second-review and theme-7 lists, the reviewers and municipalities to
filter by, and who is assigned per municipality. Plain functions with typed results;
the web layer renders them and never queries itself."""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from audit.models import Audit, Case, MunicipalityReview, User
from audit.review.assignment import Progress, progress


@dataclass(frozen=True)
class WorkRow:
    """One active case of the work list, with the name of its audit."""
    case: Case
    audit_name: str

    def __iter__(self):  # type: ignore[no-untyped-def]
        # `for case, audit_name in rows` in templates
        return iter((self.case, self.audit_name))


@dataclass(frozen=True)
class AssignmentRow:
    """Progress of one municipality and who its cases are assigned to."""
    p: Progress
    auditors: str


def work_list(session: Session, user: User, *, audit_id: int | None = None, municipality: str | None = None,
              auditor: int | None = None, status: str | None = None) -> list[WorkRow]:
    """An auditor's own active cases; for an admin, all active cases, filtered."""
    query = select(Case, Audit.name).join(Audit, Audit.id == Case.audit_id).where(Case.active == True)  # noqa: E712
    if user.role == "auditor":
        query = query.where(Case.assigned_to == user.id)
    elif auditor:
        query = query.where(Case.assigned_to == auditor)
    if audit_id:
        query = query.where(Case.audit_id == audit_id)
    if municipality:
        query = query.where(Case.municipality == municipality)
    if status:
        query = query.where(Case.status == status)
    rows = session.exec(query.order_by(Audit.name, Case.municipality, Case.seniority_band, Case.id)).all()
    return [WorkRow(case, name) for case, name in rows]


def second_reviews(session: Session, user: User) -> list[Case]:
    """The active cases the user reviews a second time, independently."""
    return list(session.exec(select(Case).where(Case.second_reviewer == user.id, Case.active == True)  # noqa: E712
                             .order_by(Case.municipality, Case.id)).all())


def theme7_reviews(session: Session, user: User, audit_id: int | None = None) -> list[MunicipalityReview]:
    """The municipalities' theme-7 reviews: an auditor's own, or (admin) all; of one audit if given."""
    query = select(MunicipalityReview)
    if user.role == "auditor":
        query = query.where(MunicipalityReview.assigned_to == user.id)
    if audit_id:
        query = query.where(MunicipalityReview.audit_id == audit_id)
    return list(session.exec(query.order_by(MunicipalityReview.municipality)).all())


def reviewers(session: Session, *, admins: bool = True, active_only: bool = False) -> list[User]:
    """Users who can be assigned cases (auditors, and admins unless `admins=False`), by name."""
    roles = ("auditor", "admin") if admins else ("auditor",)
    query = select(User).where(User.role.in_(roles))
    if active_only:
        query = query.where(User.is_active == True)  # noqa: E712
    return list(session.exec(query.order_by(User.username)).all())


def usernames(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u.username for u in session.exec(select(User).where(User.id.in_(ids))).all()}


def case_municipalities(session: Session) -> list[str]:
    """Every municipality with a sampled case, in any audit."""
    return sorted(set(session.exec(select(Case.municipality).distinct()).all()))


def assignment_rows(session: Session, audit: Audit, names: dict[int, str]) -> list[AssignmentRow]:
    """Per municipality of the audit: progress and the auditors its active cases are assigned to."""
    rows = []
    for p in progress(session, audit_id=audit.id):
        assigned = set(session.exec(select(Case.assigned_to).where(
            Case.audit_id == audit.id, Case.municipality == p.municipality, Case.active == True)).all())  # noqa: E712
        rows.append(AssignmentRow(p, ", ".join(sorted(names.get(a, "–") if a else "unassigned"
                                                      for a in assigned))))
    return rows
