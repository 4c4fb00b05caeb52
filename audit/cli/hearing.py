"""Comment rounds (høring) from the command line: open, follow, close, lock, export.
Each command calls the same functions as the web pages (audit.hearing) and
logs as user "system" unless --by names an account."""
from __future__ import annotations

from pathlib import Path

import click
from sqlmodel import Session, select

from audit.cli.text import Columns
from audit.db import session_scope
from audit.i18n import _, ngettext


def _audit(session: Session, name: str):  # type: ignore[no-untyped-def]
    from audit.models import Audit

    audit = session.exec(select(Audit).where(Audit.name == name)).first()
    if audit is None:
        raise click.ClickException(_("no audit named {name}").format(name=repr(name)))
    return audit


def _user(session: Session, username: str | None):  # type: ignore[no-untyped-def]
    if not username:
        return None
    from audit.models import User

    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or user.role != "admin":
        raise click.ClickException(_("{username} is not an admin account").format(username=repr(username)))
    return user


BY = click.option("--by", "by", metavar="USERNAME", help="Admin account the audit log names (default: system).")


@click.group()
def hearing() -> None:
    """Comment rounds: municipalities comment on the assessments of their cases.

    \b
    audit hearing open   --audit NAME --municipality Odense --municipality Aarhus --deadline 2022-06-01
    audit hearing status --audit NAME
    audit hearing close  --audit NAME --round 1
    audit hearing lock   --audit NAME [--force]
    audit hearing export --audit NAME --municipality Odense --out odense.xlsx [--feedback]
    """


@hearing.command("open")
@click.option("--audit", "audit_name", required=True, help="Audit name.")
@click.option("--municipality", "municipalities", multiple=True, required=True,
              help="Municipality to include (repeat). All its completed cases go to hearing.")
@click.option("--deadline", required=True,
              help="Last day for remarks, YYYY-MM-DD (end of that day, UTC), or YYYY-MM-DDTHH:MM[+hh:mm].")
@BY
def open_cmd(audit_name: str, municipalities: tuple[str, ...], deadline: str, by: str | None) -> None:
    """Open a new round for the municipalities. Refused for a municipality with no
    completed cases or one already in an open round (nothing is changed then)."""
    from audit.hearing.rounds import HearingError, as_utc, open_round

    try:
        with session_scope() as session:
            from audit.hearing.rounds import round_status

            rnd = open_round(session, _audit(session, audit_name), municipalities, deadline, _user(session, by))
            opened = ", ".join(ngettext("{municipality} ({n} case)", "{municipality} ({n} cases)", st.cases).format(
                municipality=st.municipality, n=st.cases) for st in round_status(session, rnd))
            click.echo(_("round {number} opened for {municipalities}; deadline {deadline} UTC").format(
                number=rnd.number, municipalities=opened, deadline=f"{as_utc(rnd.deadline):%Y-%m-%d %H:%M}"))
    except HearingError as exc:
        raise click.ClickException(str(exc)) from exc


@hearing.command("status")
@click.option("--audit", "audit_name", required=True, help="Audit name.")
def status_cmd(audit_name: str) -> None:
    """Rounds of the audit and, per municipality, whether it has responded."""
    from audit.hearing.lock import lock_problems, unreviewed_cases
    from audit.hearing.rounds import as_utc, round_status, rounds_of

    with session_scope() as session:
        audit = _audit(session, audit_name)
        rounds = rounds_of(session, audit.id)
        if not rounds:
            click.echo(_("no rounds yet"))
        for rnd in rounds:
            state = (_("closed {date}").format(date=f"{as_utc(rnd.closed_at):%Y-%m-%d}") if rnd.closed_at
                     else _("open"))
            click.echo(_("round {number}: {state}, deadline {deadline} UTC").format(
                number=rnd.number, state=state, deadline=f"{as_utc(rnd.deadline):%Y-%m-%d %H:%M}"))
            cols = Columns([(_("municipality"), 18, "<"), (_("cases"), 5, ">"), (_("drafts"), 6, ">"),
                            (_("waiting"), 7, ">"), (_("answered"), 8, ">")])
            click.echo("  " + cols.header() + "  " + _("submitted"))
            for st in round_status(session, rnd):
                sub = f"{st.submitted_at:%Y-%m-%d %H:%M}" if st.submitted_at else _("not yet")
                click.echo("  " + cols.row([st.municipality, st.cases, st.drafts, st.submitted, st.answered])
                           + "  " + sub)
        if audit.locked_at:
            click.echo(_("locked {time} UTC by {user}").format(time=f"{as_utc(audit.locked_at):%Y-%m-%d %H:%M}",
                                                               user=audit.locked_by))
        else:
            problems = lock_problems(session, audit)
            click.echo(_("ready to lock") if not problems
                       else _("not ready to lock: {problems}").format(problems="; ".join(problems)))
            open_cases = unreviewed_cases(session, audit)
            for status in ("not_started", "in_progress"):
                if open_cases[status]:
                    click.echo("  " + _unreviewed(status, len(open_cases[status])))


