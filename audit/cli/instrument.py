"""`audit instrument`: the review-instrument room's commands (defined in audit.instrument.cli)."""
from __future__ import annotations

import click

from audit.instrument.cli import instrument

COMMANDS: list[click.Command] = [instrument]
