"""Per-municipality workbooks (openpyxl): the hearing workbook (its cases, their
assessments, its remarks and the responses) and, after locking, the feedback
workbook (its shares next to all municipalities for the key items listed in
exports/feedback_items.yaml)."""
from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlmodel import Session, select

from audit import access, i18n, resources, workbook
from audit.hearing import instrument as hi
from audit.hearing.rounds import HearingError, as_utc
from audit.hearing.overview import person_ids
from audit.hearing.shares import feedback_rows
from audit.i18n import _, lazy_gettext as _l
from audit.labels import vocabulary
from audit.models import Answer, Audit, Case, HearingRound, Remark, utcnow
from audit.review.answers import decode
from audit.statistics.dataset import load_case_frame
from audit.statistics.suppression import MARK as SUPPRESSED

FEEDBACK_ITEMS = resources.export_definition("feedback_items.yaml")
# Texts a person reads in the workbooks, in the current language (the reader's, audit.i18n).
DECISION = {"accepted": _l("Accepted"), "maintained": _l("Maintained"), None: ""}
STATUS = {"draft": _l("Draft"), "submitted": _l("Submitted"), "answered": _l("Answered")}


def _header(ws, row: int, titles: list[str]) -> None:  # type: ignore[no-untyped-def]
    for col, title in enumerate(titles, 1):
        workbook.put(ws, row, col, title, font=workbook.BOLD, fill=workbook.HEADER_FILL)
    ws.freeze_panes = f"A{row + 1}"


def _row(ws, row: int, values: list[Any], alignment: Any = None) -> None:  # type: ignore[no-untyped-def]
    """One row by the house text rule: remarks, replies and notes are text, never formulas."""
    for col, value in enumerate(values, 1):
        workbook.put(ws, row, col, value, alignment=alignment)


def _widths(ws, widths: list[int]) -> None:  # type: ignore[no-untyped-def]
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width


def _save(wb: Workbook) -> bytes:
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cases(session: Session, audit: Audit, municipality: str | None, statuses: tuple[str, ...]) -> list[Case]:
    query = select(Case).where(Case.audit_id == audit.id, Case.active == True,  # noqa: E712
                               Case.status.in_(statuses))
    if municipality is not None:
        query = query.where(Case.municipality == municipality)
    return list(session.exec(query.order_by(Case.municipality, Case.id)).all())


def _answers(session: Session, case_ids: list[int]) -> dict[int, dict[str, tuple[Any, str]]]:
    out: dict[int, dict[str, tuple[Any, str]]] = {cid: {} for cid in case_ids}
    if not case_ids:
        return out
    for a in session.exec(select(Answer).where(Answer.case_id.in_(case_ids), Answer.pass_no == 1)).all():
        out[a.case_id][a.item] = (decode(a.value_json), a.note or "")
    return out


