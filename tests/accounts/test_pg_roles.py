"""PostgreSQL: the app's login role cannot drop, truncate, rewrite or replace the logs
(issue 12: "`DROP TABLE` works, `TRUNCATE` on PostgreSQL empties it"). A real owner role
migrates the database, `audit db grant --app-role` sets up the app role, and the app runs as it."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

import audit.config
import audit.db
from audit import access, auditlog
from audit.auth import add_user
from audit.cli import main
from audit.db import make_engine, upgrade
from audit.models import AccessLog, AuditLog, UserSession
from tests.accounts.conftest import post_login
from tests.conftest import PASSWORD, PG_URL, login

needs_pg = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (AUDIT_TEST_POSTGRES_URL)")


@pytest.fixture
def roles(monkeypatch, tmp_path) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    """A database owned by a fresh owner role (not a superuser), migrated by it, and the
    app role set up by `audit db grant` run as the owner."""
    tag = uuid.uuid4().hex[:8]
    owner, app_role, name = f"owner_{tag}", f"app_{tag}", f"audit_roles_{tag}"
    su = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with su.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{owner}" LOGIN CREATEROLE'))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{owner}"'))
    base = make_url(PG_URL).set(database=name)
    owner_url = base.set(username=owner).render_as_string(hide_password=False)
    app_url = base.set(username=app_role).render_as_string(hide_password=False)
    upgrade(owner_url)
    monkeypatch.setenv("AUDIT_DATABASE_URL", owner_url)
    monkeypatch.setenv("AUDIT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AUDIT_SECRET_KEY", "test-secret-key-not-for-production")
    audit.config.get_settings.cache_clear()
    audit.db.get_engine.cache_clear()
    result = CliRunner().invoke(main, ["db", "grant", "--app-role", app_role, "--password", "app-role-secret-1"])
    assert result.exit_code == 0, result.output
    engines = []

    def engine_for(url: str):  # type: ignore[no-untyped-def]
        e = make_engine(url)
        engines.append(e)
        return e

    yield {"owner": owner, "app": app_role, "owner_url": owner_url, "app_url": app_url, "engine": engine_for,
           "grant_output": result.output}
    for e in engines:
        e.dispose()
    audit.db.get_engine().dispose()
    audit.config.get_settings.cache_clear()
    audit.db.get_engine.cache_clear()
    with su.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{app_role}"'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{owner}"'))
    su.dispose()


REFUSED = [
    "TRUNCATE auditlog",
    "DROP TABLE auditlog",
    "DELETE FROM auditlog",
    "UPDATE auditlog SET new_value = 'x'",
    "ALTER TABLE auditlog RENAME TO auditlog_old",
    "ALTER TABLE auditlog DISABLE TRIGGER auditlog_no_change",
    "CREATE TABLE auditlog_copy (id integer)",
    "INSERT INTO auditlog (id, at, username, entity) VALUES (1, now(), 'x', 'y') "
    "ON CONFLICT (id) DO UPDATE SET entity = 'z'",
    "TRUNCATE accesslog, accesscase",
    "DROP TABLE accesscase",
    "DELETE FROM accesslog",
    "UPDATE accesscase SET person_id = 'someone else'",
    "DELETE FROM logchain",
]


@needs_pg
def test_the_app_role_cannot_drop_truncate_or_rewrite_the_logs(roles):
    owner_engine = roles["engine"](roles["owner_url"])
    with Session(owner_engine) as s:
        add_user(s, username="ada", password=PASSWORD, role="admin")
        s.commit()
    app_engine = roles["engine"](roles["app_url"])
    for statement in REFUSED:
        with app_engine.connect() as conn, pytest.raises(Exception, match="permission denied|must be owner"):
            conn.execute(text(statement))
    with Session(app_engine) as s:
        assert s.exec(select(AuditLog)).all()  # still there, readable
        assert auditlog.verify(s).message() == "1 entry, chain intact"


@needs_pg
def test_the_app_runs_as_the_app_role(roles):
    """Log-in, a page, a logged read, a change: all with the app role's privileges only."""
    owner_engine = roles["engine"](roles["owner_url"])
    with Session(owner_engine) as s:
        add_user(s, username="ada", password=PASSWORD, role="admin")
        s.commit()
    upgrade(roles["app_url"])  # what `audit serve` does first: a no-op at the newest revision
    from audit.web.app import create_app

    app_engine = roles["engine"](roles["app_url"])
    with TestClient(create_app(engine=app_engine), headers={"accept": "text/html"}) as c:
        token = login(c, "ada")
        assert c.get("/admin/users").status_code == 200
        assert c.get("/admin/access?person=p1").status_code == 200  # writes an access entry
        with TestClient(create_app(engine=app_engine)) as other:
            for i in range(5):  # failures and a pause of another name: the throttle tables
                assert post_login(other, "ghost", f"wrong-{i}-guess").status_code in (401, 429)
        assert c.post("/logout", data={"csrf_token": token}).status_code == 200
    with Session(app_engine) as s:
        assert s.exec(select(UserSession)).one().end_reason == "logout"
        assert s.exec(select(AccessLog)).one().what == "access log of a person"
        assert auditlog.verify(s).intact and access.verify(s).intact
        fields = [e.field for e in s.exec(select(AuditLog).order_by(AuditLog.id)).all()]
        assert fields == ["created", "login", "lockout", "logout"]


@needs_pg
def test_grant_lists_the_privileges_and_refuses_the_owner_itself(roles):
    out = roles["grant_output"]
    assert f'GRANT SELECT, INSERT ON TABLE public.auditlog TO {roles["app"]}' in out
    assert f'GRANT SELECT, UPDATE ON TABLE public.logchain TO {roles["app"]}' in out
    assert f'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public."case" TO {roles["app"]}' in out
    result = CliRunner().invoke(main, ["db", "grant", "--app-role", roles["owner"]])
    assert result.exit_code != 0 and "the app role must be another" in result.output
    again = CliRunner().invoke(main, ["db", "grant", "--app-role", roles["app"]])  # idempotent
    assert again.exit_code == 0, again.output


def test_grant_is_refused_on_sqlite(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_DATABASE_URL", f"sqlite:///{tmp_path / 'a.sqlite'}")
    audit.config.get_settings.cache_clear()
    audit.db.get_engine.cache_clear()
    try:
        upgrade()
        result = CliRunner().invoke(main, ["db", "grant", "--app-role", "audit_app"])
        assert result.exit_code != 0 and "PostgreSQL only" in result.output
    finally:
        audit.db.get_engine().dispose()
        audit.config.get_settings.cache_clear()
        audit.db.get_engine.cache_clear()
