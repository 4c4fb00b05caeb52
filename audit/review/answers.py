"""Storing answers: the one function every page, API call, import and accepted
remark uses to change an answer, so permissions, locking, validation, versioning
and the audit trail can never be skipped.

Concurrency. Every change of a case's answers (or of a municipality's theme 7)
bumps the owner's `version` with ONE statement that checks and bumps it::

    UPDATE "case" SET version = version + 1 WHERE id = :id [AND version = :expected]
    RETURNING version, status, second_status

It runs before the answer row and its log entry are written, in the same
transaction. With `expected_version` a stale editor matches no row and gets
`VersionConflict`; without it the statement still serialises writers of one case
(PostgreSQL holds the row lock, SQLite the write lock, until commit), and the old
value for the trail is read again after it, so concurrent writers never lose a log
entry or log the same old value twice. Status moves (first answer: in progress)
are decided on the status the statement returned, not on what the page loaded.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from audit.i18n import N_, _
from audit import auditlog, permissions
from audit.dataversion import bump_data_version
from audit.models import Answer, Audit, Case, MunicipalityReview, User, utcnow

if TYPE_CHECKING:
    from audit.instrument import Instrument

# The case statuses in which the form, the API and the sheet import may change pass-1 answers.
OPEN_STATUSES = ("not_started", "in_progress")


class AnswerError(ValueError):
    """The value was refused; the message names the item and says why."""

    status = 422


class LockedError(AnswerError):
    """The audit is locked: answers are final."""

    status = 423


class NotAllowed(AnswerError):
    """`audit.permissions` refuses this user (the message says why)."""

    status = 403


class NotEditable(AnswerError):
    """The case (or theme 7) is in a status in which answers do not change here."""

    status = 409


class VersionConflict(AnswerError):
    """Someone saved the case after this editor loaded it."""

    status = 409

    def __init__(self, message: str, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


def decode(value_json: str | None) -> Any:
    return None if value_json is None else json.loads(value_json)


def encode(value: Any) -> str | None:
    if value is None or value == "" or value == []:
        return None
    return json.dumps(value, ensure_ascii=False)


# --- the stored state of one case (or one municipality's theme 7) -------------------

@dataclass
class StoredAnswer:
    """One stored answer as plain values (the save path reads no ORM objects)."""
    id: int | None
    item: str
    value_json: str | None
    note: str

    @property
    def value(self) -> Any:
        return decode(self.value_json)


@dataclass
class AnswerState:
    """Every stored answer of one case pass or one theme 7, read with one query;
    a save keeps it up to date, so the page built after it needs no second read."""
    rows: dict[str, StoredAnswer]

    @property
    def values(self) -> dict[str, Any]:
        return {k: decode(r.value_json) for k, r in self.rows.items() if r.value_json is not None}


def _owner_column(owner: Case | MunicipalityReview) -> Any:
    return Answer.case_id if isinstance(owner, Case) else Answer.municipality_review_id


def _state_query(owner_key: str):  # type: ignore[no-untyped-def]
    table = Answer.__table__
    return select(table.c.id, table.c.item, table.c.value_json, table.c.note).where(
        table.c[owner_key] == bindparam("owner"), table.c.pass_no == bindparam("pass_no"))


# One prepared Core statement per owner kind: read on the session's connection as plain rows
# (the ORM's per-statement and per-row work was most of the read, which every save and form view makes).
_STATE_QUERIES = {Case: _state_query("case_id"), MunicipalityReview: _state_query("municipality_review_id")}


def read_state(session: Session, owner: Case | MunicipalityReview, pass_no: int = 1) -> AnswerState:
    session.flush()                       # what the ORM would autoflush first (nothing, as a rule)
    rows = session.connection().execute(_STATE_QUERIES[type(owner)], {"owner": owner.id, "pass_no": pass_no}).all()
    return AnswerState({item: StoredAnswer(aid, item, value_json, note or "") for aid, item, value_json, note in rows})


def case_answers(session: Session, case_id: int, pass_no: int = 1) -> dict[str, Any]:
    rows = session.exec(select(Answer.item, Answer.value_json).where(
        Answer.case_id == case_id, Answer.pass_no == pass_no, Answer.value_json != None)).all()  # noqa: E711
    return {item: decode(v) for item, v in rows}


def municipality_answers(session: Session, review_id: int, pass_no: int = 1) -> dict[str, Any]:
    rows = session.exec(select(Answer.item, Answer.value_json).where(
        Answer.municipality_review_id == review_id, Answer.pass_no == pass_no,
        Answer.value_json != None)).all()  # noqa: E711
    return {item: decode(v) for item, v in rows}


def ensure_unlocked(audit: Audit) -> None:
    if audit.locked_at is not None:
        raise LockedError(_('audit {audit_name} is locked since {audit_locked_at:%Y-%m-%d}; answers are final').format(
                              audit_name=repr(audit.name), audit_locked_at=audit.locked_at))


def label(owner: Case | MunicipalityReview) -> str:
    """The owner as a person reads it, in the current language (the messages below are shown on pages)."""
    return _("case {case}").format(case=owner.id) if isinstance(owner, Case) \
        else _("municipality {municipality}").format(municipality=owner.municipality)


def bump_version(session: Session, owner: Case | MunicipalityReview, expected_version: int | None = None) -> int:
    """The one statement that checks and bumps the owner's version (see the module
    docstring). Refreshes `owner`'s version and status from what it returns and
    raises `VersionConflict` (with the current version) when `expected_version` is stale."""
    table = type(owner).__table__          # Core, not the ORM's bulk update: one plain statement
    columns = [table.c.version, table.c.status] + ([table.c.second_status] if isinstance(owner, Case) else [])
    stmt = update(table).where(table.c.id == owner.id)
    if expected_version is not None:
        stmt = stmt.where(table.c.version == expected_version)
    row = session.exec(stmt.values(version=table.c.version + 1).returning(*columns)).first()
    if row is None:
        current = session.exec(select(table.c.version).where(table.c.id == owner.id)).first()
        if current is None:
            raise AnswerError(_("{what} does not exist").format(what=label(owner)))
        set_committed_value(owner, "version", current)
        raise VersionConflict(_(CHANGED_BY_SOMEONE_ELSE).format(what=label(owner), current=current,
                                                                yours=expected_version), current)
    set_committed_value(owner, "version", row[0])
    set_committed_value(owner, "status", row[1])
    bump_data_version(session, owner.audit_id)   # a status move changes what the case frame holds too
    if isinstance(owner, Case):
        set_committed_value(owner, "second_status", row[2])
    return row[0]


def answers_changed(session: Session, audit_id: int) -> None:
    """Called once for every change of an audit's answers, in the same transaction.
    The place for an audit-level data version that caches of the audit's answers
    (the statistics' case frame) compare against: bumped here (audit.dataversion)."""
    bump_data_version(session, audit_id)


CHANGED_BY_SOMEONE_ELSE = N_("{what} was changed by someone else (version {current}, you had {yours}); reload to "
                             "see the current answers")


def ensure_open(owner: Case | MunicipalityReview, pass_no: int = 1) -> None:
    """The form, the API and the sheet import change answers of open cases only
    (pass 2 until the second review is completed; theme 7 until completed)."""
    if isinstance(owner, MunicipalityReview):
        if owner.status == "completed":
            raise NotEditable(_("theme 7 of {municipality} is completed; ask an admin to reopen it").format(
                municipality=owner.municipality))
        if owner.status == "not_answered":
            raise NotEditable(_("theme 7 of {municipality} is recorded as not answered; take that back first").format(
                municipality=owner.municipality))
    elif pass_no == 2:
        if owner.second_status == "completed":
            raise NotEditable(_("the second review of case {case} is completed; it cannot be changed").format(
                case=owner.id))
    elif owner.status not in OPEN_STATUSES:
        from audit.review.workflow import STATUS_LABELS

        status = STATUS_LABELS.get(owner.status, owner.status.replace("_", " "))
        raise NotEditable(_("case {case} is {status}; it cannot be changed here").format(case=owner.id,
                                                                                        status=status))


# --- the one way an answer changes ---------------------------------------------------

def set_answer(session: Session, *, case: Case, item: str, value: Any, user: User | None,
               note: str | None = None, reason: str | None = None,
               expected_version: int | None = None, pass_no: int = 1,
               instrument: Instrument | None = None, state: AnswerState | None = None,
               problems: list[str] | None = None, open_only: bool = False) -> StoredAnswer:
    """Set one answer (and optionally its note) of a case in the caller's transaction.

    - refuses what `audit.permissions` refuses the user (`case.edit`, and `review.pass`:
      the second review's independence), and a locked audit;
    - validates the value against the instrument when one is given (`check_answer`, or
      the `problems` the caller already computed for this value);
    - checks and bumps the case version in one statement (`bump_version`): a stale
      `expected_version` raises `VersionConflict`; `open_only` refuses a case that is
      not open on the status that statement returns;
    - logs old and new value (and note) with who, when and why.

    `state` is the case's answers read once by the caller (`read_state`); it is read
    here otherwise, and kept up to date either way. Returns the stored answer."""
    permissions.check(user, "case.edit", case, NotAllowed)
    permissions.check(user, "review.pass", permissions.ReviewPass(case, pass_no), NotAllowed)
    stored, changed = _store(session, owner=case, item=item, value=value, user=user, note=note, reason=reason,
                             expected_version=expected_version, pass_no=pass_no, instrument=instrument,
                             state=state, problems=problems, open_only=open_only,
                             entity_prefix=f"{case.id}")
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
    return stored


def set_municipality_answer(session: Session, *, review: MunicipalityReview, item: str, value: Any,
                            user: User | None, note: str | None = None, reason: str | None = None,
                            expected_version: int | None = None, instrument: Instrument | None = None,
                            state: AnswerState | None = None, problems: list[str] | None = None,
                            open_only: bool = False) -> StoredAnswer:
    """The same as `set_answer` for an item answered once per municipality (theme 7):
    same permission, lock, version, validation and trail; bumps `MunicipalityReview.version`."""
    permissions.check(user, "case.edit", review, NotAllowed)
    stored, changed = _store(session, owner=review, item=item, value=value, user=user, note=note, reason=reason,
                             expected_version=expected_version, pass_no=1, instrument=instrument,
                             state=state, problems=problems, open_only=open_only,
                             entity_prefix=f"m{review.id}")
    if changed and review.status == "not_started":
        auditlog.record(session, user=user, audit_id=review.audit_id, entity="municipality_review",
                        entity_id=review.id, field="status", old=review.status, new="in_progress")
        review.status = "in_progress"
        session.add(review)
    return stored


def _store(session: Session, *, owner: Case | MunicipalityReview, item: str, value: Any, user: User | None,
           note: str | None, reason: str | None, expected_version: int | None, pass_no: int,
           instrument: Instrument | None, state: AnswerState | None, problems: list[str] | None, open_only: bool,
           entity_prefix: str) -> tuple[StoredAnswer, bool]:
    """The shared body of `set_answer` and `set_municipality_answer`. `owner` is the
    Case or MunicipalityReview whose `version` guards concurrent editors."""
    audit = session.get(Audit, owner.audit_id)
    assert audit is not None
    ensure_unlocked(audit)
    if state is None:
        state = read_state(session, owner, pass_no)
    if instrument is not None:
        if item not in instrument:
            raise AnswerError(_("{item}: not an item of the instrument").format(item=item))
        if problems is None and value not in (None, "", []):
            problems = instrument.check_answer(item, value, state.values)
    if problems:
        raise AnswerError(f"{item}: " + "; ".join(p.removeprefix(f"{item}: ") for p in problems))
    new_json = encode(value)
    row = state.rows.get(item)
    if not _differs(row, new_json, note):
        if expected_version is not None and expected_version != owner.version:
            raise VersionConflict(_(CHANGED_BY_SOMEONE_ELSE).format(what=label(owner), current=owner.version,
                                                                    yours=expected_version), owner.version)
        if open_only:
            ensure_open(owner, pass_no)
        return row or StoredAnswer(None, item, None, ""), False

    bump_version(session, owner, expected_version)      # from here on no other writer of this owner
    if open_only:
        ensure_open(owner, pass_no)
    if expected_version is None:
        # Nothing proves the state read above is current: read the answer again under the lock.
        fresh = session.exec(select(Answer.id, Answer.value_json, Answer.note).where(
            _owner_column(owner) == owner.id, Answer.item == item, Answer.pass_no == pass_no)).first()
        row = StoredAnswer(fresh.id, item, fresh.value_json, fresh.note or "") if fresh else None
        if not _differs(row, new_json, note):
            return row, False
    old_json = row.value_json if row else None
    old_note = row.note if row else ""
    entity_id = f"{entity_prefix}/{item}" + (f"#{pass_no}" if pass_no != 1 else "")
    values: dict[str, Any] = {"updated_at": utcnow(), "updated_by": user.id if user else None}
    if old_json != new_json:
        auditlog.record(session, user=user, audit_id=owner.audit_id, entity="answer", entity_id=entity_id,
                        field="value", old=decode(old_json), new=decode(new_json), reason=reason)
        values["value_json"] = new_json
    if note is not None and note != old_note:
        auditlog.record(session, user=user, audit_id=owner.audit_id, entity="answer", entity_id=entity_id,
                        field="note", old=old_note, new=note, reason=reason)
        values["note"] = note
    # Core statements: ORM objects of these rows loaded earlier in the caller's session are not refreshed.
    table = Answer.__table__
    if row is not None and row.id is not None:
        session.exec(update(table).where(table.c.id == row.id).values(**values))
        answer_id = row.id
    else:
        owner_key = "case_id" if isinstance(owner, Case) else "municipality_review_id"
        values.setdefault("note", "")
        values.update({owner_key: owner.id, "item": item, "pass_no": pass_no})
        answer_id = session.exec(insert(table).values(**values).returning(table.c.id)).scalar_one()
    stored = StoredAnswer(answer_id, item, new_json, note if note is not None else old_note)
    state.rows[item] = stored
    answers_changed(session, owner.audit_id)
    return stored, True


def _differs(row: StoredAnswer | None, new_json: str | None, note: str | None) -> bool:
    old_json = row.value_json if row else None
    old_note = row.note if row else ""
    return (old_json or None) != new_json or (note is not None and note != old_note)
