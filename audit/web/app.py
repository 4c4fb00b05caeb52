"""The FastAPI application: middleware (session, security headers, body limit), static
files, error pages, the API docs behind login, and the rooms' routers.

Every room's web layer is a package `audit.web.<room>` with a `pages` module (HTML,
not in the API schema) and an `api` module (JSON and downloads, with response models);
its `routers` are included here. A room that fails to import fails the start."""
from __future__ import annotations

import importlib
from http import HTTPStatus
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware

from audit.config import Settings, get_settings
from audit.i18n import gettext, lazy_gettext
from audit.db import get_engine
from audit.web import apidocs, busy
from audit.web.deps import STATIC_DIR, csrf_protect, optional_user, render, route_permission
from audit.web.language import LanguageMiddleware
from audit.web.security import BodyLimit, SecurityHeaders

# The error page's heading and explanation per status, in the reader's language.
ERROR_TEXTS: dict[int, tuple[Any, Any]] = {
    400: (lazy_gettext("The request could not be read"),
          lazy_gettext("The page sent something the server could not read. Go back, reload the page and try again.")),
    403: (lazy_gettext("Not allowed"), lazy_gettext("Your role may not open this page or do this.")),
    404: (lazy_gettext("Not found"), lazy_gettext("There is no such page, or it is not yours to see.")),
    405: (lazy_gettext("Not found"), lazy_gettext("There is no such page, or it is not yours to see.")),
    409: (lazy_gettext("Not possible right now"),
          lazy_gettext("What you asked for conflicts with the audit's current state; nothing was changed.")),
    413: (lazy_gettext("Too large"), lazy_gettext("The file or the form is larger than the limit; nothing was saved.")),
    422: (lazy_gettext("Not accepted"), lazy_gettext("The form could not be accepted; nothing was saved.")),
    423: (lazy_gettext("The audit is locked"), lazy_gettext("Its answers are final and can no longer be changed.")),
    429: (lazy_gettext("Too many attempts"), lazy_gettext("Wait a moment and try again.")),
    503: (lazy_gettext("The database is busy"),
          lazy_gettext("Nothing was saved. Wait a moment and try again.")),
}


def error_page(status: int, detail: Any) -> dict[str, Any]:
    """The error page's texts: a heading and an explanation for the status, and the detail of the
    refusal translated when it is one of the catalogue's texts (a domain refusal is translated where
    it is raised). Starlette's own English phrases ("Not Found") are replaced by the heading."""
    heading, explanation = ERROR_TEXTS.get(status, (None, None))
    text = detail if isinstance(detail, str) else ""
    phrases = {s.value: s.phrase for s in HTTPStatus}
    if text and text == phrases.get(status):
        text = ""
    return {"status": status, "heading": str(heading) if heading else gettext("Error {status}").format(status=status),
            "explanation": str(explanation) if explanation else "", "detail": gettext(text) if text else ""}


ROOMS = ("accounts", "admin", "review", "hearing", "statistics", "exports", "sampling")
ALREADY_COMPRESSED = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      "application/x-spss-sav", "application/octet-stream")


def create_app(engine: Engine | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Case-file audit",
        summary="Review of long-term cash-benefit cases: sample, review, comment rounds, statistics.",
        dependencies=[Depends(csrf_protect), Depends(route_permission)],
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
    # Pages and fragments compressed; downloads that are zip files already (xlsx) are not.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=3,
                       exclude_content_types=DEFAULT_EXCLUDED_CONTENT_TYPES + ALREADY_COMPRESSED)
    app.mount("/static/swagger-ui", apidocs.swagger_ui_files(), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    app.include_router(apidocs.router)
    for name in ROOMS:
        room = importlib.import_module(f"audit.web.{name}")
        for router in room.routers:
            app.include_router(router)

    busy.install(app)

    @app.exception_handler(StarletteHTTPException)  # also unknown URLs and wrong methods, raised by the router
    async def http_error(request: Request, exc: HTTPException):  # type: ignore[no-untyped-def]
        wants_html = "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/api/")
        if exc.status_code == 401 and wants_html:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if wants_html:
            from sqlmodel import Session
            from starlette.concurrency import run_in_threadpool

            def page():  # type: ignore[no-untyped-def]  # database work off the event loop
                with Session(app.state.engine) as db:
                    user = optional_user(request, db)
                    return render(request, "error.html", error_page(exc.status_code, exc.detail),
                                  status_code=exc.status_code, user=user)
            return await run_in_threadpool(page)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 with the fields that do not match, without echoing what was sent (a refused
        5 MB note, or personal data, does not come back in the error)."""
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    return app
