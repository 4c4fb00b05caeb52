"""`audit instrument ...`: check a questionnaire file and write its codebook.

Kept inside the room so it can be run and tested on its own
(`python -m audit.instrument check FILE`); `audit/cli/instrument.py` exposes it
in the main `audit` command."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from audit.instrument.loader import check_file, load_instrument, InstrumentError


@click.group("instrument", context_settings={"help_option_names": ["-h", "--help"]})
def instrument() -> None:
    """Review instruments (questionnaire files in questionnaires/): validate them and
    write the codebook auditors read."""


@instrument.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def check(file: Path) -> None:
    """Validate FILE and print the items per theme.

    Checks the YAML structure, duplicate names, item types, missing choice lists,
    expression syntax (with the position), unknown references, circular relevance
    or calculations, type errors (e.g. an unknown choice code) and the number of
    assessment items. Every problem names the item and the line. Exits 1 if there
    is any problem, 0 otherwise.
    """
    result = check_file(file)
    if result.themes:
        click.echo(f"{'Theme':<6} {'Items':>5}  Title")
        for number, da, en in result.themes:
            click.echo(f"{number:<6} {result.counts.get(number, 0):>5}  {da} / {en}")
        total = sum(result.counts.values())
        click.echo(f"{'Total':<6} {total:>5}  assessment items in {len(result.themes)} themes"
                   f" (+{result.calculated} calculated)")
    if result.instrument is not None:
        click.echo(f"Version {result.instrument.version}: no errors.")
        return
    click.echo(f"{len(result.problems)} error(s) in {file}:", err=True)
    for problem in result.problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


@instrument.command("codebook")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the .xlsx codebook.")
def codebook(file: Path, out: Path) -> None:
    """Write the codebook of FILE as an Excel workbook.

    One row per item (theme, code, Danish and English label, type, choices,
    relevance in words, required, level, guidance), a sheet with the choice lists
    and a sheet with the version and counts. Refuses an invalid file (exit 1)."""
    from audit.instrument.codebook import write_codebook
    try:
        inst = load_instrument(file)
    except InstrumentError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    path = write_codebook(inst, out)
    click.echo(f"Wrote {path} ({len(inst.items)} rows, instrument {inst.version}).")


COMMANDS: list[click.Command] = [instrument]
