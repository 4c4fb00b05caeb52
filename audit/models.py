"""Storage schema (SQLModel). One table per domain concept; the rooms own the
logic, this module only says what is stored.

Conventions:
- Answer values are stored as JSON text (`value_json`) so every item type
  (yes/no code, list of codes, integer, date string, free text) fits one column
  and round-trips exactly.
- Timestamps are timezone-aware UTC.
- `AuditLog` is append-only; the migration installs triggers that refuse
  UPDATE and DELETE on it. Each entry carries a sha256 hash chained to the
  previous entry (`audit.auditlog`); `LogChain` holds each chain's head.
- `AccessLog` (+ `AccessCase`) records every use of personal data (views,
  downloads, exports), append-only and hash-chained the same way (its own chain).
- `UserSession` is the server-side session: the cookie carries only a random
  id whose sha256 is stored here, so a session can be ended from the server.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Optional

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _new_data_version() -> int:
    from audit.dataversion import new_token

    return new_token()


ROLES = ("admin", "auditor", "municipality")

# Case workflow (issue 5): not_started -> in_progress -> completed -> in_hearing -> final.
CASE_STATUSES = ("not_started", "in_progress", "completed", "in_hearing", "final")


class User(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=80)
    full_name: str = Field(default="", max_length=200)
    password_hash: str
    role: str = Field(max_length=20)  # one of ROLES
    municipality: Optional[str] = Field(default=None, max_length=80)  # only for role municipality
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    # The interface language the user chose ("da", "en"); None: the site's (AUDIT_LANGUAGE).
    language: Optional[str] = Field(default=None, max_length=8)


class Audit(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=120)
    period_start: date
    period_end: date
    reference_date: date
    # JSON list of participating municipality names; empty = any known municipality.
    municipalities_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    # The instrument the audit is bound to: file name, content version and a
    # frozen copy of the parsed instrument, so editing the file later never
    # changes a running audit.
    instrument_name: Optional[str] = Field(default=None, max_length=200)
    instrument_version: Optional[str] = Field(default=None, max_length=80)
    instrument_json: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    # The register definition the audit is bound to (file, content version, frozen copy of
    # its content), like the instrument: set at the first import (audit/population/binding.py).
    register_name: Optional[str] = Field(default=None, max_length=200)
    register_version: Optional[str] = Field(default=None, max_length=80)
    register_json: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    # Sampling protocol.
    bands_json: str = Field(default="[5, 7, 10]", sa_column=Column(Text, nullable=False))
    per_stratum: Optional[int] = None
    reserves: Optional[int] = None
    seed: Optional[int] = None
    sampled_at: Optional[datetime] = None
    sampled_by: Optional[str] = Field(default=None, max_length=80)
    locked_at: Optional[datetime] = None
    locked_by: Optional[str] = Field(default=None, max_length=80)
    created_at: datetime = Field(default_factory=utcnow)
    # Changes whenever what the case frame shows changes (answers, cases, register):
    # the key of the cached case frame (audit/dataversion.py).
    data_version: int = Field(default_factory=lambda: _new_data_version(),
                              sa_column=Column(BigInteger, nullable=False, server_default="0"))


class Person(SQLModel, table=True):
    """One row of the register extract: the sampling frame."""

    __table_args__ = (UniqueConstraint("audit_id", "person_id"),
                      Index("ix_person_stratum", "audit_id", "municipality", "seniority_band"))
    id: Optional[int] = Field(default=None, primary_key=True)
    # no index of its own: the unique (audit_id, person_id) and the stratum index both lead with it
    audit_id: int = Field(foreign_key="audit.id")
    person_id: str = Field(max_length=64)  # pseudonymous id from the register
    municipality: str = Field(max_length=80)
    seniority_years: float
    seniority_band: Optional[str] = Field(default=None, max_length=20)
    sex: str = Field(max_length=10)  # mand / kvinde
    age: int
    origin: str = Field(max_length=20)  # dansk / vestlig / ikke-vestlig
    # The declared optional register variables the extract carried, typed, as one JSON
    # object {code: value} (NULL when the extract had none): one column, so the bulk
    # import stays one row per person.
    values_json: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))


class RegisterSnapshot(SQLModel, table=True):
    """A further extract of the register at a date (`audit population import --as-of`),
    beside the sampling frame (the extract at the reference date, table person)."""

    __table_args__ = (UniqueConstraint("audit_id", "as_of"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    audit_id: int = Field(foreign_key="audit.id", index=True)
    as_of: date
    file: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    rows: int
    imported_at: datetime = Field(default_factory=utcnow)


class SnapshotPerson(SQLModel, table=True):
    """One person of a snapshot, linked to the other extracts of the audit by person_id."""

    __table_args__ = (UniqueConstraint("snapshot_id", "person_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="registersnapshot.id", index=True)
    person_id: str = Field(max_length=64)
    municipality: str = Field(max_length=80)
    values_json: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))


class Case(SQLModel, table=True):
    """A sampled person (or a reserve) to be reviewed."""

    __table_args__ = (UniqueConstraint("audit_id", "person_pk"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    audit_id: int = Field(foreign_key="audit.id", index=True)
    person_pk: int = Field(foreign_key="person.id")
    municipality: str = Field(max_length=80, index=True)
    seniority_band: str = Field(max_length=20)
    stratum_population: int  # N_h
    stratum_sample: int  # n_h
    inclusion_probability: float
    weight: float  # N_h / n_h
    is_reserve: bool = False
    reserve_rank: Optional[int] = None  # order within the stratum's reserves, 1 = first
    draw_order: int = 0  # order within the stratum's random permutation
    active: bool = True  # False for a replaced case and for unused reserves
    replaced_by_case_id: Optional[int] = Field(default=None, foreign_key="case.id")
    replacement_reason: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(default="not_started", max_length=20)
    assigned_to: Optional[int] = Field(default=None, foreign_key="user.id", index=True)
    second_reviewer: Optional[int] = Field(default=None, foreign_key="user.id")
    second_status: Optional[str] = Field(default=None, max_length=20)
    version: int = 0  # bumped on every saved change: optimistic concurrency
    completed_at: Optional[datetime] = None


class MunicipalityReview(SQLModel, table=True):
    """Theme 7 (management information and supervision): answered once per municipality."""

    __table_args__ = (UniqueConstraint("audit_id", "municipality"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    audit_id: int = Field(foreign_key="audit.id", index=True)
    municipality: str = Field(max_length=80)
    status: str = Field(default="not_started", max_length=20)
    assigned_to: Optional[int] = Field(default=None, foreign_key="user.id")
    version: int = 0


class Answer(SQLModel, table=True):
    """One answer to one instrument item, for a case or for a municipality (theme 7).

    `pass_no` 1 is the review; 2 is the independent second review used for
    quality assurance (agreement statistics), never for the report's figures.
    """

    __table_args__ = (
        UniqueConstraint("case_id", "item", "pass_no", name="uq_answer_case_item"),
        UniqueConstraint("municipality_review_id", "item", "pass_no", name="uq_answer_muni_item"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    case_id: Optional[int] = Field(default=None, foreign_key="case.id", index=True)
    municipality_review_id: Optional[int] = Field(default=None, foreign_key="municipalityreview.id", index=True)
    item: str = Field(max_length=80)
    pass_no: int = 1
    value_json: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: Optional[int] = Field(default=None, foreign_key="user.id")


class HearingRound(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    audit_id: int = Field(foreign_key="audit.id", index=True)
    number: int
    deadline: datetime
    opened_at: datetime = Field(default_factory=utcnow)
    opened_by: Optional[int] = Field(default=None, foreign_key="user.id")
    closed_at: Optional[datetime] = None


class RoundMunicipality(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("round_id", "municipality"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="hearinground.id", index=True)
    municipality: str = Field(max_length=80)
    submitted_at: Optional[datetime] = None
    submitted_by: Optional[int] = Field(default=None, foreign_key="user.id")


class Remark(SQLModel, table=True):
    """A municipality's remark on one item of a case, or on the case as a whole (item is None)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="hearinground.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    item: Optional[str] = Field(default=None, max_length=80)
    text: str = Field(sa_column=Column(Text, nullable=False))
    proposed_value_json: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(default="draft", max_length=20)  # draft / submitted / answered
    author_id: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    submitted_at: Optional[datetime] = None
    decision: Optional[str] = Field(default=None, max_length=20)  # accepted / maintained
    response: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    responded_by: Optional[int] = Field(default=None, foreign_key="user.id")
    responded_at: Optional[datetime] = None


