"""Commands for audits, the register population and the sample."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from audit.db import session_scope
from audit.i18n import _, ngettext, number
from audit.resources import questionnaire


def _date(_ctx, _param, value: str | None) -> date | None:  # type: ignore[no-untyped-def]
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(_("{value} is not a date (YYYY-MM-DD)").format(value=repr(value))) from exc


def _audit(session, name: str):  # type: ignore[no-untyped-def]
    from audit.audits import AuditError, get_audit

    try:
        return get_audit(session, name)
    except AuditError as exc:
        raise click.ClickException(str(exc)) from exc


def _actor(session, username: str | None):  # type: ignore[no-untyped-def]
    """The admin named by --as, recorded in the audit log (None: logged as 'system')."""
    if not username:
        return None
    from sqlmodel import select

    from audit.models import User
    from audit.permissions import can

    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise click.ClickException(_("no user named {username}").format(username=repr(username)))
    if not can(user, "audit.manage"):
        raise click.ClickException(_("user {username} is not an admin; only admins import, draw and replace").format(
            username=repr(username)))
    return user


AS_OPTION = click.option("--as", "as_user", metavar="USERNAME",
                         help="Admin the change is recorded as in the audit log (default: 'system').")


@click.group()
def audits() -> None:
    """Create and list audits."""


@audits.command("create")
@click.argument("name")
@click.option("--period-start", required=True, callback=_date, help="First day of the review period, e.g. 2018-03-01.")
@click.option("--period-end", required=True, callback=_date, help="Last day of the review period, e.g. 2020-02-29.")
@click.option("--reference-date", required=True, callback=_date,
              help="Date at which seniority is measured and the target group fixed, e.g. 2020-03-01.")
@click.option("--municipalities", multiple=True,
              help="Participating municipalities (repeat, or comma-separated). Default: any of the 98.")
@click.option("--instrument", "instrument_path", type=click.Path(dir_okay=False),
              default=lambda: str(questionnaire()), show_default="the 2022 instrument shipped with the tool (1.0)",
              help="Instrument the audit is bound to (frozen into the audit): a file, or the name of one "
                   "shipped with the tool, e.g. kontanthjaelp_2022_v1_1.yaml (version 1.1).")
def audits_create(name: str, period_start: date, period_end: date, reference_date: date,
                  municipalities: tuple[str, ...], instrument_path: str) -> None:
    """Create an audit bound to one instrument version."""
    from audit.audits import AuditError, new_audit

    names = [m.strip() for chunk in municipalities for m in chunk.split(",") if m.strip()]
    try:
        with session_scope() as session:
            # the same function as the admin's form on /admin
            audit = new_audit(session, name, period_start=period_start, period_end=period_end,
                              reference_date=reference_date, municipalities=names, instrument=instrument_path)
            if names:
                click.echo(_("audit {name} created (instrument {version}, {n} municipalities)").format(
                    name=repr(audit.name), version=audit.instrument_version, n=len(names)))
            else:
                click.echo(_("audit {name} created (instrument {version}, any municipalities)").format(
                    name=repr(audit.name), version=audit.instrument_version))
    except AuditError as exc:
        raise click.ClickException(str(exc)) from exc


@audits.command("edit")
@click.argument("name")
@click.option("--name", "new_name", default=None, help="New name of the audit.")
@click.option("--period-start", default=None, callback=_date, help="New first day of the review period.")
@click.option("--period-end", default=None, callback=_date, help="New last day of the review period.")
@click.option("--reference-date", default=None, callback=_date, help="New reference date.")
@click.option("--municipalities", multiple=True,
              help="New list of participating municipalities (repeat, or comma-separated; replaces the list).")
@AS_OPTION
def audits_edit(name: str, new_name: str | None, period_start: date | None, period_end: date | None,
                reference_date: date | None, municipalities: tuple[str, ...], as_user: str | None) -> None:
    """Change an audit's name (until it is locked), or its period, reference date and
    municipalities (until a register extract is imported). Options left out keep their value."""
    import json

    from audit.audits import AuditError, edit_audit

    try:
        with session_scope() as session:
            audit = _audit(session, name)
            names = ([m.strip() for chunk in municipalities for m in chunk.split(",") if m.strip()]
                     if municipalities else json.loads(audit.municipalities_json or "[]"))
            edit_audit(session, audit, name=new_name or audit.name, period_start=period_start or audit.period_start,
                       period_end=period_end or audit.period_end,
                       reference_date=reference_date or audit.reference_date, municipalities=names,
                       user=_actor(session, as_user))
            click.echo(_("audit {name} changed").format(name=repr(audit.name)))
    except AuditError as exc:
        raise click.ClickException(str(exc)) from exc


@audits.command("list")
def audits_list() -> None:
    """List audits with population and sample counts."""
    from audit.audits import list_audits

    with session_scope() as session:
        audits = list_audits(session)
    if not audits:
        click.echo(_("no audits yet; create one with `audit audits create`"))
    for a in audits:
        click.echo(_("{name}: period {start} to {end}, reference date {reference}; {municipalities}; "
                     "{people} people, {cases} cases ({active} active), seed {seed}").format(
            name=a.name, start=a.period_start, end=a.period_end, reference=a.reference_date,
            municipalities=(ngettext("{n} municipality", "{n} municipalities", len(a.municipalities)).format(
                n=len(a.municipalities)) if a.municipalities else _("any municipality")),
            people=number(a.population), cases=number(a.cases), active=number(a.active_cases),
            seed="-" if a.seed is None else a.seed))


@click.group()
def population() -> None:
    """Import the register extract (the sampling frame)."""


@population.command("import")
@click.option("--audit", "audit_name", required=True, help="Audit name.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--spells", type=click.Path(exists=True, dir_okay=False),
              help="Benefit spells file (person_id, benefit, start, end) instead of a seniority_years column.")
@click.option("--replace", is_flag=True, help="Replace an imported population or snapshot (a population only "
                                               "before sampling).")
@click.option("--ignore-extra", is_flag=True,
              help="Drop columns the register definition does not declare instead of refusing the file.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help="Import FILE as a snapshot of the register at this date (persons linked to the audit's other "
                   "extracts by person_id; needs person_id and municipality) instead of the sampling frame.")
@AS_OPTION
def population_import(audit_name: str, file: str, spells: str | None, replace: bool, ignore_extra: bool,
                      as_of, as_user: str | None) -> None:  # type: ignore[no-untyped-def]
    """Import FILE (CSV with comma or semicolon, UTF-8 with or without BOM, or XLSX).

    Without --as-of FILE is the sampling frame: columns person_id, municipality,
    seniority_years, sex, age, origin, plus any other column the audit's register
    definition declares (registers/kontanthjaelp_2022.yaml; `audit register check`),
    each stored typed per person. With --as-of FILE is a snapshot at that date.
    A column the definition does not declare is refused unless --ignore-extra.
    All-or-nothing: any bad row rejects the whole file and every error is listed
    (file, row, column, value, why)."""
    from audit.population.importer import PopulationError, import_population
    from audit.population.register import RegisterError
    from audit.population.snapshots import import_snapshot

    try:
        with session_scope() as session:
            audit = _audit(session, audit_name)
            if as_of is not None:
                if spells:
                    raise click.UsageError(_("--spells is for the sampling frame, not for a snapshot (--as-of)"))
                snap = import_snapshot(session, audit, file, as_of=as_of.date(), replace=replace,
                                       ignore_extra=ignore_extra, user=_actor(session, as_user))
            else:
                result = import_population(session, audit, file, spells=spells, replace=replace, progress=None,
                                           user=_actor(session, as_user), ignore_extra=ignore_extra)
    except RegisterError as exc:
        for err in exc.errors[:200]:
            click.echo(str(err), err=True)
        if exc.total > 200:
            click.echo(_("... and {n} more errors").format(n=number(exc.total - 200)), err=True)
        raise click.ClickException(_("{n} errors: nothing was imported").format(n=number(exc.total))) from exc
    except PopulationError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_of is not None:
        for warning in snap.warnings:
            click.echo(_("warning: {warning}").format(warning=warning), err=True)
        click.echo(_("imported snapshot {date} of {n} people into {audit} ({linked} linked to the sampling frame); "
                     "variables: {variables}").format(date=snap.as_of, n=snap.rows, audit=repr(audit_name),
                                                      linked=snap.linked,
                                                      variables=", ".join(snap.variables) or _("none")))
        return
    for warning in result.warnings:
        click.echo(_("warning: {warning}").format(warning=warning), err=True)
    bands = ", ".join(f"{k} {v}" for k, v in result.per_band.items())
    if result.variables:
        click.echo(_("imported {n} people into {audit}: {bands}; variables: {variables}").format(
            n=result.rows, audit=repr(audit_name), bands=bands, variables=", ".join(result.variables)))
    else:
        click.echo(_("imported {n} people into {audit}: {bands}").format(n=result.rows, audit=repr(audit_name),
                                                                        bands=bands))


@click.group()
def sample() -> None:
    """Draw, replace, export and document the stratified sample."""


@sample.command("draw")
@click.option("--audit", "audit_name", required=True)
@click.option("--per-stratum", type=int, default=5, show_default=True, help="Cases per municipality x band.")
@click.option("--seed", type=int, required=True, help="Recorded; the same seed and population give the same sample.")
@click.option("--bands", default=None,
              help="Lower bounds of the seniority bands in years, e.g. 5,7,10 (default: the audit's, 5,7,10 when new).")
@click.option("--reserves", type=int, default=2, show_default=True, help="Reserves per stratum, drawn in order.")
@click.option("--force", is_flag=True, help="Discard an existing sample without answers and draw again (logged).")
@AS_OPTION
def sample_draw(audit_name: str, per_stratum: int, seed: int, bands: str | None, reserves: int, force: bool,
                as_user: str | None) -> None:
    """Simple random sampling without replacement within each stratum."""
    from audit.sampling.draw import SamplingError, draw_sample

    try:
        with session_scope() as session:
            audit = _audit(session, audit_name)
            result = draw_sample(session, audit, per_stratum=per_stratum, seed=seed,
                                 bands=bands, reserves=reserves, force=force,
                                 user=_actor(session, as_user))
    except (SamplingError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("drew {cases} cases and {reserves} reserves in {strata} strata (seed {seed})").format(
        cases=result.sampled, reserves=result.reserve_cases, strata=len(result.strata), seed=seed))
    for s in result.shortfalls:
        click.echo(_("shortfall: {municipality} {band}: {drawn} of {requested} (N_h={population})").format(
            municipality=s.municipality, band=s.band, drawn=s.drawn, requested=s.requested, population=s.population))
    if result.outside_bands:
        click.echo(_("note: {n} people fall below the first band and were not sampled").format(n=result.outside_bands))


@sample.command("replace")
@click.option("--audit", "audit_name", required=True)
@click.option("--case", "case_id", type=int, required=True)
@click.option("--reason", required=True, help="Why the case cannot be reviewed (recorded in the audit log).")
@click.option("--force", is_flag=True, help="Replace even though the case has answers.")
@AS_OPTION
def sample_replace(audit_name: str, case_id: int, reason: str, force: bool, as_user: str | None) -> None:
    """Replace a case with the next reserve of its stratum."""
    from audit.sampling.draw import SamplingError
    from audit.sampling.protocol import replace_case

    try:
        with session_scope() as session:
            reserve = replace_case(session, _audit(session, audit_name), case_id, reason, force=force,
                                   user=_actor(session, as_user))
            click.echo(_("case {case} replaced by reserve case {reserve} (rank {rank})").format(
                case=case_id, reserve=reserve.id, rank=reserve.reserve_rank))
    except SamplingError as exc:
        raise click.ClickException(str(exc)) from exc


@sample.command("export")
@click.option("--audit", "audit_name", required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def sample_export(audit_name: str, out: Path) -> None:
    """Write the sample CSV (case_id, person_id, municipality, seniority_band, weight, is_reserve,
    reserve_rank) and the sampling protocol as OUT with suffix .protocol.csv."""
    from audit.access import cli_actor
    from audit.sampling.protocol import export_sample

    with session_scope() as session:
        proto = export_sample(session, _audit(session, audit_name), out, actor=cli_actor())
    click.echo(_("wrote {file} and {protocol}").format(file=out, protocol=proto))


@sample.command("protocol")
@click.option("--audit", "audit_name", required=True)
def sample_protocol(audit_name: str) -> None:
    """Print the sampling protocol: seed, frame and sample counts per stratum, shortfalls, replacements."""
    from audit.sampling.protocol import protocol

    with session_scope() as session:
        header, table = protocol(session, _audit(session, audit_name))
    for k, v in header.items():
        click.echo(f"{k}: {v}")
    click.echo(table.to_string(index=False))


@sample.command("representativeness")
@click.option("--audit", "audit_name", required=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def sample_representativeness(audit_name: str, fmt: str) -> None:
    """Print the report's Table 12: sex, age band and origin of the population and of the
    drawn sample (active cases), per seniority band and in total, as column percentages.
    CSV/JSON columns: variable, code, side, seniority_band, count, percent, n."""
    from audit.sampling.draw import has_sample
    from audit.sampling.representativeness import audit_table, to_long

    with session_scope() as session:
        audit = _audit(session, audit_name)
        if not has_sample(session, audit):
            raise click.ClickException(_("audit {name} has no sample yet; draw one with `audit sample draw`").format(
                name=repr(audit_name)))
        table = audit_table(session, audit)
    if fmt == "table":
        click.echo(table.to_text())
    elif fmt == "csv":
        from audit import csvio

        click.echo(csvio.frame_to_text(to_long(table), csvio.SCRIPTS), nl=False)
    else:
        click.echo(to_long(table).to_json(orient="records", force_ascii=False, indent=2))


COMMANDS: list[click.Command] = [audits, population, sample]
