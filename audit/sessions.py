"""Server-side sessions.

A login creates a `UserSession` row and hands the browser a random token (32 bytes,
URL-safe); the signed session cookie carries that token and the CSRF token, never a
user id. Only the token's sha256 is stored, so a copy of the database does not let
anyone log in. A request is authenticated only while its row is live:

- not ended (logout, a password change and deactivation end every session of the user),
- used within the idle time-out (`AUDIT_SESSION_IDLE_TIMEOUT`, 30 minutes),
- younger than the absolute time-out (`AUDIT_SESSION_MAX_AGE`, 8 hours), however active.

`last_seen_at` is written at most once a minute per session (so the idle time-out has a
one-minute resolution) and never waits for a busy database: a request that cannot take the
write lock at once skips the update rather than stall.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from audit.config import get_settings
from audit.models import User, UserSession, utcnow

TOUCH_EVERY = timedelta(minutes=1)
ENDED_BY = ("logout", "password", "deactivated", "idle", "expired", "admin")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def current(cls) -> Timeouts:
        s = get_settings()
        return cls(timedelta(seconds=s.session_idle_timeout), timedelta(seconds=s.session_max_age))


def start(session: Session, user: User, *, address: str | None = None, user_agent: str | None = None,
          now: datetime | None = None) -> str:
    """Open a session for `user` in the caller's transaction; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = now or utcnow()
    session.add(UserSession(token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
                            address=(address or "")[:64] or None, user_agent=(user_agent or "")[:200] or None))
    return token


def end_all(session: Session, user_id: int, reason: str, now: datetime | None = None) -> int:
    """End every open session of the user (in the caller's transaction); returns how many."""
    result = session.execute(update(UserSession)
                             .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
                             .values(ended_at=now or utcnow(), end_reason=reason))
    return int(result.rowcount or 0)


def find(session: Session, token: str | None) -> UserSession | None:
    if not token or not isinstance(token, str):
        return None
    return session.exec(select(UserSession).where(UserSession.token_hash == token_hash(token))).first()


def why_not_live(row: UserSession, now: datetime, timeouts: Timeouts) -> str | None:
    """None while the session may be used, else why not: ended / idle / expired."""
    if row.ended_at is not None:
        return row.end_reason or "ended"
    if now - _utc(row.created_at) > timeouts.absolute:
        return "expired"
    if now - _utc(row.last_seen_at) > timeouts.idle:
        return "idle"
    return None


def resolve(session: Session, token: str | None, *, now: datetime | None = None,
            timeouts: Timeouts | None = None) -> User | None:
    """The active user of a live session, or None. Ends a session found idle or expired,
    and records activity (at most once a minute)."""
    row = find(session, token)
    if row is None:
        return None
    now = now or utcnow()
    reason = why_not_live(row, now, timeouts or Timeouts.current())
    if reason is not None:
        if row.ended_at is None:
            _quietly(session, update(UserSession).where(UserSession.id == row.id, UserSession.ended_at.is_(None))
                     .values(ended_at=now, end_reason=reason))
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if now - _utc(row.last_seen_at) >= TOUCH_EVERY:
        _quietly(session, update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now))
    return user


def _quietly(session: Session, statement) -> None:  # type: ignore[no-untyped-def]
    """Run one bookkeeping write in its own short transaction, without waiting for a busy
    database (SQLite: 200 ms at most); skipped if the database is busy."""
    engine = session.get_bind()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        try:
            if sqlite:
                conn.exec_driver_sql("PRAGMA busy_timeout = 200")
            else:
                conn.exec_driver_sql("SET lock_timeout = '200ms'")
            conn.execute(statement)
            conn.commit()
        except OperationalError:
            conn.rollback()
        finally:
            try:
                conn.exec_driver_sql("PRAGMA busy_timeout = 30000" if sqlite else "SET lock_timeout = 0")
                conn.commit()
            except OperationalError:  # pragma: no cover - the connection is gone
                pass


def open_sessions(session: Session, user_id: int, now: datetime | None = None) -> list[UserSession]:
    """The user's sessions that are still live (for the admin's user page)."""
    now, timeouts = now or utcnow(), Timeouts.current()
    rows = session.exec(select(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
                        .order_by(UserSession.created_at.desc())).all()
    return [r for r in rows if why_not_live(r, now, timeouts) is None]
