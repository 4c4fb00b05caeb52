"""Comment-round pages and API: the admin's rounds page, the municipality portal,
the auditors' remark queue and the per-municipality workbooks. Thin: every rule
lives in audit.hearing; every route asks audit.permissions (via require/load_case)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlmodel import Session, select

from audit.hearing import instrument as hi
from audit.hearing.lock import lock_audit, lock_problems
from audit.hearing.remarks import delete_draft, respond, save_draft, submit, update_draft
from audit.hearing.rounds import (HearingError, as_utc, cases_in_round, close_round, comment_window, deadline_passed,
                                  membership, open_round, open_round_for, round_status, rounds_of)
from audit.hearing.workbooks import export_filename, feedback_workbook, hearing_workbook
from audit.models import Audit, Case, HearingRound, Remark, RoundMunicipality, User
from audit.permissions import refusal_for, require
from audit.review.answers import AnswerError, case_answers, decode
from audit.web.deps import DB, CurrentUser, load_case, render

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- helpers ------------------------------------------------------------------

def _flash(request: Request, message: str, kind: str = "ok") -> None:
    request.session["hearing_flash"] = {"message": message, "kind": kind}


def _pop_flash(request: Request) -> dict | None:
    return request.session.pop("hearing_flash", None)


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _instrument(audit: Audit) -> Any:
    try:
        return hi.instrument_for(audit)
    except hi.NoInstrument:
        return None


def _parse_proposed(inst: Any, item: str | None, raw: list[str]) -> Any:
    it = hi.item_or_none(inst, item)
    if it is None:
        return None
    values = [v for v in raw if v.strip()]
    if not values:
        return None
    if hi.kind(it) == "multiple":
        return hi.parse(it, [code for v in values for code in v.replace(",", " ").split()])
    return hi.parse(it, values[0])


def _load_remark(db: Session, user: User, remark_id: int, action: str) -> tuple[Remark, Case]:
    remark = db.get(Remark, remark_id)
    if remark is None:
        raise HTTPException(status_code=404, detail="not found")
    case = load_case(db, user, remark.case_id, action)
    return remark, case


def _visible_to_municipality(db: Session, case: Case) -> bool:
    """A municipality sees a case's assessment once the case has been in one of its rounds."""
    if case.status not in ("in_hearing", "final") or not case.active:
        return False
    return db.exec(select(RoundMunicipality).join(HearingRound, HearingRound.id == RoundMunicipality.round_id)
                   .where(HearingRound.audit_id == case.audit_id,
                          RoundMunicipality.municipality == case.municipality)).first() is not None


def _municipality_case(db: Session, user: User, case_id: int) -> Case:
    case = load_case(db, user, case_id, "case.remark")
    if not _visible_to_municipality(db, case):
        raise HTTPException(status_code=404, detail="not found")
    return case


def _writable(db: Session, case: Case) -> tuple[HearingRound | None, str | None]:
    """(open round, None) when remarks can be written on the case; else (round or None, why not).
    The rule is audit.permissions' "remark.write", as for saving a remark."""
    rnd = open_round_for(db, case.audit_id, case.municipality)
    refusal = refusal_for(None, "remark.write", comment_window(db, case, rnd=rnd))
    return rnd, None if refusal is None else refusal.reason[:1].upper() + refusal.reason[1:] + "."


def _audit_or_404(db: Session, audit_id: int) -> Audit:
    audit = db.get(Audit, audit_id)
    if audit is None:
        raise HTTPException(status_code=404, detail="not found")
    return audit


# --- admin: rounds and locking -----------------------------------------------------

