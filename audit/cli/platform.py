"""Platform commands: database, users, web server, demo audit."""
from __future__ import annotations

import click
from sqlmodel import select

from audit.cli.text import Columns
from audit.db import session_scope
from audit.i18n import _, ngettext, number


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the newest migration (AUDIT_DATABASE_URL)."""
    from audit.config import get_settings
    from audit.db import upgrade

    upgrade()
    click.echo(_("database is up to date: {url}").format(url=_redact(get_settings().resolved_database_url())))


@db.command("grant")
@click.option("--app-role", "app_role", required=True,
              help="The PostgreSQL login role the web app connects as (created when missing).")
@click.option("--password", default=None, envvar="AUDIT_APP_ROLE_PASSWORD",
              help="Password for the app role (or AUDIT_APP_ROLE_PASSWORD); omit to leave it unchanged.")
def db_grant(app_role: str, password: str | None) -> None:
    """PostgreSQL: give the app's login role only what the app needs. Run it as the owner of the
    schema (AUDIT_DATABASE_URL = the owner), after `audit db upgrade`, and again after every upgrade.

    \b
    The app role gets SELECT/INSERT/UPDATE/DELETE on ordinary tables, only SELECT/INSERT on
    auditlog, accesslog and accesscase (no UPDATE, DELETE or TRUNCATE; owning nothing, it cannot
    DROP, ALTER or replace them), SELECT/UPDATE on logchain, SELECT on alembic_version.
    Then run the app with AUDIT_DATABASE_URL naming the app role. See docs/security.md."""
    from audit.db import get_engine
    from audit.dbroles import RoleError, grant_app_role

    try:
        done = grant_app_role(get_engine(), app_role, password)
    except RoleError as exc:
        raise click.ClickException(str(exc)) from exc
    for statement in done:
        click.echo(statement)
    click.echo(ngettext("app role {role}: privileges set ({n} statement)",
                        "app role {role}: privileges set ({n} statements)", len(done)).format(role=app_role, n=len(done)))


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.group()
def users() -> None:
    """User accounts (roles: admin, auditor, municipality): add, edit, list, set-password,
    deactivate, reactivate, unlock. New passwords: at least 12 characters, not a common
    password, not containing the username (docs/security.md)."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "auditor", "municipality"]), required=True)
@click.option("--municipality", help="Required for role municipality: the one municipality the user may see.")
@click.option("--name", "full_name", default="", help="Full name shown in the audit log and pages.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="AUDIT_NEW_PASSWORD", help="Prompted when not given (or set AUDIT_NEW_PASSWORD).")
def users_add(username: str, role: str, municipality: str | None, full_name: str, password: str) -> None:
    """Create a user."""
    from audit.auth import AccountError, add_user

    try:
        with session_scope() as session:
            add_user(session, username=username, password=password, role=role,
                     municipality=municipality, full_name=full_name)
    except (AccountError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if municipality:
        click.echo(_("user {username} ({role}, {municipality}) created").format(
            username=username, role=role, municipality=municipality))
    else:
        click.echo(_("user {username} ({role}) created").format(username=username, role=role))


@users.command("edit")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "auditor", "municipality"]), default=None,
              help="New role (default: unchanged).")
@click.option("--municipality", default=None,
              help="The one municipality of a municipality user (default: unchanged; empty for other roles).")
@click.option("--name", "full_name", default=None, help="New full name (default: unchanged).")
def users_edit(username: str, role: str | None, municipality: str | None, full_name: str | None) -> None:
    """Change a user's role, municipality or full name (the admin's user page does the same)."""
    from audit.auth import AccountError, update_user
    from audit.models import User

    try:
        with session_scope() as session:
            user = session.exec(select(User).where(User.username == username.strip())).first()
            if user is None:
                raise AccountError(_("no user named {username}").format(username=repr(username)))
            new_role = role or user.role
            if municipality is None:
                municipality = user.municipality if new_role == "municipality" else None
            update_user(session, username, role=new_role, municipality=municipality,
                        full_name=user.full_name if full_name is None else full_name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("user {username} changed").format(username=username))


