"""Accounts: argon2 password hashes and user management used by the CLI and the login page."""
from __future__ import annotations

import os

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from audit import auditlog
from audit.models import ROLES, User

# argon2's defaults (RFC 9106's low-memory profile). The test suite alone sets
# AUDIT_TEST_CHEAP_HASHES=1 (tests/conftest.py) for the cheapest parameters, since it creates
# hundreds of users; a hash made so is upgraded to the defaults at the next login.
_hasher = (PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
           if os.environ.get("AUDIT_TEST_CHEAP_HASHES") == "1" else PasswordHasher())
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A user-facing problem with an account operation."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None. Rehashes outdated hashes."""
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


def add_user(session: Session, *, username: str, password: str, role: str,
             municipality: str | None = None, full_name: str = "",
             actor: User | None = None) -> User:
    username = username.strip()
    if not username:
        raise AccountError("username must not be empty")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "municipality" and not municipality:
        raise AccountError("a municipality user must be bound to a municipality (--municipality)")
    if role != "municipality" and municipality:
        raise AccountError("only municipality users are bound to a municipality")
    if municipality:
        from audit.population.municipalities import canonical_municipality

        municipality = canonical_municipality(municipality)
    if session.exec(select(User).where(User.username == username)).first():
        raise AccountError(f"user {username!r} already exists")
    user = User(username=username, password_hash=hash_password(password), role=role,
                municipality=municipality, full_name=full_name)
    session.add(user)
    session.flush()
    auditlog.record(session, user=actor, entity="user", entity_id=user.id, field="created",
                    new={"username": username, "role": role, "municipality": municipality})
    return user


def set_password(session: Session, username: str, password: str, actor: User | None = None) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise AccountError(f"no user named {username!r}")
    user.password_hash = hash_password(password)
    session.add(user)
    auditlog.record(session, user=actor, entity="user", entity_id=user.id, field="password",
                    old="(hidden)", new="(changed)")
    return user
