"""The `audit` command line. Each room has its own module with one click group;
this module only wires them together so `audit --help` lists everything."""
from __future__ import annotations

import click

from audit.cli import platform, instrument, sampling, reviews, hearing, stats, export


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="audit")
def main() -> None:
    """Case-file audit tool: audits, register sample, review, comment rounds,
    statistics and Excel annexes.

    The database is taken from AUDIT_DATABASE_URL (default: a SQLite file
    under ./var/). Run `audit db upgrade` once before anything else, or
    `audit demo` to get a complete demo audit.
    """


for module in (platform, instrument, sampling, reviews, hearing, stats, export):
    for command in module.COMMANDS:
        main.add_command(command)
