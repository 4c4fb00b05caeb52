"""Login, logout and the landing page each role starts from (`/api/me` is in
`audit.web.accounts.api`)."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from audit.auth import authenticate
from audit.models import User
from audit.web.deps import DB, csrf_token, optional_user, render

router = APIRouter(include_in_schema=False)

LANDING = {"admin": "/admin", "auditor": "/review", "municipality": "/hearing"}


def _safe_next(target: str | None, fallback: str) -> str:
    if not target:
        return fallback
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


@router.get("/", include_in_schema=False)
def home(user: Annotated[User | None, Depends(optional_user)]) -> RedirectResponse:
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(LANDING[user.role], status_code=303)


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str | None = None):  # type: ignore[no-untyped-def]
    return render(request, "login.html", {"next": next or "", "username": ""})


@router.post("/login", include_in_schema=False)
def login(request: Request, db: DB, username: Annotated[str, Form()],
          password: Annotated[str, Form()], next: Annotated[str, Form()] = ""):  # type: ignore[no-untyped-def]
    user = authenticate(db, username, password)
    if user is None:
        return render(request, "login.html",
                      {"error": "Wrong username or password.", "username": username, "next": next},
                      status_code=401)
    request.session.clear()  # a fresh session on login: no fixation
    request.session["user_id"] = user.id
    csrf_token(request)
    return RedirectResponse(_safe_next(next, LANDING[user.role]), status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
