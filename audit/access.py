"""Access logging: every use of personal data, by whom, when, how and about whom.

The room functions that hand out personal data take an `actor` and call `record` before
they return anything: the case form and case facts (audit.review.form), the hearing case
page's assessment and the municipality workbooks (audit.hearing), the exports service
(annex, raw data: audit.exports.service), the sample and protocol files
(audit.sampling.protocol) and the wide answer sheet (audit.review.sheets). Web routes pass
the logged-in user, CLI commands `cli_actor()`, so a page, an API call and a command are
logged by the same call.

An entry says: when (`at`, UTC), who (`user_id`, `username`; the CLI logs `cli:<OS user>`),
the kind of use (`view` a page, `api` a JSON answer, `download` a file over HTTP, `export`
a file written by the CLI), what (the page or file kind, e.g. "case form", "hearing
workbook", "data.csv"), the audit, and which cases with their register person ids
(`AccessCase`); `population` marks a use of the audit's whole register extract (Table 12
of the annex), which concerns every person in it.

The access log is its own hash chain (chain "accesslog" in `LogChain`, same canonical rules
as the audit trail, see audit.auditlog, with the sorted [case_id, person_id] pairs as field
"cases"), append-only by the same triggers. Each entry is written and committed in its own
transaction before the data is handed out: a use is never handed out without its entry, and
an entry stays even if the request fails later. (On SQLite, when the caller's transaction
already writes, the entry joins that transaction instead: SQLite has one writer at a time.) Within one HTTP request the same use (same
user, kind and cases) is written once, so a page that reads a case twice logs one view.
"""
from __future__ import annotations

import getpass
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from audit import auditlog
from audit.models import AccessCase, AccessLog, Audit, Case, LogChain, Person, User, utcnow

VIEW, FILE = "view", "file"
KINDS = {(VIEW, "web"): "view", (VIEW, "api"): "api", (VIEW, "cli"): "view",
         (FILE, "web"): "download", (FILE, "api"): "download", (FILE, "cli"): "export"}
ACCESS_FIELDS = ("id", "at", "user_id", "username", "kind", "what", "audit_id", "population", "n_cases", "address")


@dataclass(frozen=True)
class Actor:
    """Who uses the data, and through which door (web page, JSON API, command line)."""

    user_id: int | None
    username: str
    channel: str  # web / api / cli
    address: str | None = None


def cli_actor(username: str | None = None) -> Actor:
    """The person at the command line: the OS account (the CLI has no log-in)."""
    try:
        who = username or getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        who = "unknown"
    return Actor(None, f"cli:{who}"[:80], "cli")


# --- the request a web call belongs to ----------------------------------------------------

@dataclass
class _Request:
    channel: str
    address: str | None
    logged: set[tuple[Any, ...]] = field(default_factory=set)


_request: ContextVar[_Request | None] = ContextVar("audit_access_request", default=None)


