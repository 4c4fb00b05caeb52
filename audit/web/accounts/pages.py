"""Login, logout, the user's own password change and the landing page each role starts from.

Sessions are server-side (audit.sessions): the cookie carries a random session id and the
CSRF token; log-in attempts are throttled (audit.throttle) through `audit.auth.login`."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from audit.i18n import N_, _
from audit import auditlog, i18n, sessions
from audit.auth import AccountError, change_own_password
from audit.auth import login as attempt_login
from audit.models import User, utcnow
from audit.passwords import MIN_LENGTH
from audit.web.deps import DB, CurrentUser, csrf_token, optional_user, render
from audit.web.language import SESSION_KEY as LANGUAGE_KEY

router = APIRouter(include_in_schema=False)

LANDING = {"admin": "/admin", "auditor": "/review", "municipality": "/hearing"}
WRONG = N_("Wrong username or password.")
# The same words whether the name exists or not, and whether the name or the address is paused.
PAUSED = N_("Too many failed log-in attempts. Log-in is paused for a while; try again later, "
            "or ask an administrator.")


def _safe_next(target: str | None, fallback: str) -> str:
    if not target:
        return fallback
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/", include_in_schema=False)
def home(user: Annotated[User | None, Depends(optional_user)]) -> RedirectResponse:
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(LANDING[user.role], status_code=303)


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str | None = None, changed: int = 0):  # type: ignore[no-untyped-def]
    notice = _("Your password was changed. Log in with the new password.") if changed else None
    return render(request, "login.html", {"next": next or "", "username": "", "notice": notice})


@router.post("/login", include_in_schema=False)
def login(request: Request, db: DB, username: Annotated[str, Form()],
          password: Annotated[str, Form()], next: Annotated[str, Form()] = ""):  # type: ignore[no-untyped-def]
    address = _address(request)
    result = attempt_login(db, username, password, address)
    if result.user is None:
        db.commit()  # the failure (and a pause it started) is kept
        if result.locked:
            retry = max(1, int((result.locked_until - utcnow()).total_seconds()))  # type: ignore[operator]
            response = render(request, "login.html", {"error": _(PAUSED), "username": username, "next": next},
                              status_code=429)
            response.headers["Retry-After"] = str(retry)
            return response
        return render(request, "login.html", {"error": _(WRONG), "username": username, "next": next},
                      status_code=401)
    user = result.user
    token = sessions.start(db, user, address=address, user_agent=request.headers.get("user-agent"))
    auditlog.record(db, user=user, entity="user", entity_id=user.id, field="login", new={"address": address})
    db.commit()
    chosen = user.language or request.session.get(LANGUAGE_KEY)  # the user's own, else the one picked before
    request.session.clear()  # a fresh session on login: no fixation
    request.session["sid"] = token
    if i18n.normalise(chosen):
        request.session[LANGUAGE_KEY] = i18n.normalise(chosen)
    csrf_token(request)
    return RedirectResponse(_safe_next(next, LANDING[user.role]), status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, db: DB, user: Annotated[User | None, Depends(optional_user)]) -> RedirectResponse:
    """Log out: ends every session of the user, in every browser."""
    if user is not None:
        ended = sessions.end_all(db, user.id, "logout")
        auditlog.record(db, user=user, entity="user", entity_id=user.id, field="logout",
                        new={"sessions_ended": ended})
        db.commit()
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/account/password", include_in_schema=False)
def password_page(request: Request, user: CurrentUser):  # type: ignore[no-untyped-def]
    return render(request, "account_password.html", {"min_length": MIN_LENGTH, "error": None}, user=user)


@router.post("/account/password", include_in_schema=False)
def password_change(request: Request, user: CurrentUser, db: DB, current: Annotated[str, Form()],
                    new: Annotated[str, Form()], confirm: Annotated[str, Form()]):  # type: ignore[no-untyped-def]
    """Change one's own password; every session of the user ends, this one too."""
    try:
        if new != confirm:
            raise AccountError(_("the two new passwords differ"))
        change_own_password(db, user, current, new)
        db.commit()
    except AccountError as exc:
        db.rollback()
        return render(request, "account_password.html", {"min_length": MIN_LENGTH, "error": str(exc)},
                      status_code=422, user=user)
    request.session.clear()
    return RedirectResponse("/login?changed=1", status_code=303)



# --- the interface language ---------------------------------------------------------------

@router.get("/account", include_in_schema=False)
def account_page(request: Request, user: CurrentUser):  # type: ignore[no-untyped-def]
    """The user's own account: the interface language, and the way to the password change."""
    return render(request, "account.html", {"chosen": user.language}, user=user)


@router.post("/account/language", include_in_schema=False)
def choose_language(request: Request, db: DB, user: Annotated[User | None, Depends(optional_user)],
                    language: Annotated[str, Form()] = "", next: Annotated[str, Form()] = ""):  # type: ignore[no-untyped-def]
    """The language switch (the header of every page, and the account page). For a logged-in user
    the choice is kept on the account, so it follows the user to every browser; before log-in it
    holds for this browser's session. An empty or unknown choice means the site's language."""
    chosen = i18n.normalise(language)
    if chosen:
        request.session[LANGUAGE_KEY] = chosen
    else:
        request.session.pop(LANGUAGE_KEY, None)
    if user is not None and user.language != chosen:
        auditlog.record(db, user=user, entity="user", entity_id=user.id, field="language",
                        old=user.language, new=chosen)
        user.language = chosen
        db.add(user)
        db.commit()
    return RedirectResponse(_safe_next(next, "/account" if user else "/login"), status_code=303)


# --- the accessibility statement (tilgængelighedserklæring), linked from every page's footer -----

STATEMENT_DATE = "2026-12-01"  # update with the statement's text (docs/accessibility.md)


@router.get("/accessibility", include_in_schema=False)
def accessibility_statement(request: Request, user: Annotated[User | None, Depends(optional_user)]):  # type: ignore[no-untyped-def]
    """Open to everyone, logged in or not: what is met, the known gaps, how to report a problem."""
    contact = request.app.state.settings.accessibility_contact.strip()
    href = contact if contact.startswith(("http://", "https://")) else f"mailto:{contact}"
    return render(request, "accessibility.html", {"contact": contact, "contact_href": href,
                                                  "statement_date": STATEMENT_DATE}, user=user)
