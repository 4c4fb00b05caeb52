"""The FastAPI application: middleware, static files, error pages and the rooms' routers."""
from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware

from audit.config import Settings, get_settings
from audit.db import get_engine
from audit.web import busy
from audit.web.deps import WEB_DIR, csrf_protect, optional_user, render, route_permission


ALREADY_COMPRESSED = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      "application/x-spss-sav", "application/octet-stream")


def create_app(engine: Engine | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Case-file audit",
        summary="Review of long-term cash-benefit cases: sample, review, comment rounds, statistics.",
        dependencies=[Depends(csrf_protect), Depends(route_permission)],
    )
    app.state.engine = engine or get_engine()
    app.state.settings = settings
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie="audit_session",
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    # Pages and fragments compressed; downloads that are zip files already (xlsx) are not.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=3,
                       exclude_content_types=DEFAULT_EXCLUDED_CONTENT_TYPES + ALREADY_COMPRESSED)
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")

    from audit.web import accounts, admin
    for module in (accounts, admin):
        app.include_router(module.router)
    for name in ("review", "hearing", "statistics", "exports", "sampling"):
        try:
            module = __import__(f"audit.web.{name}", fromlist=["router"])
        except ModuleNotFoundError:
            continue
        app.include_router(module.router)

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
                    return render(request, "error.html", {"status": exc.status_code, "detail": exc.detail},
                                  status_code=exc.status_code, user=user)
            return await run_in_threadpool(page)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    return app
