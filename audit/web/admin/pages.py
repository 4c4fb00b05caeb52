"""Agency pages: overview of audits, users and the audit trail (the overview as JSON is
in `audit.web.admin.api`)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlmodel import select

from audit.audits import audit_overview
from audit.models import AuditLog, User
from audit.permissions import require
from audit.web.deps import DB, AuditIdQuery, CurrentUser, render

router = APIRouter(include_in_schema=False)


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
def log_page(request: Request, user: CurrentUser, db: DB, audit_id: AuditIdQuery,
             entity: str | None = None, limit: Annotated[int, Query(ge=1)] = 200):  # type: ignore[no-untyped-def]
    require(user, "audit.manage")
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(min(limit, 2000))
    if audit_id is not None:
        query = query.where(AuditLog.audit_id == audit_id)
    if entity:
        query = query.where(AuditLog.entity == entity)
    return render(request, "admin/log.html", {"entries": db.exec(query).all(), "entity": entity or "",
                                              "audit_id": audit_id}, user=user)
