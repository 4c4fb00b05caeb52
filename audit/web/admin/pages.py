"""Agency pages: overview of audits, users (deactivate, reactivate, reset password, lift a
log-in pause), the audit trail with its chain check, and the access log for one citizen.

Every account action calls the same function as the CLI (audit.auth), so the rules and the
trail are the same whichever door is used."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func
from sqlmodel import select

from audit.i18n import _
from audit import access, auditlog, sessions, throttle
from audit.audits import audit_overview
from audit.auth import AccountError, deactivate_user, reactivate_user, set_password, unlock_user
from audit.models import Audit, AuditLog, Case, Person, User
from audit.passwords import MIN_LENGTH
from audit.permissions import require
from audit.web.deps import DB, AuditIdQuery, CurrentUser, checked_id, render

router = APIRouter(include_in_schema=False)


@router.get("/admin", include_in_schema=False)
def admin_home(request: Request, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    require(user, "audit.manage")
    return render(request, "admin/home.html", {"rows": audit_overview(db)}, user=user)


# --- users -------------------------------------------------------------------------------

def _flash(request: Request, message: str, kind: str = "ok") -> None:
    request.session["admin_flash"] = {"message": message, "kind": kind}


@router.get("/admin/users", include_in_schema=False)
def users_page(request: Request, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    require(user, "users.manage")
    users = db.exec(select(User).order_by(User.role, User.username)).all()
    paused = {u.id: throttle.account_locked_until(db, u.username) for u in users}
    return render(request, "admin/users.html", {"users": users, "paused": paused,
                                                "flash": request.session.pop("admin_flash", None)}, user=user)


def _target(db, user_id: int) -> User:  # type: ignore[no-untyped-def]
    target = db.get(User, checked_id(user_id))
    if target is None:
        raise HTTPException(status_code=404, detail=_("not found"))
    return target


@router.get("/admin/users/{user_id}", include_in_schema=False)
def user_page(request: Request, user_id: int, user: CurrentUser, db: DB, error: str | None = None):  # type: ignore[no-untyped-def]
    require(user, "users.manage")
    target = _target(db, user_id)
    return render(request, "admin/user.html", {
        "target": target, "open_sessions": sessions.open_sessions(db, target.id),
        "paused": throttle.account_locked_until(db, target.username), "min_length": MIN_LENGTH,
        "flash": request.session.pop("admin_flash", None), "error": error}, user=user)


@router.post("/admin/users/{user_id}/{action}", include_in_schema=False)
def user_action(request: Request, user_id: int, action: str, user: CurrentUser, db: DB,
                password: Annotated[str, Form()] = "", confirm: Annotated[str, Form()] = "",
                reason: Annotated[str, Form()] = ""):  # type: ignore[no-untyped-def]
    """deactivate / reactivate / password (reset) / unlock: the CLI's functions (audit.auth)."""
    require(user, "users.manage")
    target = _target(db, user_id)
    try:
        if action == "deactivate":
            deactivate_user(db, target.username, actor=user, reason=reason or None)
            message = _("{username} is deactivated; their sessions have ended.").format(username=target.username)
        elif action == "reactivate":
            reactivate_user(db, target.username, actor=user, reason=reason or None)
            message = _("{username} can log in again.").format(username=target.username)
        elif action == "password":
            if password != confirm:
                raise AccountError(_("the two passwords differ"))
            set_password(db, target.username, password, actor=user)
            message = _("New password set for {username}; their sessions have ended.").format(username=target.username)
        elif action == "unlock":
            n = unlock_user(db, target.username, actor=user)
            message = _("Log-in pause lifted for {username} ({n}).").format(username=target.username, n=n)
        else:
            raise HTTPException(status_code=404, detail=_("not found"))
        db.commit()
    except AccountError as exc:
        db.rollback()
        _flash(request, str(exc), "error")
        return RedirectResponse(f"/admin/users/{target.id}", status_code=303)
    _flash(request, message)
    return RedirectResponse(f"/admin/users/{target.id}", status_code=303)


# --- the audit trail and the access log -------------------------------------------------

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


@router.get("/admin/log/verify", include_in_schema=False)
def log_verify_page(request: Request, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    """The same check as `audit log verify`, for both chains."""
    require(user, "audit.manage")
    verdicts = [(_("Audit trail"), auditlog.verify(db)), (_("Access log"), access.verify(db))]
    return render(request, "admin/verify.html", {"verdicts": verdicts}, user=user)


@router.get("/admin/access", include_in_schema=False)
def access_page(request: Request, user: CurrentUser, db: DB, person: str | None = None,
                username: str | None = None):  # type: ignore[no-untyped-def]
    """The uses of one citizen's data (`audit log access --person`), or the latest uses."""
    require(user, "audit.manage")
    person = (person or "").strip()
    uses = access.uses_for_person(db, person, actor=user) if person else None
    recent = None if person else access.latest(db, 200, username or None)
    return render(request, "admin/access.html", {"person": person, "uses": uses, "recent": recent,
                                                 "username": username or ""}, user=user)
