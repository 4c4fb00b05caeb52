"""Platform commands: database, users, web server, demo audit."""
from __future__ import annotations

import click
from sqlmodel import select

from audit.db import session_scope


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the newest migration (AUDIT_DATABASE_URL)."""
    from audit.config import get_settings
    from audit.db import upgrade

    upgrade()
    click.echo(f"database is up to date: {_redact(get_settings().resolved_database_url())}")


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.group()
def users() -> None:
    """User accounts (roles: admin, auditor, municipality)."""


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
    click.echo(f"user {username} ({role}{', ' + municipality if municipality else ''}) created")


@users.command("list")
def users_list() -> None:
    """List users with role and municipality."""
    from audit.models import User

    with session_scope() as session:
        rows = session.exec(select(User).order_by(User.role, User.username)).all()
        click.echo(f"{'username':<24} {'role':<13} {'municipality':<18} active")
        for u in rows:
            click.echo(f"{u.username:<24} {u.role:<13} {u.municipality or '':<18} {'yes' if u.is_active else 'no'}")


@users.command("set-password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="AUDIT_NEW_PASSWORD", help="Prompted when not given (or set AUDIT_NEW_PASSWORD).")
def users_set_password(username: str, password: str) -> None:
    """Set a user's password."""
    from audit.auth import AccountError, set_password

    try:
        with session_scope() as session:
            set_password(session, username, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"password of {username} changed")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, reload: bool) -> None:
    """Run the web app (upgrades the database first)."""
    import uvicorn

    from audit.db import upgrade

    upgrade()
    click.echo(f"serving on http://{host}:{port}/")
    uvicorn.run("audit.web.app:create_app", factory=True, host=host, port=port, reload=reload)


COMMANDS: list[click.Command] = [db, users, serve]