class RequestContext:
    """ASGI middleware: tells `record` whether a call came through a page or the JSON API
    (/api/...), and the client address, for the users the web routes pass."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        token = _request.set(_Request("api" if scope.get("path", "").startswith("/api/") else "web",
                                      client[0] if client else None))
        try:
            await self.app(scope, receive, send)
        finally:
            _request.reset(token)


def as_actor(actor: User | Actor) -> Actor:
    if isinstance(actor, Actor):
        return actor
    info = _request.get()
    return Actor(actor.id, actor.username, info.channel if info else "web", info.address if info else None)


# --- writing ------------------------------------------------------------------------------

def _hash(fields: Mapping[str, Any], links: list[list[Any]], prev: str) -> str:
    return auditlog.entry_hash({**fields, "cases": links}, prev)


def record(session: Session, actor: User | Actor, *, what: str, nature: str = VIEW,
           cases: Iterable[int] = (), audit_id: int | None = None, population: bool = False) -> AccessLog | None:
    """Log one use of personal data, committed in its own transaction (see the module text).
    `nature` is VIEW (shown on a page or answered as JSON) or FILE (a file handed out)."""
    if actor is None:
        raise TypeError("access.record needs an actor")
    who = as_actor(actor)
    kind = KINDS[(nature, who.channel)]
    case_ids = sorted({int(c) for c in cases})
    info = _request.get()
    if info is not None:
        key = (who.user_id, who.username, kind, audit_id, population, tuple(case_ids))
        if key in info.logged:
            return None
        info.logged.add(key)
    if _writes_on_sqlite(session):
        # SQLite has one writer: this transaction already holds the lock, so a second
        # connection would wait for it. The entry joins the caller's transaction instead.
        return _write(session, who, kind, what, case_ids, audit_id, population)
    with Session(session.get_bind()) as s:
        row = _write(s, who, kind, what, case_ids, audit_id, population)
        s.commit()
    return row


def _writes_on_sqlite(session: Session) -> bool:
    if session.get_bind().dialect.name != "sqlite" or not session.in_transaction():
        return False
    dbapi = session.connection().connection.dbapi_connection
    return bool(getattr(dbapi, "in_transaction", False))


def _write(s: Session, who: Actor, kind: str, what: str, case_ids: list[int], audit_id: int | None,
           population: bool) -> AccessLog:
    persons: dict[int, str] = {}
    conn = s.connection()   # plain rows, no ORM: a form view writes one entry per view
    for start in range(0, len(case_ids), 5000):
        chunk = case_ids[start:start + 5000]
        persons.update(conn.execute(select(Case.id, Person.person_id).join(Person, Person.id == Case.person_pk)
                                    .where(Case.id.in_(chunk))).all())
    links = [[cid, persons.get(cid, "")] for cid in case_ids]
    new_id, prev = auditlog.take_head(s, "accesslog")
    fields = {"id": new_id, "at": utcnow(), "user_id": who.user_id, "username": who.username[:80],
              "kind": kind, "what": what[:80], "audit_id": audit_id, "population": bool(population),
              "n_cases": len(case_ids), "address": (who.address or None) and who.address[:64]}
    digest = _hash(fields, links, prev)
    conn.execute(insert(AccessLog), {**fields, "prev_hash": prev, "entry_hash": digest})
    if links:
        conn.execute(insert(AccessCase), [{"access_id": new_id, "case_id": c, "person_id": p} for c, p in links])
    auditlog.move_head(s, "accesslog", digest)
    return AccessLog(**fields, prev_hash=prev, entry_hash=digest)


# --- verification -------------------------------------------------------------------------

def _rows(session: Session, batch: int = 2000) -> Iterator[tuple[int, dict[str, Any], str | None, str | None]]:
    last = 0
    while True:
        rows = session.exec(select(AccessLog).where(AccessLog.id > last).order_by(AccessLog.id).limit(batch)).all()
        if not rows:
            return
        ids = [r.id for r in rows]
        links: dict[int, list[list[Any]]] = {i: [] for i in ids}
        for a, c, p in session.exec(select(AccessCase.access_id, AccessCase.case_id, AccessCase.person_id)
                                    .where(AccessCase.access_id.in_(ids))
                                    .order_by(AccessCase.access_id, AccessCase.case_id)).all():
            links[a].append([c, p])
        for r in rows:
            fields = {f: getattr(r, f) for f in ACCESS_FIELDS}
            fields["cases"] = links[r.id]
            yield r.id, fields, r.prev_hash, r.entry_hash
            session.expunge(r)
        last = ids[-1]


def verify(session: Session) -> auditlog.Verdict:
    """Walk the access log's chain and report the first broken link."""
    head = session.get(LogChain, "accesslog")
    return auditlog.walk("accesslog", _rows(session), None if head is None else (head.last_id, head.last_hash))


# --- reading: the uses concerning one person ----------------------------------------------

@dataclass
class Use:
    id: int
    at: datetime
    username: str
    kind: str
    what: str
    audit_id: int | None
    audit_name: str
    case_id: int | None  # None: a use of the whole register extract
    address: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": auditlog.iso_utc(self.at), "user": self.username, "kind": self.kind,
                "what": self.what, "audit_id": self.audit_id, "audit": self.audit_name,
                "case_id": self.case_id, "address": self.address}


def uses_for_person(session: Session, person_id: str, *, actor: User | Actor | None, limit: int = 10_000) -> list[Use]:
    """Every logged use of one citizen's data (register person id), newest first: the uses
    of their cases in any audit, and the uses of a whole register extract they are in.
    The lookup is itself a use of the person's data and is logged first (when `actor` is given)."""
    person_id = person_id.strip()
    people = session.exec(select(Person.id, Person.audit_id).where(Person.person_id == person_id)).all()
    audits_in = {a for _, a in people}
    if actor is not None:
        case_ids = session.exec(select(Case.id).where(Case.person_pk.in_([p for p, _ in people]))).all() if people else []
        record(session, actor, what="access log of a person", cases=case_ids,
               audit_id=next(iter(audits_in)) if len(audits_in) == 1 else None)
    names = dict(session.exec(select(Audit.id, Audit.name)).all())
    out: list[Use] = []
    for log, case_id in session.exec(select(AccessLog, AccessCase.case_id)
                                     .join(AccessCase, AccessCase.access_id == AccessLog.id)
                                     .where(AccessCase.person_id == person_id)
                                     .order_by(AccessLog.id.desc()).limit(limit)).all():
        out.append(Use(log.id, log.at, log.username, log.kind, log.what, log.audit_id,
                       names.get(log.audit_id, ""), case_id, log.address))
    seen = {u.id for u in out}
    if audits_in:
        for log in session.exec(select(AccessLog).where(AccessLog.population == True,  # noqa: E712
                                                        AccessLog.audit_id.in_(audits_in))
                                .order_by(AccessLog.id.desc()).limit(limit)).all():
            if log.id not in seen:
                out.append(Use(log.id, log.at, log.username, log.kind, log.what, log.audit_id,
                               names.get(log.audit_id, ""), None, log.address))
    out.sort(key=lambda u: u.id, reverse=True)
    return out[:limit]


def latest(session: Session, limit: int = 200, username: str | None = None) -> list[AccessLog]:
    """The newest entries of the access log (admin page), optionally of one user."""
    query = select(AccessLog).order_by(AccessLog.id.desc()).limit(limit)
    if username:
        query = query.where(AccessLog.username == username)
    return list(session.exec(query).all())
