"""Throttling of failed log-ins, per account name and per client address.

Every failed log-in is stored (lower-cased username as typed, client address). When a
name has `login_max_failures` failures (5) within `login_window` (15 minutes), or an
address has `login_max_failures_per_address` (20), log-in is paused for that name or
address: `login_lockout` (5 minutes) the first time, twice as long each further time
within a day (10, 20, 40 minutes ...), at most `login_lockout_max` (24 hours). While a
pause lasts, no password is checked at all, not even the right one, and the log-in page
says the same thing whether or not the user exists: names that do not exist are counted
and paused exactly like real ones. Each pause is written to the audit trail
(entity "login", field "lockout"). A successful log-in clears the name's failures;
an administrator can lift a pause early (`audit users unlock NAME`, the admin user page).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, or_
from sqlmodel import Session, select

from audit import auditlog
from audit.config import get_settings
from audit.models import LoginFailure, LoginLock, User, utcnow

HISTORY = timedelta(hours=24)  # pauses ended less than this long ago make the next one longer


@dataclass(frozen=True)
class Limits:
    per_account: int
    per_address: int
    window: timedelta
    lockout: timedelta
    lockout_max: timedelta

    @classmethod
    def current(cls) -> Limits:
        s = get_settings()
        return cls(s.login_max_failures, s.login_max_failures_per_address, timedelta(seconds=s.login_window),
                   timedelta(seconds=s.login_lockout), timedelta(seconds=s.login_lockout_max))


def account_key(username: str) -> str:
    return username.strip().lower()[:80]


def address_key(address: str | None) -> str:
    return (address or "unknown")[:64]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def locked_until(session: Session, username: str, address: str | None, now: datetime | None = None) -> datetime | None:
    """The end of the longest pause now in force for this name or address, or None."""
    now = now or utcnow()
    rows = session.exec(select(LoginLock.until).where(
        or_((LoginLock.kind == "account") & (LoginLock.key == account_key(username)),
            (LoginLock.kind == "address") & (LoginLock.key == address_key(address))),
        LoginLock.until > now)).all()
    return max((_utc(u) for u in rows), default=None)


def account_locked_until(session: Session, username: str, now: datetime | None = None) -> datetime | None:
    """The end of the pause in force for this name (not its address), or None."""
    rows = session.exec(select(LoginLock.until).where(LoginLock.kind == "account",
                                                      LoginLock.key == account_key(username),
                                                      LoginLock.until > (now or utcnow()))).all()
    return max((_utc(u) for u in rows), default=None)


def lock_duration(level: int, limits: Limits) -> timedelta:
    return min(limits.lockout * (2 ** (level - 1)), limits.lockout_max)


def record_failure(session: Session, username: str, address: str | None, now: datetime | None = None,
                   limits: Limits | None = None) -> datetime | None:
    """Count one failed log-in (in the caller's transaction). Returns the end of the pause
    this failure started, if it started one."""
    now, limits = now or utcnow(), limits or Limits.current()
    name, addr = account_key(username), address_key(address)
    _prune(session, now, limits)
    session.add(LoginFailure(at=now, username=name, address=addr))
    session.flush()
    started = None
    for kind, key, column, limit in (("account", name, LoginFailure.username, limits.per_account),
                                     ("address", addr, LoginFailure.address, limits.per_address)):
        last = session.exec(select(func.max(LoginLock.started_at)).where(
            LoginLock.kind == kind, LoginLock.key == key)).one()
        since = now - limits.window
        if last is not None:
            since = max(since, _utc(last))
        failures = session.exec(select(func.count()).select_from(LoginFailure).where(
            column == key, LoginFailure.at > since)).one()
        if failures < limit:
            continue
        earlier = session.exec(select(func.count()).select_from(LoginLock).where(
            LoginLock.kind == kind, LoginLock.key == key, LoginLock.until > now - HISTORY)).one()
        level = earlier + 1
        until = now + lock_duration(level, limits)
        session.add(LoginLock(kind=kind, key=key, started_at=now, until=until, level=level))
        auditlog.record(session, user=None, entity="login", entity_id=key, field="lockout",
                        new={"kind": kind, "failures": failures, "level": level, "address": addr,
                             "until": until.isoformat(timespec="seconds")},
                        reason=f"{failures} failed log-ins within {int(limits.window.total_seconds() // 60)} minutes")
        started = until if started is None else max(started, until)
    return started


def record_success(session: Session, username: str) -> None:
    """A correct log-in clears the name's failures and pause history (not the address's)."""
    name = account_key(username)
    session.execute(delete(LoginFailure).where(LoginFailure.username == name))
    session.execute(delete(LoginLock).where(LoginLock.kind == "account", LoginLock.key == name))


def unlock(session: Session, username: str, actor: User | None) -> int:
    """Lift the pause of a name early (administrator). Returns the pauses removed."""
    name = account_key(username)
    n = session.execute(delete(LoginLock).where(LoginLock.kind == "account", LoginLock.key == name)).rowcount
    session.execute(delete(LoginFailure).where(LoginFailure.username == name))
    auditlog.record(session, user=actor, entity="login", entity_id=name, field="unlock", new={"pauses": n or 0})
    return int(n or 0)


def _prune(session: Session, now: datetime, limits: Limits) -> None:
    keep = max(limits.window, HISTORY)
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - keep))
    session.execute(delete(LoginLock).where(LoginLock.until < now - HISTORY))
