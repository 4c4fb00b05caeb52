"""The app starts with every room's router or not at all: a router that fails to import
fails `create_app` instead of leaving its pages silently missing."""
from __future__ import annotations

import sys

import pytest

import audit.web

ROUTERS = ["review", "hearing", "statistics", "exports", "sampling", "accounts", "admin"]


@pytest.mark.parametrize("name", ROUTERS)
def test_a_router_that_fails_to_import_fails_the_start(name: str, engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from audit.web.app import create_app

    __import__(f"audit.web.{name}")
    monkeypatch.delattr(audit.web, name)
    monkeypatch.setitem(sys.modules, f"audit.web.{name}", None)  # importing it now raises ModuleNotFoundError
    with pytest.raises(ImportError):
        create_app(engine=engine)


def test_every_router_is_mounted(engine) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from audit.web.app import create_app

    with TestClient(create_app(engine=engine)) as client:
        assert client.get("/no-such-page").status_code == 404
        assert client.get("/login").status_code == 200
        assert client.get("/static/app.css").status_code == 200
        for page in ("/admin", "/review", "/hearing", "/stats", "/exports", "/sampling"):
            assert client.get(page, follow_redirects=False).status_code == 401, page  # there, behind login
