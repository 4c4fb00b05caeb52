"""Creating and listing audits: name, review period, reference date, municipalities."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlmodel import Session

from audit.i18n import _
from audit.auditlog import record
from audit.models import Audit, Case, Person, User
from audit.population.municipalities import canonical_municipality

if TYPE_CHECKING:
    from audit.instrument import Instrument


class AuditError(Exception):
    """An audit cannot be created or found as asked; the message says why."""


class AuditNotFound(AuditError, LookupError):
    """No audit by that name (or id): a LookupError for callers that only ask "is it there"."""


def get_audit(session: Session, name: str | int) -> Audit:
    """The audit by name; failing that, by numeric id (the web's URLs). A name always wins,
    so `--audit 2024` is the audit named 2024 even if another audit has id 2024."""
    audit = session.scalar(select(Audit).where(Audit.name == str(name)))
    if audit is None and (isinstance(name, int) or str(name).isdigit()):
        audit = session.get(Audit, int(name))
    if audit is None:
        raise AuditNotFound(f"no audit named {name!r} (see `audit audits list`)")
    return audit


def _check_dates(period_start: date, period_end: date, reference_date: date) -> None:
    if not period_start < period_end:
        raise AuditError(_('the period must start before it ends ({period_start} is not before {period_end})').format(
                             period_start=period_start, period_end=period_end))
    if not period_end <= reference_date:
        raise AuditError(_('the reference date {reference_date} must be on or after the period end {period_end}').format(
                             reference_date=reference_date, period_end=period_end))


def _canonical_municipalities(municipalities: Iterable[str]) -> list[str]:
    canon: list[str] = []
    unknown: list[str] = []
    for m in municipalities:
        if not m.strip():
            continue
        try:
            c = canonical_municipality(m)
        except ValueError:
            unknown.append(m)
            continue
        if c not in canon:
            canon.append(c)
    if unknown:
        raise AuditError(_('unknown municipalities: {names}').format(names=", ".join(repr(u) for u in unknown)))
    return canon


def create_audit(session: Session, name: str, *, period_start: date, period_end: date,
                 reference_date: date, municipalities: Iterable[str] = (),
                 user: User | None = None) -> Audit:
    """Create an audit after checking the dates and municipality names, and log it.

    The review period must end no later than the reference date, because the
    population (seniority) is fixed at the reference date."""
    name = name.strip()
    if not name:
        raise AuditError(_('the audit needs a name'))
    if session.scalar(select(Audit.id).where(Audit.name == name)) is not None:
        raise AuditError(_('an audit named {name} already exists').format(name=repr(name)))
    _check_dates(period_start, period_end, reference_date)
    canon = _canonical_municipalities(municipalities)
    audit = Audit(name=name, period_start=period_start, period_end=period_end, reference_date=reference_date,
                  municipalities_json=json.dumps(canon, ensure_ascii=False))
    session.add(audit)
    session.flush()
    record(session, user=user, entity="audit", entity_id=audit.id, field="create", new={
        "name": name, "period_start": period_start, "period_end": period_end,
        "reference_date": reference_date, "municipalities": canon}, audit_id=audit.id)
    return audit


@dataclass
class AuditSummary:
    name: str
    period_start: date
    period_end: date
    reference_date: date
    municipalities: list[str]
    population: int
    cases: int
    active_cases: int
    seed: int | None


def list_audits(session: Session) -> list[AuditSummary]:
    """Every audit with the size of its population and sample."""
    pop = dict(session.execute(select(Person.audit_id, func.count()).group_by(Person.audit_id)).all())
    cases = dict(session.execute(select(Case.audit_id, func.count()).group_by(Case.audit_id)).all())
    active = dict(session.execute(select(Case.audit_id, func.count()).where(Case.active.is_(True))
                                  .group_by(Case.audit_id)).all())
    return [AuditSummary(a.name, a.period_start, a.period_end, a.reference_date,
                         json.loads(a.municipalities_json or "[]"), pop.get(a.id, 0), cases.get(a.id, 0),
                         active.get(a.id, 0), a.seed)
            for a in session.scalars(select(Audit).order_by(Audit.id))]


def bind_instrument(session: Session, audit: Audit, path: str | Path, user: User | None = None) -> Audit:
    """Freeze the instrument file into the audit. Binding is once: a running audit
    never follows later edits of the file (re-binding the same version is a no-op)."""
    from audit.instrument import load_instrument

    inst = load_instrument(path)
    if audit.instrument_version and audit.instrument_version != inst.version:
        raise AuditError(_('audit {audit_name} is bound to instrument {version}; the file is now {inst_version} and cannot replace it').format(
                             audit_name=repr(audit.name), version=audit.instrument_version, inst_version=inst.version))
    if audit.instrument_version == inst.version:
        return audit
    audit.instrument_name = Path(path).name
    audit.instrument_version = inst.version
    audit.instrument_json = json.dumps(inst.to_dict(), ensure_ascii=False)
    session.add(audit)
    record(session, user=user, entity="audit", entity_id=audit.id, field="instrument",
           new={"file": Path(path).name, "version": inst.version}, audit_id=audit.id)
    return audit


def shipped_instruments() -> list[tuple[str, str]]:
    """The instrument files shipped with the tool as (file name, version), newest file first:
    the choices of the admin's "new audit" form and of `audit audits create --instrument`."""
    from audit.instrument import load_instrument
    from audit.resources import shared

    import yaml

    found = []
    for path in sorted(shared("questionnaires").glob("*.yaml"), reverse=True):
        with path.open(encoding="utf-8") as f:   # the folder also holds the derived variables' file
            head = yaml.safe_load(f)
        if isinstance(head, dict) and "survey" in head:
            found.append((path.name, load_instrument(path).version))
    return found


def new_audit(session: Session, name: str, *, period_start: date, period_end: date, reference_date: date,
              municipalities: Iterable[str] = (), instrument: str | Path, user: User | None = None) -> Audit:
    """Create an audit and bind it to an instrument in one transaction: what `audit audits
    create` and the admin's form on /admin both do. `instrument` is a file name shipped with
    the tool (`shipped_instruments`) or a path."""
    from audit.resources import ResourceMissing, questionnaire

    path = Path(instrument)
    if not path.is_file():
        try:
            path = questionnaire(Path(str(instrument)).name)
        except (ResourceMissing, ValueError):
            raise AuditError(_('no instrument file named {name}').format(name=repr(str(instrument)))) from None
    audit = create_audit(session, name, period_start=period_start, period_end=period_end,
                         reference_date=reference_date, municipalities=municipalities, user=user)
    return bind_instrument(session, audit, path, user=user)


def has_population(session: Session, audit: Audit) -> bool:
    """Whether a register extract is imported into the audit."""
    return session.scalar(select(Person.id).where(Person.audit_id == audit.id).limit(1)) is not None


def edit_audit(session: Session, audit: Audit, *, name: str, period_start: date, period_end: date,
               reference_date: date, municipalities: Iterable[str] = (), user: User | None = None) -> Audit:
    """Change an audit's name, period, reference date and municipalities, with the same checks
    as `create_audit`, each change in the audit trail. The name can change until the audit is
    locked; the dates and municipalities only until a register extract is imported (seniority
    and the target group are fixed at the reference date)."""
    if audit.locked_at is not None:
        raise AuditError(_('audit {name} is locked and cannot be changed').format(name=repr(audit.name)))
    name = name.strip()
    if not name:
        raise AuditError(_('the audit needs a name'))
    other = session.scalar(select(Audit.id).where(Audit.name == name, Audit.id != audit.id))
    if other is not None:
        raise AuditError(_('an audit named {name} already exists').format(name=repr(name)))
    canon = _canonical_municipalities(municipalities)
    old_munis = json.loads(audit.municipalities_json or "[]")
    frame_changed = (period_start, period_end, reference_date, canon) != (
        audit.period_start, audit.period_end, audit.reference_date, old_munis)
    if frame_changed:
        if has_population(session, audit):
            raise AuditError(_('the period, reference date and municipalities cannot change once a register '
                               'extract is imported'))
        _check_dates(period_start, period_end, reference_date)
    changes = {"name": (audit.name, name), "period_start": (audit.period_start, period_start),
               "period_end": (audit.period_end, period_end), "reference_date": (audit.reference_date, reference_date),
               "municipalities": (old_munis, canon)}
    for field, (old, new) in changes.items():
        if old != new:
            record(session, user=user, entity="audit", entity_id=audit.id, field=field, old=old, new=new,
                   audit_id=audit.id)
    audit.name, audit.period_start, audit.period_end, audit.reference_date = name, period_start, period_end, reference_date
    audit.municipalities_json = json.dumps(canon, ensure_ascii=False)
    session.add(audit)
    session.flush()
    return audit


class NoInstrument(LookupError):
    """The audit has no frozen instrument yet."""


_INSTRUMENTS: dict[tuple[int | None, str | None], "Instrument"] = {}
_INSTRUMENTS_LOCK = threading.Lock()


def instrument_for(audit: Audit) -> "Instrument":
    """The instrument frozen on the audit (`Audit.instrument_json`, never today's file: a
    running audit must not change), parsed once per audit id + instrument version and
    shared by every request, command and export. Raises NoInstrument before binding."""
    if not audit.instrument_json:
        raise NoInstrument(_('audit {audit_name} is not bound to an instrument yet').format(
                               audit_name=repr(audit.name)))
    key = (audit.id, audit.instrument_version)
    inst = _INSTRUMENTS.get(key)
    if inst is None:
        from audit.instrument import Instrument

        with _INSTRUMENTS_LOCK:
            inst = _INSTRUMENTS.get(key)
            if inst is None:
                inst = Instrument.from_dict(json.loads(audit.instrument_json))
                _INSTRUMENTS[key] = inst
    return inst


def clear_instrument_cache() -> None:
    """Forget every parsed instrument (tests that reuse audit ids with other snapshots)."""
    _INSTRUMENTS.clear()


def all_audits(session: Session, *, newest_first: bool = True) -> list[Audit]:
    """Every audit, newest first (the pages' audit pickers) or by name."""
    order = Audit.created_at.desc() if newest_first else Audit.name
    return list(session.scalars(select(Audit).order_by(order)))


def latest_audit(session: Session) -> Audit | None:
    """The most recently created audit: the one a page shows when none is chosen."""
    return session.scalars(select(Audit).order_by(Audit.created_at.desc()).limit(1)).first()


@dataclass
class AuditOverview:
    """One audit with the counts an admin checks first."""
    audit: Audit
    population: int
    cases: int                 # active cases
    completed: int             # completed, in a comment round, or final
    statuses: dict[str, int]   # active cases per status


def audit_overview(session: Session) -> list[AuditOverview]:
    """Every audit, newest first, with its population, active cases and progress."""
    rows = []
    for audit in all_audits(session):
        population = session.scalar(select(func.count()).select_from(Person).where(Person.audit_id == audit.id))
        counts = dict(session.execute(select(Case.status, func.count()).where(
            Case.audit_id == audit.id, Case.active.is_(True)).group_by(Case.status)).all())
        rows.append(AuditOverview(audit, population or 0, sum(counts.values()),
                                  sum(v for k, v in counts.items() if k in ("completed", "in_hearing", "final")),
                                  counts))
    return rows
