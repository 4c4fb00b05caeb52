"""The language of each request (audit.i18n): plain ASGI middleware, inside the session
middleware, so the session is read without a database query.

- A page speaks the language kept in the session (`lang`): chosen with the switch in the
  header (anyone, the login page too) or on the account page (kept on the user as well and
  put back into the session at every log-in); else the site's (`AUDIT_LANGUAGE`, default Danish).
- The JSON API (`/api/...`, the OpenAPI schema) always answers in English: its `detail`
  texts are read by scripts, which must not change with a person's choice (docs/i18n.md).
"""
from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from audit import i18n

SESSION_KEY = "lang"
ENGLISH_PREFIXES = ("/api/", "/openapi.json")


def request_language(path: str, session: dict | None) -> str | None:
    """The language a request to `path` with `session` is answered in (None: the site's)."""
    if path.startswith(ENGLISH_PREFIXES):
        return "en"
    return i18n.normalise((session or {}).get(SESSION_KEY))


class LanguageMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = i18n.set_language(request_language(scope.get("path", ""), scope.get("session")))
        try:
            await self.app(scope, receive, send)
        finally:
            i18n.reset_language(token)
