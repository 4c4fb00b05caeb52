"""`audit register`: the register definition (registers/*.yaml), checked without a database."""
from __future__ import annotations

import sys
from pathlib import Path

import click


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
        click.echo(f"{len(exc.problems)} error(s) in {file}:", err=True)
        for p in exc.problems:
            click.echo(f"{file}:{p.line or '-'}: {p.where}: {p.message}", err=True)
        sys.exit(1)
    click.echo(f"{'Code':<34} {'Type':<9} {'Source':<9} {'Shown':<5} Label")
    for v in definition.variables:
        kind = v.type + ("*" if v.required else "")
        click.echo(f"{v.code:<34} {kind:<9} {v.source:<9} {'yes' if v.showable_to_municipality else 'no':<5} "
                   f"{v.label_da}")
    click.echo(f"{len(definition.variables)} variables ({len(definition.required_columns)} required columns "
               f"marked *, {len(definition.optional_columns)} optional); version {definition.version}: no errors.")


COMMANDS: list[click.Command] = [register]
