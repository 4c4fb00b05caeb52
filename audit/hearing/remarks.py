"""Remarks: the municipality drafts them (per item or per case), submits all at
once and only once before the deadline; an auditor answers each one, accepting
it (the answer is revised through `set_answer`, so the trail keeps old value,
new value and the remark as reason) or maintaining the assessment with a reason."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from audit.i18n import _
from audit import auditlog, permissions
from audit.hearing.instrument import NoInstrument, instrument_for, item_or_none
from audit.hearing.rounds import HearingError, comment_window, membership, open_round_for
from audit.instrument import Instrument
from audit.models import Audit, Case, HearingRound, Remark, RoundMunicipality, User, utcnow
from audit.review.answers import decode, encode, ensure_unlocked

DECISIONS = ("accepted", "maintained")
_UNSET: Any = object()


def _instrument(session: Session, audit_id: int) -> Instrument | None:
    audit = session.get(Audit, audit_id)
    try:
        return instrument_for(audit)
    except NoInstrument:
        return None


def _writable_round(session: Session, case: Case, user: User | None, now: datetime | None) -> tuple[HearingRound, RoundMunicipality]:
    """The open round in which the municipality may still write remarks on this case
    (the rule: `audit.permissions`, "remark.write")."""
    rnd = open_round_for(session, case.audit_id, case.municipality)
    permissions.check(user, "remark.write", comment_window(session, case, rnd=rnd, now=now), HearingError)
    return rnd, membership(session, rnd, case.municipality)


def _check(session: Session, case: Case, item: str | None, text: str, proposed: Any) -> str | None:
    text = (text or "").strip()
    if not text:
        raise HearingError(_("write the remark's text"))
    if item in ("", None):
        if proposed not in (None, "", []):
            raise HearingError(_('a proposed answer belongs to one item; choose the item'))
        return None
    inst = _instrument(session, case.audit_id)
    if inst is not None:
        it = inst.find(item)
        if it is None or not it.is_case_level:
            raise HearingError(_("{item}: not an item of this case's assessment").format(item=item))
        if proposed not in (None, "", []):
            from audit.review.answers import case_answers

            problems = inst.check_answer(item, proposed, case_answers(session, case.id))
            if problems:
                raise HearingError(f"proposed answer for {item}: " + "; ".join(problems))
    return item


def save_draft(session: Session, *, case: Case, user: User | None, text: str, item: str | None = None,
               proposed_value: Any = None, now: datetime | None = None) -> Remark:
    """A new draft remark on one item (item code) or on the whole case (item None)."""
    rnd, _ = _writable_round(session, case, user, now)
    item = _check(session, case, item, text, proposed_value)
    remark = Remark(round_id=rnd.id, case_id=case.id, item=item, text=text.strip(),
                    proposed_value_json=encode(proposed_value), author_id=user.id if user else None)
    session.add(remark)
    session.flush()
    auditlog.record(session, user=user, audit_id=case.audit_id, entity="remark", entity_id=remark.id,
                    field="draft", new={"case": case.id, "item": item, "text": remark.text,
                                        "proposed": proposed_value})
    return remark


def update_draft(session: Session, remark: Remark, *, user: User | None, text: str, proposed_value: Any = None,
                 now: datetime | None = None) -> Remark:
    case = session.get(Case, remark.case_id)
    if remark.status != "draft":
        raise HearingError(_('remark {remark_id} is {remark_status}; only drafts can be edited').format(
                               remark_id=remark.id, remark_status=remark.status))
    _writable_round(session, case, user, now)
    _check(session, case, remark.item, text, proposed_value)
    old = {"text": remark.text, "proposed": decode(remark.proposed_value_json)}
    remark.text = text.strip()
    remark.proposed_value_json = encode(proposed_value)
    session.add(remark)
    auditlog.record(session, user=user, audit_id=case.audit_id, entity="remark", entity_id=remark.id,
                    field="draft", old=old, new={"text": remark.text, "proposed": proposed_value})
    return remark


def delete_draft(session: Session, remark: Remark, *, user: User | None, now: datetime | None = None) -> None:
    case = session.get(Case, remark.case_id)
    if remark.status != "draft":
        raise HearingError(_('remark {remark_id} is {remark_status}; only drafts can be deleted').format(
                               remark_id=remark.id, remark_status=remark.status))
    _writable_round(session, case, user, now)
    auditlog.record(session, user=user, audit_id=case.audit_id, entity="remark", entity_id=remark.id,
                    field="deleted", old={"text": remark.text, "item": remark.item})
    session.delete(remark)
    session.flush()


def drafts(session: Session, rnd: HearingRound, municipality: str) -> list[Remark]:
    return list(session.exec(select(Remark).join(Case, Case.id == Remark.case_id).where(
        Remark.round_id == rnd.id, Case.municipality == municipality, Remark.status == "draft")
        .order_by(Remark.case_id, Remark.id)).all())


def submit(session: Session, rnd: HearingRound, municipality: str, user: User | None,
           now: datetime | None = None) -> list[Remark]:
    """Submit all the municipality's drafts in the round at once. Only once, only before
    the deadline; submitting with no drafts records that the municipality has no remarks."""
    permissions.check(user, "remark.write", comment_window(session, rnd=rnd, municipality=municipality, now=now),
                      HearingError)
    member = membership(session, rnd, municipality)
    moment = utcnow()
    pending = drafts(session, rnd, municipality)
    for remark in pending:
        remark.status = "submitted"
        remark.submitted_at = moment
        session.add(remark)
        auditlog.record(session, user=user, audit_id=rnd.audit_id, entity="remark", entity_id=remark.id,
                        field="status", old="draft", new="submitted")
    member.submitted_at = moment
    member.submitted_by = user.id if user else None
    session.add(member)
    auditlog.record(session, user=user, audit_id=rnd.audit_id, entity="hearing_round", entity_id=rnd.id,
                    field="submitted", new={"municipality": municipality, "remarks": len(pending)})
    session.flush()
    return pending


def respond(session: Session, remark: Remark, decision: str, response: str | None, user: User | None,
            new_value: Any = _UNSET) -> Remark:
    """Answer a submitted remark.

    accepted: for an item remark the answer becomes `new_value` (default: the proposed
    value) through `set_answer` with reason "remark <id>: <text>"; a case remark needs
    a response saying what was done. maintained: the response (the reason) is required."""
    if decision not in DECISIONS:
        raise HearingError(_('decision must be one of {join_decisions}').format(
                               join_decisions=', '.join(DECISIONS)))
    case = session.get(Case, remark.case_id)
    ensure_unlocked(session.get(Audit, case.audit_id))  # first: a locked audit is the reason, whatever else
    permissions.check(user, "remark.answer", case, HearingError)   # the case's auditor or an admin
    if remark.status != "submitted":
        raise HearingError(_('remark {remark_id} is {remark_status}; only submitted remarks are answered').format(
                               remark_id=remark.id, remark_status=remark.status))
    response = (response or "").strip()
    if decision == "maintained" and not response:
        raise HearingError(_('maintaining the assessment needs a reason'))
    if decision == "accepted":
        if remark.item:
            value = decode(remark.proposed_value_json) if new_value is _UNSET else new_value
            if value in (None, "", []):
                raise HearingError(_('accepting a remark on an item needs the revised answer'))
            from audit.review.save import save_answer

            save_answer(session, owner=case, item=remark.item, value=value, user=user,
                        reason=f"remark {remark.id}: {remark.text}", instrument=_instrument(session, case.audit_id),
                        open_only=False)
        elif not response:
            raise HearingError(_('accepting a remark on the whole case needs a response saying what was changed'))
    remark.status = "answered"
    remark.decision = decision
    remark.response = response or None
    remark.responded_by = user.id if user else None
    remark.responded_at = utcnow()
    session.add(remark)
    auditlog.record(session, user=user, audit_id=case.audit_id, entity="remark", entity_id=remark.id,
                    field="decision", old="submitted", new={"decision": decision, "response": remark.response},
                    reason=remark.text)
    session.flush()
    return remark


def proposed(remark: Remark) -> Any:
    return decode(remark.proposed_value_json)


def value_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
