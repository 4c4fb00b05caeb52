"""A blocked database does not freeze the server (issue 12): while another connection
holds the lock a save needs (SQLite's write lock, a PostgreSQL row lock on the case),
/login and a page keep answering at once, and the save gives up after the busy
timeout with 503, Retry-After and a "try again" message (a fragment for the
autosave, JSON for the API). Once the lock is gone the same save goes through."""
from __future__ import annotations

import re
import sqlite3
import threading
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

import audit.config
from audit.db import make_engine
from audit.models import AuditLog
from tests.review.live import client, live_server

BUSY_TIMEOUT = 2.0


@pytest.fixture
def busy_app(engine, monkeypatch):  # type: ignore[no-untyped-def]
    """The app on an engine that waits BUSY_TIMEOUT seconds for a lock."""
    from audit.web.app import create_app

    monkeypatch.setenv("AUDIT_DB_BUSY_TIMEOUT", str(BUSY_TIMEOUT))
    audit.config.get_settings.cache_clear()
    eng = make_engine(str(engine.url.render_as_string(hide_password=False)))
    yield create_app(engine=eng)
    eng.dispose()


@contextmanager
def lock_held(db_url: str, case_id: int):  # type: ignore[no-untyped-def]
    """Another writer holding what a save of `case_id` must wait for."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")          # SQLite's one write lock
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    eng = create_engine(db_url)
    with eng.connect() as conn:
        conn.execute(text('SELECT id FROM "case" WHERE id = :id FOR UPDATE'), {"id": case_id})
        try:
            yield
        finally:
            conn.rollback()
    eng.dispose()


def test_a_held_lock_gives_503_try_again_and_other_requests_keep_flowing(busy_app, world, db_url, engine):
    cid = world.case_ids[0]
    with live_server(busy_app) as base:
        c, token = client(base, world.auditor.username)
        page = c.get(f"/review/cases/{cid}").text
        version = int(re.search(r'id="form-version" name="version" value="(\d+)"', page).group(1))
        form = {"item": "plan_exists", "value": "ja", "version": str(version)}
        htmx = {"X-CSRF-Token": token, "HX-Request": "true"}
        sqlite = db_url.startswith("sqlite")
        if sqlite:   # a log-in writes (its server-side session): on SQLite it waits for the one writer too
            other, _ = client(base, world.admin.username)
        with lock_held(db_url, cid):
            result: dict = {}

            def save() -> None:
                t0 = time.monotonic()
                result["response"] = c.post(f"/review/cases/{cid}/answer", data=form, headers=htmx)
                result["seconds"] = time.monotonic() - t0

            saver = threading.Thread(target=save)
            saver.start()
            time.sleep(0.3)                      # the save is now waiting for the lock
            if not sqlite:   # PostgreSQL: only the case's row is locked, so a log-in goes through
                t0 = time.monotonic()
                other, _ = client(base, world.admin.username)       # GET /login, POST /login, GET /
                took = time.monotonic() - t0
                assert took < BUSY_TIMEOUT, f"logging in took {took:.2f} s while a save waited for the lock"
            # a case page logs the read of personal data (audit.access): on SQLite that write waits too
            for path in ("/login", "/review") + (() if sqlite else (f"/review/cases/{cid}",)):
                t0 = time.monotonic()
                r = other.get(path)
                took = time.monotonic() - t0
                assert r.status_code == 200, (path, r.status_code)
                assert took < BUSY_TIMEOUT / 2, f"{path} took {took:.2f} s while a save waited for the lock"
            assert saver.is_alive(), "the save should still be waiting for the lock"
            other.close()
            saver.join(timeout=60)
            r = result["response"]
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"].isdigit()
            assert 'data-busy="1"' in r.text and "database is busy" in r.text and "try again" in r.text.lower()
            assert BUSY_TIMEOUT * 0.8 <= result["seconds"] < BUSY_TIMEOUT + 10
            # the JSON API says the same as JSON
            r = c.put(f"/api/review/cases/{cid}/answers/plan_exists", headers={"X-CSRF-Token": token,
                                                                                "accept": "application/json"},
                      json={"value": "ja", "expected_version": version})
            assert r.status_code == 503 and "busy" in r.json()["detail"] and r.headers["retry-after"]
        # nothing was half-written; with the lock gone the same save goes through
        with Session(engine) as s:
            assert s.exec(select(AuditLog).where(AuditLog.entity == "answer")).all() == []
        r = c.post(f"/review/cases/{cid}/answer", data=form, headers=htmx)
        assert r.status_code == 200 and "Saved" in r.text
        c.close()
