"""What the comment-round pages read: the admin's rounds overview, the municipality's
portal, a case's remarks, and the auditors' remark queue. Plain functions with typed
results; the rules (who may write, when) stay in rounds/remarks, the web only renders."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from audit import access, i18n
from audit.hearing import instrument as hi
from audit.hearing.lock import lock_problems, unreviewed_cases
from audit.hearing.rounds import MunicipalityStatus, cases_in_round, deadline_passed, round_status, rounds_of
from audit.instrument import Item
from audit.models import Audit, Case, HearingRound, Person, Remark, RoundMunicipality
from audit.review.answers import case_answers, decode


def instrument_or_none(audit: Audit) -> Any:
    """The audit's frozen instrument, or None if it has none (pages then show codes)."""
    try:
        return hi.instrument_for(audit)
    except hi.NoInstrument:
        return None


@dataclass
class RoundRow:
    round: HearingRound
    status: list[MunicipalityStatus]
    passed: bool

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter((self.round, self.status, self.passed))


@dataclass
class RoundsOverview:
    """The admin's view of an audit's comment rounds."""
    rounds: list[RoundRow]
    candidates: list[str]      # municipalities with completed cases, in no open round
    lock_problems: list[str]   # why locking would need force (empty once locked)
    unreviewed: dict[str, list[int]]   # active cases not completed, by status (empty once locked)
    heard: list[str]           # municipalities whose cases have been in a round


def rounds_overview(session: Session, audit: Audit) -> RoundsOverview:
    rounds = rounds_of(session, audit.id)
    completed = session.exec(select(Case.municipality).where(
        Case.audit_id == audit.id, Case.active == True, Case.status == "completed")  # noqa: E712
        .distinct().order_by(Case.municipality)).all()
    in_open = {m for r in rounds if r.closed_at is None
               for m in session.exec(select(RoundMunicipality.municipality)
                                     .where(RoundMunicipality.round_id == r.id)).all()}
    heard = sorted(session.exec(select(Case.municipality).where(
        Case.audit_id == audit.id, Case.status.in_(("in_hearing", "final"))).distinct()).all())
    return RoundsOverview(rounds=[RoundRow(r, round_status(session, r), deadline_passed(r)) for r in rounds],
                          candidates=[m for m in completed if m not in in_open],
                          lock_problems=lock_problems(session, audit) if audit.locked_at is None else [],
                          unreviewed=unreviewed_cases(session, audit) if audit.locked_at is None else {},
                          heard=heard)


def visible_to_municipality(session: Session, case: Case) -> bool:
    """A municipality sees a case's assessment once the case has been in one of its rounds."""
    if case.status not in ("in_hearing", "final") or not case.active:
        return False
    return session.exec(select(RoundMunicipality).join(HearingRound, HearingRound.id == RoundMunicipality.round_id)
                        .where(HearingRound.audit_id == case.audit_id,
                               RoundMunicipality.municipality == case.municipality)).first() is not None


@dataclass
class OpenRound:
    round: HearingRound
    member: RoundMunicipality
    audit: Audit
    cases: list[Case]
    counts: dict[int, dict[str, int]]   # case id -> remark status -> count
    drafts: int
    passed: bool


@dataclass
class EarlierRound:
    """A closed round (or one of a locked audit): its cases stay readable, not writable."""
    round: HearingRound
    member: RoundMunicipality
    audit: Audit
    cases: list[Case] = field(default_factory=list)
    counts: dict[int, dict[str, int]] = field(default_factory=dict)   # case id -> remark status -> count


@dataclass
class Portal:
    """A municipality's start page: its open rounds, earlier rounds and answered cases."""
    open_rounds: list[OpenRound] = field(default_factory=list)
    earlier: list[EarlierRound] = field(default_factory=list)
    answered_cases: list[Case] = field(default_factory=list)
    audits: dict[int, Audit] = field(default_factory=dict)
    person_ids: dict[int, str] = field(default_factory=dict)   # case id -> the register's person id


