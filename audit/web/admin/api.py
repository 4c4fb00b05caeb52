"""The admin room's JSON API: the overview of audits the admin start page shows."""
from __future__ import annotations

import json
from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, Field

from audit.audits import audit_overview
from audit.web.deps import DB, allowed
from audit.web.schemas import errors

router = APIRouter(tags=["admin"])
Manager = allowed("audit.manage")


class AuditOverviewPublic(BaseModel):
    id: int
    name: str
    period_start: date
    period_end: date
    reference_date: date
    municipalities: list[str]
    instrument_version: str | None
    locked: bool
    population: int = Field(description="Persons in the imported register extract")
    cases: int = Field(description="Active sampled cases")
    completed: int = Field(description="Cases completed, in a comment round or final")
    statuses: dict[str, int] = Field(description="Active cases per status")


@router.get("/api/admin/audits", responses=errors(401, 403))
def api_audits(user: Manager, db: DB) -> list[AuditOverviewPublic]:
    """Every audit, newest first, with its population, sample and progress (admins)."""
    return [AuditOverviewPublic(id=r.audit.id, name=r.audit.name, period_start=r.audit.period_start,
                                period_end=r.audit.period_end, reference_date=r.audit.reference_date,
                                municipalities=json.loads(r.audit.municipalities_json or "[]"),
                                instrument_version=r.audit.instrument_version, locked=r.audit.locked_at is not None,
                                population=r.population, cases=r.cases, completed=r.completed, statuses=r.statuses)
            for r in audit_overview(db)]
