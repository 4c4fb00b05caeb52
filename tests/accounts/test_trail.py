"""The tamper-evident trail (issue 12: "`INSERT OR REPLACE` on SQLite replaced row 5 with other
text, `DROP TABLE` works, `TRUNCATE` on PostgreSQL empties it; nothing would show it happened")."""
from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import Session, select

from audit import auditlog
from audit.cli import main
from audit.models import AuditLog, LogChain


def _entries(engine, n: int = 8) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        for i in range(n):
            auditlog.record(s, user=None, entity="test", entity_id=i, field="value", old=None, new={"n": i},
                            reason=f"entry {i + 1}")
        s.commit()


def _owner_sql(engine, *statements: str) -> None:  # type: ignore[no-untyped-def]
    """Run statements as the database owner, triggers off: a change behind the app's back."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        if sqlite:
            for name in ("auditlog_no_update", "auditlog_no_delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        else:
            conn.execute(text("ALTER TABLE auditlog DISABLE TRIGGER auditlog_no_change"))
        for statement in statements:
            conn.execute(text(statement))
        if not sqlite:
            conn.execute(text("ALTER TABLE auditlog ENABLE TRIGGER auditlog_no_change"))


def _verify(engine) -> auditlog.Verdict:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return auditlog.verify(s)


def test_each_entry_hashes_its_canonical_form_and_the_previous_hash(engine):
    _entries(engine, 3)
    with Session(engine) as s:
        rows = s.exec(select(AuditLog).order_by(AuditLog.id)).all()
    prev = "0" * 64
    for r in rows:  # recomputed here from the documented canonical form, not with the app's helper
        doc = {"id": r.id, "at": r.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "user_id": r.user_id,
               "username": r.username, "audit_id": r.audit_id, "entity": r.entity, "entity_id": r.entity_id,
               "field": r.field, "old_value": r.old_value, "new_value": r.new_value, "reason": r.reason,
               "prev_hash": prev}
        expected = hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False,
                                             separators=(",", ":")).encode()).hexdigest()
        assert r.prev_hash == prev and r.entry_hash == expected
        prev = expected
    assert [r.id for r in rows] == [1, 2, 3]


def test_insert_or_replace_of_row_5_is_refused(engine):
    _entries(engine)
    replace = ("INSERT OR REPLACE INTO auditlog (id, at, username, entity, new_value) "
               "VALUES (5, '2020-01-01 00:00:00', 'x', 'test', 'other text')" if engine.dialect.name == "sqlite" else
               "INSERT INTO auditlog (id, at, username, entity, new_value) VALUES (5, now(), 'x', 'test', 'other text') "
               "ON CONFLICT (id) DO UPDATE SET new_value = EXCLUDED.new_value")
    with engine.connect() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text(replace))
    with Session(engine) as s:
        assert s.get(AuditLog, 5).new_value == '{"n": 4}'
    assert _verify(engine).message() == "8 entries, chain intact"


def test_truncate_and_delete_are_refused(engine):
    _entries(engine, 3)
    statement = "DELETE FROM auditlog" if engine.dialect.name == "sqlite" else "TRUNCATE auditlog"
    with engine.connect() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text(statement))
    assert _verify(engine).intact


def test_cli_verify_reports_an_intact_chain(engine):
    _entries(engine, 4)
    result = CliRunner().invoke(main, ["log", "verify"])
    assert result.exit_code == 0, result.output
    assert "audit trail: 4 entries, chain intact" in result.output
    assert "access log: 0 entries, chain intact" in result.output


def test_verify_finds_a_row_changed_behind_the_apps_back(engine):
    _entries(engine)
    with Session(engine) as s:
        stored = s.get(AuditLog, 5).entry_hash
    _owner_sql(engine, "UPDATE auditlog SET new_value = 'other text' WHERE id = 5")
    verdict = _verify(engine)
    assert not verdict.intact and verdict.broken_id == 5 and verdict.found == stored
    assert verdict.expected != stored and len(verdict.expected) == 64
    result = CliRunner().invoke(main, ["log", "verify"])
    assert result.exit_code == 1
    assert "entry 5: content does not match its hash" in result.output
    assert f"expected {verdict.expected}, found {stored}" in result.output


def test_verify_finds_a_changed_row_whose_own_hash_was_recomputed(engine):
    """Someone who knows the rule and fixes the row's own hash still breaks the next link."""
    _entries(engine)
    with Session(engine) as s:
        row = s.get(AuditLog, 5)
        fields = {f: getattr(row, f) for f in auditlog.AUDIT_FIELDS}
        fields["new_value"] = "other text"
        forged = auditlog.entry_hash(fields, row.prev_hash)
    _owner_sql(engine, f"UPDATE auditlog SET new_value = 'other text', entry_hash = '{forged}' WHERE id = 5")
    verdict = _verify(engine)
    assert verdict.broken_id == 6 and "link to the previous entry" in verdict.problem
    assert verdict.expected == forged


