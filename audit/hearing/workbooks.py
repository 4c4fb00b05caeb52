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

from audit import access, resources, workbook
from audit.hearing import instrument as hi
from audit.hearing.rounds import HearingError, as_utc
from audit.hearing.shares import feedback_rows
from audit.labels import vocabulary
from audit.models import Answer, Audit, Case, HearingRound, Remark, utcnow
from audit.review.answers import decode
from audit.statistics.dataset import load_case_frame
from audit.statistics.suppression import MARK as SUPPRESSED

FEEDBACK_ITEMS = resources.export_definition("feedback_items.yaml")
DECISION_DA = {"accepted": "Imødekommet", "maintained": "Fastholdt", None: ""}
STATUS_DA = {"draft": "Kladde", "submitted": "Indsendt", "answered": "Besvaret"}


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
    cases = _cases(session, audit, municipality, ("in_hearing", "final"))
    if actor is not None:
        access.record(session, actor, what="hearing workbook", nature=access.FILE, cases=[c.id for c in cases],
                      audit_id=audit.id)
    answers = _answers(session, [c.id for c in cases])
    wb = Workbook()
    ws = wb.active
    ws.title = "Vurderinger"
    workbook.put(ws, 1, 1, f"{audit.name}: vurderinger til høring, {municipality}", font=workbook.TITLE_FONT)
    workbook.put(ws, 2, 1, f"Dannet {utcnow():%Y-%m-%d %H:%M} UTC. {len(cases)} sager. "
                           "Kun spørgsmål, der er relevante for sagen.")
    _header(ws, 4, ["Sag", "Anciennitet", "Tema", "Spørgsmål (kode)", "Spørgsmål", "Vurdering", "Note"])
    row = 5
    for case in cases:
        vals = {k: v for k, (v, _) in answers[case.id].items()}
        notes = {k: n for k, (_, n) in answers[case.id].items()}
        for theme in hi.assessment(inst, vals):
            for it in theme["items"]:
                _row(ws, row, [case.id, vocab.label("seniority_band", case.seniority_band), f"{theme['number']} {theme['label']}".strip(),
                               it["name"], it["label"], it["display"], notes.get(it["name"], "")])
                row += 1
    _widths(ws, [8, 12, 24, 26, 50, 30, 40])

    rs = wb.create_sheet("Bemærkninger")
    workbook.put(rs, 1, 1, f"Kommunens bemærkninger og revisors svar, {municipality}", font=workbook.TITLE_FONT)
    _header(rs, 3, ["Runde", "Sag", "Spørgsmål (kode)", "Spørgsmål", "Bemærkning", "Foreslået vurdering",
                    "Status", "Afgørelse", "Revisors svar", "Indsendt", "Besvaret"])
    remarks = session.exec(select(Remark, HearingRound.number).join(HearingRound, HearingRound.id == Remark.round_id)
                           .join(Case, Case.id == Remark.case_id)
                           .where(HearingRound.audit_id == audit.id, Case.municipality == municipality,
                                  Remark.status != "draft")
                           .order_by(HearingRound.number, Remark.case_id, Remark.id)).all()
    for row, (remark, number) in enumerate(remarks, start=4):
        item = hi.item_or_none(inst, remark.item)
        _row(rs, row, [number, remark.case_id, remark.item or "(hele sagen)", item.label_da if item else "",
                   remark.text, hi.display(item, decode(remark.proposed_value_json)),
                   STATUS_DA.get(remark.status, remark.status), DECISION_DA.get(remark.decision, remark.decision),
                   remark.response or "",
                   f"{as_utc(remark.submitted_at):%Y-%m-%d %H:%M}" if remark.submitted_at else "",
                   f"{as_utc(remark.responded_at):%Y-%m-%d %H:%M}" if remark.responded_at else ""],
             alignment=workbook.WRAP)
    _widths(rs, [7, 7, 24, 40, 50, 24, 11, 13, 50, 17, 17])
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
        raise HearingError("the feedback workbook is made after the audit is locked")
    if actor is not None:
        access.record(session, actor, what="feedback workbook", nature=access.FILE,
                      cases=[c.id for c in _cases(session, audit, None, ("final",))], audit_id=audit.id)
    if threshold is None:
        from audit.config import get_settings

        threshold = get_settings().suppress_below
    inst = hi.instrument_for(audit)
    vocab = vocabulary(inst)
    frame = load_case_frame(session, audit, statuses=("final",), instrument=inst)
    specs, skipped = [], []
    for spec in load_feedback_items(items_path):
        item = inst.find(spec["code"])
        if item is None or not item.is_case_level:
            skipped.append(spec["code"])
            continue
        label = spec.get("label") or vocab.label(item.name)
        if not spec.get("label") and item.kind in ("single", "multiple"):
            label = f"{label}: {vocab.label(item.name, spec.get('value'))}"
        specs.append({**spec, "label": label})
    rows = feedback_rows(frame, municipality, specs, threshold)
    wb = Workbook()
    ws = wb.active
    ws.title = "Tilbagemelding"
    workbook.put(ws, 1, 1, f"{audit.name}: tilbagemelding til {municipality}", font=workbook.TITLE_FONT)
    workbook.put(ws, 2, 1, f"Revisionen er afsluttet {as_utc(audit.locked_at):%Y-%m-%d}. Andele af gennemgåede "
                           "sager, uvægtede. N = sager, hvor spørgsmålet er relevant og besvaret.")
    _header(ws, 4, ["Spørgsmål (kode)", "Svar", "Nøgletal", f"{municipality}: andel", f"{municipality}: antal",
                    f"{municipality}: N", "Alle kommuner: andel", "Alle kommuner: antal", "Alle kommuner: N",
                    "Gennemsnit af kommunernes andele", "Antal kommuner"])

    def shown(v: Any, hidden: bool) -> Any:
        return SUPPRESSED if hidden else v

    line = 5
    for r in rows:
        _row(ws, line, [r.code, r.value, r.label, shown(r.own.value, r.own.hidden), shown(r.own.count, r.own.hidden),
                        shown(r.own.n, r.own.n is None), shown(r.pooled.value, r.pooled.hidden),
                        shown(r.pooled.count, r.pooled.hidden), shown(r.pooled.n, r.pooled.n is None),
                        r.mean_of_municipalities, r.municipalities])
        for col in (4, 7, 10):
            ws.cell(row=line, column=col).number_format = "0%"
        line += 1
    notes = ["Anm.: N er angivet for hvert tal. Tom andel: ingen sager med relevant svar."]
    rule = next((r.suppression_rule for r in rows if r.suppression_rule), None)
    if rule:
        notes.append(f"{SUPPRESSED}: {rule}")
    if skipped:
        notes.append(f"Ikke i instrumentet og derfor udeladt: {', '.join(skipped)}")
    notes.append(f"Kilde: {audit.name}, sagsgennemgang; dannet {utcnow():%Y-%m-%d %H:%M} UTC.")
    for k, text in enumerate(notes, start=line + 1):  # after one empty row
        workbook.put(ws, k, 1, text)
    _widths(ws, [26, 16, 50, 14, 12, 10, 16, 14, 12, 18, 12])
    return _save(wb)


def export_filename(audit: Audit, municipality: str, kind: str) -> str:
    """An ASCII file name (HTTP headers are Latin-1): æ, ø, å spelled ae, oe, aa."""
    text = f"{audit.name}_{municipality}"
    for da, ascii_ in (("æ", "ae"), ("ø", "oe"), ("å", "aa"), ("Æ", "Ae"), ("Ø", "Oe"), ("Å", "Aa")):
        text = text.replace(da, ascii_)
    safe = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "-_" else "_" for ch in text)
    return f"{safe}_{kind}.xlsx"
