"""Engine and sessions. SQLite gets WAL and foreign keys; PostgreSQL is used as is."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from audit.config import get_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def make_engine(url: str) -> Engine:
    settings = get_settings()
    pool = {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow,
            "pool_timeout": settings.db_pool_timeout}
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": settings.db_busy_timeout},
                               **({} if memory else pool))

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            # A page cache of up to 64 MiB (the default is 2 MiB): inserting a 1M-row register
            # updates the person indexes in random order and with 2 MiB spent a quarter of
            # its time re-reading index pages. Pages are only held once read.
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()

        return engine
    lock_ms = max(1, int(settings.db_busy_timeout * 1000))
    connect_args = {"options": f"-c lock_timeout={lock_ms}"} if url.startswith("postgresql") else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **pool)


class DatabaseBusy(RuntimeError):
    """The wait for the database (a lock, a connection, a turn to save) ran out."""


BUSY_SQLSTATES = {"55P03", "57014", "40001", "40P01", "53300"}  # lock timeout, cancelled, serialization, deadlock, too many connections


def is_busy(exc: BaseException) -> bool:
    """Whether a database error means "busy, try again" (a lock held too long by another
    writer, no free connection) rather than a bug."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, (sa_exc.TimeoutError, DatabaseBusy)):   # no free connection / no turn in time
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in BUSY_SQLSTATES:
        return True
    text = str(orig).lower()
    return isinstance(exc, sa_exc.OperationalError) and ("database is locked" in text or "database table is locked"
                                                         in text or "database is busy" in text)


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().resolved_database_url())


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error (all-or-nothing)."""
    with Session(engine or get_engine()) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def upgrade(url: str | None = None) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(PROJECT_ROOT / "alembic.ini")) if (PROJECT_ROOT / "alembic.ini").exists() else Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url or get_settings().resolved_database_url())
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")