@router.get("/hearing/admin", include_in_schema=False)
def rounds_page(request: Request, user: CurrentUser, db: DB, audit_id: int | None = None):  # type: ignore[no-untyped-def]
    require(user, "audit.manage")
    audits = db.exec(select(Audit).order_by(Audit.created_at.desc())).all()
    audit = db.get(Audit, audit_id) if audit_id else (audits[0] if audits else None)
    ctx: dict[str, Any] = {"audits": audits, "audit": audit, "flash": _pop_flash(request)}
    if audit is not None:
        rounds = rounds_of(db, audit.id)
        ctx["rounds"] = [(r, round_status(db, r), deadline_passed(r)) for r in rounds]
        completed = db.exec(select(Case.municipality).where(
            Case.audit_id == audit.id, Case.active == True, Case.status == "completed")  # noqa: E712
            .distinct().order_by(Case.municipality)).all()
        in_open = {m for r in rounds if r.closed_at is None
                   for m in db.exec(select(RoundMunicipality.municipality)
                                    .where(RoundMunicipality.round_id == r.id)).all()}
        ctx["candidates"] = [m for m in completed if m not in in_open]
        ctx["lock_problems"] = lock_problems(db, audit) if audit.locked_at is None else []
        ctx["heard"] = sorted(db.exec(select(Case.municipality).where(
            Case.audit_id == audit.id, Case.status.in_(("in_hearing", "final"))).distinct()).all())
    return render(request, "hearing/admin.html", ctx, user=user)


@router.post("/hearing/admin/{audit_id}/rounds", include_in_schema=False)
def open_round_form(request: Request, audit_id: int, user: CurrentUser, db: DB,
                    deadline: Annotated[str, Form()] = "",
                    municipality: Annotated[list[str], Form()] = []):  # type: ignore[no-untyped-def]  # noqa: B006
    require(user, "audit.manage")
    audit = _audit_or_404(db, audit_id)
    try:
        rnd = open_round(db, audit, municipality, deadline, user)
        db.commit()
        _flash(request, f"Round {rnd.number} is open for {', '.join(sorted(municipality))} until "
                        f"{as_utc(rnd.deadline):%Y-%m-%d %H:%M} UTC.")
    except HearingError as exc:
        db.rollback()
        _flash(request, f"Round not opened: {exc}", "error")
    return _back(f"/hearing/admin?audit_id={audit_id}")