@users.command("list")
def users_list() -> None:
    """List users with role and municipality."""
    from audit.models import User

    with session_scope() as session:
        rows = session.exec(select(User).order_by(User.role, User.username)).all()
        cols = Columns([(_("username"), 24, "<"), (_("role"), 13, "<"), (_("municipality"), 18, "<"),
                        (_("active"), 0, "<")])
        click.echo(cols.header())
        for u in rows:
            click.echo(cols.row([u.username, u.role, u.municipality or "", _("yes") if u.is_active else _("no")]))


@users.command("set-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="AUDIT_NEW_PASSWORD", help="Prompted when not given (or set AUDIT_NEW_PASSWORD).")
def users_set_password(username: str, password: str) -> None:
    """Set a user's password (the policy applies); every session of the user ends."""
    from audit.auth import AccountError, set_password

    try:
        with session_scope() as session:
            set_password(session, username, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("password of {username} changed").format(username=username))


@users.command("deactivate")
@click.argument("username")
@click.option("--reason", default=None, help="Why (kept in the audit log).")
def users_deactivate(username: str, reason: str | None) -> None:
    """Deactivate a user: no more log-ins, and every open session ends at once."""
    from audit.auth import AccountError, deactivate_user

    try:
        with session_scope() as session:
            deactivate_user(session, username, reason=reason)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("user {username} deactivated; their sessions have ended").format(username=username))


@users.command("reactivate")
@click.argument("username")
@click.option("--reason", default=None, help="Why (kept in the audit log).")
def users_reactivate(username: str, reason: str | None) -> None:
    """Let a deactivated user log in again."""
    from audit.auth import AccountError, reactivate_user

    try:
        with session_scope() as session:
            reactivate_user(session, username, reason=reason)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("user {username} reactivated").format(username=username))


@users.command("unlock")
@click.argument("username")
def users_unlock(username: str) -> None:
    """Lift a log-in pause after too many failed attempts (it also ends by itself)."""
    from audit.auth import AccountError, unlock_user

    try:
        with session_scope() as session:
            n = unlock_user(session, username)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("user {username}: {n} log-in pause(s) lifted").format(username=username, n=n))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, envvar="AUDIT_WORKERS",
              help="Worker processes (PostgreSQL only). Each keeps its own pool of AUDIT_DB_POOL_SIZE + "
                   "AUDIT_DB_MAX_OVERFLOW connections; keep workers x that below PostgreSQL's max_connections.")
def serve(host: str, port: int, reload: bool, workers: int) -> None:
    """Run the web app (upgrades the database first).

    \b
    SQLite: one worker (every write waits for the one file's lock; more processes only queue).
    PostgreSQL: --workers N, e.g. one or two per core:
      AUDIT_DATABASE_URL=postgresql+psycopg://audit@db/audit audit serve --workers 4
    """
    import uvicorn

    from audit.config import get_settings
    from audit.db import upgrade

    settings = get_settings()
    url = settings.resolved_database_url()
    if workers > 1:
        if url.startswith("sqlite"):
            raise click.UsageError(_("--workers > 1 needs PostgreSQL: SQLite lets one writer at a time into its file, "
                                     "so more worker processes only queue behind its lock (and wait for "
                                     "AUDIT_DB_BUSY_TIMEOUT). Set AUDIT_DATABASE_URL to a PostgreSQL database, "
                                     "or run one worker."))
        if reload:
            raise click.UsageError(_("--reload runs one worker; leave out --workers"))
    upgrade()
    settings.resolved_secret_key()   # created once here, so every worker signs sessions with the same key
    per_worker = settings.db_pool_size + settings.db_max_overflow
    if url.startswith("postgresql"):
        limit = _max_connections(url)
        if limit is not None and workers * per_worker > limit - 5:
            click.echo(_("warning: {workers} workers x {per_worker} connections ({total}) exceed what "
                         "PostgreSQL allows ({limit} max_connections, a few kept for administration); lower "
                         "AUDIT_DB_POOL_SIZE / AUDIT_DB_MAX_OVERFLOW or raise max_connections").format(
                           workers=workers, per_worker=per_worker, total=workers * per_worker, limit=limit), err=True)
    click.echo(ngettext("serving on {url} with {workers} worker (up to {per_worker} database connections each)",
                        "serving on {url} with {workers} workers (up to {per_worker} database connections each)",
                        workers).format(url=f"http://{host}:{port}/", workers=workers, per_worker=per_worker))
    # A worker must have imported the app and started within timeout_worker_healthcheck, or it is
    # restarted; uvicorn's 5 s is too short for a busy machine importing pandas.
    uvicorn.run("audit.web.app:create_app", factory=True, host=host, port=port, reload=reload,
                workers=None if reload else workers, timeout_worker_healthcheck=120)


