"""The `audit` command line. Each room has its own module with one click group;
this module only wires them together so `audit --help` lists everything, and gives
every command the same footing on the database:
- before a command that uses the database runs, a fresh (empty) database gets the
  schema and an older or foreign one is refused with one line saying what to do
  (`audit.db.prepare`); `db upgrade`, `demo` and `serve` migrate by themselves and
  the instrument and definition checks need no database;
- a database error that still reaches the top (the server is down, a lock timed out)
  is printed as one line, not as SQLAlchemy's traceback. AUDIT_DEBUG=1 shows it whole.
"""
from __future__ import annotations

import functools
import os
from typing import Any

import click

from audit.cli import platform, instrument, register, sampling, reviews, hearing, stats, export, report
from audit.i18n import _

# Commands (by their path below `audit`) that never open the database or migrate it themselves.
NO_DATABASE = {"db upgrade", "demo", "serve", "instrument check", "instrument codebook", "register check",
               "export check-annex", "report check", "stats check-derived"}


MISSING_SCHEMA = ("no such table", "no such column", "does not exist", "undefined")


def database_error_line(exc: BaseException) -> str:
    """One line for a database error: which database, and the driver's own first line."""
    from sqlalchemy.engine import make_url

    from audit.config import get_settings

    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    where = make_url(get_settings().resolved_database_url()).render_as_string(hide_password=True)
    if any(m in first.lower() for m in MISSING_SCHEMA):
        return _("database error at {where}: {error}; run `audit db upgrade`").format(where=where, error=first)
    return _("database error at {where}: {error}").format(where=where, error=first)


class AuditGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        from audit.db import SchemaNotReady

        try:
            return super().invoke(ctx)
        except SchemaNotReady as exc:
            raise click.ClickException(str(exc)) from exc
        except SQLAlchemyError as exc:
            if os.environ.get("AUDIT_DEBUG") == "1":
                raise
            raise click.ClickException(database_error_line(exc)) from exc


@click.group(cls=AuditGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="audit")
def main() -> None:
    """Case-file audit tool: audits, register sample, review, comment rounds,
    statistics and Excel annexes.

    The database is taken from AUDIT_DATABASE_URL (default: a SQLite file
    under ./var/). A new, empty database is prepared by the first command
    that needs it; after installing a newer version run `audit db upgrade`.
    `audit demo` builds a complete demo audit.
    """


def _needs_database(callback: Any) -> Any:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        from audit.db import prepare

        note = prepare()
        if note:
            click.echo(note, err=True)
        return callback(*args, **kwargs)

    return run


def _leaves(command: click.Command, path: str) -> list[tuple[str, click.Command]]:
    if isinstance(command, click.Group):
        return [leaf for name, sub in command.commands.items() for leaf in _leaves(sub, f"{path} {name}".strip())]
    return [(path, command)]


for module in (platform, instrument, register, sampling, reviews, hearing, stats, export, report):
    for command in module.COMMANDS:
        main.add_command(command)

for _path, _command in _leaves(main, ""):
    if _path not in NO_DATABASE and _command.callback is not None:
        _command.callback = _needs_database(_command.callback)
