"""The audit trail: every change to audit data goes through `record`.

The trail is append-only (database triggers refuse UPDATE, DELETE and, on SQLite,
an INSERT that would replace an existing id) and tamper-evident: each entry carries
`entry_hash`, the sha256 of its canonical form, which includes `prev_hash`, the hash
of the entry before it. Changing, removing or inserting an entry anywhere breaks
every link after it, and `verify` reports the first broken one.

Canonical form (docs/security.md): a JSON object of the row's fields

    id, at, user_id, username, audit_id, entity, entity_id, field,
    old_value, new_value, reason, prev_hash

with `at` as ISO 8601 in UTC with microseconds and a trailing Z
(`2026-03-01T09:15:02.123456Z`), integers as numbers, text as stored, missing
values as null; serialised with sorted keys, separators "," and ":" and no ASCII
escaping, encoded as UTF-8. The first entry's `prev_hash` is 64 zeros.

Appends are serialised by the chain head (`LogChain`): the writer takes it with an
UPDATE (a row lock on PostgreSQL, the write lock on SQLite) in the same transaction
as the entry, reads the last id and hash, writes the entry with the next id and
moves the head. Two writers can therefore never chain to the same predecessor, and
a rolled-back transaction takes its entries and its head move with it.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert, text
from sqlmodel import Session, select

from audit.i18n import _, ngettext
from audit.models import AuditLog, LogChain, User, utcnow

GENESIS = "0" * 64
AUDIT_FIELDS = ("id", "at", "user_id", "username", "audit_id", "entity", "entity_id", "field",
                "old_value", "new_value", "reason")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def iso_utc(moment: datetime | str) -> str:
    """`at` in the canonical form. Naive values (SQLite gives them back naive) are UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: Mapping[str, Any], prev_hash: str) -> bytes:
    """The bytes that are hashed: the row's fields plus prev_hash, as defined above."""
    doc = {k: (iso_utc(v) if k == "at" else v) for k, v in fields.items()}
    doc["prev_hash"] = prev_hash
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical(fields, prev_hash)).hexdigest()


_TAKE = text("UPDATE logchain SET last_id = last_id + 1 WHERE name = :n RETURNING last_id, last_hash")
_MOVE = text("UPDATE logchain SET last_hash = :h WHERE name = :n")


def take_head(session: Session, chain: str) -> tuple[int, str]:
    """Lock the chain head for this transaction and return (next id, previous hash).
    The UPDATE both reserves the id and holds the lock until commit or rollback."""
    row = session.connection().execute(_TAKE, {"n": chain}).first()
    if row is None:
        raise RuntimeError(f"the {chain} chain has no head; run `audit db upgrade`")
    return int(row[0]), str(row[1])


def move_head(session: Session, chain: str, new_hash: str) -> None:
    session.connection().execute(_MOVE, {"h": new_hash, "n": chain})


def record(session: Session, *, user: User | None, entity: str, entity_id: Any = None,
           field: str | None = None, old: Any = None, new: Any = None,
           reason: str | None = None, audit_id: int | None = None) -> AuditLog:
    """Append one row to the trail in the caller's transaction, so the change
    and its log entry are committed (or rolled back) together. Returns the entry as
    written (a detached object: the row is inserted at once, not at the next flush)."""
    new_id, prev = take_head(session, "auditlog")
    fields = {
        "id": new_id,
        "at": utcnow(),
        "user_id": user.id if user else None,
        "username": user.username if user else "system",
        "audit_id": audit_id,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "field": field,
        "old_value": _text(old),
        "new_value": _text(new),
        "reason": reason,
    }
    digest = entry_hash(fields, prev)
    # Core statements on the session's connection: no autoflush of the caller's pending objects
    # and no ORM unit of work per entry (an import writes tens of thousands of entries).
    session.connection().execute(insert(AuditLog), {**fields, "prev_hash": prev, "entry_hash": digest})
    move_head(session, "auditlog", digest)
    return AuditLog(**fields, prev_hash=prev, entry_hash=digest)


# --- verification -----------------------------------------------------------------

@dataclass
class Verdict:
    chain: str
    entries: int
    intact: bool
    head: str
    broken_id: int | None = None
    problem: str = ""
    expected: str = ""
    found: str = ""

    def message(self) -> str:
        if self.intact:
            return ngettext("{n} entry, chain intact", "{n} entries, chain intact", self.entries).format(n=self.entries)
        where = _("entry {id}").format(id=self.broken_id) if self.broken_id is not None else _("chain head")
        return _("{chain}: {where}: {problem}: expected {expected}, found {found}").format(
            chain=self.chain, where=where, problem=self.problem, expected=self.expected, found=self.found)


def walk(chain: str, rows: Iterable[tuple[int, Mapping[str, Any], str | None, str | None]],
         head: tuple[int, str] | None) -> Verdict:
    """Check a chain from its rows in id order: (id, hashed fields, prev_hash, entry_hash).
    Each row must point at the hash of the row before it and hash to what it stores;
    the head must name the last row."""
    prev, n, last_id = GENESIS, 0, 0
    for row_id, fields, stored_prev, stored_hash in rows:
        if stored_prev != prev:
            return Verdict(chain, n, False, prev, row_id, _("link to the previous entry broken "
                           "(an entry before it was changed, removed or inserted)"), prev, str(stored_prev))
        digest = entry_hash(fields, prev)
        if stored_hash != digest:
            return Verdict(chain, n, False, prev, row_id, _("content does not match its hash "
                           "(the entry was changed)"), digest, str(stored_hash))
        prev, n, last_id = digest, n + 1, row_id
    if head is not None and (head[0], head[1]) != (last_id, prev):
        return Verdict(chain, n, False, prev, None, _("the head does not name the last entry "
                       "(entries at the end were removed)"), f"{head[0]} {head[1]}", f"{last_id} {prev}")
    return Verdict(chain, n, True, prev)


def _head(session: Session, chain: str) -> tuple[int, str] | None:
    head = session.get(LogChain, chain)
    return None if head is None else (head.last_id, head.last_hash)


def audit_rows(session: Session, batch: int = 5000) -> Iterator[tuple[int, dict[str, Any], str | None, str | None]]:
    last = 0
    while True:
        rows = session.exec(select(AuditLog).where(AuditLog.id > last).order_by(AuditLog.id).limit(batch)).all()
        if not rows:
            return
        for r in rows:
            yield r.id, {f: getattr(r, f) for f in AUDIT_FIELDS}, r.prev_hash, r.entry_hash
            session.expunge(r)
        last = rows[-1].id


def verify(session: Session) -> Verdict:
    """Walk the audit trail from its first entry and report the first broken link."""
    return walk("auditlog", audit_rows(session), _head(session, "auditlog"))
