"""Storing answers: the one function every page, API call, import and accepted
remark uses to change an answer, so locking, validation, versioning and the
audit trail can never be skipped."""
from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, select

from audit import auditlog
from audit.models import Answer, Audit, Case, User, utcnow


class AnswerError(ValueError):
    """The value was refused; the message names the item and says why."""


class LockedError(AnswerError):
    """The audit is locked: answers are final."""


class VersionConflict(AnswerError):
    """Someone saved the case after this editor loaded it."""

    def __init__(self, message: str, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


def decode(value_json: str | None) -> Any:
    return None if value_json is None else json.loads(value_json)


def encode(value: Any) -> str | None:
    if value is None or value == "" or value == []:
        return None
    return json.dumps(value, ensure_ascii=False)


def case_answers(session: Session, case_id: int, pass_no: int = 1) -> dict[str, Any]:
    rows = session.exec(select(Answer).where(Answer.case_id == case_id, Answer.pass_no == pass_no)).all()
    return {a.item: decode(a.value_json) for a in rows if a.value_json is not None}


def ensure_unlocked(audit: Audit) -> None:
    if audit.locked_at is not None:
        raise LockedError(f"audit {audit.name!r} is locked since {audit.locked_at:%Y-%m-%d}; answers are final")


def set_answer(session: Session, *, case: Case, item: str, value: Any, user: User | None,
               note: str | None = None, reason: str | None = None,
               expected_version: int | None = None, pass_no: int = 1,
               instrument: Any = None) -> Answer:
    """Set one answer (and optionally its note) of a case in the caller's transaction.

    - refuses when the audit is locked;
    - refuses when `expected_version` is given and the case has moved on (optimistic locking);
    - validates the value against the instrument when one is given (`check_answer`);
    - logs old and new value (and note) with who, when and why;
    - bumps the case version.
    """
    audit = session.get(Audit, case.audit_id)
    assert audit is not None
    ensure_unlocked(audit)
    if expected_version is not None and expected_version != case.version:
        raise VersionConflict(
            f"case {case.id} was changed by someone else (version {case.version}, you had {expected_version}); "
            "reload to see the current answers", case.version)
    if instrument is not None:
        try:
            instrument.item(item)
        except KeyError as exc:
            raise AnswerError(f"{item}: not an item of the instrument") from exc
        if value not in (None, "", []):
            problems = instrument.check_answer(item, value, case_answers(session, case.id, pass_no))
            if problems:
                raise AnswerError(f"{item}: " + "; ".join(problems))
    row = session.exec(select(Answer).where(Answer.case_id == case.id, Answer.item == item,
                                            Answer.pass_no == pass_no)).first()
    old_value = decode(row.value_json) if row else None
    old_note = row.note if row else ""
    new_json = encode(value)
    if row is None:
        row = Answer(case_id=case.id, item=item, pass_no=pass_no)
    changed = False
    if (row.value_json or None) != new_json:
        auditlog.record(session, user=user, audit_id=case.audit_id, entity="answer",
                        entity_id=f"{case.id}/{item}" + (f"#{pass_no}" if pass_no != 1 else ""),
                        field="value", old=old_value, new=decode(new_json), reason=reason)
        row.value_json = new_json
        changed = True
    if note is not None and note != old_note:
        auditlog.record(session, user=user, audit_id=case.audit_id, entity="answer",
                        entity_id=f"{case.id}/{item}", field="note", old=old_note, new=note, reason=reason)
        row.note = note
        changed = True
    if changed:
        row.updated_at = utcnow()
        row.updated_by = user.id if user else None
        session.add(row)
        case.version += 1
        if pass_no == 1 and case.status == "not_started":
            auditlog.record(session, user=user, audit_id=case.audit_id, entity="case", entity_id=case.id,
                            field="status", old=case.status, new="in_progress")
            case.status = "in_progress"
        session.add(case)
    return row
