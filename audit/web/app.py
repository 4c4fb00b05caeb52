"""The FastAPI application: middleware (session, security headers, body limit), static
files, error pages, the API docs behind login, and the rooms' routers.

Every room's web layer is a package `audit.web.<room>` with a `pages` module (HTML,
not in the API schema) and an `api` module (JSON and downloads, with response models);
its `routers` are included here. A room that fails to import fails the start."""
from __future__ import annotations

import importlib

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from audit.config import Settings, get_settings
from audit.db import get_engine
from audit.web import apidocs
from audit.web.language import LanguageMiddleware
from audit.web.deps import STATIC_DIR, csrf_protect, optional_user, render
from audit.web.security import BodyLimit, SecurityHeaders

ROOMS = ("accounts", "admin", "review", "hearing", "statistics", "exports", "sampling")


def create_app(engine: Engine | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Case-file audit",
        summary="Review of long-term cash-benefit cases: sample, review, comment rounds, statistics.",
        dependencies=[Depends(csrf_protect)],
        docs_url=None, redoc_url=None, openapi_url=None,  # served behind login by audit.web.apidocs
    )
    app.state.engine = engine or get_engine()
    app.state.settings = settings
    app.add_middleware(LanguageMiddleware)  # inside the session: reads the language kept there
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie="audit_session",
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    from audit.access import RequestContext
    app.add_middleware(RequestContext)  # page or API, client address: for the access log
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    app.mount("/static/swagger-ui", apidocs.swagger_ui_files(), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    app.include_router(apidocs.router)
    for name in ROOMS:
        room = importlib.import_module(f"audit.web.{name}")
        for router in room.routers:
            app.include_router(router)

    @app.exception_handler(StarletteHTTPException)  # also unknown URLs and wrong methods, raised by the router
    async def http_error(request: Request, exc: HTTPException):  # type: ignore[no-untyped-def]
        wants_html = "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/api/")
        if exc.status_code == 401 and wants_html:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if wants_html:
            from sqlmodel import Session
            with Session(app.state.engine) as db:
                user = optional_user(request, db)
                return render(request, "error.html", {"status": exc.status_code, "detail": exc.detail},
                              status_code=exc.status_code, user=user)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 with the fields that do not match, without echoing what was sent (a refused
        5 MB note, or personal data, does not come back in the error)."""
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    return app
