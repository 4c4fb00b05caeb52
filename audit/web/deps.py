"""Request dependencies: database session, current user, CSRF check, templates."""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from sqlmodel import Session

from audit.models import User
from audit.permissions import can

WEB_DIR = Path(__file__).resolve().parent.parent.parent / "web"
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
templates.env.globals["can"] = can

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_db(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


DB = Annotated[Session, Depends(get_db)]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def csrf_protect(request: Request) -> None:
    """Every state-changing request carries the session's token, as form field
    `csrf_token` or header `X-CSRF-Token` (htmx and the JSON API)."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        sent = form.get("csrf_token")  # type: ignore[assignment]
    if not expected or not sent or not secrets.compare_digest(str(sent), expected):
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong; reload the page and try again")


def optional_user(request: Request, db: DB) -> User | None:
    user_id = request.session.get("user_id")
    if user_id is None:
        return None
    user = db.get(User, user_id)
    if user is None or not user.is_active:
        request.session.clear()
        return None
    return user


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise HTTPException(status_code=401, detail="login required")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def route_permission(request: Request, user: Annotated[User | None, Depends(optional_user)]) -> None:
    """App-wide: every route declares its action in `audit.permissions.ROUTES`; the role
    check happens here, before the route looks at any resource. A route that declares
    nothing is refused (and tests/test_permissions_routes.py fails). No database work
    here (the user was loaded by `optional_user` in the thread pool), so it runs on the loop."""
    from audit import permissions

    route = request.scope.get("route")
    template = getattr(route, "path", None)
    action = permissions.ROUTES.get((request.method if request.method != "HEAD" else "GET", template or ""))
    if action is None:
        action = permissions.route_action(request.method, request.url.path)
    if action is None:
        raise HTTPException(status_code=403, detail="this route declares no permission rule")
    if action == permissions.PUBLIC:
        return
    if user is None:
        raise HTTPException(status_code=401, detail="login required")
    if action == permissions.LOGGED_IN:
        return
    refusal = permissions.decide(user, action)
    if refusal is not None:
        # a municipality user asking another role's page about a case (remark, municipality) gets 404
        scoped = permissions.MUNICIPALITY_SCOPED_PARAMS.intersection(request.path_params)
        status = 404 if user.role == "municipality" and scoped and refusal.status == 403 else refusal.status
        raise HTTPException(status_code=status, detail="not found" if status == 404 else refusal.reason)


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           status_code: int = 200, user: User | None = None):  # type: ignore[no-untyped-def]
    ctx = {"user": user, "csrf_token": csrf_token(request)}
    ctx.update(context or {})
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)


def load_case(db: Session, user: User, case_id: int, action: str = "case.view"):  # type: ignore[no-untyped-def]
    """The case, if it exists and the user may do `action` on it; else 404/403.
    Every route that takes a case id goes through here."""
    from audit.models import Case
    from audit.permissions import require

    case = db.get(Case, case_id)
    if case is None:
        raise HTTPException(status_code=404, detail="not found")
    require(user, action, case)
    return case
