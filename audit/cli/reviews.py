"""`audit reviews`: assign cases, wide-sheet export/import for offline work,
second-review subsample and agreement."""
from __future__ import annotations

import json

import click

from audit.db import session_scope
from audit.cli.text import Columns
from audit.i18n import _, ngettext, number


@click.group()
def reviews() -> None:
    """Review of sampled cases: assignment, offline sheets, second review.

    \b
    Examples:
      audit reviews assign --audit "Revision 2022" --auditor bo --municipality Odense --municipality Aarhus
      audit reviews assign --audit "Revision 2022" --round-robin bo,cy,dan
      audit reviews export --audit "Revision 2022" --out answers.xlsx
      audit reviews import --audit "Revision 2022" answers.xlsx --as bo
      audit reviews second-review --audit "Revision 2022" --share 0.1 --seed 7 --auditor cy --auditor dan
      audit reviews agreement --audit "Revision 2022"
    """


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@reviews.command("assign")
@click.option("--audit", "audit_name", required=True, help="Audit name.")
@click.option("--auditor", help="Username receiving the municipalities' cases (with --municipality).")
@click.option("--municipality", "municipalities", multiple=True, help="Municipality; repeat for several.")
@click.option("--round-robin", help="Comma-separated usernames: every municipality dealt to them in turn.")
def assign_cmd(audit_name: str, auditor: str | None, municipalities: tuple[str, ...], round_robin: str | None) -> None:
    """Assign sampled cases (whole municipalities, with their theme 7) to auditors."""
    from audit.review import assignment

    if bool(round_robin) == bool(auditor):
        raise click.UsageError(_("give either --auditor with --municipality, or --round-robin"))
    if auditor and not municipalities:
        raise click.UsageError(_("--auditor needs at least one --municipality"))
    try:
        with session_scope() as s:
            audit = assignment.audit_by_name(s, audit_name)
            if round_robin:
                users = [assignment.auditor_by_name(s, n.strip()) for n in round_robin.split(",") if n.strip()]
                plan = assignment.assign_round_robin(s, audit, users, None)
                for m, u in plan.items():
                    click.echo(f"{m:<20} {u}")
                click.echo(_("{municipalities} municipalities assigned to {auditors} auditors").format(
                    municipalities=len(plan), auditors=len(users)))
            else:
                n = assignment.assign(s, audit, assignment.auditor_by_name(s, auditor), list(municipalities), None)
                click.echo(ngettext("{n} case assigned to {auditor}", "{n} cases assigned to {auditor}", n).format(
                    n=n, auditor=auditor))
    except assignment.AssignmentError as exc:
        raise _fail(exc) from exc


@reviews.command("theme7-not-answered")
@click.option("--audit", "audit_name", required=True, help="Audit name.")
@click.option("--municipality", "municipalities", multiple=True, required=True,
              help="Municipality that did not answer theme 7; repeat for several.")
@click.option("--reason", default="", help="Why (kept in the audit trail).")
@click.option("--undo", is_flag=True, help="Take it back: the municipality's theme 7 is in progress again.")
def theme7_not_answered_cmd(audit_name: str, municipalities: tuple[str, ...], reason: str, undo: bool) -> None:
    """Record that a municipality did not answer theme 7 (the management survey): it leaves
    the N of every theme-7 table (e.g. N=22 of 25 municipalities)."""
    from audit.review import assignment, workflow

    try:
        with session_scope() as s:
            audit = assignment.audit_by_name(s, audit_name)
            known = set(json.loads(audit.municipalities_json or "[]"))
            for m in municipalities:
                if m not in known:
                    raise click.ClickException(_("--municipality {municipality} is not a municipality of {audit}").format(
                        municipality=repr(m), audit=repr(audit_name)))
                review = assignment.municipality_review(s, audit, m)
                workflow.set_municipality_not_answered(s, review, None, not_answered=not undo, reason=reason)
                click.echo((_("{municipality}: theme 7 in progress") if undo
                            else _("{municipality}: theme 7 not answered")).format(municipality=m))
    except (assignment.AssignmentError, workflow.AnswerError) as exc:
        raise _fail(exc) from exc


@reviews.command("export")
@click.option("--audit", "audit_name", required=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="File to write: .xlsx or .csv (one row per case, one column per item code).")
@click.option("--pass", "pass_no", type=click.IntRange(1, 2), default=1, show_default=True,
              help="1 = the review, 2 = the second review.")