def _max_connections(url: str) -> int | None:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            return int(conn.execute(text("SHOW max_connections")).scalar_one())
    except Exception:  # noqa: BLE001 - a warning only; the server's own start reports real problems
        return None
    finally:
        engine.dispose()


COMMANDS: list[click.Command] = [db, users, serve]

from audit.cli.log import log  # noqa: E402  (`audit log verify`, `audit log access`)

COMMANDS.append(log)


DEMO_URL = "http://127.0.0.1:8000/"  # where `audit serve` listens by default


@click.command()
@click.option("--seed", type=int, default=None, help="Seed of the synthetic data (default: the demo file's).")
@click.option("--reset", is_flag=True, help="Delete the SQLite database file first (SQLite only).")
def demo(seed: int | None, reset: bool) -> None:
    """Create the demo audit: 14,164 synthetic people in 25 municipalities (the report's Table 11),
    a drawn sample of 375 cases, users of each role and synthetic reviews following the report's
    published shares. Prints the demo logins once."""
    from sqlalchemy import func

    from audit.config import get_settings
    from audit.db import get_engine, upgrade
    from audit.demo import build_demo, load_spec
    from audit.models import Audit

    url = get_settings().resolved_database_url()
    if reset:
        if not url.startswith("sqlite:///"):
            raise click.ClickException(_("--reset only deletes SQLite files; drop a PostgreSQL database yourself"))
        path = url.removeprefix("sqlite:///")
        get_engine().dispose()
        for suffix in ("", "-wal", "-shm"):
            try:
                __import__("os").remove(path + suffix)
            except FileNotFoundError:
                pass
    upgrade()
    name = load_spec()["audit"]["name"]
    with session_scope() as session:
        if session.exec(select(func.count()).select_from(Audit).where(Audit.name == name)).one():
            click.echo(_("the demo audit {name} already exists; run `audit demo --reset` to start over").format(
                name=repr(name)))
            return
        click.echo(_("building the demo audit ..."))
        result = build_demo(session, seed=seed, progress=None)
    click.echo(_("demo audit {name}: {people} people, {cases} sampled cases, {answers} answers").format(
        name=repr(result["audit"]), people=number(result["population"]), cases=result["cases"],
        answers=number(result["answers"])))
    click.echo(_("comment round open for {municipalities} until {deadline}").format(
        municipalities=", ".join(result["round"]["municipalities"]), deadline=result["round"]["deadline"]))
    click.echo("\n" + _("Demo logins (shown once; change with `audit users set-password`):"))
    for u in result["users"]:
        who = f"{u['role']}" + (f", {u['municipality']}" if u["municipality"] else "")
        click.echo(f"  {u['username']:<14} {u['password']:<16} ({who})")
    click.echo("\n" + _("Start the web app with `audit serve` and open {url}").format(url=DEMO_URL))


COMMANDS.append(demo)
