"""Agency pages: overview of audits, users and the audit trail."""
from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import func
from sqlmodel import select

from audit.models import Audit, AuditLog, Case, Person, User
from audit.permissions import require
from audit.web.deps import DB, CurrentUser, render

router = APIRouter()


def audit_overview(db) -> list[dict]:  # type: ignore[no-untyped-def]
    """One row per audit with the counts an admin checks first."""
    rows = []
    for audit in db.exec(select(Audit).order_by(Audit.created_at.desc())).all():
        population = db.exec(select(func.count()).select_from(Person).where(Person.audit_id == audit.id)).one()
        counts = dict(db.exec(select(Case.status, func.count()).where(
            Case.audit_id == audit.id, Case.active == True).group_by(Case.status)).all())  # noqa: E712
        rows.append({"audit": audit, "population": population, "cases": sum(counts.values()),
                     "completed": sum(v for k, v in counts.items() if k in ("completed", "in_hearing", "final")),
                     "statuses": counts})
    return rows


@router.get("/admin", include_in_schema=False)
def admin_home(request: Request, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    require(user, "audit.manage")
    return render(request, "admin/home.html", {"rows": audit_overview(db)}, user=user)


@router.get("/admin/users", include_in_schema=False)
def users_page(request: Request, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    require(user, "users.manage")
    users = db.exec(select(User).order_by(User.role, User.username)).all()
    return render(request, "admin/users.html", {"users": users}, user=user)


@router.get("/admin/log", include_in_schema=False)
def log_page(request: Request, user: CurrentUser, db: DB, audit_id: int | None = None,
             entity: str | None = None, limit: int = 200):  # type: ignore[no-untyped-def]
    require(user, "audit.manage")
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(min(limit, 2000))
    if audit_id is not None:
        query = query.where(AuditLog.audit_id == audit_id)
    if entity:
        query = query.where(AuditLog.entity == entity)
    return render(request, "admin/log.html", {"entries": db.exec(query).all(), "entity": entity or "",
                                              "audit_id": audit_id}, user=user)
