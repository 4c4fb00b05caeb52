"""`audit register`: the register definition (registers/*.yaml), checked without a database."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from audit.cli.text import Columns
from audit.i18n import _, ngettext


@click.group()
def register() -> None:
    """The register definition: the variables of the register extract."""


@register.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def check(file: Path) -> None:
    """Validate the register definition FILE and list its variables.

    Checks the YAML, the settings (id, version, title), every variable's code (unique),
    type (category, yes_no, integer, number, date, id), source (register, derived,
    design), Danish and English labels, value labels (code, da, en), allowed range
    (min <= max; numbers, or dates as YYYY-MM-DD), showable_to_municipality (true or
    false, for every variable), required, and a derived variable's 'from' and bands.
    Every error is printed as FILE:LINE: variable: what is wrong. Exits 1 if there is
    any error, 0 otherwise.
    """
    from audit.population.definition import RegisterDefinitionError, load_register_definition

    try:
        definition = load_register_definition(file)
    except RegisterDefinitionError as exc:
        click.echo(_("{n} error(s) in {file}:").format(n=len(exc.problems), file=file), err=True)
        for p in exc.problems:
            click.echo(f"{file}:{p.line or '-'}: {p.where}: {p.message}", err=True)
        sys.exit(1)
    cols = Columns([(_("Code"), 34, "<"), (_("Type"), 9, "<"), (_("Source"), 9, "<"), (_("Shown"), 5, "<"),
                    (_("Label"), 0, "<")])
    click.echo(cols.header())
    for v in definition.variables:
        kind = v.type + ("*" if v.required else "")
        click.echo(cols.row([v.code, kind, v.source, _("yes") if v.showable_to_municipality else _("no"), v.label_da]))
    click.echo(ngettext("{n} variable ({required} required columns marked *, {optional} optional); "
                        "version {version}: no errors.",
                        "{n} variables ({required} required columns marked *, {optional} optional); "
                        "version {version}: no errors.", len(definition.variables)).format(
        n=len(definition.variables), required=len(definition.required_columns),
        optional=len(definition.optional_columns), version=definition.version))


COMMANDS: list[click.Command] = [register]
