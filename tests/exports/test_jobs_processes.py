"""Background jobs across server processes, as with `audit serve --workers N`: two real
`audit serve` processes on one database. A job queued through one is seen, ready, and
downloaded through the other; when the process running a job is killed, the other marks
the job failed instead of leaving it running for ever."""
from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from openpyxl import load_workbook

from tests.conftest import PASSWORD

HX = {"HX-Request": "true", "accept": "text/html"}
STALE = 4  # seconds without a heartbeat before a job is taken for dead (AUDIT_EXPORT_JOB_STALE_SECONDS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def servers(engine, db_audit, make_user):  # type: ignore[no-untyped-def]
    """Two `audit serve` processes on the test database (its environment: the engine fixture's)."""
    make_user("chef", "admin")
    env = {**os.environ, "AUDIT_EXPORT_JOB_STALE_SECONDS": str(STALE), "AUDIT_LANGUAGE": "en"}
    procs, bases = [], []
    for _ in range(2):
        port = _free_port()
        procs.append(subprocess.Popen([sys.executable, "-m", "audit", "serve", "--port", str(port)], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        bases.append(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 120
    for base in bases:
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("audit serve did not start")
            time.sleep(0.3)
    yield procs, bases
    for p in procs:
        if p.poll() is None:
            p.terminate()
            p.wait(30)


def _login(base: str) -> tuple[httpx.Client, str]:
    """A client (its cookies valid on every process: the session is in the database) and its CSRF token."""
    client = httpx.Client(headers={"accept": "text/html"}, timeout=60, follow_redirects=True)
    page = client.get(f"{base}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    resp = client.post(f"{base}/login", data={"username": "chef", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 200 and "csrf_token" in resp.text, resp.text
    page = client.get(f"{base}/")
    return client, re.search(r'"X-CSRF-Token": "([^"]+)"', page.text).group(1)


def _state(html: str) -> str:
    return re.search(r'data-state="([a-z]+)"', html).group(1)  # type: ignore[union-attr]


def _until(client: httpx.Client, url: str, states: tuple[str, ...], timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        html = client.get(url, headers=HX).text
        if _state(html) in states:
            return html
        time.sleep(0.2)
    raise AssertionError(f"{url}: not {states} within {timeout} s")


def test_a_job_queued_on_one_process_is_ready_and_downloaded_on_another(servers, db_audit):  # type: ignore[no-untyped-def]
    _procs, (a, b) = servers
    client, token = _login(a)
    queued = client.post(f"{a}/exports/{db_audit.id}/annex.xlsx/job", headers={**HX, "X-CSRF-Token": token})
    assert queued.status_code == 200 and _state(queued.text) == "queued"
    html = _until(client, f"{b}/exports/{db_audit.id}/annex.xlsx/job", ("ready", "failed"))
    assert _state(html) == "ready", html
    link = re.search(rf'href="(/exports/{db_audit.id}/annex\.xlsx/job/\d+)"', html).group(1)  # type: ignore[union-attr]
    from_b = client.get(f"{b}{link}")
    assert from_b.status_code == 200
    direct = client.get(f"{a}/exports/{db_audit.id}/annex.xlsx")
    job_wb, direct_wb = load_workbook(io.BytesIO(from_b.content)), load_workbook(io.BytesIO(direct.content))
    assert job_wb.sheetnames == direct_wb.sheetnames
    for name in job_wb.sheetnames[1:]:
        assert [[c.value for c in r] for r in job_wb[name].iter_rows()] == \
            [[c.value for c in r] for r in direct_wb[name].iter_rows()], name


def test_a_killed_process_leaves_no_job_running(servers, db_audit):  # type: ignore[no-untyped-def]
    procs, (a, b) = servers
    client, token = _login(a)
    # the report workbook of this audit takes a while (and its suppression finally refuses it)
    client.post(f"{a}/exports/{db_audit.id}/report.xlsx/job", headers={**HX, "X-CSRF-Token": token})
    _until(client, f"{b}/exports/{db_audit.id}/report.xlsx/job", ("running",), timeout=60)
    procs[0].send_signal(signal.SIGKILL)  # the server making it dies mid-run
    procs[0].wait(10)
    html = client.get(f"{b}/exports/{db_audit.id}/report.xlsx/job", headers=HX).text
    assert _state(html) == "running"  # not yet: its heartbeat is fresh
    html = _until(client, f"{b}/exports/{db_audit.id}/report.xlsx/job", ("failed", "ready"), timeout=STALE * 5)
    assert _state(html) == "failed" and "The server stopped while the file was being made" in html
    assert "Make it again" in html
