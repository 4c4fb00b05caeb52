"""The one place that decides who may do what.

Every page, API call and download asks `can(user, action, resource)` (or
`require`, which turns a refusal into an HTTP error). Municipality users are
confined to their own municipality; for them, a case of another municipality
does not exist (404), so ids cannot be probed by URL guessing.
"""
from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from audit.models import Case, MunicipalityReview, User

# action -> roles allowed (before resource checks)
ACTIONS: dict[str, frozenset[str]] = {
    "audit.manage": frozenset({"admin"}),          # create audits, import, sample, assign, rounds, lock
    "audit.view": frozenset({"admin", "auditor"}),
    "case.view": frozenset({"admin", "auditor", "municipality"}),
    "case.edit": frozenset({"admin", "auditor"}),
    "case.remark": frozenset({"municipality"}),
    "remark.answer": frozenset({"admin", "auditor"}),
    "stats.view": frozenset({"admin", "auditor"}),
    "export.all": frozenset({"admin"}),
    "export.municipality": frozenset({"admin", "municipality"}),
    "users.manage": frozenset({"admin"}),
}


def _municipality_of(resource: Any) -> str | None:
    if isinstance(resource, (Case, MunicipalityReview)):
        return resource.municipality
    if isinstance(resource, str):
        return resource
    return getattr(resource, "municipality", None)


def can(user: User | None, action: str, resource: Any = None) -> bool:
    if user is None or not user.is_active:
        return False
    roles = ACTIONS.get(action)
    if roles is None:
        raise KeyError(f"unknown action {action!r}")
    if user.role not in roles:
        return False
    if user.role == "municipality":
        if resource is None:
            return action in {"case.remark", "export.municipality", "case.view"}
        return _municipality_of(resource) == user.municipality
    if user.role == "auditor" and action == "case.edit" and isinstance(resource, Case):
        # auditors edit the cases assigned to them (first or second review); admins any
        return user.id in (resource.assigned_to, resource.second_reviewer)
    if user.role == "auditor" and action == "case.edit" and isinstance(resource, MunicipalityReview):
        # the same for a municipality's theme 7: the auditor it is assigned to
        return user.id == resource.assigned_to
    return True


def require(user: User | None, action: str, resource: Any = None) -> None:
    """Raise 401/403/404 unless allowed. Foreign municipality data answers 404."""
    if user is None:
        raise HTTPException(status_code=401, detail="login required")
    if can(user, action, resource):
        return
    if user.role == "municipality" and resource is not None:
        raise HTTPException(status_code=404, detail="not found")
    raise HTTPException(status_code=403, detail="forbidden")
