"""Review pages: the auditor's work list (the case form arrives with the review issue)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from sqlmodel import select

from audit.models import Audit, Case
from audit.permissions import require
from audit.web.deps import DB, CurrentUser, render

router = APIRouter()


@router.get("/review", include_in_schema=False)
def work_list(request: Request, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    require(user, "audit.view")
    query = select(Case, Audit.name).join(Audit, Audit.id == Case.audit_id).where(Case.active == True)  # noqa: E712
    if user.role == "auditor":
        query = query.where(Case.assigned_to == user.id)
    rows = db.exec(query.order_by(Audit.name, Case.municipality, Case.seniority_band, Case.id)).all()
    return render(request, "review/worklist.html", {"rows": rows}, user=user)


@router.get("/api/cases/{case_id}", tags=["review"])
def case_facts(case_id: int, user: CurrentUser, db: DB) -> dict:
    """Register facts of one sampled case (no more personal data than the review needs)."""
    from audit.models import Person
    from audit.population.age import age_band
    from audit.web.deps import load_case

    case = load_case(db, user, case_id)
    person = db.get(Person, case.person_pk)
    return {"case_id": case.id, "audit_id": case.audit_id, "municipality": case.municipality,
            "seniority_band": case.seniority_band, "sex": person.sex if person else None,
            "age_band": age_band(person.age) if person else None,
            "origin": person.origin if person else None, "status": case.status}