class AuditLog(SQLModel, table=True):
    """Append-only trail of every change to audit data."""

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: Optional[int] = Field(default=None)
    username: str = Field(default="system", max_length=80)
    audit_id: Optional[int] = Field(default=None, index=True)
    entity: str = Field(max_length=40)
    entity_id: Optional[str] = Field(default=None, max_length=80)
    field: Optional[str] = Field(default=None, max_length=80)
    old_value: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    new_value: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    reason: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    # Hash chain (audit.auditlog): sha256 over the canonical form of this row and prev_hash.
    prev_hash: Optional[str] = Field(default=None, max_length=64)
    entry_hash: Optional[str] = Field(default=None, max_length=64)


class LogChain(SQLModel, table=True):
    """The head of one hash chain ('auditlog', 'accesslog'): the last entry's id and hash.
    Every writer updates it in the transaction that appends, which serialises appends."""

    name: str = Field(primary_key=True, max_length=20)
    last_id: int = 0
    last_hash: str = Field(max_length=64)


class AccessLog(SQLModel, table=True):
    """One use of personal data: who, when, how (view / api / download / export), what
    (the page or file kind), and which cases (AccessCase rows). Append-only, own hash chain."""

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: Optional[int] = Field(default=None)
    username: str = Field(max_length=80)
    kind: str = Field(max_length=10)  # view / api / download / export
    what: str = Field(max_length=80)  # e.g. "case form", "hearing workbook", "data.csv"
    audit_id: Optional[int] = Field(default=None, index=True)
    population: bool = False  # the audit's whole register extract was used (e.g. Table 12)
    n_cases: int = 0
    address: Optional[str] = Field(default=None, max_length=64)
    prev_hash: Optional[str] = Field(default=None, max_length=64)
    entry_hash: Optional[str] = Field(default=None, max_length=64)


