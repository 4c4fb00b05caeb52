"""Agency pages: overview of audits with the forms to create and edit one, users (add,
edit role and municipality, deactivate, reactivate, reset password, lift a log-in pause), the
audit trail with its chain check, and the access log for one citizen.

Every action calls the same function as the CLI (audit.audits, audit.auth), so the rules and
the trail are the same whichever door is used. A refused form answers 422 and keeps what was
typed (passwords excepted)."""
from __future__ import annotations

from pathlib import Path

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func
from sqlmodel import select

from audit.i18n import _
from audit import access, auditlog, sessions, throttle
from audit.audits import AuditError, audit_overview, edit_audit, has_population, new_audit, shipped_instruments
from audit.auth import (AccountError, add_user, deactivate_user, reactivate_user, set_password, unlock_user,
                        update_user)
from audit.models import ROLES
from audit.population.municipalities import municipality_names
from audit.models import Audit, AuditLog, Case, Person, User
from audit.passwords import MIN_LENGTH
from audit.permissions import require
from audit.web.deps import DB, AuditIdQuery, AuditInPath, CurrentUser, allowed, checked_id, render
from audit.web.schemas import check_form_text

router = APIRouter(include_in_schema=False)


Manager = allowed("audit.manage")
UserManager = allowed("users.manage")


def _home(request: Request, db, user: User, *, status_code: int = 200,  # type: ignore[no-untyped-def]
          new: dict | None = None):
    instruments = shipped_instruments()
    return render(request, "admin/home.html", {
        "rows": audit_overview(db), "instruments": instruments, "all_municipalities": municipality_names(),
        "new": new or {"instrument": instruments[0][0] if instruments else "", "municipalities": []},
        "flash": request.session.pop("admin_flash", None)}, status_code=status_code, user=user)


@router.get("/admin", include_in_schema=False)
def admin_home(request: Request, user: Manager, db: DB):  # type: ignore[no-untyped-def]
    return _home(request, db, user)


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise AuditError(_("{what} must be a date (YYYY-MM-DD), got {value}").format(what=what, value=repr(text.strip()))
                         if text.strip() else _("{what} is required").format(what=what)) from None


@router.post("/admin/audits", include_in_schema=False)
def create_audit_form(request: Request, user: Manager, db: DB, name: Annotated[str, Form()] = "",
                      period_start: Annotated[str, Form()] = "", period_end: Annotated[str, Form()] = "",
                      reference_date: Annotated[str, Form()] = "", instrument: Annotated[str, Form()] = "",
                      municipalities: Annotated[list[str] | None, Form()] = None):  # type: ignore[no-untyped-def]
    """The admin's "new audit": `audit audits create` (audit.audits.new_audit)."""
    chosen = [m for m in (municipalities or []) if m.strip()]
    typed = {"name": name, "period_start": period_start, "period_end": period_end,
             "reference_date": reference_date, "instrument": instrument, "municipalities": chosen}
    try:
        check_form_text(name, _("Name"))
        # the browser names one of the shipped instrument files, never a path on the server
        if Path(instrument).name != instrument or not instrument.endswith(".yaml"):
            raise AuditError(_('no instrument file named {name}').format(name=repr(instrument)))
        audit = new_audit(db, name, period_start=_day(period_start, _("the first day of the period")),
                          period_end=_day(period_end, _("the last day of the period")),
                          reference_date=_day(reference_date, _("the reference date")),
                          municipalities=chosen, instrument=instrument, user=user)
        db.commit()
    except (AuditError, ValueError) as exc:
        db.rollback()
        return _home(request, db, user, status_code=422, new={**typed, "error": str(exc)})
    # shown by the page it lands on, the sampling page (its flash: audit.web.sampling.pages)
    request.session["sampling_flash"] = {"message": _(
        "Audit {name} created (instrument {version}). Next: import the register extract.").format(
        name=audit.name, version=audit.instrument_version), "details": [], "kind": "ok"}
    return RedirectResponse(f"/sampling?audit_id={audit.id}", status_code=303)


def _audit_page(request: Request, db, user: User, audit: Audit, *, status_code: int = 200,  # type: ignore[no-untyped-def]
                typed: dict | None = None):
    populated = has_population(db, audit)
    form = typed or {"name": audit.name, "period_start": audit.period_start.isoformat(),
                     "period_end": audit.period_end.isoformat(), "reference_date": audit.reference_date.isoformat(),
                     "municipalities": json.loads(audit.municipalities_json or "[]")}
    return render(request, "admin/audit.html", {
        "audit": audit, "form": form, "has_population": populated,
        "all_municipalities": municipality_names(), "flash": request.session.pop("admin_flash", None)},
        status_code=status_code, user=user)


@router.get("/admin/audits/{audit_id}", include_in_schema=False)
def audit_page(request: Request, user: Manager, audit: AuditInPath, db: DB):  # type: ignore[no-untyped-def]
    return _audit_page(request, db, user, audit)


