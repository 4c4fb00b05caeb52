"""The migrations build exactly the schema the models declare (tables, columns, indexes,
constraints), on SQLite and PostgreSQL: a model change without its migration, or a migration
that drops or adds something the models do not say (e.g. perf_2's person index), fails here."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import audit.models  # noqa: F401  (every table on the metadata)


def test_migrated_database_equals_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
            indexes = {ix["name"] for ix in inspect(conn).get_indexes("person")}
    finally:
        engine.dispose()
    assert differences == [], differences
    # the register import's inserts maintain only the two indexes the queries use
    assert "ix_person_audit_id" not in indexes and "ix_person_stratum" in indexes
