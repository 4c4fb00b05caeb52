"""Accounts: argon2 password hashes, log-in with throttling, and user management.

One function per account operation, called alike by the CLI (`audit users ...`) and the
admin pages (/admin/users), so both paths follow the same rules and write the same trail:
`add_user`, `update_user`, `set_password` (also the admin's reset), `change_own_password`,
`deactivate_user`, `reactivate_user`, `unlock_user`. Setting a password and deactivating
end every session of the user (audit.sessions).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func
from sqlmodel import Session, select

from audit.i18n import _
from audit import auditlog, passwords, sessions, throttle
from audit.models import ROLES, User

# argon2's defaults (RFC 9106's low-memory profile). The test suite alone sets
# AUDIT_TEST_CHEAP_HASHES=1 (tests/conftest.py) for the cheapest parameters, since it creates
# hundreds of users; a hash made so is upgraded to the defaults at the next login.
_hasher = (PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
           if os.environ.get("AUDIT_TEST_CHEAP_HASHES") == "1" else PasswordHasher())
MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH


class AccountError(ValueError):
    """A user-facing problem with an account operation."""


def hash_password(password: str, username: str = "") -> str:
    """The argon2 hash of a new password, after the password policy (audit.passwords)."""
    try:
        passwords.check(password, username)
    except ValueError as exc:
        raise AccountError(str(exc)) from exc
    return _hasher.hash(password)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None. Rehashes outdated hashes.
    No throttling here: the log-in page goes through `login`."""
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None or not user.is_active:
        _hasher.hash(password)  # spend the same time whether or not the user exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.add(user)
        session.commit()
    return user


@dataclass
class LoginResult:
    user: User | None
    locked_until: datetime | None = None

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


def login(session: Session, username: str, password: str, address: str | None,
          now: datetime | None = None) -> LoginResult:
    """A log-in attempt with throttling (audit.throttle), in the caller's transaction
    (commit it either way: failures and pauses are stored). While the name or the address
    is paused the password is not checked at all."""
    until = throttle.locked_until(session, username, address, now)
    if until is not None:
        return LoginResult(None, until)
    user = authenticate(session, username, password)
    if user is None:
        return LoginResult(None, throttle.record_failure(session, username, address, now))
    throttle.record_success(session, username)
    return LoginResult(user)