def hearing_workbook(session: Session, audit: Audit, municipality: str, *, actor: Any) -> bytes:
    """Its cases in hearing or final, every applicable assessment with labels, and its
    submitted remarks with decisions and responses (drafts are not part of it).
    Logged as a download (web) or export (CLI) of those cases for `actor` (audit.access)."""
    inst = hi.instrument_for(audit)
    vocab = vocabulary(inst)
    lang = i18n.current()
    cases = _cases(session, audit, municipality, ("in_hearing", "final"))
    if actor is not None:
        access.record(session, actor, what="hearing workbook", nature=access.FILE, cases=[c.id for c in cases],
                      audit_id=audit.id)
    answers = _answers(session, [c.id for c in cases])
    # the register person id: what the municipality finds its own citizen's file by (the
    # workbook holds this municipality's cases only; the download above is the logged use)
    persons = person_ids(session, cases, actor=None, what="hearing workbook")
    wb = Workbook()
    ws = wb.active
    ws.title = _("Assessments")
    workbook.put(ws, 1, 1, _("{audit}: assessments for comment, {municipality}").format(
        audit=audit.name, municipality=municipality), font=workbook.TITLE_FONT)
    workbook.put(ws, 2, 1, _("Made {at} UTC. {n} cases. Only the questions that apply to the case.").format(
        at=f"{utcnow():%Y-%m-%d %H:%M}", n=len(cases)))
    # people read the first columns (labels); the item code stays in the last column, for scripts
    _header(ws, 4, [_("Case"), _("Person id"), vocab.label("seniority_band", lang=lang), _("Theme"), _("Question"),
                    _("Assessment"), _("Note"), _("Question (code)")])
    row = 5
    for case in cases:
        vals = {k: v for k, (v, _note) in answers[case.id].items()}
        notes = {k: n for k, (_value, n) in answers[case.id].items()}
        for theme in hi.assessment(inst, vals):
            for it in theme["items"]:
                _row(ws, row, [case.id, persons.get(case.id, ""), vocab.label("seniority_band", case.seniority_band, lang),
                               f"{theme['number']} {theme['label']}".strip(),
                               it["label"], it["display"], notes.get(it["name"], ""), it["name"]])
                row += 1
    _widths(ws, [8, 14, 12, 24, 50, 30, 40, 26])

    rs = wb.create_sheet(_("Remarks"))
    workbook.put(rs, 1, 1, _("The municipality's remarks and the auditor's answers, {municipality}").format(
        municipality=municipality), font=workbook.TITLE_FONT)
    _header(rs, 3, [_("Round"), _("Case"), _("Person id"), _("Question"), _("Remark"), _("Proposed assessment"),
                    _("Status"), _("Decision"), _("Auditor's answer"), _("Submitted"), _("Answered"),
                    _("Question (code)")])
    remarks = session.exec(select(Remark, HearingRound.number).join(HearingRound, HearingRound.id == Remark.round_id)
                           .join(Case, Case.id == Remark.case_id)
                           .where(HearingRound.audit_id == audit.id, Case.municipality == municipality,
                                  Remark.status != "draft")
                           .order_by(HearingRound.number, Remark.case_id, Remark.id)).all()
    for row, (remark, number) in enumerate(remarks, start=4):
        item = hi.item_or_none(inst, remark.item)
        question = item.label(lang) if item else (remark.item or _("(the whole case)"))
        _row(rs, row, [number, remark.case_id, persons.get(remark.case_id, ""), question,
                   remark.text, hi.display(item, decode(remark.proposed_value_json)),
                   str(STATUS.get(remark.status, remark.status)), str(DECISION.get(remark.decision, remark.decision)),
                   remark.response or "",
                   f"{as_utc(remark.submitted_at):%Y-%m-%d %H:%M}" if remark.submitted_at else "",
                   f"{as_utc(remark.responded_at):%Y-%m-%d %H:%M}" if remark.responded_at else "",
                   remark.item or ""],
             alignment=workbook.WRAP)
    _widths(rs, [7, 7, 14, 40, 50, 24, 11, 13, 50, 17, 17, 24])
    return _save(wb)


def load_feedback_items(path: Path = FEEDBACK_ITEMS) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return list(data.get("items", []))


