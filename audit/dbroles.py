"""PostgreSQL roles: an owner that owns the schema, and a login role for the app that may
only do what the app needs (`audit db grant --app-role NAME`).

The owner (the role in AUDIT_DATABASE_URL when you run `audit db upgrade` and this command)
creates and migrates the tables. The app role, which `audit serve` connects as, gets:

- SELECT, INSERT, UPDATE, DELETE on the ordinary tables (cases, answers, sessions, ...),
- SELECT and INSERT only on the logs (auditlog, accesslog, accesscase): no UPDATE, DELETE
  or TRUNCATE, and since it owns nothing it cannot DROP, ALTER, rename or replace them,
  nor disable their triggers,
- SELECT and UPDATE on logchain (every append moves a chain head),
- SELECT on alembic_version (so `audit serve` sees the schema is current), USAGE on the sequences,
- CONNECT on the database and USAGE on the schema; never CREATE on it.

The command is idempotent: run it again after every `audit db upgrade`, so new tables get
their privileges too.
"""
from __future__ import annotations

import re

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

LOG_TABLES = ("auditlog", "accesslog", "accesscase")
CHAIN_TABLES = ("logchain",)
READ_ONLY_TABLES = ("alembic_version",)
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleError(RuntimeError):
    """The roles cannot be set up as asked (message for the user)."""


def _quote(engine: Engine, name: str) -> str:
    return engine.dialect.identifier_preparer.quote(name)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def grant_app_role(engine: Engine, role: str, password: str | None = None, schema: str = "public") -> list[str]:
    """Create the app's login role if needed and give it exactly the privileges above.
    Run as the owner of the schema. Returns the statements run (password hidden)."""
    if engine.dialect.name != "postgresql":
        raise RoleError("database roles exist on PostgreSQL only; on SQLite the file's permissions decide")
    if not ROLE_NAME.match(role):
        raise RoleError(f"role name {role!r}: use lower-case letters, digits and _ (at most 63)")
    q = lambda n: _quote(engine, n)  # noqa: E731
    done: list[str] = []
    with engine.begin() as conn:
        me = conn.execute(text("SELECT current_user")).scalar_one()
        if role == me:
            raise RoleError(f"{role!r} is the role you are connected as (the owner); the app role must be another")
        found = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        if found is None:
            statement = f"CREATE ROLE {q(role)} LOGIN" + (f" PASSWORD {_literal(password)}" if password else "")
            conn.execute(text(statement))
            done.append(f"CREATE ROLE {q(role)} LOGIN" + (" PASSWORD '…'" if password else ""))
        else:
            if found[0]:
                raise RoleError(f"{role!r} is a superuser; the app role must be an ordinary role")
            if password:
                conn.execute(text(f"ALTER ROLE {q(role)} LOGIN PASSWORD {_literal(password)}"))
                done.append(f"ALTER ROLE {q(role)} LOGIN PASSWORD '…'")
        owned = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = :s AND tableowner = :r"),
                             {"s": schema, "r": role}).scalars().all()
        if owned:
            raise RoleError(f"{role!r} owns {', '.join(sorted(owned))}; the tables must belong to the owner "
                            f"(ALTER TABLE ... OWNER TO {me})")
        tables = inspect(conn).get_table_names(schema=schema)
        if "auditlog" not in tables:
            raise RoleError("no auditlog table: run `audit db upgrade` as the owner first")
        db = conn.execute(text("SELECT current_database()")).scalar_one()
        statements = [
            f"REVOKE CREATE ON SCHEMA {q(schema)} FROM PUBLIC",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {q(schema)} FROM {q(role)}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {q(schema)} FROM {q(role)}",
            f"REVOKE CREATE ON SCHEMA {q(schema)} FROM {q(role)}",
            f"GRANT CONNECT ON DATABASE {q(db)} TO {q(role)}",
            f"GRANT USAGE ON SCHEMA {q(schema)} TO {q(role)}",
        ]
        for table in sorted(tables):
            if table in LOG_TABLES:
                privileges = "SELECT, INSERT"
            elif table in CHAIN_TABLES:
                privileges = "SELECT, UPDATE"
            elif table in READ_ONLY_TABLES:
                privileges = "SELECT"
            else:
                privileges = "SELECT, INSERT, UPDATE, DELETE"
            statements.append(f"GRANT {privileges} ON TABLE {q(schema)}.{q(table)} TO {q(role)}")
        statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {q(schema)} TO {q(role)}")
        for statement in statements:
            conn.execute(text(statement))
        done.extend(statements)
    return done
