"""`audit report`: the audit report's exhibits from its definition (exports/report_2022.yaml).

Thin: the report definition is an annex definition whose tables are the report's exhibits,
numbered as the report numbers them; building it is writing that annex (audit.exports.annex),
suppression as one publication, labels not codes, N and source under every exhibit.
"""
from __future__ import annotations

from pathlib import Path

import click

from audit.exports.definitions import REPORT_FILE, DefinitionError
from audit.i18n import _


@click.group("report")
def report() -> None:
    """The audit report's exhibits (Figur N / Tabel N) from the report definition."""


@report.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=REPORT_FILE)
def check_cmd(file: Path) -> None:
    """Check a report definition: keys, kinds, frames and that every variable exists."""
    from audit.exports.definitions import load_definitions
    from audit.exports.service import default_instrument

    try:
        spec = load_definitions(file, instrument=default_instrument())
    except DefinitionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("{file}: {exhibits} exhibits OK against the instrument").format(file=file, exhibits=len(spec.tables)))


@report.command("build")
@click.option("--audit", "audit_name", required=True, help="Name of the audit.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write report_2022.xlsx (one sheet per exhibit) and its suppression protocol into.")
@click.option("--definitions", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=REPORT_FILE,
              show_default=True, help="Report definition (YAML).")
@click.option("--no-suppress", is_flag=True, help="Show small cells (internal use only; never publish).")
def build_cmd(audit_name: str, out_dir: Path, definitions: Path, no_suppress: bool) -> None:
    """Write the report's exhibits as one workbook: a contents sheet and one sheet per exhibit,
    titled as in the report, with N, note and source; small cells suppressed across the
    whole workbook; and, beside it, the suppression protocol (for the agency only)."""
    from audit.cli.export import _load
    from audit.exports.annex import write_annex
    from audit.exports.definitions import load_definitions

    data = _load(audit_name, "annex.xlsx", with_population=True)
    try:
        spec = load_definitions(definitions, instrument=data.instrument)
    except DefinitionError as exc:
        raise click.ClickException(str(exc)) from exc
    out = out_dir / f"{definitions.stem}.xlsx"
    protocol = None if no_suppress else out.with_name(out.stem + ".diskretionsprotokol.xlsx")
    try:
        layouts = write_annex(data.frame, spec, out, instrument=data.instrument, audit_name=data.name,
                              suppress=not no_suppress, population=data.population, protocol=protocol,
                              municipality_frame=data.municipalities)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    m = data.municipalities
    counts = dict(file=out, exhibits=len(layouts), cases=len(data.frame), answered=0 if m is None else len(m),
                  municipalities=0 if m is None else m.attrs.get("municipalities"))
    if no_suppress:
        click.echo(_("wrote {file}: {exhibits} exhibits, {cases} cases, {answered} of {municipalities} "
                     "municipalities answered theme 7 (NOT suppressed: internal use only)").format(**counts))
    else:
        click.echo(_("wrote {file}: {exhibits} exhibits, {cases} cases, {answered} of {municipalities} "
                     "municipalities answered theme 7").format(**counts))
    if protocol is not None:
        click.echo(_("wrote {file}: suppression protocol, for the agency only (do not publish)").format(file=protocol))


COMMANDS: list[click.Command] = [report]
