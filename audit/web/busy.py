"""A busy database gives the user "try again", not a 500.

A request waits at most `AUDIT_DB_BUSY_TIMEOUT` seconds for a lock another writer
holds (SQLite's write lock, a PostgreSQL row lock) and `AUDIT_DB_POOL_TIMEOUT` for a
free connection. After that the answer is 503 with `Retry-After`, shaped for who
asked: a status fragment for the case form's autosave (htmx), the JSON error body
for the API, the error page for a browser. Nothing was written: the transaction
was rolled back with the session."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import escape
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from audit.db import DatabaseBusy, is_busy

log = logging.getLogger("audit.web")

RETRY_AFTER = 2   # seconds
MESSAGE = "The database is busy right now; nothing was saved. Please try again in a moment."
FORM_MESSAGE = "Not saved: the database is busy. Your input is kept here; try again in a moment."


def busy_response(request: Request) -> Response:
    response: Response
    if request.headers.get("hx-request"):
        response = HTMLResponse(f'<span class="status error" role="alert" aria-live="assertive" data-busy="1">'
                                f"{escape(FORM_MESSAGE)}</span>", status_code=503)
    elif "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/api/"):
        from audit.web.deps import render

        response = render(request, "error.html", {"status": 503, "detail": MESSAGE}, status_code=503)
    else:
        response = JSONResponse({"detail": MESSAGE, "retry_after": RETRY_AFTER}, status_code=503)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    return response


def install(app: FastAPI) -> None:
    async def database_error(request: Request, exc: Exception) -> Response:
        if not is_busy(exc):
            raise exc
        log.warning("database busy on %s %s: %s", request.method, request.url.path, exc)
        return busy_response(request)

    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(PoolTimeout, database_error)
    app.add_exception_handler(DatabaseBusy, database_error)
