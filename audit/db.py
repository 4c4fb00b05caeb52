"""Engine and sessions. SQLite gets WAL and foreign keys; PostgreSQL is used as is."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from audit.config import get_settings


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


def _alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    from audit.resources import migrations_dir

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(url: str | None = None) -> None:
    """Bring the schema to the newest Alembic revision. The migration scripts are found
    through audit.resources, so this works from an installed wheel as from a checkout
    (alembic.ini at the top of a checkout only serves the plain `alembic` command)."""
    from alembic import command

    command.upgrade(_alembic_config(url or get_settings().resolved_database_url()), "head")


class SchemaNotReady(RuntimeError):
    """The database is not at the schema this version of the tool needs; the message is one
    line that says what to do."""


@dataclass(frozen=True)
class SchemaState:
    current: tuple[str, ...]   # revisions recorded in the database (empty: never migrated)
    heads: tuple[str, ...]     # the newest revisions this version ships
    tables: tuple[str, ...]    # tables present in the database
    known: bool                # every current revision is one this version knows

    @property
    def fresh(self) -> bool:
        """An empty database: no tables at all (a new or empty SQLite file, a new PostgreSQL database)."""
        return not self.tables

    @property
    def up_to_date(self) -> bool:
        return bool(self.current) and set(self.current) == set(self.heads)


def schema_state(url: str | None = None) -> SchemaState:
    """Where the database's schema stands against this version's migrations."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError
    from sqlalchemy import inspect

    url = url or get_settings().resolved_database_url()
    script = ScriptDirectory.from_config(_alembic_config(url))
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = tuple(MigrationContext.configure(conn).get_current_heads())
            tables = tuple(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    known = True
    for rev in current:
        try:
            known = known and script.get_revision(rev) is not None
        except CommandError:
            known = False
    return SchemaState(current, tuple(script.get_heads()), tables, known)


def prepare(url: str | None = None) -> str | None:
    """Make the database usable for a command: a fresh (empty) database gets the whole
    schema, as `audit demo` and `audit serve` do; a database at the newest revision is
    left alone. Anything else (an older schema, one written by a newer version, tables
    without a recorded revision) raises `SchemaNotReady` with one line saying what to do,
    since upgrading a database that holds an audit is a step a person takes on purpose.
    Returns a note when the schema was created, else None."""
    from sqlalchemy.engine import make_url

    from audit.i18n import _

    url = url or get_settings().resolved_database_url()
    shown = make_url(url).render_as_string(hide_password=True)
    state = schema_state(url)
    if state.up_to_date:
        return None
    if state.fresh:
        upgrade(url)
        return _("prepared a new database at {url}").format(url=shown)
    if not state.current:
        raise SchemaNotReady(_("the database at {url} has tables but no schema revision (it was not made by "
                               "`audit db upgrade`); point AUDIT_DATABASE_URL at the tool's database").format(url=shown))
    if not state.known:
        raise SchemaNotReady(_("the database at {url} is at schema revision {revision}, which "
                               "this version of audit does not know: it was written by a newer version").format(
                                 url=shown, revision=", ".join(state.current)))
    raise SchemaNotReady(_("the database at {url} has an older schema ({revision}; this version "
                           "needs {needed}): back it up and run `audit db upgrade`").format(
                             url=shown, revision=", ".join(state.current), needed=", ".join(state.heads)))
