"""Two pieces of plain ASGI middleware that every response and request passes:

- `SecurityHeaders`: a Content-Security-Policy without inline script or style (every
  script is a file under /static; htmx is told not to inject its indicator style),
  no framing, nosniff, a same-origin Referrer-Policy, and `Cache-Control: no-store` on
  everything but the static files: every page, API answer and download of this app
  shows case data or is only for a logged-in user.
- `BodyLimit`: a request body larger than `audit.limits.current().upload_bytes` is
  refused with 413 before it is read: at once when Content-Length says so, otherwise
  as soon as the streamed body passes the limit (nothing is read whole first).
"""
from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audit import limits
from audit.i18n import _

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
STATIC_PREFIX = "/static/"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, csp: str = CSP) -> None:
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in {**HEADERS, "content-security-policy": csp}.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith(STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.headers if k not in present]
                if not static and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def too_large(size: int | None = None) -> HTTPException:
    limit = limits.current().upload_bytes
    mb = f"{limit / 1024 / 1024:.0f}"
    if size is not None:
        detail = _("{size} MB is more than the {limit} MB a request or uploaded file may be; nothing was saved"
                   ).format(size=f"{size / 1024 / 1024:.1f}", limit=mb)
    else:
        detail = _("The request is more than the {limit} MB a request or uploaded file may be; nothing was saved"
                   ).format(limit=mb)
    return HTTPException(status_code=413, detail=detail)


class BodyLimit:
    """Refuse bodies over the upload limit with 413 (the app's error page or JSON).

    The refusal is raised inside the app (from `receive`), so the app's own error
    handler answers it: a browser sees a page, the API a `{"detail": ...}`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limits.current().upload_bytes
        declared = _content_length(scope)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise too_large(declared)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large()
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None