@router.post("/hearing/admin/rounds/{round_id}/close", include_in_schema=False)
def close_round_form(request: Request, round_id: int, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    require(user, "audit.manage")
    rnd = db.get(HearingRound, round_id)
    if rnd is None:
        raise HTTPException(status_code=404, detail="not found")
    try:
        close_round(db, rnd, user)
        db.commit()
        _flash(request, f"Round {rnd.number} is closed.")
    except HearingError as exc:
        db.rollback()
        _flash(request, str(exc), "error")
    return _back(f"/hearing/admin?audit_id={rnd.audit_id}")


@router.post("/hearing/admin/{audit_id}/lock", include_in_schema=False)
def lock_form(request: Request, audit_id: int, user: CurrentUser, db: DB,
              force: Annotated[str, Form()] = ""):  # type: ignore[no-untyped-def]
    require(user, "audit.manage")
    audit = _audit_or_404(db, audit_id)
    try:
        overridden = lock_audit(db, audit, user, force=bool(force))
        db.commit()
        _flash(request, f"Audit {audit.name} is locked; its answers are final."
                        + (f" Overridden: {'; '.join(overridden)}." if overridden else ""))
    except HearingError as exc:
        db.rollback()
        _flash(request, str(exc), "error")
    return _back(f"/hearing/admin?audit_id={audit_id}")


# --- municipality portal -------------------------------------------------------------

@router.get("/hearing", include_in_schema=False)
def municipality_portal(request: Request, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    require(user, "case.remark")
    memberships = db.exec(select(HearingRound, RoundMunicipality, Audit)
                          .join(RoundMunicipality, RoundMunicipality.round_id == HearingRound.id)
                          .join(Audit, Audit.id == HearingRound.audit_id)
                          .where(RoundMunicipality.municipality == user.municipality)
                          .order_by(HearingRound.audit_id, HearingRound.number)).all()
    open_rounds, earlier = [], []
    for rnd, member, audit in memberships:
        if rnd.closed_at is None and audit.locked_at is None:
            cases = cases_in_round(db, rnd, user.municipality)
            counts = {}
            for remark in db.exec(select(Remark).where(Remark.round_id == rnd.id,
                                                       Remark.case_id.in_([c.id for c in cases]))).all():
                counts.setdefault(remark.case_id, {}).setdefault(remark.status, 0)
                counts[remark.case_id][remark.status] += 1
            drafts = sum(c.get("draft", 0) for c in counts.values())
            open_rounds.append({"round": rnd, "member": member, "audit": audit, "cases": cases, "counts": counts,
                                "drafts": drafts, "passed": deadline_passed(rnd)})
        else:
            earlier.append({"round": rnd, "member": member, "audit": audit})
    # cases with remarks from earlier rounds, so answers stay readable after a round closes
    answered_cases = db.exec(select(Case).join(Remark, Remark.case_id == Case.id)
                             .where(Case.municipality == user.municipality, Remark.status != "draft")
                             .distinct().order_by(Case.id)).all()
    audits = {a.id: a for _, _, a in memberships}
    return render(request, "hearing/portal.html",
                  {"rounds": [o["round"] for o in open_rounds], "open_rounds": open_rounds, "earlier": earlier,
                   "answered_cases": answered_cases, "audits": audits, "flash": _pop_flash(request)}, user=user)


@router.get("/hearing/cases/{case_id}", include_in_schema=False)
def case_page(request: Request, case_id: int, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    case = _municipality_case(db, user, case_id)
    audit = db.get(Audit, case.audit_id)
    inst = hi.instrument_for(audit)
    rnd, closed_why = _writable(db, case)
    remarks = db.exec(select(Remark).where(Remark.case_id == case.id).order_by(Remark.id)).all()
    by_item: dict[str | None, list[Remark]] = {}
    for r in remarks:
        by_item.setdefault(r.item, []).append(r)
    shown, raw = {}, {}
    for r in remarks:
        it = hi.item_or_none(inst, r.item)
        value = decode(r.proposed_value_json)
        shown[r.id] = hi.display(it, value)
        raw[r.id] = " ".join(map(str, value)) if isinstance(value, list) else ("" if value is None else str(value))
    return render(request, "hearing/case.html",
                  {"case": case, "audit": audit, "themes": hi.assessment(inst, case_answers(db, case.id)),
                   "round": rnd, "writable": closed_why is None, "closed_why": closed_why,
                   "by_item": by_item, "proposed_shown": shown, "proposed_raw": raw, "flash": _pop_flash(request),
                   "drafts": [r for r in remarks if r.status == "draft"]}, user=user)


@router.post("/hearing/cases/{case_id}/remarks", include_in_schema=False)
def add_remark(request: Request, case_id: int, user: CurrentUser, db: DB,
               text: Annotated[str, Form()] = "", item: Annotated[str, Form()] = "",
               proposed: Annotated[list[str], Form()] = []):  # type: ignore[no-untyped-def]  # noqa: B006
    case = _municipality_case(db, user, case_id)
    inst = _instrument(db.get(Audit, case.audit_id))
    try:
        value = _parse_proposed(inst, item or None, proposed)
        save_draft(db, case=case, user=user, text=text, item=item or None, proposed_value=value)
        db.commit()
        _flash(request, "Remark saved as a draft. It is sent when you submit all remarks.")
    except (HearingError, ValueError) as exc:
        db.rollback()
        _flash(request, f"Remark not saved: {exc}", "error")
    return _back(f"/hearing/cases/{case.id}" + (f"#item-{item}" if item else "#case-remark"))


@router.post("/hearing/remarks/{remark_id}/edit", include_in_schema=False)
def edit_remark(request: Request, remark_id: int, user: CurrentUser, db: DB,
                text: Annotated[str, Form()] = "",
                proposed: Annotated[list[str], Form()] = []):  # type: ignore[no-untyped-def]  # noqa: B006
    remark, case = _load_remark(db, user, remark_id, "case.remark")
    inst = _instrument(db.get(Audit, case.audit_id))
    try:
        update_draft(db, remark, user=user, text=text, proposed_value=_parse_proposed(inst, remark.item, proposed))
        db.commit()
        _flash(request, "Draft updated.")
    except (HearingError, ValueError) as exc:
        db.rollback()
        _flash(request, f"Draft not updated: {exc}", "error")
    return _back(f"/hearing/cases/{case.id}")


@router.post("/hearing/remarks/{remark_id}/delete", include_in_schema=False)
def remove_remark(request: Request, remark_id: int, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    remark, case = _load_remark(db, user, remark_id, "case.remark")
    try:
        delete_draft(db, remark, user=user)
        db.commit()
        _flash(request, "Draft deleted.")
    except HearingError as exc:
        db.rollback()
        _flash(request, str(exc), "error")
    return _back(f"/hearing/cases/{case.id}")


@router.post("/hearing/rounds/{round_id}/submit", include_in_schema=False)
def submit_remarks(request: Request, round_id: int, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    require(user, "case.remark")
    rnd = db.get(HearingRound, round_id)
    if rnd is None or membership(db, rnd, user.municipality) is None:
        raise HTTPException(status_code=404, detail="not found")
    try:
        sent = submit(db, rnd, user.municipality, user)
        db.commit()
        _flash(request, f"{len(sent)} remark(s) submitted to the auditors." if sent
               else "Submitted: no remarks from " + user.municipality + ".")
    except HearingError as exc:
        db.rollback()
        _flash(request, str(exc), "error")
    return _back("/hearing")


# --- auditors: the remark queue ------------------------------------------------------

def _queue(db: Session, audit_id: int | None, municipality: str | None, status: str | None,
           auditor_id: int | None = None) -> list[dict]:
    query = (select(Remark, Case, HearingRound, Audit).join(Case, Case.id == Remark.case_id)
             .join(HearingRound, HearingRound.id == Remark.round_id).join(Audit, Audit.id == HearingRound.audit_id)
             .where(Remark.status != "draft"))
    if auditor_id is not None:   # an auditor answers the remarks on the cases they reviewed ("remark.answer")
        query = query.where(Case.assigned_to == auditor_id)
    if audit_id:
        query = query.where(HearingRound.audit_id == audit_id)
    if municipality:
        query = query.where(Case.municipality == municipality)
    if status:
        query = query.where(Remark.status == status)
    rows = []
    for remark, case, rnd, audit in db.exec(query.order_by(Remark.submitted_at, Remark.id)).all():
        inst = _instrument(audit)
        it = hi.item_or_none(inst, remark.item)
        current = case_answers(db, case.id).get(remark.item) if remark.item else None
        rows.append({"remark": remark, "case": case, "round": rnd, "audit": audit, "item": it,
                     "kind": hi.kind(it) if it else None, "choices": hi.choices(it) if it else [],
                     "current": current, "current_shown": hi.display(it, current),
                     "proposed": decode(remark.proposed_value_json),
                     "proposed_shown": hi.display(it, decode(remark.proposed_value_json))})
    return rows


@router.get("/hearing/remarks", include_in_schema=False)
def remark_queue(request: Request, user: CurrentUser, db: DB, audit_id: int | None = None,
                 municipality: str | None = None, status: str | None = "submitted"):  # type: ignore[no-untyped-def]
    require(user, "remark.answer")
    status = status if status in ("submitted", "answered") else None
    municipalities = db.exec(select(RoundMunicipality.municipality).distinct()
                             .order_by(RoundMunicipality.municipality)).all()
    return render(request, "hearing/remarks.html",
                  {"rows": _queue(db, audit_id, municipality or None, status,
                                  user.id if user.role == "auditor" else None), "audits": db.exec(select(Audit)).all(),
                   "municipalities": municipalities, "f_audit": audit_id, "f_municipality": municipality or "",
                   "f_status": status or "", "flash": _pop_flash(request)}, user=user)


@router.post("/hearing/remarks/{remark_id}/respond", include_in_schema=False)
def respond_form(request: Request, remark_id: int, user: CurrentUser, db: DB,
                 decision: Annotated[str, Form()] = "", response: Annotated[str, Form()] = "",
                 value: Annotated[list[str], Form()] = [], back: Annotated[str, Form()] = ""):  # type: ignore[no-untyped-def]  # noqa: B006
    remark, case = _load_remark(db, user, remark_id, "remark.answer")
    inst = _instrument(db.get(Audit, case.audit_id))
    try:
        kwargs: dict[str, Any] = {}
        if decision == "accepted" and remark.item:
            kwargs["new_value"] = _parse_proposed(inst, remark.item, value)
        respond(db, remark, decision, response, user, **kwargs)
        db.commit()
        _flash(request, f"Remark {remark.id} answered: {decision}.")
    except (HearingError, AnswerError, ValueError) as exc:
        db.rollback()
        _flash(request, f"Remark {remark_id} not answered: {exc}", "error")
    return _back(back if back.startswith("/hearing/remarks") else "/hearing/remarks")


# --- downloads -----------------------------------------------------------------------

def _export_scope(db: Session, user: User, audit_id: int, municipality: str) -> Audit:
    require(user, "export.municipality", municipality)
    audit = _audit_or_404(db, audit_id)
    if db.exec(select(Case.id).where(Case.audit_id == audit.id, Case.municipality == municipality)).first() is None:
        raise HTTPException(status_code=404, detail="not found")
    return audit


@router.get("/hearing/export/{audit_id}/{municipality}/hearing.xlsx", tags=["hearing"])
def hearing_download(audit_id: int, municipality: str, user: CurrentUser, db: DB) -> Response:
    """The municipality's hearing workbook: its cases, their assessments, its remarks and the responses."""
    audit = _export_scope(db, user, audit_id, municipality)
    data = hearing_workbook(db, audit, municipality)
    return Response(data, media_type=XLSX, headers={
        "content-disposition": f'attachment; filename="{export_filename(audit, municipality, "hoering")}"'})


@router.get("/hearing/export/{audit_id}/{municipality}/feedback.xlsx", tags=["hearing"])
def feedback_download(audit_id: int, municipality: str, user: CurrentUser, db: DB) -> Response:
    """After locking: the municipality's shares next to all municipalities for the key items."""
    audit = _export_scope(db, user, audit_id, municipality)
    if audit.locked_at is None:
        raise HTTPException(status_code=409, detail="the feedback workbook is available once the audit is locked")
    data = feedback_workbook(db, audit, municipality)
    return Response(data, media_type=XLSX, headers={
        "content-disposition": f'attachment; filename="{export_filename(audit, municipality, "tilbagemelding")}"'})


# --- JSON API ------------------------------------------------------------------------

class RespondIn(BaseModel):
    decision: str
    response: str = ""
    value: Any = None


@router.get("/api/hearing/audits/{audit_id}/rounds", tags=["hearing"])
def api_rounds(audit_id: int, user: CurrentUser, db: DB) -> list[dict]:
    """Rounds of an audit with each municipality's response status."""
    require(user, "audit.view")
    _audit_or_404(db, audit_id)
    return [{"number": r.number, "deadline": as_utc(r.deadline).isoformat(), "open": r.closed_at is None,
             "municipalities": [{"municipality": s.municipality, "cases": s.cases, "drafts": s.drafts,
                                 "submitted": s.submitted, "answered": s.answered,
                                 "submitted_at": s.submitted_at.isoformat() if s.submitted_at else None}
                                for s in round_status(db, r)]}
            for r in rounds_of(db, audit_id)]


@router.post("/api/hearing/remarks/{remark_id}/respond", tags=["hearing"])
def api_respond(remark_id: int, body: RespondIn, user: CurrentUser, db: DB) -> dict:
    """Answer a submitted remark: accepted (value: the revised answer, default the proposed one) or maintained."""
    remark, case = _load_remark(db, user, remark_id, "remark.answer")
    kwargs = {"new_value": body.value} if body.value is not None else {}
    try:
        respond(db, remark, body.decision, body.response, user, **kwargs)
        db.commit()
    except AnswerError as exc:
        db.rollback()
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    except HearingError as exc:
        db.rollback()
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return {"id": remark.id, "status": remark.status, "decision": remark.decision, "response": remark.response,
            "answer": case_answers(db, case.id).get(remark.item) if remark.item else None}
