"""Helpers for the accounts, sessions, trail and access-log tests (new fixtures only; the
shared ones, including the password hasher set-up, live in tests/conftest.py)."""
from __future__ import annotations

import base64
import json
import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, login

__all__ = ["PASSWORD", "cookie_payload", "login_form", "post_login"]


def cookie_payload(client: TestClient) -> dict:
    """What the signed session cookie carries (Starlette: base64 JSON, then the signature)."""
    value = client.cookies.get("audit_session")
    assert value, "no session cookie"
    data = value.split(".")[0]
    return json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))


def login_form(client: TestClient) -> str:
    page = client.get("/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def post_login(client: TestClient, username: str, password: str):  # type: ignore[no-untyped-def]
    token = login_form(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)


@pytest.fixture
def browser(app):  # type: ignore[no-untyped-def]
    """browser(address=...) -> a fresh TestClient (a separate browser) from that client address."""
    clients = []

    def _new(address: str = "testclient") -> TestClient:
        c = TestClient(app, headers={"accept": "text/html"}, client=(address, 50000))
        clients.append(c)
        return c

    yield _new
    for c in clients:
        c.close()


@pytest.fixture
def logged_in(browser):  # type: ignore[no-untyped-def]
    """logged_in(user) -> (client, csrf token) after a real log-in."""
    def _login(user, address: str = "testclient"):  # type: ignore[no-untyped-def]
        c = browser(address)
        return c, login(c, user.username)

    return _login
