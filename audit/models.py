"""Storage schema (SQLModel). One table per domain concept; the rooms own the
logic, this module only says what is stored.

Conventions:
- Answer values are stored as JSON text (`value_json`) so every item type
  (yes/no code, list of codes, integer, date string, free text) fits one column
  and round-trips exactly.
- Timestamps are timezone-aware UTC.
- `AuditLog` is append-only; the migration installs triggers that refuse
  UPDATE and DELETE on it.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Optional

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint, Index
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
    audit_id: int = Field(foreign_key="audit.id", index=True)
    person_id: str = Field(max_length=64)  # pseudonymous id from the register
    municipality: str = Field(max_length=80)
    seniority_years: float
    seniority_band: Optional[str] = Field(default=None, max_length=20)
    sex: str = Field(max_length=10)  # mand / kvinde
    age: int
    origin: str = Field(max_length=20)  # dansk / vestlig / ikke-vestlig


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


# Registers the listeners that keep Audit.data_version current (after the tables above).
from audit import dataversion as _dataversion  # noqa: E402,F401
