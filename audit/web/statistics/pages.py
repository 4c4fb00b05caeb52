"""The statistics page: any crosstab of the audit's case frame, with its N, test of
association, optional design weighting and a bar chart. The numbers come from
audit.statistics (the same functions the CLI and the annex use); the chart's SVG is a
template (`statistics/_chart.html`), so every label is escaped."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from audit.audits import all_audits
from audit.statistics import explore
from audit.statistics import variables as V
from audit.web.deps import DB, AuditIdQuery, allowed, audit_or_404, render
from audit.web.statistics.chart import bar_chart

router = APIRouter(include_in_schema=False)
StatsViewer = allowed("stats.view")


@router.get("/stats")
def stats_page(request: Request, user: StatsViewer, db: DB, audit_id: AuditIdQuery,
               row: str = "challenge_breadth", col: str = "stable_participation", percent: str = "row",
               weighted: bool = False, suppress: bool = False):  # type: ignore[no-untyped-def]
    audits = all_audits(db)
    ctx: dict[str, Any] = {"audits": audits, "row": row, "col": col, "percent": percent, "weighted": weighted,
                           "suppress": suppress, "breakdowns": V.BREAKDOWNS}
    audit = audit_or_404(db, audit_id) if audit_id else (audits[0] if audits else None)
    if audit is None or not audit.instrument_json:
        return render(request, "statistics/index.html", {**ctx, "audit": None}, user=user)
    data = explore.case_frame(db, audit)
    ctx.update(audit=audit, variables=data.variables, cases=data.cases)
    try:
        table = explore.audit_crosstab(data, row, col, percent=percent, weighted=weighted,
                                       suppress_below=request.app.state.settings.suppress_below if suppress else None)
    except explore.UnknownVariable as exc:
        ctx["error"] = str(exc)
        return render(request, "statistics/index.html", ctx, user=user, status_code=400)
    except (ValueError, KeyError) as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    ctx.update(table=table, shown=table.display_frame(), chart=bar_chart(table))
    return render(request, "statistics/index.html", ctx, user=user)
