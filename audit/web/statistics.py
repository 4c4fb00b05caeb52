"""Statistics pages: any crosstab of the audit's case frame, with its N, test of
association, optional design weighting and a bar chart. The numbers come from
audit.statistics, the same functions the CLI and the annex use."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from sqlmodel import select

from audit.models import Audit
from audit.permissions import require
from audit.web.deps import DB, CurrentUser, render

router = APIRouter()
COLORS = ("#1f5f8b", "#c0504d", "#9bbb59", "#8064a2", "#4bacc6", "#f79646")


def bar_chart_svg(table) -> str:  # type: ignore[no-untyped-def]
    """A small grouped bar chart of a crosstab's shares, drawn on the server (no JS library)."""
    perc = table.percents
    if perc is None or perc.empty:
        return ""
    rows, cols = list(perc.index), list(perc.columns)
    bar_h, gap, label_w, width = 12, 10, 180, 640
    height = len(rows) * (len(cols) * bar_h + gap) + 30
    parts = [f'<svg role="img" aria-label="{table.title}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="11">']
    y = 5
    for r in rows:
        parts.append(f'<text x="0" y="{y + len(cols) * bar_h / 2 + 4}">{str(r)[:28]}</text>')
        for i, c in enumerate(cols):
            v = perc.at[r, c]
            if v == v and v is not None:  # not NaN / suppressed
                w = (width - label_w - 60) * float(v) / 100
                parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" '
                             f'fill="{COLORS[i % len(COLORS)]}"><title>{c}: {float(v):.0f}%</title></rect>'
                             f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 3}">{float(v):.0f}%</text>')
            y += bar_h
        y += gap
    x = label_w
    for i, c in enumerate(cols):
        parts.append(f'<rect x="{x}" y="{y + 5}" width="10" height="10" fill="{COLORS[i % len(COLORS)]}"/>'
                     f'<text x="{x + 14}" y="{y + 14}">{c}</text>')
        x += 14 + 8 * len(str(c)) + 16
    parts.append("</svg>")
    return "".join(parts)


@router.get("/stats", include_in_schema=False)
def stats_page(request: Request, user: CurrentUser, db: DB, audit_id: int | None = None,
               row: str = "challenge_breadth", col: str = "stable_participation", percent: str = "row",
               weighted: bool = False, suppress: bool = False):  # type: ignore[no-untyped-def]
    require(user, "stats.view")
    from audit.statistics import variables as V
    from audit.statistics.crosstabs import crosstab
    from audit.statistics.dataset import load_case_frame
    from audit.statistics.suppression import suppress as suppress_table
    from audit.statistics.weighting import design_of

    audits = db.exec(select(Audit).order_by(Audit.created_at.desc())).all()
    ctx: dict = {"audits": audits, "row": row, "col": col, "percent": percent, "weighted": weighted,
                 "suppress": suppress, "breakdowns": V.BREAKDOWNS}
    audit = db.get(Audit, audit_id) if audit_id else (audits[0] if audits else None)
    if audit is None or not audit.instrument_json:
        return render(request, "statistics/index.html", {**ctx, "audit": None}, user=user)
    frame = load_case_frame(db, audit)
    variables = [c for c in frame.columns if c not in ("case_id", "stratum", "stratum_population",
                                                       "stratum_sample", "weight", "age")
                 and not c.endswith("_label")]
    ctx.update(audit=audit, variables=variables, cases=len(frame))
    if row not in frame.columns or col not in frame.columns:
        ctx["error"] = f"unknown variable: {row if row not in frame.columns else col}"
        return render(request, "statistics/index.html", ctx, user=user, status_code=400)
    settings = request.app.state.settings
    try:
        design = design_of(frame, lonely=settings.lonely_psu) if weighted else None
        table = crosstab(frame, row, col, percent=percent if percent in ("row", "col") else "row",
                         weighted=weighted, design=design)
    except (ValueError, KeyError) as exc:  # DesignError (missing N_h, refused lonely stratum) included
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    if suppress:
        table = suppress_table(table, settings.suppress_below, frame=frame)
    shown = table.display_frame()
    ctx.update(table=table, shown=shown, chart=bar_chart_svg(table))
    return render(request, "statistics/index.html", ctx, user=user)
