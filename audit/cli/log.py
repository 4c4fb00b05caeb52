"""`audit log ...`: verify the hash chains of the audit trail and the access log, and list the
uses of one citizen's data (what a data subject may ask for)."""
from __future__ import annotations

import json
import sys

import click

from audit.db import session_scope
from audit.i18n import _


@click.group("log")
def log() -> None:
    """Audit trail and access log: verify the hash chains; list the uses of one citizen's data.

    \b
    audit log verify                  walk both hash chains, report the first broken link
    audit log access --person ID      every logged use of one citizen's data, newest first
    """


@log.command("verify")
def verify_cmd() -> None:
    """Recompute the hash chain of the audit trail and of the access log from the first entry.
    Prints "N entries, chain intact" for each, or the first broken link (entry id, expected
    and found hash) and exits with status 1."""
    from audit import access, auditlog

    broken = False
    with session_scope() as session:
        for label, verdict in ((_("audit trail"), auditlog.verify(session)), (_("access log"), access.verify(session))):
            if verdict.intact:
                click.echo(_("{log}: {verdict} (head {head})").format(log=label, verdict=verdict.message(),
                                                                    head=verdict.head))
            else:
                broken = True
                click.echo(_("{log}: BROKEN: {verdict}").format(log=label, verdict=verdict.message()))
    if broken:
        sys.exit(1)


@log.command("access")
@click.option("--person", "person_id", required=True, help="The person id from the register extract.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def access_cmd(person_id: str, fmt: str) -> None:
    """Every logged use of one citizen's data, newest first: views of their case's assessment,
    API reads, downloads and exports that included their case, and uses of a whole register
    extract they are in. The person id maps to the person's cases in every audit. The lookup
    itself is logged too."""
    from audit import access, csvio

    with session_scope() as session:
        uses = access.uses_for_person(session, person_id, actor=access.cli_actor())
        rows = [u.to_dict() for u in uses]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        columns = ["at", "user", "kind", "what", "audit_id", "audit", "case_id", "address"]
        click.echo(csvio.to_text(columns, [[r[c] for c in columns] for r in rows], csvio.SCRIPTS), nl=False)
        return
    click.echo(_("person {person}: {n} logged use(s), newest first").format(person=person_id, n=len(rows)))
    for r in rows:
        case = _("case {case}").format(case=r["case_id"]) if r["case_id"] is not None else _("whole register")
        click.echo(f"{r['at']}  {r['user']:<18} {r['kind']:<9} {r['what']:<24} {r['audit'] or '-'}  {case}")
