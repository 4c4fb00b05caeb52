"""Comment rounds: open one for chosen municipalities, follow who has responded, close it.

A round covers a municipality's active cases in status `in_hearing`: opening it
moves the municipality's completed cases there. Cases heard in an earlier round
stay `in_hearing` until the audit is locked, so a later round for the same
municipality shows them again next to the newly completed ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Iterable

from sqlalchemy import func
from sqlmodel import Session, select

from audit.i18n import _
from audit import auditlog
from audit.models import Audit, Case, HearingRound, Remark, RoundMunicipality, User, utcnow
from audit.permissions import CommentWindow
from audit.population.municipalities import canonical_municipality


class HearingError(ValueError):
    """A hearing action was refused; the message says why."""


def as_utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; everything is stored in UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def parse_deadline(text: str | date | datetime) -> datetime:
    """A deadline given as a date means the end of that day (23:59:59 UTC)."""
    if isinstance(text, datetime):
        return as_utc(text)
    if isinstance(text, date):
        return datetime.combine(text, time(23, 59, 59), tzinfo=timezone.utc)
    text = text.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(23, 59, 59), tzinfo=timezone.utc)
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        raise HearingError(_('deadline {text}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM').format(
                               text=repr(text))) from None


def deadline_passed(rnd: HearingRound, now: datetime | None = None) -> bool:
    return as_utc(now or utcnow()) > as_utc(rnd.deadline)


def is_open(rnd: HearingRound) -> bool:
    return rnd.closed_at is None


def _ensure_unlocked(audit: Audit) -> None:
    if audit.locked_at is not None:
        raise HearingError(_('audit {audit_name} is locked; no more comment rounds').format(
                               audit_name=repr(audit.name)))


def open_round_for(session: Session, audit_id: int, municipality: str) -> HearingRound | None:
    return session.exec(
        select(HearingRound).join(RoundMunicipality, RoundMunicipality.round_id == HearingRound.id)
        .where(HearingRound.audit_id == audit_id, HearingRound.closed_at == None,  # noqa: E711
               RoundMunicipality.municipality == municipality)).first()


def rounds_of(session: Session, audit_id: int) -> list[HearingRound]:
    return list(session.exec(select(HearingRound).where(HearingRound.audit_id == audit_id)
                             .order_by(HearingRound.number)).all())


def get_round(session: Session, audit_id: int, number: int) -> HearingRound:
    rnd = session.exec(select(HearingRound).where(HearingRound.audit_id == audit_id,
                                                  HearingRound.number == number)).first()
    if rnd is None:
        raise HearingError(_('no round {number} in this audit').format(number=number))
    return rnd


def _canonical(name: str) -> str:
    try:
        return canonical_municipality(name)
    except Exception as exc:  # unknown municipality
        raise HearingError(str(exc)) from exc


def open_round(session: Session, audit: Audit, municipalities: Iterable[str], deadline: datetime | date | str,
               user: User | None, now: datetime | None = None) -> HearingRound:
    """Open round number n+1 for the municipalities; their completed cases go to `in_hearing`.

    Refuses (HearingError, nothing changed) a locked audit, a deadline in the past,
    an empty list, and any municipality with no completed case or already in an open round."""
    _ensure_unlocked(audit)
    names = sorted({_canonical(m) for m in municipalities})
    if not names:
        raise HearingError(_('choose at least one municipality'))
    due = parse_deadline(deadline)
    if due <= as_utc(now or utcnow()):
        raise HearingError(_('deadline {due:%Y-%m-%d %H:%M} UTC is already past').format(due=due))
    problems = []
    completed: dict[str, list[Case]] = {}
    for name in names:
        if open_round_for(session, audit.id, name) is not None:
            problems.append(_("{municipality} is already in an open round").format(municipality=name))
            continue
        completed[name] = list(session.exec(select(Case).where(
            Case.audit_id == audit.id, Case.municipality == name, Case.active == True,  # noqa: E712
            Case.status == "completed")).all())
        if not completed[name]:
            problems.append(_("{municipality} has no completed cases").format(municipality=name))
    if problems:
        raise HearingError("; ".join(problems))
    number = (session.exec(select(func.max(HearingRound.number)).where(
        HearingRound.audit_id == audit.id)).one() or 0) + 1
    rnd = HearingRound(audit_id=audit.id, number=number, deadline=due, opened_by=user.id if user else None)
    session.add(rnd)
    session.flush()
    auditlog.record(session, user=user, audit_id=audit.id, entity="hearing_round", entity_id=rnd.id,
                    field="opened", new={"number": number, "deadline": due.isoformat(), "municipalities": names})
    for name in names:
        session.add(RoundMunicipality(round_id=rnd.id, municipality=name))
        for case in completed[name]:
            auditlog.record(session, user=user, audit_id=audit.id, entity="case", entity_id=case.id,
                            field="status", old=case.status, new="in_hearing", reason=f"hearing round {number}")
            case.status = "in_hearing"
            session.add(case)
    session.flush()
    return rnd


def close_round(session: Session, rnd: HearingRound, user: User | None) -> HearingRound:
    """Close a round: the portal stops showing it. Submitted remarks can still be answered."""
    if rnd.closed_at is not None:
        raise HearingError(_('round {rnd_number} is already closed').format(rnd_number=rnd.number))
    rnd.closed_at = utcnow()
    session.add(rnd)
    auditlog.record(session, user=user, audit_id=rnd.audit_id, entity="hearing_round", entity_id=rnd.id,
                    field="closed", old=None, new=rnd.closed_at.isoformat())
    session.flush()
    return rnd


@dataclass
class MunicipalityStatus:
    municipality: str
    cases: int
    drafts: int
    submitted: int          # submitted, waiting for a response
    answered: int
    submitted_at: datetime | None

    @property
    def responded(self) -> bool:
        return self.submitted_at is not None


def round_status(session: Session, rnd: HearingRound) -> list[MunicipalityStatus]:
    """Per municipality of the round: cases, remark counts by status, and when it submitted."""
    out = []
    members = session.exec(select(RoundMunicipality).where(RoundMunicipality.round_id == rnd.id)
                           .order_by(RoundMunicipality.municipality)).all()
    for m in members:
        counts = dict(session.exec(select(Remark.status, func.count()).join(Case, Case.id == Remark.case_id)
                                   .where(Remark.round_id == rnd.id, Case.municipality == m.municipality)
                                   .group_by(Remark.status)).all())
        cases = session.exec(select(func.count()).select_from(Case).where(
            Case.audit_id == rnd.audit_id, Case.municipality == m.municipality, Case.active == True,  # noqa: E712
            Case.status.in_(("in_hearing", "final")))).one()
        out.append(MunicipalityStatus(m.municipality, cases, counts.get("draft", 0), counts.get("submitted", 0),
                                      counts.get("answered", 0),
                                      as_utc(m.submitted_at) if m.submitted_at else None))
    return out


def membership(session: Session, rnd: HearingRound, municipality: str) -> RoundMunicipality | None:
    return session.exec(select(RoundMunicipality).where(RoundMunicipality.round_id == rnd.id,
                                                        RoundMunicipality.municipality == municipality)).first()


def comment_window(session: Session, case: Case | None = None, *, rnd: HearingRound | None = None,
                   municipality: str | None = None, now: datetime | None = None) -> CommentWindow:
    """The facts of a municipality's comment round for `audit.permissions` ("remark.write"):
    for one case (writing, editing, deleting a remark), or for the round `rnd` as a whole
    (submitting). Every page, API call and domain function asks about this one window."""
    if case is None and rnd is None:
        raise ValueError("comment_window needs a case or a round")
    audit = session.get(Audit, case.audit_id if case is not None else rnd.audit_id)
    municipality = municipality or case.municipality
    if rnd is None:
        rnd = open_round_for(session, audit.id, municipality)
    member = membership(session, rnd, municipality) if rnd is not None else None
    is_open = rnd is not None and rnd.closed_at is None
    return CommentWindow(
        municipality=municipality, audit_name=audit.name, locked_at=audit.locked_at,
        round_number=rnd.number if is_open else None, member=member is not None,
        submitted_at=member.submitted_at if member is not None else None,
        deadline=rnd.deadline if rnd is not None else None, now=now or utcnow(),
        case_id=case.id if case is not None else None,
        case_in_hearing=case.status == "in_hearing" if case is not None else True,
        case_active=bool(case.active) if case is not None else True)


def cases_in_round(session: Session, rnd: HearingRound, municipality: str) -> list[Case]:
    return list(session.exec(select(Case).where(
        Case.audit_id == rnd.audit_id, Case.municipality == municipality, Case.active == True,  # noqa: E712
        Case.status == "in_hearing").order_by(Case.id)).all())
