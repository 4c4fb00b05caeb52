"""Every command on a fresh, older or foreign database: a fresh one is prepared, anything
else gets one line saying what to do, and no SQLAlchemy error reaches a person."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import audit.config
import audit.db
from audit.cli import main
from tests.conftest import PG_URL

CREATE = ["audits", "create", "Fresh 2022", "--period-start", "2018-03-01", "--period-end", "2020-02-29",
          "--reference-date", "2020-03-01"]
RAW = re.compile(r"sqlalche\.me|Traceback|\[SQL:|OperationalError|ProgrammingError")


def _settings(monkeypatch: pytest.MonkeyPatch, url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("AUDIT_DATABASE_URL", url)
    monkeypatch.setenv("AUDIT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AUDIT_SECRET_KEY", "test-secret-key-not-for-production")
    audit.config.get_settings.cache_clear()
    audit.db.get_engine.cache_clear()


@pytest.fixture(params=["sqlite"] + (["postgres"] if PG_URL else []))
def empty_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty database nobody has migrated: a zero-byte SQLite file, a new PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "empty.sqlite"
        path.touch()
        url = f"sqlite:///{path}"
        _settings(monkeypatch, url, tmp_path)
        yield url
    else:
        name = f"audit_empty_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        _settings(monkeypatch, url, tmp_path)
        yield url
        audit.db.get_engine().dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    audit.db.get_engine.cache_clear()
    audit.config.get_settings.cache_clear()


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args))


def test_a_fresh_database_is_prepared_by_the_first_command(empty_url: str) -> None:
    listed = _run("users", "list")
    assert listed.exit_code == 0, listed.output
    assert "prepared a new database at" in listed.output and "username" in listed.output
    created = _run(*CREATE)
    assert created.exit_code == 0, created.output
    assert "audit 'Fresh 2022' created" in created.output
    assert "prepared a new database" not in created.output  # once only
    assert "Fresh 2022" in _run("audits", "list").output
    state = audit.db.schema_state(empty_url)
    assert state.up_to_date and "audit" in state.tables


def test_create_before_anything_else_on_an_empty_file(empty_url: str) -> None:
    created = _run(*CREATE)
    assert created.exit_code == 0, created.output
    assert not RAW.search(created.output)


def _one_error_line(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert not RAW.search(result.output)
    return lines[0]


def test_an_older_schema_is_refused_with_one_line(empty_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from alembic.script import ScriptDirectory

    audit.db.upgrade(empty_url)
    # this version ships a revision the database does not have yet
    monkeypatch.setattr(ScriptDirectory, "get_heads", lambda self: ["9999_newer"])
    for args in (["users", "list"], CREATE, ["audits", "list"]):
        line = _one_error_line(_run(*args))
        assert "older schema" in line and "run `audit db upgrade`" in line


def test_unknown_revision_and_unmanaged_tables_are_named(empty_url: str) -> None:
    audit.db.upgrade(empty_url)
    engine = create_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    line = _one_error_line(_run("users", "list"))
    assert "from_the_future" in line and "newer version" in line
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    line = _one_error_line(_run("audits", "list"))
    assert "no schema revision" in line


def test_an_unreachable_database_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _settings(monkeypatch, "postgresql+psycopg://nobody:secret@127.0.0.1:1/none", tmp_path)
    try:
        line = _one_error_line(_run("users", "list"))
    finally:
        audit.config.get_settings.cache_clear()
        audit.db.get_engine.cache_clear()
    assert line.startswith("Error: database error at postgresql+psycopg://nobody:***@127.0.0.1:1/none")
    assert "secret" not in line


def test_commands_without_a_database_do_not_open_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from audit import resources

    _settings(monkeypatch, "postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path)
    try:
        result = _run("instrument", "check", str(resources.questionnaire()))
    finally:
        audit.config.get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "no errors" in result.output
