"""Saving one answer, orchestrated once: the case form's autosave, the theme 7 form,
the JSON API, the wide-sheet import and an accepted remark all call `save_answer`.

A save reads the case's stored answers once (`read_state`), runs the skip logic
once (`Instrument.transition`: validation, and applicability before and after),
changes the answer through `set_answer` (permissions, lock, the atomic version
check, the trail) and, for the form, builds the form after the save from what it
already holds, without reading the answers again."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from audit.config import get_settings
from audit.db import DatabaseBusy
from audit.i18n import _

from audit.models import Audit, Case, MunicipalityReview, User
from audit.review.answers import (AnswerError, AnswerState, NotEditable, ensure_open, read_state, set_answer,
                                  set_municipality_answer)
from audit.review.form import FormView, ItemView, build, changed_items
from audit.instrument import Instrument
from audit.review.instrument import NoInstrument, ParseError, instrument_for, parse

__all__ = ["Saved", "UnknownItem", "NotEditable", "save_answer", "instrument_of"]


class UnknownItem(AnswerError):
    """Not an item that is answered here (unknown, calculated, or of the other level)."""

    status = 404


@dataclass
class Saved:
    """What a save did, for the caller to show."""
    item: str
    changed: bool
    version: int
    status: str
    form: FormView | None = None                      # the form after the save (form=True)
    changed_items: list[ItemView] = field(default_factory=list)   # items whose applicability moved

    @property
    def applicable(self) -> dict[str, bool]:
        return {i.name: i.applicable for i in self.form.items} if self.form else {}


def instrument_of(session: Session, owner: Case | MunicipalityReview, audit: Audit | None = None) -> Instrument:
    try:
        return instrument_for(audit or session.get(Audit, owner.audit_id))
    except NoInstrument as exc:
        err = AnswerError(str(exc))
        err.status = 409  # type: ignore[attr-defined]
        raise err from exc


_TURNS: threading.BoundedSemaphore | None = None
_TURNS_LOCK = threading.Lock()


@contextmanager
def _turn() -> Iterator[None]:
    """A turn among at most AUDIT_SAVE_CONCURRENCY saves of this process (see config.py)."""
    global _TURNS
    settings = get_settings()
    if settings.save_concurrency <= 0:
        yield
        return
    with _TURNS_LOCK:
        if _TURNS is None:
            _TURNS = threading.BoundedSemaphore(settings.save_concurrency)
    if not _TURNS.acquire(timeout=settings.db_busy_timeout):
        raise DatabaseBusy(_("too many saves are waiting for the database"))
    try:
        yield
    finally:
        _TURNS.release()


def save_answer(session: Session, *, owner: Case | MunicipalityReview, item: str, value: Any,
                user: User | None, note: str | None = None, expected_version: int | None = None,
                pass_no: int = 1, reason: str | None = None, raw: bool = False, instrument: Instrument | None = None,
                state: AnswerState | None = None, validate: bool = True, open_only: bool = True,
                form: bool = False, commit: bool = False) -> Saved:
    """Save one answer (and note) of a case pass or of a municipality's theme 7.

    `raw`: `value` is still text (a form field, a JSON value) and is parsed for the item.
    `validate`: check the value against the other stored answers (the sheet import
    validated whole rows itself). `open_only`: only open cases (the form, the API, the
    import; an accepted remark revises a case in hearing). `form`: build the form after
    the save and list the items whose applicability moved. `commit`: commit the
    caller's session when saved (such a save also waits for its turn, `_turn`; saves
    inside a caller's transaction, the import and remarks, do not, as they may hold a
    lock already). Raises `AnswerError` and its kinds (`UnknownItem`, `NotAllowed`,
    `NotEditable`, `LockedError`, `VersionConflict`), each with an HTTP `status`;
    nothing is written then."""
    with (_turn() if commit else nullcontext()):
        return _save(session, owner=owner, item=item, value=value, user=user, note=note,
                     expected_version=expected_version, pass_no=pass_no, reason=reason, raw=raw,
                     instrument=instrument, state=state, validate=validate, open_only=open_only, form=form,
                     commit=commit)


def _save(session: Session, *, owner: Case | MunicipalityReview, item: str, value: Any, user: User | None,
          note: str | None, expected_version: int | None, pass_no: int, reason: str | None, raw: bool,
          instrument: Instrument | None, state: AnswerState | None, validate: bool, open_only: bool, form: bool,
          commit: bool) -> Saved:
    is_case = isinstance(owner, Case)
    audit = session.get(Audit, owner.audit_id)   # held here, so set_answer finds it in the session
    inst = instrument or instrument_of(session, owner, audit)
    try:
        it = inst.item(item)
    except KeyError:
        raise UnknownItem(_("{item}: not an item of the instrument").format(item=item)) from None
    level = "case" if is_case else "municipality"
    if it.level != level:
        raise UnknownItem((_("{item}: a municipality-level item; answer it once per municipality") if is_case
                           else _("{item}: a case-level item; answer it per case")).format(item=item))
    if it.is_calculated:
        raise UnknownItem(_("{item}: a calculated item; it is not answered").format(item=item))
    if open_only:
        ensure_open(owner, pass_no)          # early; checked again on the status the version bump returns
    if raw:
        try:
            value = parse(it, value)
        except ParseError as exc:
            raise AnswerError(f"{item}: {exc}") from None
    if state is None:
        state = read_state(session, owner, pass_no)
    values = state.values if (validate or form) else {}
    move = inst.transition(values, item, value) if (validate or form) else None
    problems = move.problems if (validate and move is not None) else []
    stored_before = state.rows.get(item)
    if is_case:
        set_answer(session, case=owner, item=item, value=value, user=user, note=note, reason=reason,
                   expected_version=expected_version, pass_no=pass_no, instrument=inst, state=state,
                   problems=problems, open_only=open_only)
    else:
        set_municipality_answer(session, review=owner, item=item, value=value, user=user, note=note,
                                reason=reason, expected_version=expected_version, instrument=inst, state=state,
                                problems=problems, open_only=open_only)
    changed = state.rows.get(item) is not stored_before
    saved = Saved(item=item, changed=changed, version=owner.version, status=owner.status)
    if commit:
        session.commit()                     # the lock is released before the page is built
    if form and move is not None:
        after = dict(values)
        stored = state.rows.get(item)
        if stored is None or stored.value_json is None:
            after.pop(item, None)
        else:
            after[item] = value
        saved.form = build(inst, state.rows, level, saved.version, evaluated=move.after, answers=after)
        saved.changed_items = changed_items(move.before, saved.form)
    return saved
