"""The statistics room's JSON API: the crosstab the /stats page shows, as data (long
records with counts, shares, N and the test), for scripts and the agency's own tools."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from audit.i18n import _
from audit.statistics import explore
from audit.web.deps import DB, AuditInPath, allowed
from audit.web.schemas import READ, errors

router = APIRouter(tags=["statistics"])
StatsViewer = allowed("stats.view")


class CrosstabPublic(BaseModel):
    title: str
    row: str | None
    column: str | None
    kind: str
    percent_base: str
    n_total: int | None
    n_rows: dict[str, int | None] | None = Field(description="Cases behind each row")
    n_columns: dict[str, int | None] | None = Field(description="Cases behind each column")
    test: dict[str, Any] | None = Field(description="Test of association (statistic, df, p, effect size)")
    notes: list[str]
    source: str
    records: list[dict[str, Any]] = Field(description="One record per cell: codes, count, percent, n, "
                                                      "weighted share and CI when weighted, suppressed")


class VariablesPublic(BaseModel):
    cases: int = Field(description="Reviewed cases (completed, in a comment round or final)")
    variables: list[str]


def _frame(audit: Any, db: Any) -> explore.Frame:
    if not audit.instrument_json:
        raise HTTPException(status_code=409, detail=_("audit {name} is not bound to an instrument").format(name=repr(audit.name)))
    return explore.case_frame(db, audit)


@router.get("/api/stats/audits/{audit_id}/variables", responses=errors(*READ, 409, 422))
def api_variables(user: StatsViewer, audit: AuditInPath, db: DB) -> VariablesPublic:
    """The variables of the audit's case frame that a crosstab can use."""
    data = _frame(audit, db)
    return VariablesPublic(cases=data.cases, variables=data.variables)


@router.get("/api/stats/audits/{audit_id}/crosstab", responses=errors(*READ, 409, 422))
def api_crosstab(request: Request, user: StatsViewer, audit: AuditInPath, db: DB,
                 row: Annotated[str, Query(max_length=200)], col: Annotated[str, Query(max_length=200)],
                 percent: Literal["row", "col"] = "row", weighted: bool = False,
                 suppress: bool = False) -> CrosstabPublic:
    """A crosstab of two variables, as the /stats page shows it (suppression of small
    cells on request, with the app's threshold)."""
    data = _frame(audit, db)
    try:
        table = explore.audit_crosstab(data, row, col, percent=percent, weighted=weighted,
                                       suppress_below=request.app.state.settings.suppress_below if suppress else None)
    except (ValueError, KeyError) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return CrosstabPublic(**table.to_dict())
