"""The audit's data version: one value that changes whenever what the case frame shows changes.

`Audit.data_version` is a fresh random 62-bit token written at the commit of every
transaction that changed an answer, a case (status, replacement, weight), a
municipality review or the register of that audit. The statistics room keys its
cached case frame on it (`audit.statistics.dataset`), in every process and every
worker, so a cached frame is never older than the database.

Why a token and not a counter: a counter bumped by a transaction that later rolls back
would be reused by the next transaction with other data, so a frame cached from the
rolled-back state (in the same session, before the rollback) could be served again;
and two databases (a backup, a test copy) would share version 0 of audit 1. A random
token is never reused.

How every change is caught:
- ORM writes of `Answer`, `Case`, `MunicipalityReview` and `Person` are noticed by a
  `before_flush` listener (so status changes, replacements and accepted remarks need no
  call of their own);
- bulk Core statements (the register import, the draw, the demo, an atomic answer save)
  call `bump_data_version(session, audit_id)` once;
- the token is written once per audit, just before the commit (`before_commit`), so the
  audit row is locked only for the commit itself, not for the whole save.
A session that has pending changes for an audit reads its frame fresh and does not
cache it (`has_pending`).
"""
from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from audit.models import Answer, Audit, Case, MunicipalityReview, Person

_PENDING = "audit.data_version.pending"


def new_token() -> int:
    """A new data version: random, positive, fits a signed 64-bit column."""
    return secrets.randbits(62) + 1


def _pending(session: Session) -> dict[int, int | None]:
    return session.info.setdefault(_PENDING, {})


def bump_data_version(session: Session | Connection, audit_id: int | None, token: int | None = None) -> None:
    """Say that this transaction changed what the audit's case frame shows.

    On a Session the new token is written just before the commit; on a bare Connection
    it is written at once. `token` fixes the value to write (the register import keeps its
    frame under it: the value is in the database after the commit exactly when nothing
    else changed since)."""
    if audit_id is None:
        return
    if isinstance(session, Connection):
        session.execute(update(Audit.__table__).where(Audit.__table__.c.id == audit_id)
                        .values(data_version=token or new_token()))
        return
    pending = _pending(session)
    if token is not None or int(audit_id) not in pending:
        pending[int(audit_id)] = token


def has_pending(session: Session, audit_id: int) -> bool:
    """Whether this session has uncommitted changes to the audit's data."""
    return int(audit_id) in session.info.get(_PENDING, ())


def data_version(session: Session, audit_id: int) -> int | None:
    """The committed (or this transaction's) data version of the audit, read from the database."""
    return session.connection().execute(
        select(Audit.__table__.c.data_version).where(Audit.__table__.c.id == audit_id)).scalar()


def _audit_of_answer(session: Session, answer: Answer) -> int | None:
    if answer.case_id is not None:
        owner, column, key = Case, Case.__table__.c, answer.case_id
    elif answer.municipality_review_id is not None:
        owner, column, key = MunicipalityReview, MunicipalityReview.__table__.c, answer.municipality_review_id
    else:
        return None
    known = session.identity_map.get(session.identity_key(owner, key))  # type: ignore[arg-type]
    if known is not None:
        return known.audit_id
    return session.connection().execute(select(column.audit_id).where(column.id == key)).scalar()


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
    pending = None
    for group, check in ((session.new, False), (session.dirty, True), (session.deleted, False)):
        for obj in group:
            if isinstance(obj, (Case, MunicipalityReview, Person)):
                audit_id = obj.audit_id
            elif isinstance(obj, Answer):
                audit_id = _audit_of_answer(session, obj)
            else:
                continue
            if check and not session.is_modified(obj, include_collections=False):
                continue
            if audit_id is not None:
                if pending is None:
                    pending = _pending(session)
                pending.setdefault(int(audit_id), None)


@event.listens_for(Session, "before_commit")
def _write_tokens(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # the commit's own flush comes after this hook: note its changes now
    if not session.info.get(_PENDING):
        return
    table = Audit.__table__
    conn = session.connection()
    for audit_id, token in sorted(session.info.get(_PENDING, {}).items()):
        conn.execute(update(table).where(table.c.id == audit_id).values(data_version=token or new_token()))


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction committed or rolled back
        session.info.pop(_PENDING, None)
