"""The audit trail: every change to audit data goes through `record`."""
from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from audit.models import AuditLog, User


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def record(session: Session, *, user: User | None, entity: str, entity_id: Any = None,
           field: str | None = None, old: Any = None, new: Any = None,
           reason: str | None = None, audit_id: int | None = None) -> AuditLog:
    """Append one row to the trail in the caller's transaction, so the change
    and its log entry are committed (or rolled back) together."""
    row = AuditLog(
        user_id=user.id if user else None,
        username=user.username if user else "system",
        audit_id=audit_id,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        field=field,
        old_value=_text(old),
        new_value=_text(new),
        reason=reason,
    )
    session.add(row)
    return row
