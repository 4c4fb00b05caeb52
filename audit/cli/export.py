"""`audit export ...`: the Excel annex, raw data and codebook of an audit."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from audit import csvio
from audit.exports.definitions import DEFAULT_FILE, REPORT_FILE, DefinitionError
from audit.i18n import _, ngettext


def _progress_bar(total: int, desc: str):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="", disable=not sys.stderr.isatty(), file=sys.stderr)


@click.group("export")
def export() -> None:
    """Excel annex, raw data (XLSX/CSV/SPSS) and codebook of an audit.

    \b
    audit export annex --audit "Demo 2022" --out annex.xlsx
    audit export figures --audit "Demo 2022" --out figures.zip
    audit export raw --audit "Demo 2022" --out data.csv
    audit export check-annex exports/annex_default.yaml
    """


def _load(audit_name: str, purpose: str, with_population: bool = False):  # type: ignore[no-untyped-def]
    from audit.access import cli_actor
    from audit.db import session_scope
    from audit.exports.service import load_audit_data

    with session_scope() as session:
        try:
            return load_audit_data(session, audit_name, with_population, actor=cli_actor(), purpose=purpose)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc


@export.command("annex")
@click.option("--audit", "audit_name", required=True, help="Name of the audit.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Workbook to write (.xlsx).")
@click.option("--definitions", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_FILE,
              show_default=True, help="Annex table definitions (YAML).")
@click.option("--no-suppress", is_flag=True, help="Show small cells (internal use only; never publish).")
@click.option("--protocol", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Suppression protocol workbook (hidden counts, their values and attacker intervals; "
                   "for the agency only). Default: OUT with .diskretionsprotokol.xlsx.")
def annex(audit_name: str, out: Path, definitions: Path, no_suppress: bool, protocol: Path | None) -> None:
    """Write the Excel annex: contents sheet, one sheet per table with notes (N),
    source line, suppression, key cells and charts; and, next to it, the suppression
    protocol (a separate workbook: never publish it)."""
    from audit.exports.annex import write_annex
    from audit.exports.definitions import load_definitions

    data = _load(audit_name, "annex.xlsx", with_population=True)
    try:
        spec = load_definitions(definitions, instrument=data.instrument)
    except DefinitionError as exc:
        raise click.ClickException(str(exc)) from exc
    bar = _progress_bar(len(spec.tables), _("tables"))

    def progress(tables):  # type: ignore[no-untyped-def]
        for t in tables:
            bar.set_postfix_str(t.id)
            yield t
            bar.update(1)

    protocol = None if no_suppress else (protocol or out.with_name(out.stem + ".diskretionsprotokol.xlsx"))
    layouts = write_annex(data.frame, spec, out, instrument=data.instrument, audit_name=data.name,
                          suppress=not no_suppress, progress=progress, population=data.population,
                          protocol=protocol, municipality_frame=data.municipalities)
    bar.close()
    if no_suppress:
        click.echo(_("wrote {file}: {tables} tables, {cases} cases (NOT suppressed: internal use only)").format(
            file=out, tables=len(layouts), cases=len(data.frame)))
    else:
        click.echo(_("wrote {file}: {tables} tables, {cases} cases").format(
            file=out, tables=len(layouts), cases=len(data.frame)))
    if protocol is not None:
        click.echo(_("wrote {file}: suppression protocol, for the agency only (do not publish)").format(file=protocol))


@export.command("figures")
@click.option("--audit", "audit_name", required=True, help="Name of the audit.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Zip to write (figures.zip): 'Figur N.png' (200 dpi) and 'Figur N.svg' per figure.")
@click.option("--definitions", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=REPORT_FILE,
              show_default=True, help="Report definition (YAML); its entries whose id starts with 'Figur' are drawn.")
@click.option("--no-suppress", is_flag=True, help="Show small cells (internal use only; never publish).")
def figures(audit_name: str, out: Path, definitions: Path, no_suppress: bool) -> None:
    """Write the figure book: every figure of the report definition as PNG and SVG in one zip,
    numbered and titled as in the report ("Figur 8: ..."), with its N note ("Anm.: N=...") and
    source line ("Kilde: ...") on the image, 16 cm wide (an A4 column). Horizontal bars of the
    shares (indicators: of the means), whole percents at the bar ends; small cells are
    suppressed as in the report workbook (no bar, "x")."""
    from audit.exports.service import figure_book

    if out.suffix.lower() != ".zip":
        raise click.ClickException(_("--out {file}: the figure book is a .zip file").format(file=out))
    data = _load(audit_name, "figures.zip", with_population=True)
    try:
        bar = _progress_bar(0, _("figures"))

        def progress(grids):  # type: ignore[no-untyped-def]
            grids = list(grids)
            bar.reset(total=len(grids))
            for g in grids:
                bar.set_postfix_str(g.definition.id)
                yield g
                bar.update(1)

        body, n = figure_book(data, definitions, suppress=not no_suppress, progress=progress)
        bar.close()
    except (DefinitionError, ValueError, RuntimeError) as exc:  # RuntimeError: suppression cannot protect a count
        raise click.ClickException(str(exc)) from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(body)
    if no_suppress:
        click.echo(_("wrote {file}: {figures} figures (PNG and SVG), {cases} cases (NOT suppressed: internal use "
                     "only)").format(file=out, figures=n, cases=len(data.frame)))
    else:
        click.echo(_("wrote {file}: {figures} figures (PNG and SVG), {cases} cases").format(
            file=out, figures=n, cases=len(data.frame)))


@export.command("raw")
@click.option("--audit", "audit_name", required=True, help="Name of the audit.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write: .xlsx (with codebook sheet), .csv or .sav (SPSS).")
@click.option("--comma", is_flag=True, help="CSV for scripts (',' and decimal point, no BOM) instead of Danish Excel's ';' and decimal comma.")
def raw(audit_name: str, out: Path, comma: bool) -> None:
    """Write one row per case: register, design, item and calculated variables; theme 7
    (one row per municipality that answered) as sheet `tema7`, or beside a .csv/.sav as
    OUT.tema7.csv/.sav.

    The cases are read and written in chunks, so memory does not grow with the audit
    (CSV and XLSX; an SPSS file is built in memory at about 8 bytes a cell)."""
    from audit.access import cli_actor
    from audit.audits import get_audit
    from audit.db import session_scope
    from audit.exports.service import write_raw_file
    from audit.statistics.dataset import count_cases

    if out.suffix.lower() not in (".xlsx", ".csv", ".sav"):
        raise click.ClickException(_("unknown raw export format {suffix}: use .xlsx, .csv or .sav").format(
            suffix=repr(out.suffix)))
    with session_scope() as session:
        try:
            audit = get_audit(session, audit_name)
            bar = _progress_bar(count_cases(session, audit), _("cases"))
            try:
                n = write_raw_file(session, audit, out, actor=cli_actor(),
                                   dialect=csvio.SCRIPTS if comma else csvio.PEOPLE, progress=bar.update)
            finally:
                bar.close()
        except (LookupError, ValueError, RuntimeError) as exc:
            raise click.ClickException(str(exc)) from exc
    if out.suffix.lower() == ".xlsx":
        click.echo(_("wrote {file}: {cases} cases, theme 7 in sheet tema7").format(file=out, cases=n))
    else:
        from audit.exports.raw import theme7_path

        click.echo(_("wrote {file}: {cases} cases").format(file=out, cases=n))
        click.echo(_("wrote {file}: theme 7, one row per municipality that answered").format(file=theme7_path(out)))


@export.command("codebook")
@click.option("--audit", "audit_name", required=True, help="Name of the audit.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="codebook.csv: the raw export's columns; codebook.xlsx: the instrument's own codebook.")
def codebook(audit_name: str, out: Path) -> None:
    """Write the codebook of the raw export (.csv: variable, label, type, values,
    relevance) or the audit's instrument codebook (.xlsx, by the instrument room)."""
    from audit.audits import get_audit
    from audit.db import session_scope
    from audit.exports.raw import codebook_csv_bytes
    from audit.exports.service import audit_instrument, export_columns

    with session_scope() as session:
        try:
            audit = get_audit(session, audit_name)
            instrument = audit_instrument(audit)
        except (LookupError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
        if out.suffix.lower() == ".xlsx":
            from audit.instrument.codebook import write_codebook

            write_codebook(instrument, out)
            click.echo(_("wrote {file}: instrument codebook ({items} items)").format(file=out, items=len(instrument.items)))
            return
        variables = export_columns(audit, instrument)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(codebook_csv_bytes(variables))
    click.echo(ngettext("wrote {file}: {n} variable", "wrote {file}: {n} variables", len(variables)).format(
        file=out, n=len(variables)))


@export.command("check-annex")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEFAULT_FILE)
@click.option("--instrument", "instrument_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Instrument YAML to check codes against (default: questionnaires/kontanthjaelp_2022.yaml).")
def check_annex(file: Path, instrument_path: Path | None) -> None:
    """Check an annex definition file: keys, kinds, and that every variable exists."""
    from audit.exports.definitions import load_definitions
    from audit.exports.service import default_instrument

    instrument = default_instrument(instrument_path)
    try:
        spec = load_definitions(file, instrument=instrument)
    except DefinitionError as exc:
        raise click.ClickException(str(exc)) from exc
    if instrument is not None:
        click.echo(_("{file}: {tables} tables OK against the instrument").format(file=file, tables=len(spec.tables)))
    else:
        click.echo(_("{file}: {tables} tables OK (no instrument found: codes not checked)").format(
            file=file, tables=len(spec.tables)))


COMMANDS: list[click.Command] = [export]