def _remark_counts(session: Session, rnd: HearingRound, cases: list[Case]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    for remark in session.exec(select(Remark).where(Remark.round_id == rnd.id,
                                                    Remark.case_id.in_([c.id for c in cases]))).all():
        counts.setdefault(remark.case_id, {}).setdefault(remark.status, 0)
        counts[remark.case_id][remark.status] += 1
    return counts


def _heard_cases(session: Session, rnd: HearingRound, municipality: str) -> list[Case]:
    """The municipality's cases of a closed round: those it has seen (in hearing, or final)."""
    return list(session.exec(select(Case).where(
        Case.audit_id == rnd.audit_id, Case.municipality == municipality, Case.active == True,  # noqa: E712
        Case.status.in_(("in_hearing", "final"))).order_by(Case.id)).all())


def person_ids(session: Session, cases: list[Case], *, actor: Any, what: str) -> dict[int, str]:
    """The register person id of each case: what a municipality finds its citizen's file by.
    Only ever asked for a municipality's own cases (its own citizens); logged as a use of
    those cases for `actor` (audit.access), one entry per audit, before it is returned."""
    if not cases:
        return {}
    by_audit: dict[int, list[int]] = {}
    for c in cases:
        by_audit.setdefault(c.audit_id, []).append(c.id)
    if actor is not None:
        for audit_id, ids in sorted(by_audit.items()):
            access.record(session, actor, what=what, cases=ids, audit_id=audit_id)
    pks = {c.person_pk: c.id for c in cases}
    return {pks[pk]: pid for pk, pid in session.exec(select(Person.id, Person.person_id)
                                                       .where(Person.id.in_(list(pks)))).all()}


def municipality_portal(session: Session, municipality: str, *, actor: Any) -> Portal:
    """A municipality's start page: open rounds with their cases, closed rounds with theirs
    (readable), the cases with remarks, and each case's person id (logged for `actor`)."""
    memberships = session.exec(select(HearingRound, RoundMunicipality, Audit)
                               .join(RoundMunicipality, RoundMunicipality.round_id == HearingRound.id)
                               .join(Audit, Audit.id == HearingRound.audit_id)
                               .where(RoundMunicipality.municipality == municipality)
                               .order_by(HearingRound.audit_id, HearingRound.number)).all()
    portal = Portal(audits={a.id: a for _, _, a in memberships})
    for rnd, member, audit in memberships:
        if rnd.closed_at is None and audit.locked_at is None:
            cases = cases_in_round(session, rnd, municipality)
            counts = _remark_counts(session, rnd, cases)
            drafts = sum(c.get("draft", 0) for c in counts.values())
            portal.open_rounds.append(OpenRound(rnd, member, audit, cases, counts, drafts, deadline_passed(rnd)))
        else:
            cases = _heard_cases(session, rnd, municipality)
            portal.earlier.append(EarlierRound(rnd, member, audit, cases, _remark_counts(session, rnd, cases)))
    # cases with remarks from earlier rounds, so answers stay readable after a round closes
    portal.answered_cases = list(session.exec(select(Case).join(Remark, Remark.case_id == Case.id)
                                              .where(Case.municipality == municipality, Remark.status != "draft")
                                              .distinct().order_by(Case.id)).all())
    shown = {c.id: c for o in portal.open_rounds for c in o.cases}
    shown.update({c.id: c for e in portal.earlier for c in e.cases})
    shown.update({c.id: c for c in portal.answered_cases})
    portal.person_ids = person_ids(session, list(shown.values()), actor=actor, what="hearing overview (person ids)")
    return portal


def case_remarks(session: Session, case: Case) -> list[Remark]:
    """Every remark on the case, drafts included, oldest first."""
    return list(session.exec(select(Remark).where(Remark.case_id == case.id).order_by(Remark.id)).all())


@dataclass
class QueueRow:
    """One submitted or answered remark as the auditors' queue shows it."""
    remark: Remark
    case: Case
    round: HearingRound
    audit: Audit
    item: Item | None         # the instrument's item, or None (a remark on the whole case)
    kind: str | None
    choices: list[tuple[str, str]]
    current: Any              # the case's current answer to the item
    current_shown: str
    proposed: Any
    proposed_shown: str

    def __getitem__(self, key: str) -> Any:  # templates written for dict rows
        return getattr(self, key)


def remark_queue(session: Session, audit_id: int | None = None, municipality: str | None = None,
                 status: str | None = None, *, actor: Any, auditor_id: int | None = None) -> list[QueueRow]:
    """Submitted and answered remarks (never drafts), oldest first, with the current answer.
    `auditor_id`: only remarks on the cases that auditor reviewed (whom "remark.answer" lets answer).
    Logged for `actor` as a view of the remarked cases' assessments (audit.access)."""
    query = (select(Remark, Case, HearingRound, Audit).join(Case, Case.id == Remark.case_id)
             .join(HearingRound, HearingRound.id == Remark.round_id).join(Audit, Audit.id == HearingRound.audit_id)
             .where(Remark.status != "draft"))
    if auditor_id is not None:
        query = query.where(Case.assigned_to == auditor_id)
    if audit_id:
        query = query.where(HearingRound.audit_id == audit_id)
    if municipality:
        query = query.where(Case.municipality == municipality)
    if status:
        query = query.where(Remark.status == status)
    rows = []
    for remark, case, rnd, audit in session.exec(query.order_by(Remark.submitted_at, Remark.id)).all():
        inst = instrument_or_none(audit)
        it = hi.item_or_none(inst, remark.item)
        current = case_answers(session, case.id).get(remark.item) if remark.item else None
        proposed = decode(remark.proposed_value_json)
        rows.append(QueueRow(remark=remark, case=case, round=rnd, audit=audit, item=it,
                             kind=it.kind if it else None, choices=it.options(i18n.current()) if it else [],
                             current=current, current_shown=hi.display(it, current),
                             proposed=proposed, proposed_shown=hi.display(it, proposed)))
    if rows and actor is not None:  # the queue shows each remarked item's current assessment
        access.record(session, actor, what="remark queue", cases=[r.case.id for r in rows], audit_id=audit_id)
    return rows


def round_municipalities(session: Session) -> list[str]:
    """Every municipality that has been in a comment round (the queue's filter)."""
    return list(session.exec(select(RoundMunicipality.municipality).distinct()
                             .order_by(RoundMunicipality.municipality)).all())


def has_cases(session: Session, audit: Audit, municipality: str) -> bool:
    """Whether the municipality has any sampled case in the audit (the downloads' scope)."""
    return session.exec(select(Case.id).where(Case.audit_id == audit.id,
                                              Case.municipality == municipality)).first() is not None
