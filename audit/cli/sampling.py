"""Placeholder: commands of this room are added by its issue."""
from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