@hearing.command("close")
@click.option("--audit", "audit_name", required=True, help="Audit name.")
@click.option("--round", "number", type=int, required=True, help="Round number (see status).")
@BY
def close_cmd(audit_name: str, number: int, by: str | None) -> None:
    """Close a round. Submitted remarks can still be answered afterwards."""
    from audit.hearing.rounds import HearingError, close_round, get_round

    try:
        with session_scope() as session:
            close_round(session, get_round(session, _audit(session, audit_name).id, number), _user(session, by))
    except HearingError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("round {number} closed").format(number=number))


@hearing.command("lock")
@click.option("--audit", "audit_name", required=True, help="Audit name.")
@click.option("--force", is_flag=True,
              help="Lock even with an open round (closed first) or unanswered remarks (stay unanswered); logged.")
@BY
def lock_cmd(audit_name: str, force: bool, by: str | None) -> None:
    """Lock the audit after the last round: answers become final everywhere."""
    from audit.hearing.lock import lock_audit, unreviewed_cases
    from audit.hearing.rounds import HearingError

    try:
        with session_scope() as session:
            audit = _audit(session, audit_name)
            open_cases = unreviewed_cases(session, audit)
            overridden = lock_audit(session, audit, _user(session, by), force=force)
    except HearingError as exc:
        raise click.ClickException(_("{error} (use force to lock anyway: --force)").format(error=exc)) from exc
    for status in ("not_started", "in_progress"):
        if open_cases[status]:
            click.echo(_("warning: {cases}: {ids}").format(
                cases=_unreviewed(status, len(open_cases[status])),
                ids=", ".join(str(i) for i in open_cases[status])), err=True)
    if overridden:
        click.echo(_("audit {name} locked (overridden: {overridden})").format(name=audit_name,
                                                                             overridden="; ".join(overridden)))
    else:
        click.echo(_("audit {name} locked").format(name=audit_name))


def _unreviewed(status: str, n: int) -> str:
    """How many cases are never reviewed or begun but not completed, in the current language."""
    if status == "not_started":
        return _("{n} case(s) never reviewed").format(n=n)
    return _("{n} case(s) begun but not completed").format(n=n)


@hearing.command("export")
@click.option("--audit", "audit_name", required=True, help="Audit name.")
@click.option("--municipality", required=True, help="The municipality the workbook is for.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Output .xlsx file.")
@click.option("--feedback", is_flag=True,
              help="The feedback workbook (after locking): its shares next to all municipalities "
                   "for the key items in exports/feedback_items.yaml. Default: the hearing workbook.")
@click.option("--language", type=click.Choice(["da", "en"]), default=None,
              help="The language of the workbook's sheets, headers and notes (the municipality reads it). "
                   "Default: AUDIT_LANGUAGE (Danish).")
def export_cmd(audit_name: str, municipality: str, out: Path, feedback: bool, language: str | None) -> None:
    """Write a municipality's hearing workbook (cases, assessments, remarks, responses) or feedback workbook."""
    from audit import i18n
    from audit.hearing.rounds import HearingError
    from audit.access import cli_actor
    from audit.hearing.workbooks import feedback_workbook, hearing_workbook
    from audit.population.municipalities import canonical_municipality

    try:
        name = canonical_municipality(municipality)
        with session_scope() as session, i18n.language(language):
            audit = _audit(session, audit_name)
            data = (feedback_workbook if feedback else hearing_workbook)(session, audit, name, actor=cli_actor())
    except (HearingError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    out.write_bytes(data)
    if feedback:
        click.echo(_("wrote {file} (feedback workbook, {municipality})").format(file=out, municipality=name))
    else:
        click.echo(_("wrote {file} (hearing workbook, {municipality})").format(file=out, municipality=name))


COMMANDS: list[click.Command] = [hearing]
