"""Comment-round pages. The municipality portal lists the municipality's own cases in open rounds."""
from __future__ import annotations

from fastapi import APIRouter, Request
from sqlmodel import select

from audit.models import Case, HearingRound, RoundMunicipality
from audit.permissions import require
from audit.web.deps import DB, CurrentUser, render

router = APIRouter()


@router.get("/hearing", include_in_schema=False)
def municipality_portal(request: Request, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    require(user, "case.remark")
    rounds = db.exec(select(HearingRound).join(RoundMunicipality, RoundMunicipality.round_id == HearingRound.id)
                     .where(RoundMunicipality.municipality == user.municipality,
                            HearingRound.closed_at == None)).all()  # noqa: E711
    audit_ids = {r.audit_id for r in rounds}
    cases = db.exec(select(Case).where(Case.municipality == user.municipality, Case.active == True,  # noqa: E712
                                       Case.audit_id.in_(audit_ids), Case.status == "in_hearing")).all() if audit_ids else []
    return render(request, "hearing/portal.html", {"rounds": rounds, "cases": cases}, user=user)