def export_cmd(audit_name: str, out: str, pass_no: int) -> None:
    """Write the answers as a wide sheet; multiple choice as space-separated codes."""
    from audit.access import cli_actor
    from audit.review import assignment, sheets

    if not out.lower().endswith((".xlsx", ".csv")):
        raise click.UsageError(_("--out must end in .xlsx or .csv"))
    try:
        with session_scope() as s:
            n = sheets.export_sheet(s, assignment.audit_by_name(s, audit_name), out, pass_no, actor=cli_actor())
    except assignment.AssignmentError as exc:
        raise _fail(exc) from exc
    click.echo(ngettext("{n} case written to {file}", "{n} cases written to {file}", n).format(n=n, file=out))


@reviews.command("import")
@click.option("--audit", "audit_name", required=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "as_user", help="Username the answers are recorded as (audit trail, permission check).")
@click.option("--pass", "pass_no", type=click.IntRange(1, 2), default=1, show_default=True)
def import_cmd(audit_name: str, file: str, as_user: str | None, pass_no: int) -> None:
    """Import a wide sheet (.xlsx/.csv). Every cell is checked against the instrument;
    on any problem nothing is written and every problem is listed
    (file, row, column = item code, value, why). An empty cell clears an answer;
    a `version` column, when present, must match the case (else export again)."""
    from sqlmodel import select

    from audit.models import User
    from audit.review import assignment, sheets

    try:
        with session_scope() as s:
            audit = assignment.audit_by_name(s, audit_name)
            user = None
            if as_user:
                user = s.exec(select(User).where(User.username == as_user)).first()
                if user is None:
                    raise assignment.AssignmentError(_("no user named {username}").format(username=repr(as_user)))
            result = sheets.import_sheet(s, audit, file, user, pass_no=pass_no)
    except sheets.SheetImportError as exc:
        raise click.ClickException(str(exc)) from exc
    except assignment.AssignmentError as exc:
        raise _fail(exc) from exc
    click.echo(_("{cases} cases read, {changed} answers changed").format(cases=result.cases, changed=result.changed))


@reviews.command("second-review")
@click.option("--audit", "audit_name", required=True)
@click.option("--share", type=float, default=0.1, show_default=True, help="Share of the audit's cases.")
@click.option("--seed", type=int, required=True, help="Seed of the draw (recorded in the audit trail).")
@click.option("--auditor", "auditors", multiple=True, required=True,
              help="Second reviewer; repeat for several. Never the case's first reviewer.")
def second_review_cmd(audit_name: str, share: float, seed: int, auditors: tuple[str, ...]) -> None:
    """Mark a reproducible random subsample for independent double review."""
    from audit.review import assignment

    try:
        with session_scope() as s:
            audit = assignment.audit_by_name(s, audit_name)
            names = [n.strip() for a in auditors for n in a.split(",") if n.strip()]
            ids = assignment.mark_second_review(s, audit, share, seed,
                                                [assignment.auditor_by_name(s, n) for n in names], None)
    except assignment.AssignmentError as exc:
        raise _fail(exc) from exc
    click.echo(ngettext("{n} case marked for second review: {ids}", "{n} cases marked for second review: {ids}",
                        len(ids)).format(n=len(ids), ids=" ".join(map(str, ids))))


@reviews.command("agreement")
@click.option("--audit", "audit_name", required=True)
def agreement_cmd(audit_name: str) -> None:
    """Per item: cases answered in both reviews, percent agreement, Cohen's kappa."""
    from audit.review import agreement, assignment

    try:
        with session_scope() as s:
            rows = agreement.agreement(s, assignment.audit_by_name(s, audit_name))
    except assignment.AssignmentError as exc:
        raise _fail(exc) from exc
    if not rows:
        click.echo(_("no item answered in both reviews yet"))
        return
    cols = Columns([(_("item"), 32, "<"), ("N", 4, ">"), (_("agree %"), 8, ">"), (_("kappa"), 7, ">")])
    click.echo(cols.header())
    for r in rows:
        kappa = "" if r.kappa is None else number(r.kappa, 3)
        click.echo(cols.row([r.item, r.n, number(r.percent, 1), kappa]))


COMMANDS: list[click.Command] = [reviews]
