"""The real server on loopback for tests that need requests in parallel: uvicorn
serving the app in a background thread (one event loop, FastAPI's threadpool),
and logged-in httpx clients. TestClient would give every request its own event
loop and hide a route that blocks the loop."""
from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from tests.conftest import PASSWORD


@contextmanager
def live_server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def client(base: str, username: str, password: str = PASSWORD, timeout: float = 60) -> tuple[httpx.Client, str]:
    """An httpx client logged in through the real form; returns it and its CSRF token."""
    c = httpx.Client(base_url=base, follow_redirects=True, timeout=timeout, headers={"accept": "text/html"})
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    resp = c.post("/login", data={"username": username, "password": password, "csrf_token": token},
                  follow_redirects=False)
    assert resp.status_code == 303, resp.text
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', c.get("/").text).group(1)
    return c, token


def twin(c: httpx.Client) -> httpx.Client:
    """Another connection with the same session (another tab of the same browser)."""
    return httpx.Client(base_url=str(c.base_url), follow_redirects=True, timeout=c.timeout,
                        headers=dict(c.headers), cookies=c.cookies)