def feedback_workbook(session: Session, audit: Audit, municipality: str,
                      items_path: Path = FEEDBACK_ITEMS, threshold: int | None = None, *,
                      actor: Any) -> bytes:
    """After locking: the municipality's share (with N) next to all municipalities for each key
    item, from the statistics room's case frame (final cases) and tables, small cells hidden
    (`threshold`, default AUDIT_SUPPRESS_BELOW) since the workbook leaves the agency.
    Logged for `actor` as a use of every case it aggregates (audit.access)."""
    if audit.locked_at is None:
        raise HearingError(_("the feedback workbook is made after the audit is locked"))
    if actor is not None:
        access.record(session, actor, what="feedback workbook", nature=access.FILE,
                      cases=[c.id for c in _cases(session, audit, None, ("final",))], audit_id=audit.id)
    if threshold is None:
        from audit.config import get_settings

        threshold = get_settings().suppress_below
    inst = hi.instrument_for(audit)
    vocab = vocabulary(inst)
    lang = i18n.current()
    frame = load_case_frame(session, audit, statuses=("final",), instrument=inst)
    specs, skipped = [], []
    for spec in load_feedback_items(items_path):
        item = inst.find(spec["code"])
        if item is None or not item.is_case_level:
            skipped.append(spec["code"])
            continue
        own = spec.get(f"label_{lang}") or (spec.get("label") if lang == "da" else None)
        label = own or vocab.label(item.name, lang=lang)
        if not own and item.kind in ("single", "multiple"):
            label = f"{label}: {vocab.label(item.name, spec.get('value'), lang)}"
        specs.append({**spec, "label": label})
    rows = feedback_rows(frame, municipality, specs, threshold)
    wb = Workbook()
    ws = wb.active
    ws.title = _("Feedback")
    workbook.put(ws, 1, 1, _("{audit}: feedback to {municipality}").format(audit=audit.name, municipality=municipality),
                 font=workbook.TITLE_FONT)
    workbook.put(ws, 2, 1, _("The audit was concluded on {date}. Shares of reviewed cases, unweighted. N = cases where "
                             "the question applies and is answered.").format(date=f"{as_utc(audit.locked_at):%Y-%m-%d}"))
    everyone = _("All municipalities")
    # people read the first columns (the key figure and the answer by their labels); the codes stay at the
    # end for scripts
    _header(ws, 4, [_("Key figure"), _("Answer"), _("{who}: share").format(who=municipality),
                    _("{who}: count").format(who=municipality), f"{municipality}: N",
                    _("{who}: share").format(who=everyone), _("{who}: count").format(who=everyone), f"{everyone}: N",
                    _("Mean of the municipalities' shares"), _("Number of municipalities"), _("Question (code)"),
                    _("Answer (code)")])

    def shown(v: Any, hidden: bool) -> Any:
        return SUPPRESSED if hidden else v

    line = 5
    for r in rows:
        answer = vocab.label(r.code, r.value, lang) if r.value is not None else ""
        _row(ws, line, [r.label, answer, shown(r.own.value, r.own.hidden), shown(r.own.count, r.own.hidden),
                        shown(r.own.n, r.own.n is None), shown(r.pooled.value, r.pooled.hidden),
                        shown(r.pooled.count, r.pooled.hidden), shown(r.pooled.n, r.pooled.n is None),
                        r.mean_of_municipalities, r.municipalities, r.code, r.value])
        for col in (3, 6, 9):
            ws.cell(row=line, column=col).number_format = "0%"
        line += 1
    notes = [_("Note: N is given for every figure. An empty share: no case with an answer that applies.")]
    rule = next((r.suppression_rule for r in rows if r.suppression_rule), None)
    if rule:
        notes.append(f"{SUPPRESSED}: {rule}")
    if skipped:
        notes.append(_("Not in the instrument and therefore left out: {codes}").format(codes=", ".join(skipped)))
    notes.append(_("Source: {audit}, case review; made {at} UTC.").format(audit=audit.name,
                                                                        at=f"{utcnow():%Y-%m-%d %H:%M}"))
    for k, text in enumerate(notes, start=line + 1):  # after one empty row
        workbook.put(ws, k, 1, text)
    _widths(ws, [50, 24, 14, 12, 10, 16, 14, 12, 18, 12, 26, 16])
    return _save(wb)


def export_filename(audit: Audit, municipality: str, kind: str) -> str:
    """An ASCII file name (HTTP headers are Latin-1): æ, ø, å spelled ae, oe, aa."""
    text = f"{audit.name}_{municipality}"
    for da, ascii_ in (("æ", "ae"), ("ø", "oe"), ("å", "aa"), ("Æ", "Ae"), ("Ø", "Oe"), ("Å", "Aa")):
        text = text.replace(da, ascii_)
    safe = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "-_" else "_" for ch in text)
    return f"{safe}_{kind}.xlsx"