def _get(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None:
        raise AccountError(_('no user named {username}').format(username=repr(username)))
    return user


def _role_and_municipality(role: str, municipality: str | None) -> str | None:
    """The municipality in its reference spelling, after the rules binding it to the role."""
    municipality = (municipality or "").strip() or None
    if role not in ROLES:
        raise AccountError(_('role must be one of {join_roles}, not {role}').format(
                               join_roles=', '.join(ROLES), role=repr(role)))
    if role == "municipality" and not municipality:
        raise AccountError(_('a municipality user must be bound to a municipality'))
    if role != "municipality" and municipality:
        raise AccountError(_('only municipality users are bound to a municipality'))
    if municipality:
        from audit.population.municipalities import canonical_municipality

        try:
            municipality = canonical_municipality(municipality)
        except ValueError:
            raise AccountError(_('unknown municipality {name}').format(name=repr(municipality))) from None
    return municipality


def add_user(session: Session, *, username: str, password: str, role: str,
             municipality: str | None = None, full_name: str = "",
             actor: User | None = None) -> User:
    username = username.strip()
    if not username:
        raise AccountError(_('username must not be empty'))
    municipality = _role_and_municipality(role, municipality)
    if session.exec(select(User).where(User.username == username)).first():
        raise AccountError(_('user {username} already exists').format(username=repr(username)))
    user = User(username=username, password_hash=hash_password(password, username), role=role,
                municipality=municipality, full_name=full_name)
    session.add(user)
    session.flush()
    auditlog.record(session, user=actor, entity="user", entity_id=user.id, field="created",
                    new={"username": username, "role": role, "municipality": municipality})
    return user


def update_user(session: Session, username: str, *, role: str, municipality: str | None = None,
                full_name: str = "", actor: User | None = None) -> User:
    """Change a user's role, municipality and full name (CLI `users edit`, the admin's user
    page). The rules of `add_user` apply; an admin cannot change their own role, and the last
    active admin stays an admin. Each changed field is in the audit trail; the change applies
    to the user's next request (sessions hold no role)."""
    user = _get(session, username)
    municipality = _role_and_municipality(role, municipality)
    full_name = full_name.strip()
    if len(full_name) > 200:
        raise AccountError(_('the name is longer than {n} characters').format(n=200))
    if role != user.role:
        if actor is not None and actor.id == user.id:
            raise AccountError(_('you cannot change your own role'))
        if user.role == "admin" and user.is_active and _active_admins(session) <= 1:
            raise AccountError(_('{user_username} is the last active admin; create another admin first').format(
                                   user_username=repr(user.username)))
    for field, new in (("role", role), ("municipality", municipality), ("full_name", full_name)):
        old = getattr(user, field)
        if old != new:
            auditlog.record(session, user=actor, entity="user", entity_id=user.id, field=field, old=old, new=new)
            setattr(user, field, new)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str, actor: User | None = None) -> User:
    """Set a user's password (CLI `users set-password`, the admin's reset) and end every
    session of that user."""
    user = _get(session, username)
    user.password_hash = hash_password(password, user.username)
    session.add(user)
    ended = sessions.end_all(session, user.id, "password")
    auditlog.record(session, user=actor, entity="user", entity_id=user.id, field="password",
                    old="(hidden)", new="(changed)", reason=f"{ended} session(s) ended")
    return user


def change_own_password(session: Session, user: User, current: str, new: str) -> User:
    """The user's own change: the current password first; ends every session of the user,
    this one included (log in again with the new password)."""
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise AccountError(_('the current password is wrong')) from None
    if new == current:
        raise AccountError(_('the new password must differ from the current one'))
    return set_password(session, user.username, new, actor=user)


def _active_admins(session: Session) -> int:
    return session.exec(select(func.count()).select_from(User).where(
        User.role == "admin", User.is_active == True)).one()  # noqa: E712


def deactivate_user(session: Session, username: str, actor: User | None = None, reason: str | None = None) -> User:
    """Deactivate an account: it cannot log in, and every open session ends at once.
    Refused for one's own account and for the last active admin."""
    user = _get(session, username)
    if actor is not None and actor.id == user.id:
        raise AccountError(_('you cannot deactivate your own account'))
    if not user.is_active:
        raise AccountError(_('user {user_username} is already deactivated').format(
                               user_username=repr(user.username)))
    if user.role == "admin" and _active_admins(session) <= 1:
        raise AccountError(_('{user_username} is the last active admin; create another admin first').format(
                               user_username=repr(user.username)))
    user.is_active = False
    session.add(user)
    ended = sessions.end_all(session, user.id, "deactivated")
    auditlog.record(session, user=actor, entity="user", entity_id=user.id, field="is_active", old=True, new=False,
                    reason=(reason or "deactivated") + f"; {ended} session(s) ended")
    return user


def reactivate_user(session: Session, username: str, actor: User | None = None, reason: str | None = None) -> User:
    user = _get(session, username)
    if user.is_active:
        raise AccountError(_('user {user_username} is active').format(user_username=repr(user.username)))
    user.is_active = True
    session.add(user)
    auditlog.record(session, user=actor, entity="user", entity_id=user.id, field="is_active", old=False, new=True,
                    reason=reason or "reactivated")
    return user


def unlock_user(session: Session, username: str, actor: User | None = None) -> int:
    """Lift a log-in pause of the name early (audit.throttle)."""
    return throttle.unlock(session, _get(session, username).username, actor)
