"""The statistics page: any crosstab of the audit's case frame, with its N, test of
association, optional design weighting and a bar chart. The numbers come from
audit.statistics (the same functions the CLI and the annex use); the chart's SVG is a
template (`statistics/_chart.html`), so every label is escaped."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from audit import i18n
from audit.audits import NoInstrument, all_audits, instrument_for
from audit.labels import Vocabulary, vocabulary
from audit.statistics import explore
from audit.statistics import variables as V
from audit.web.deps import DB, AuditIdQuery, allowed, audit_or_404, render
from audit.web.statistics.chart import bar_chart

router = APIRouter(include_in_schema=False)
StatsViewer = allowed("stats.view")
WEIGHTED_SUFFIX = " (vægtet, 95% KI)"  # how audit.statistics.tables names a weighted column


def variable_groups(vocab: Vocabulary, variables: list[str], lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The variables one may choose, by their question text, grouped by the instrument's
    themes (register and design variables first): [(group label, [(code, label)])]."""
    inst = vocab.instrument
    themes = {number: (en or da) if lang == "en" else da for number, da, en in (inst.themes if inst else [])}
    groups: dict[str, list[tuple[str, str]]] = {}
    register = i18n.gettext("Register and sample")
    for name in variables:
        item = inst.find(name) if inst is not None else None
        if item is not None:
            group = i18n.gettext("Theme {number}: {label}").format(number=item.theme, label=themes.get(item.theme, ""))
        elif vocab.knows(name):
            group = register
        else:
            group = i18n.gettext("Other variables")
        groups.setdefault(group, []).append((name, vocab.label(name, lang=lang)))
    order = [register] + sorted(g for g in groups if g != register)
    return [(g, groups[g]) for g in order if g in groups]


def shown_table(vocab: Vocabulary, table: Any, row: str, col: str, lang: str) -> dict[str, Any]:
    """The crosstab as the page prints it: headers and the row heads by their labels."""
    frame = table.display_frame()

    def column(c: Any) -> str:
        text = str(c)
        if text == "N":
            return "N"
        if text.endswith(WEIGHTED_SUFFIX):
            return f"{vocab.label(col, text[:-len(WEIGHTED_SUFFIX)], lang)} {i18n.gettext('(weighted, 95% CI)')}"
        return vocab.label(col, text, lang)

    rows = [("N" if str(idx) == "N" else vocab.label(row, idx, lang), [r[c] for c in frame.columns])
            for idx, r in frame.iterrows()]
    return {"columns": [column(c) for c in frame.columns], "rows": rows}


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
    lang = i18n.current()
    try:
        vocab = vocabulary(instrument_for(audit))
    except NoInstrument:
        vocab = vocabulary()
    ctx.update(audit=audit, variables=data.variables, cases=data.cases,
               groups=variable_groups(vocab, data.variables, lang),
               row_label=vocab.label(row, lang=lang), col_label=vocab.label(col, lang=lang),
               breakdowns=[vocab.label(b, lang=lang) for b in V.BREAKDOWNS])
    try:
        table = explore.audit_crosstab(data, row, col, percent=percent, weighted=weighted,
                                       suppress_below=request.app.state.settings.suppress_below if suppress else None)
    except explore.UnknownVariable as exc:
        ctx["error"] = i18n.gettext("Unknown variable: {name}").format(name=exc.name)
        return render(request, "statistics/index.html", ctx, user=user, status_code=400)
    except (ValueError, KeyError) as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    title = i18n.gettext("{row} by {col}").format(row=ctx["row_label"], col=ctx["col_label"])
    ctx.update(table=table, title=title, shown=shown_table(vocab, table, row, col, lang),
               chart=bar_chart(table, vocab, lang, title=title))
    return render(request, "statistics/index.html", ctx, user=user)
