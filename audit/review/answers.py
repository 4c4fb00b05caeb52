"""Storing answers: the one function every page, API call, import and accepted
remark uses to change an answer, so locking, validation, versioning and the
audit trail can never be skipped."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from audit import auditlog
from audit.dataversion import bump_data_version
from audit.models import Answer, Audit, Case, MunicipalityReview, User, utcnow

if TYPE_CHECKING:
    from audit.instrument import Instrument


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
               instrument: Instrument | None = None) -> Answer:
    """Set one answer (and optionally its note) of a case in the caller's transaction.

    - refuses when the audit is locked;
    - refuses when `expected_version` is given and the case has moved on (optimistic locking);
    - validates the value against the instrument when one is given (`check_answer`);
    - logs old and new value (and note) with who, when and why;
    - bumps the case version.
    """
    row, changed = _store(session, owner=case, owner_column=Answer.case_id, owner_kwargs={"case_id": case.id},
                          entity_prefix=f"{case.id}", item=item, value=value, user=user, note=note,
                          reason=reason, expected_version=expected_version, pass_no=pass_no,
                          instrument=instrument, current=lambda: case_answers(session, case.id, pass_no),
                          label=f"case {case.id}")
    if changed and pass_no == 1 and case.status == "not_started":
        auditlog.record(session, user=user, audit_id=case.audit_id, entity="case", entity_id=case.id,
                        field="status", old=case.status, new="in_progress")
        case.status = "in_progress"
        session.add(case)
    if changed and pass_no == 2 and case.second_status in (None, "not_started"):
        auditlog.record(session, user=user, audit_id=case.audit_id, entity="case", entity_id=case.id,
                        field="second_status", old=case.second_status, new="in_progress")
        case.second_status = "in_progress"
        session.add(case)
    return row


def municipality_answers(session: Session, review_id: int, pass_no: int = 1) -> dict[str, Any]:
    rows = session.exec(select(Answer).where(Answer.municipality_review_id == review_id,
                                            Answer.pass_no == pass_no)).all()
    return {a.item: decode(a.value_json) for a in rows if a.value_json is not None}


def set_municipality_answer(session: Session, *, review: MunicipalityReview, item: str, value: Any,
                            user: User | None, note: str | None = None, reason: str | None = None,
                            expected_version: int | None = None,
                            instrument: Instrument | None = None) -> Answer:
    """The same as `set_answer` for an item answered once per municipality (theme 7):
    same lock, version, validation and trail; bumps `MunicipalityReview.version`."""
    row, changed = _store(session, owner=review, owner_column=Answer.municipality_review_id,
                          owner_kwargs={"municipality_review_id": review.id},
                          entity_prefix=f"m{review.id}", item=item, value=value, user=user, note=note,
                          reason=reason, expected_version=expected_version, pass_no=1,
                          instrument=instrument, current=lambda: municipality_answers(session, review.id),
                          label=f"municipality {review.municipality}")
    if changed and review.status == "not_started":
        auditlog.record(session, user=user, audit_id=review.audit_id, entity="municipality_review",
                        entity_id=review.id, field="status", old=review.status, new="in_progress")
        review.status = "in_progress"
        session.add(review)
    return row


def _store(session: Session, *, owner: Any, owner_column: Any, owner_kwargs: dict[str, Any],
           entity_prefix: str, item: str, value: Any, user: User | None, note: str | None,
           reason: str | None, expected_version: int | None, pass_no: int, instrument: Instrument | None,
           current: Any, label: str) -> tuple[Answer, bool]:
    """The shared body of `set_answer` and `set_municipality_answer`. `owner` is the
    Case or MunicipalityReview whose `version` guards concurrent editors."""
    audit = session.get(Audit, owner.audit_id)
    assert audit is not None
    ensure_unlocked(audit)
    if expected_version is not None and expected_version != owner.version:
        raise VersionConflict(
            f"{label} was changed by someone else (version {owner.version}, you had {expected_version}); "
            "reload to see the current answers", owner.version)
    if instrument is not None:
        try:
            instrument.item(item)
        except KeyError as exc:
            raise AnswerError(f"{item}: not an item of the instrument") from exc
        if value not in (None, "", []):
            problems = instrument.check_answer(item, value, current())
            if problems:
                raise AnswerError(f"{item}: " + "; ".join(problems))
    row = session.exec(select(Answer).where(owner_column == owner.id, Answer.item == item,
                                            Answer.pass_no == pass_no)).first()
    old_value = decode(row.value_json) if row else None
    old_note = row.note if row else ""
    new_json = encode(value)
    if row is None:
        row = Answer(item=item, pass_no=pass_no, **owner_kwargs)
    entity_id = f"{entity_prefix}/{item}" + (f"#{pass_no}" if pass_no != 1 else "")
    changed = False
    if (row.value_json or None) != new_json:
        auditlog.record(session, user=user, audit_id=owner.audit_id, entity="answer",
                        entity_id=entity_id, field="value", old=old_value, new=decode(new_json), reason=reason)
        row.value_json = new_json
        changed = True
    if note is not None and note != old_note:
        auditlog.record(session, user=user, audit_id=owner.audit_id, entity="answer",
                        entity_id=entity_id, field="note", old=old_note, new=note, reason=reason)
        row.note = note
        changed = True
    if changed:
        row.updated_at = utcnow()
        row.updated_by = user.id if user else None
        session.add(row)
        owner.version += 1
        session.add(owner)
        bump_data_version(session, owner.audit_id)
    return row, changed
