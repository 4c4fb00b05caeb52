"""On SQLite the register import builds the stratum index after its rows, inside its own
transaction: the index is there after a commit, and after a failed import rolled back the
table is as before (rows and indexes). On PostgreSQL (where the app's role may not drop an
index) it touches no index; the rest holds on both."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event, func, inspect, select
from sqlmodel import Session

from audit.audits import create_audit
from audit.models import Person
from audit.population import importer
from audit.population.importer import import_population


def _register(path: Path, n: int, prefix: str = "P") -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["person_id", "municipality", "seniority_years", "sex", "age", "origin"])
        for i in range(n):
            w.writerow([f"{prefix}{(i * 7919) % n:05d}", ("Odense", "Ærø", "Aarhus")[i % 3], f"{5 + i % 9},5",
                        "mand", "40", "dansk"])
    return path


def _audit(session: Session, name: str):  # type: ignore[no-untyped-def]
    audit = create_audit(session, name, period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                         reference_date=date(2020, 3, 1))
    session.commit()
    return audit


def _stratum_index(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [ix["column_names"] for ix in inspect(conn).get_indexes("person") if ix["name"] == "ix_person_stratum"]


def _ddl(engine) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _watch(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "INDEX" in statement.upper():
            seen.append(" ".join(statement.split()))
    return seen


def test_the_stratum_index_is_built_after_the_rows_and_is_there_after_the_commit(engine, session, tmp_path):
    ddl = _ddl(engine)
    audit = _audit(session, "A")
    import_population(session, audit, _register(tmp_path / "r.csv", 300))
    session.commit()
    if engine.dialect.name == "sqlite":
        assert [s.split()[0] for s in ddl] == ["DROP", "CREATE"] and "ix_person_stratum" in ddl[1]
    else:
        assert ddl == []
    assert _stratum_index(engine) == [["audit_id", "municipality", "seniority_band"]]
    # every person, and written in person id order (the ids follow the person ids)
    people = session.execute(select(Person.id, Person.person_id).order_by(Person.id)).all()
    assert len(people) == 300 and [p for _, p in people] == sorted(p for _, p in people)


def test_a_failed_import_leaves_rows_and_indexes_as_they_were(engine, session, tmp_path, monkeypatch):
    first = _audit(session, "A")
    import_population(session, first, _register(tmp_path / "a.csv", 50))
    session.commit()
    second = _audit(session, "B")

    real = importer.insert_batches

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        real(*args, **kwargs)  # the rows are written, then the disk "fills up"
        raise OSError("disk full")

    monkeypatch.setattr(importer, "insert_batches", failing)
    with pytest.raises(OSError):
        import_population(session, second, _register(tmp_path / "b.csv", 80, prefix="Q"))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Person)) == 50
    assert _stratum_index(engine) == [["audit_id", "municipality", "seniority_band"]]


def test_beside_a_larger_population_the_index_is_kept(engine, session, tmp_path):
    """Rebuilding the index would sort the other audits' persons again: with more of them than
    the import brings, the rows go into the index as they come."""
    big = _audit(session, "A")
    import_population(session, big, _register(tmp_path / "a.csv", 200))
    session.commit()
    ddl = _ddl(engine)
    small = _audit(session, "B")
    import_population(session, small, _register(tmp_path / "b.csv", 40, prefix="Q"))
    session.commit()
    assert ddl == []
    assert session.scalar(select(func.count()).select_from(Person).where(Person.audit_id == small.id)) == 40
