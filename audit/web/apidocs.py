"""The API's documentation, for logged-in users only: `/openapi.json` (the schema),
`/docs` (Swagger UI, served from the installed `swagger-ui-bundle-v2` package, no CDN,
started by a script file under the same CSP as every page), `/redoc` (sends to /docs).
A person who is not logged in is sent to the login page; a script gets 401."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from audit.web.deps import CurrentUser, render

router = APIRouter(include_in_schema=False)


def swagger_ui_files() -> StaticFiles:
    from swagger_ui_bundle import swagger_ui_path

    return StaticFiles(directory=str(swagger_ui_path))


@router.get("/openapi.json")
def openapi_schema(request: Request, user: CurrentUser) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs")
def swagger_ui(request: Request, user: CurrentUser):  # type: ignore[no-untyped-def]
    return render(request, "docs.html", {"title": request.app.title}, user=user)


@router.get("/redoc")
def redoc(user: CurrentUser) -> RedirectResponse:
    return RedirectResponse("/docs", status_code=303)