class AccessCase(SQLModel, table=True):
    """A case (and its register person id) touched by one AccessLog entry. The person id is
    copied so a data subject's request is answered even after a redraw removed the case."""

    access_id: int = Field(foreign_key="accesslog.id", primary_key=True)
    case_id: int = Field(primary_key=True)
    person_id: str = Field(max_length=64, index=True)


class UserSession(SQLModel, table=True):
    """A login. The browser holds a random token; only its sha256 is stored."""

    id: Optional[int] = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, index=True, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: Optional[datetime] = None
    end_reason: Optional[str] = Field(default=None, max_length=20)
    address: Optional[str] = Field(default=None, max_length=64)
    user_agent: Optional[str] = Field(default=None, max_length=200)


class LoginFailure(SQLModel, table=True):
    """One failed log-in, by the (lower-cased) username typed and the client address."""

    __table_args__ = (Index("ix_loginfailure_username_at", "username", "at"),
                      Index("ix_loginfailure_address_at", "address", "at"))
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    username: str = Field(max_length=80)
    address: str = Field(max_length=64)


class LoginLock(SQLModel, table=True):
    """A log-in pause for an account name or a client address after too many failures."""

    __table_args__ = (Index("ix_loginlock_key", "kind", "key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # account / address
    key: str = Field(max_length=80)
    started_at: datetime = Field(default_factory=utcnow)
    until: datetime
    level: int = 1  # 1 for the first pause; each further one doubles its length


# Registers the listeners that keep Audit.data_version current (after the tables above).
from audit import dataversion as _dataversion  # noqa: E402,F401


# Background export jobs (audit/exports/jobs.py): queued -> running -> ready | failed.
JOB_STATUSES = ("queued", "running", "ready", "failed")


class ExportJob(SQLModel, table=True):
    """One file of an audit made off the request (the exports page's slow downloads). The
    state lives in the database so every worker process of the server sees it; the worker
    that runs the job touches `heartbeat_at` while it works, so a job of a server that died
    is found and marked failed. The file is an `ExportJobFile` row, tied to the audit's
    `data_version` at the start of the making: a newer version means the file is stale."""

    __table_args__ = (Index("ix_exportjob_audit_kind", "audit_id", "kind"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    audit_id: int = Field(foreign_key="audit.id")
    kind: str = Field(max_length=40)          # annex.xlsx, report.xlsx, figures.zip, data.xlsx
    status: str = Field(default="queued", max_length=20)  # one of JOB_STATUSES
    requested_by: Optional[int] = Field(default=None, foreign_key="user.id")
    language: Optional[str] = Field(default=None, max_length=8)  # of the requester's page: the file's own
    data_version: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # the code and shipped definitions that made the file (jobs.build_fingerprint): another build is stale too
    built_with: Optional[str] = Field(default=None, max_length=64)
    worker: Optional[str] = Field(default=None, max_length=120)  # host:pid:token of the process running it
    created_at: datetime = Field(default_factory=utcnow)
    started_at: Optional[datetime] = None
    heartbeat_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    size: Optional[int] = None
    sha256: Optional[str] = Field(default=None, max_length=64)
    error: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))


class ExportJobFile(SQLModel, table=True):
    """The finished file of an export job (kept apart so reading a job's state never loads it)."""

    job_id: int = Field(foreign_key="exportjob.id", primary_key=True)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
