"""Shared fixtures: a fresh, migrated database per test (SQLite always, PostgreSQL too
when AUDIT_TEST_POSTGRES_URL is set), an app client, and users of each role.

Two things keep the suite fast without changing what it checks:
- passwords are hashed with argon2's cheapest parameters (AUDIT_TEST_CHEAP_HASHES, read by
  audit.auth when it is imported, so it is set here before anything imports it);
- a questionnaire file is parsed from YAML once per session: `audit.instrument.loader.read_raw`
  is wrapped in a cache keyed on the file's SHA-256, so every test, fixture and production path
  that loads the same content gets a fresh copy of the parsed data and still validates and
  builds its own Instrument; a changed or new file is parsed as usual.
"""
from __future__ import annotations

import copy
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

os.environ["AUDIT_TEST_CHEAP_HASHES"] = "1"

import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

import audit.config  # noqa: E402
import audit.db  # noqa: E402
import audit.instrument.loader  # noqa: E402
from audit.db import make_engine, upgrade  # noqa: E402

PG_URL = os.environ.get("AUDIT_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])
PASSWORD = "correct horse battery"

_parse_yaml = audit.instrument.loader.read_raw
_parsed: dict[str, object] = {}


def _read_raw_once(path):  # type: ignore[no-untyped-def]
    try:
        key = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return _parse_yaml(path)  # the loader reports the unreadable file itself
    if key not in _parsed:
        _parsed[key] = _parse_yaml(path)  # raises for a bad file, which is then not cached
    return copy.deepcopy(_parsed[key])


audit.instrument.loader.read_raw = _read_raw_once


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _pg_template() -> str | None:
    if not PG_URL:
        return None
    name = f"audit_tmpl_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path) -> Iterator[str]:
    """URL of a fresh, fully migrated database for one test."""
    yield from fresh_database(request.param, request, tmp_path, _sqlite_template)


def fresh_database(backend: str, request: pytest.FixtureRequest, tmp_path: Path,
                   sqlite_template: Path) -> Iterator[str]:
    """The body of a `db_url` fixture: a fresh, fully migrated database of `backend`
    (sqlite or postgres), removed afterwards."""
    if backend == "sqlite":
        path = tmp_path / "audit.sqlite"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("_pg_template")
    name = "audit_t_" + re.sub(r"\W", "", uuid.uuid4().hex[:12])
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


_built: dict[str, tuple[Path, object]] = {}


def _renew_data_versions(path: Path) -> None:
    """A copied database gets fresh data-version tokens, as a database built anew would: no
    in-process cache keyed on (audit, token) can hand one test's frame or file to another."""
    import sqlite3

    from audit.dataversion import new_token

    con = sqlite3.connect(path)
    try:
        for (audit_id,) in con.execute("SELECT id FROM audit").fetchall():
            con.execute("UPDATE audit SET data_version = ? WHERE id = ?", (new_token(), audit_id))
        con.commit()
    finally:
        con.close()


def _build_file(key: str, build, template: Path, factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """(file, result): `build` run once per session on a copy of the migrated SQLite template."""
    if key not in _built:
        from audit.db import make_engine as _make_engine

        path = factory.mktemp("built") / f"{key}.sqlite"
        shutil.copy(template, path)
        eng = _make_engine(f"sqlite:///{path}")
        try:
            result = build(eng)
            with eng.connect() as conn:  # everything in the main file: a copy needs no -wal
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            eng.dispose()
        _built[key] = (path, result)
    return _built[key]


def copy_built(path: Path, target: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copy(path, target)
    _renew_data_versions(target)


@pytest.fixture
def built_once(engine: Engine, _sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """built_once(key, build) -> build(engine)'s result, with the test's database holding what
    build wrote. On SQLite `build` runs once per session (key names the world) on its own copy
    of the migrated template, and every test gets a fresh copy of that file (written before the
    test's engine connects again), so a test that writes changes only its own copy. On
    PostgreSQL `build` runs on the test's database every time. `build` returns plain values
    (ids, names), never ORM objects bound to its session."""

    def _get(key: str, build):  # type: ignore[no-untyped-def]
        if engine.dialect.name != "sqlite":
            return build(engine)
        path, result = _build_file(key, build, _sqlite_template, tmp_path_factory)
        engine.dispose()
        with engine.connect() as conn:  # nothing written yet that the copy would drop
            assert not any(conn.exec_driver_sql(f'SELECT 1 FROM "{t}" LIMIT 1').first()
                           for t in ("user", "audit", "auditlog")), "built_once must come before any write"
        engine.dispose()
        copy_built(path, Path(engine.url.database))
        return copy.deepcopy(result)

    return _get


def build_demo_world(engine: Engine) -> dict:
    """`audit demo`'s audit (default seed) on `engine`: build_demo's summary (plain values)."""
    from audit.demo import build_demo

    with Session(engine) as s:
        result = build_demo(s, seed=None)
        s.commit()
    return result


@pytest.fixture(scope="session")
def demo_db(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo audit (`audit demo`), built once per session on SQLite (the same file
    built_once("demo", build_demo_world) copies): the URL of a copy that read-only tests share."""
    path, _ = _build_file("demo", build_demo_world, _sqlite_template, tmp_path_factory)
    target = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    copy_built(path, target)
    return f"sqlite:///{target}"


@pytest.fixture
def engine(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Engine]:
    """Engine on the fresh database; the app's settings point at it too (CLI tests)."""
    monkeypatch.setenv("AUDIT_DATABASE_URL", db_url)
    monkeypatch.setenv("AUDIT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AUDIT_SECRET_KEY", "test-secret-key-not-for-production")
    audit.config.get_settings.cache_clear()
    audit.db.get_engine.cache_clear()
    eng = make_engine(db_url)
    yield eng
    eng.dispose()
    audit.config.get_settings.cache_clear()
    audit.db.get_engine.cache_clear()


@pytest.fixture(autouse=True)
def interface_language(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The language of the interface in a test (docs/i18n.md). The product's default is Danish;
    tests written against the English texts run with AUDIT_LANGUAGE=en, and a test (or module)
    marked `danish` runs in the default language, the way a user meets the tool."""
    from audit import i18n

    lang = "da" if request.node.get_closest_marker("danish") else "en"
    monkeypatch.setenv("AUDIT_LANGUAGE", lang)
    audit.config.get_settings.cache_clear()
    with i18n.language(None):
        yield lang
    audit.config.get_settings.cache_clear()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as s:
        yield s


@pytest.fixture
def make_user(engine: Engine):  # type: ignore[no-untyped-def]
    from audit.auth import add_user

    def _make(username: str, role: str, municipality: str | None = None):  # type: ignore[no-untyped-def]
        with Session(engine) as s:
            user = add_user(s, username=username, password=PASSWORD, role=role, municipality=municipality)
            s.commit()
            s.refresh(user)
            return user

    return _make


@pytest.fixture
def app(engine: Engine):  # type: ignore[no-untyped-def]
    from audit.web.app import create_app

    return create_app(engine=engine)


def login(client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """Log in through the real form (with its CSRF token); returns the token for later posts."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    resp = client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)
    assert resp.status_code == 303, resp.text
    page = client.get("/")
    return re.search(r'"X-CSRF-Token": "([^"]+)"', page.text).group(1)


@pytest.fixture
def client_for(app):  # type: ignore[no-untyped-def]
    """client_for(user) -> (TestClient logged in as that user, csrf token)."""
    from fastapi.testclient import TestClient

    clients = []

    def _client(user):  # type: ignore[no-untyped-def]
        c = TestClient(app, headers={"accept": "text/html"})
        clients.append(c)
        token = login(c, user.username)
        return c, token

    yield _client
    for c in clients:
        c.close()