@router.post("/admin/audits/{audit_id}", include_in_schema=False)
def edit_audit_form(request: Request, user: Manager, audit: AuditInPath, db: DB, name: Annotated[str, Form()] = "",
                    period_start: Annotated[str, Form()] = "", period_end: Annotated[str, Form()] = "",
                    reference_date: Annotated[str, Form()] = "",
                    municipalities: Annotated[list[str] | None, Form()] = None):  # type: ignore[no-untyped-def]
    """`audit audits edit` (audit.audits.edit_audit)."""
    chosen = [m for m in (municipalities or []) if m.strip()]
    typed = {"name": name, "period_start": period_start, "period_end": period_end,
             "reference_date": reference_date, "municipalities": chosen}
    try:
        check_form_text(name, _("Name"))
        edit_audit(db, audit, name=name, period_start=_day(period_start, _("the first day of the period")),
                   period_end=_day(period_end, _("the last day of the period")),
                   reference_date=_day(reference_date, _("the reference date")), municipalities=chosen, user=user)
        db.commit()
    except (AuditError, ValueError) as exc:
        db.rollback()
        db.refresh(audit)
        return _audit_page(request, db, user, audit, status_code=422, typed={**typed, "error": str(exc)})
    _flash(request, _("Audit {name} saved.").format(name=audit.name))
    return RedirectResponse(f"/admin/audits/{audit.id}", status_code=303)


# --- users -------------------------------------------------------------------------------

def _flash(request: Request, message: str, kind: str = "ok") -> None:
    request.session["admin_flash"] = {"message": message, "kind": kind}


def _users(request: Request, db, user: User, *, status_code: int = 200,  # type: ignore[no-untyped-def]
           new: dict | None = None):
    users = db.exec(select(User).order_by(User.role, User.username)).all()
    paused = {u.id: throttle.account_locked_until(db, u.username) for u in users}
    return render(request, "admin/users.html", {
        "users": users, "paused": paused, "roles": ROLES, "all_municipalities": municipality_names(),
        "min_length": MIN_LENGTH, "new": new or {"role": "auditor"},
        "flash": request.session.pop("admin_flash", None)}, status_code=status_code, user=user)


@router.get("/admin/users", include_in_schema=False)
def users_page(request: Request, user: UserManager, db: DB):  # type: ignore[no-untyped-def]
    return _users(request, db, user)


@router.post("/admin/users", include_in_schema=False)
def add_user_form(request: Request, user: UserManager, db: DB, username: Annotated[str, Form()] = "",
                  full_name: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "",
                  municipality: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
                  confirm: Annotated[str, Form()] = ""):  # type: ignore[no-untyped-def]
    """The admin's "new user": `audit users add` (audit.auth.add_user)."""
    typed = {"username": username, "full_name": full_name, "role": role, "municipality": municipality}
    try:
        check_form_text(username, _("Username"))
        check_form_text(full_name, _("Name"))
        if len(username.strip()) > 80:
            raise AccountError(_("the username is longer than {n} characters").format(n=80))
        if password != confirm:
            raise AccountError(_("the two passwords differ"))
        created = add_user(db, username=username, password=password, role=role,
                           municipality=municipality if role == "municipality" else None,
                           full_name=full_name.strip(), actor=user)
        db.commit()
    except ValueError as exc:
        db.rollback()
        return _users(request, db, user, status_code=422, new={**typed, "error": str(exc)})
    _flash(request, _("User {username} created; give them the password by another channel.").format(
        username=created.username))
    return RedirectResponse(f"/admin/users/{created.id}", status_code=303)


def _target(db, user_id: int) -> User:  # type: ignore[no-untyped-def]
    target = db.get(User, checked_id(user_id))
    if target is None:
        raise HTTPException(status_code=404, detail=_("not found"))
    return target


def _user_page(request: Request, db, user: User, target: User, *, status_code: int = 200,  # type: ignore[no-untyped-def]
               details: dict | None = None):
    return render(request, "admin/user.html", {
        "target": target, "open_sessions": sessions.open_sessions(db, target.id),
        "paused": throttle.account_locked_until(db, target.username), "min_length": MIN_LENGTH,
        "roles": ROLES, "all_municipalities": municipality_names(),
        "details": details or {"role": target.role, "municipality": target.municipality or "",
                               "full_name": target.full_name},
        "flash": request.session.pop("admin_flash", None)}, status_code=status_code, user=user)


@router.get("/admin/users/{user_id}", include_in_schema=False)
def user_page(request: Request, user_id: int, user: UserManager, db: DB):  # type: ignore[no-untyped-def]
    return _user_page(request, db, user, _target(db, user_id))


@router.post("/admin/users/{user_id}/{action}", include_in_schema=False)
def user_action(request: Request, user_id: int, action: str, user: CurrentUser, db: DB,
                password: Annotated[str, Form()] = "", confirm: Annotated[str, Form()] = "",
                reason: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "",
                municipality: Annotated[str, Form()] = "", full_name: Annotated[str, Form()] = ""):  # type: ignore[no-untyped-def]
    """details (role, municipality, name) / deactivate / reactivate / password (reset) / unlock:
    the CLI's functions (audit.auth)."""
    require(user, "users.manage")
    target = _target(db, user_id)
    if action == "details":
        typed = {"role": role, "municipality": municipality, "full_name": full_name}
        try:
            check_form_text(full_name, _("Name"))
            update_user(db, target.username, role=role, municipality=municipality if role == "municipality" else None,
                        full_name=full_name, actor=user)
            db.commit()
        except ValueError as exc:
            db.rollback()
            db.refresh(target)
            return _user_page(request, db, user, target, status_code=422, details={**typed, "error": str(exc)})
        _flash(request, _("Saved the details of {username}.").format(username=target.username))
        return RedirectResponse(f"/admin/users/{target.id}", status_code=303)
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