def test_verify_finds_a_removed_entry_and_a_removed_tail(engine):
    _entries(engine)
    _owner_sql(engine, "DELETE FROM auditlog WHERE id = 3")
    assert _verify(engine).broken_id == 4
    _owner_sql(engine, "DELETE FROM auditlog WHERE id >= 3")  # the end cut off: only the head shows it
    verdict = _verify(engine)
    assert not verdict.intact and verdict.broken_id is None and "head" in verdict.problem


def test_a_dropped_and_recreated_table_is_found_by_the_head(engine, db_url):
    _entries(engine, 3)
    if engine.dialect.name == "sqlite":
        _owner_sql(engine, "DELETE FROM auditlog")
    else:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE auditlog DISABLE TRIGGER auditlog_no_truncate"))
            conn.execute(text("TRUNCATE auditlog"))
            conn.execute(text("ALTER TABLE auditlog ENABLE TRIGGER auditlog_no_truncate"))
    verdict = _verify(engine)
    assert not verdict.intact and verdict.entries == 0 and "head" in verdict.problem


def test_concurrent_writers_never_fork_the_chain(engine):
    """Eight threads append 15 entries each, one transaction per entry: every entry must chain
    to the one before it (the chain head serialises the appends)."""
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(k: int) -> None:
        try:
            start.wait()
            for i in range(15):
                with Session(engine) as s:
                    auditlog.record(s, user=None, entity="thread", entity_id=k, field="i", new=i)
                    s.commit()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    verdict = _verify(engine)
    assert verdict.message() == "120 entries, chain intact"
    with Session(engine) as s:
        ids = s.exec(select(AuditLog.id).order_by(AuditLog.id)).all()
        assert ids == list(range(1, 121))
        assert s.get(LogChain, "auditlog").last_id == 120


def test_a_rolled_back_entry_leaves_no_gap(engine):
    _entries(engine, 2)
    with Session(engine) as s:
        auditlog.record(s, user=None, entity="test", new="never committed")
        s.rollback()
    _entries(engine, 1)
    verdict = _verify(engine)
    assert verdict.message() == "3 entries, chain intact"


def test_the_migration_chains_entries_written_before_it(tmp_path: Path):
    """A database with trail entries from before the chain (revision 0001) is back-filled."""
    from alembic import command

    from audit.db import _alembic_config, make_engine

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    command.upgrade(_alembic_config(url), "0001")
    engine = make_engine(url)
    with engine.begin() as conn:
        for i in range(1, 6):
            conn.execute(text("INSERT INTO auditlog (at, username, entity, entity_id, new_value) "
                              f"VALUES ('2021-0{i}-01 10:00:00.000000', 'old', 'case', '{i}', '\"x{i}\"')"))
    command.upgrade(_alembic_config(url), "heads")
    with Session(engine) as s:
        assert auditlog.verify(s).message() == "5 entries, chain intact"
        auditlog.record(s, user=None, entity="case", entity_id=6, new="after")
        s.commit()
        assert auditlog.verify(s).message() == "6 entries, chain intact"
    with engine.connect() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("UPDATE auditlog SET new_value = 'y' WHERE id = 1"))
    engine.dispose()
