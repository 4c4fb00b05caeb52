"""Review pages and API: the work list, assignment, the case form with autosave
(htmx), theme 7 per municipality, completion, wide-sheet import/export, second
review and agreement. Routes are thin: the logic lives in audit.review."""
from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from audit.models import CASE_STATUSES, Audit, Case, MunicipalityReview, User
from audit.permissions import require
from audit.review import agreement as agreement_mod
from audit.permissions import ReviewPass
from audit.review import assignment, form as form_mod, save, sheets, workflow
from audit.review.answers import AnswerError, VersionConflict
from audit.review.instrument import NoInstrument, instrument_for
from audit.web.deps import DB, CurrentUser, load_case, render

router = APIRouter()
TZ = ZoneInfo("Europe/Copenhagen")


# --- helpers -------------------------------------------------------------------

def _audit(db: Session, audit_id: int) -> Audit:
    audit = db.get(Audit, audit_id)
    if audit is None:
        raise HTTPException(status_code=404, detail="not found")
    return audit


def _instrument(audit: Audit) -> Any:
    try:
        return instrument_for(audit)
    except NoInstrument as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc


def _check_pass(user: User, case: Case, pass_no: int) -> None:
    """Independence of the second review (the rule lives in audit.permissions)."""
    require(user, "review.pass", ReviewPass(case, pass_no))


def _editable(case: Case, pass_no: int) -> bool:
    if pass_no == 2:
        return case.second_status != "completed"
    return case.status in form_mod.EDITABLE_STATUSES


def _municipality_review(db: Session, user: User, audit_id: int, municipality: str,
                         action: str = "case.edit") -> tuple[Audit, MunicipalityReview]:
    audit = _audit(db, audit_id)
    if user.role == "municipality":
        raise HTTPException(status_code=404, detail="not found")
    review = assignment.municipality_review(db, audit, municipality, create=False)
    if review is None:
        if municipality not in assignment.audit_municipalities(db, audit):
            raise HTTPException(status_code=404, detail="not found")
        review = assignment.municipality_review(db, audit, municipality)
        db.commit()
    require(user, action, review)
    return audit, review


def _now() -> str:
    return datetime.now(TZ).strftime("%H:%M:%S")


def _users(db: Session, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u.username for u in db.exec(select(User).where(User.id.in_(ids))).all()}


# --- work list, progress, assignment -----------------------------------------

def _worklist_query(user: User, audit_id: int | None, municipality: str | None, auditor: int | None,
                    status: str | None):  # type: ignore[no-untyped-def]
    query = select(Case, Audit.name).join(Audit, Audit.id == Case.audit_id).where(Case.active == True)  # noqa: E712
    if user.role == "auditor":
        query = query.where(Case.assigned_to == user.id)
    elif auditor:
        query = query.where(Case.assigned_to == auditor)
    if audit_id:
        query = query.where(Case.audit_id == audit_id)
    if municipality:
        query = query.where(Case.municipality == municipality)
    if status:
        query = query.where(Case.status == status)
    return query.order_by(Audit.name, Case.municipality, Case.seniority_band, Case.id)


@router.get("/review", include_in_schema=False)
def work_list(request: Request, user: CurrentUser, db: DB, audit_id: int | None = None,
              municipality: str | None = None, auditor: int | None = None,
              status: str | None = None):  # type: ignore[no-untyped-def]
    require(user, "audit.view")
    rows = db.exec(_worklist_query(user, audit_id, municipality or None, auditor, status or None)).all()
    second = []
    if user.role == "auditor":
        second = db.exec(select(Case).where(Case.second_reviewer == user.id, Case.active == True)  # noqa: E712
                         .order_by(Case.municipality, Case.id)).all()
    audits = db.exec(select(Audit).order_by(Audit.name)).all()
    progress = assignment.progress(db, audit_id=audit_id, auditor_id=user.id if user.role == "auditor" else auditor)
    theme7 = db.exec(select(MunicipalityReview).where(
        *( [MunicipalityReview.assigned_to == user.id] if user.role == "auditor" else []),
        *( [MunicipalityReview.audit_id == audit_id] if audit_id else [])).order_by(
        MunicipalityReview.municipality)).all()
    auditors = db.exec(select(User).where(User.role.in_(("auditor", "admin"))).order_by(User.username)).all()
    names = {u.id: u.username for u in auditors}
    municipalities = (sorted({c.municipality for c, _ in rows}) if user.role == "auditor"
                      else sorted(set(db.exec(select(Case.municipality).distinct()).all())))
    return render(request, "review/worklist.html", {
        "rows": rows, "second": second, "audits": audits, "progress": progress, "theme7": theme7,
        "auditors": auditors, "names": names, "municipalities": municipalities, "statuses": CASE_STATUSES,
        "labels": workflow.STATUS_LABELS,
        "f": {"audit_id": audit_id, "municipality": municipality or "", "auditor": auditor, "status": status or ""},
    }, user=user)


@router.get("/review/assign", include_in_schema=False)
def assign_page(request: Request, user: CurrentUser, db: DB, audit_id: int | None = None,
                message: str | None = None, error: str | None = None):  # type: ignore[no-untyped-def]
    require(user, "audit.manage")
    audits = db.exec(select(Audit).order_by(Audit.name)).all()
    audit = db.get(Audit, audit_id) if audit_id else (audits[0] if audits else None)
    auditors = db.exec(select(User).where(User.role == "auditor", User.is_active == True)  # noqa: E712
                       .order_by(User.username)).all()
    rows = []
    if audit:
        names = {u.id: u.username for u in auditors} | _users(db, {user.id})
        for p in assignment.progress(db, audit_id=audit.id):
            assigned = set(db.exec(select(Case.assigned_to).where(
                Case.audit_id == audit.id, Case.municipality == p.municipality, Case.active == True)).all())  # noqa: E712
            rows.append({"p": p, "auditors": ", ".join(sorted(names.get(a, "–") if a else "unassigned"
                                                               for a in assigned))})
    return render(request, "review/assign.html", {"audits": audits, "audit": audit, "auditors": auditors,
                                                  "rows": rows, "message": message, "error": error}, user=user)


@router.post("/review/assign", include_in_schema=False)
def assign_submit(request: Request, user: CurrentUser, db: DB, audit_id: Annotated[int, Form()],
                  auditor: Annotated[str, Form()] = "", municipality: Annotated[list[str] | None, Form()] = None,
                  round_robin: Annotated[str, Form()] = ""):  # type: ignore[no-untyped-def]
    require(user, "audit.manage")
    audit = _audit(db, audit_id)
    try:
        if round_robin.strip():
            auditors = [assignment.auditor_by_name(db, n.strip()) for n in round_robin.split(",") if n.strip()]
            plan = assignment.assign_round_robin(db, audit, auditors, user)
            message = f"{len(plan)} municipalities dealt to {len(auditors)} auditors"
        else:
            n = assignment.assign(db, audit, assignment.auditor_by_name(db, auditor), municipality or [], user)
            message = f"{n} cases assigned to {auditor}"
        db.commit()
    except assignment.AssignmentError as exc:
        db.rollback()
        return RedirectResponse(f"/review/assign?audit_id={audit_id}&error={exc}", status_code=303)
    return RedirectResponse(f"/review/assign?audit_id={audit_id}&message={message}", status_code=303)


@router.post("/review/second-review", include_in_schema=False)
def second_review_submit(user: CurrentUser, db: DB, audit_id: Annotated[int, Form()],
                         share: Annotated[float, Form()], seed: Annotated[int, Form()],
                         auditors: Annotated[str, Form()]):  # type: ignore[no-untyped-def]
    require(user, "audit.manage")
    audit = _audit(db, audit_id)
    try:
        reviewers = [assignment.auditor_by_name(db, n.strip()) for n in auditors.split(",") if n.strip()]
        ids = assignment.mark_second_review(db, audit, share, seed, reviewers, user)
        db.commit()
    except assignment.AssignmentError as exc:
        db.rollback()
        return RedirectResponse(f"/review/assign?audit_id={audit_id}&error={exc}", status_code=303)
    return RedirectResponse(f"/review/assign?audit_id={audit_id}&message={len(ids)} cases marked for second review",
                            status_code=303)


@router.get("/review/agreement/{audit_id}", include_in_schema=False)
def agreement_page(request: Request, audit_id: int, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    require(user, "stats.view")
    audit = _audit(db, audit_id)
    rows = agreement_mod.agreement(db, audit)
    return render(request, "review/agreement.html", {"audit": audit, "rows": rows}, user=user)


# --- the case form ------------------------------------------------------------

def _case_context(db: Session, case: Case, user: User, pass_no: int, **extra: Any) -> dict[str, Any]:
    audit = db.get(Audit, case.audit_id)
    inst = _instrument(audit)
    view = form_mod.case_form(db, case, pass_no, inst)
    ctx = {"case": case, "audit": audit, "facts": form_mod.case_facts(db, case), "form": view, "pass_no": pass_no,
           "editable": _editable(case, pass_no) and audit.locked_at is None,
           "post_url": f"/review/cases/{case.id}/answer?pass_no={pass_no}",
           "labels": workflow.STATUS_LABELS, "missing": None,
           "names": _users(db, {case.assigned_to, case.second_reviewer})}
    ctx.update(extra)
    return ctx


@router.get("/review/cases/{case_id}", include_in_schema=False)
def case_page(request: Request, case_id: int, user: CurrentUser, db: DB, pass_no: int = 1):  # type: ignore[no-untyped-def]
    case = load_case(db, user, case_id, "case.edit")
    _check_pass(user, case, pass_no)
    return render(request, "review/case.html", _case_context(db, case, user, pass_no), user=user)


class AutosaveForm(BaseModel):
    """The fields one autosave posts (htmx)."""
    item: str = ""
    value: list[str] = []
    note: str | None = None
    version: str = ""
    clear: str = ""


def _fragment(request: Request, user: User, template_ctx: dict[str, Any]):  # type: ignore[no-untyped-def]
    return render(request, "review/_saved.html", template_ctx, user=user)


@router.post("/review/cases/{case_id}/answer", include_in_schema=False)
def case_answer(request: Request, case_id: int, user: CurrentUser, db: DB,
                form: Annotated[AutosaveForm, Form()], pass_no: int = 1):  # type: ignore[no-untyped-def]
    """Autosave of one item (htmx). Answers the item's status, and out-of-band: the
    stored version, every item whose applicability changed, and the theme counters."""
    case = load_case(db, user, case_id, "case.edit")
    _check_pass(user, case, pass_no)
    return _save(request, db, user, form, owner=case, pass_no=pass_no)


def _save(request: Request, db: Session, user: User, form: AutosaveForm, *, owner: Any, pass_no: int = 1):  # type: ignore[no-untyped-def]
    """One call to the review room's `save_answer`; this only turns its result into the fragment."""
    name = form.item
    post_url = (f"/review/cases/{owner.id}/answer?pass_no={pass_no}" if isinstance(owner, Case)
                else f"/review/municipalities/{owner.audit_id}/{owner.municipality}/answer")
    ctx: dict[str, Any] = {"name": name, "error": None, "conflict": None, "changed": [], "form": None,
                           "version": owner.version, "clear": bool(form.clear), "item": None,
                           "post_url": post_url}
    value = None if form.clear else (form.value[0] if len(form.value) == 1 else (form.value or None))
    try:
        saved = save.save_answer(db, owner=owner, item=name, value=value, raw=True, user=user, note=form.note,
                                 expected_version=int(form.version) if form.version.strip().isdigit() else None,
                                 pass_no=pass_no, form=True, commit=True)
    except save.UnknownItem as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except VersionConflict as exc:
        db.rollback()
        ctx["conflict"] = exc.current_version
        ctx["error"] = "Not saved: this case was changed in another tab or by another auditor after you opened it."
        return _fragment(request, user, ctx)
    except AnswerError as exc:
        db.rollback()
        if exc.status == 403:
            raise HTTPException(status_code=403, detail=str(exc)) from None
        msg = str(exc)
        ctx["error"] = "Not saved: " + (msg.split(": ", 1)[1] if msg.startswith(name + ":") else msg)
        return _fragment(request, user, ctx)
    ctx.update({"form": saved.form, "version": saved.version, "saved_at": _now(),
                "changed": saved.changed_items, "item": saved.form.item(name)})
    return _fragment(request, user, ctx)


@router.post("/review/cases/{case_id}/complete", include_in_schema=False)
def case_complete(request: Request, case_id: int, user: CurrentUser, db: DB, pass_no: int = 1):  # type: ignore[no-untyped-def]
    case = load_case(db, user, case_id, "case.edit")
    _check_pass(user, case, pass_no)
    try:
        missing = workflow.complete_case(db, case, user, pass_no, _instrument(db.get(Audit, case.audit_id)))
    except AnswerError as exc:
        db.rollback()
        return render(request, "review/case.html", _case_context(db, case, user, pass_no, flash_error=str(exc)),
                      status_code=409, user=user)
    if missing:
        db.rollback()
        ctx = _case_context(db, case, user, pass_no)
        ctx["missing"] = [ctx["form"].item(n) for n in missing]
        return render(request, "review/case.html", ctx, status_code=422, user=user)
    db.commit()
    return RedirectResponse(f"/review/cases/{case.id}?pass_no={pass_no}", status_code=303)


def _reopen(db, user, case_id: int):  # type: ignore[no-untyped-def]
    """Reopen a completed case (admins only); shared by the page and the API."""
    case = load_case(db, user, case_id, "case.edit")
    require(user, "audit.manage")
    try:
        workflow.reopen_case(db, case, user)
    except AnswerError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    db.commit()
    return case


@router.post("/review/cases/{case_id}/reopen", include_in_schema=False)
def case_reopen(case_id: int, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    case = _reopen(db, user, case_id)
    return RedirectResponse(f"/review/cases/{case.id}", status_code=303)


# --- theme 7 per municipality -------------------------------------------------

def _muni_context(db: Session, audit: Audit, review: MunicipalityReview, **extra: Any) -> dict[str, Any]:
    inst = _instrument(audit)
    ctx = {"audit": audit, "review": review, "form": form_mod.municipality_form(db, review, inst),
           "editable": review.status != "completed" and audit.locked_at is None,
           "post_url": f"/review/municipalities/{audit.id}/{review.municipality}/answer", "missing": None,
           "labels": workflow.STATUS_LABELS}
    ctx.update(extra)
    return ctx


@router.get("/review/municipalities/{audit_id}/{municipality}", include_in_schema=False)
def municipality_page(request: Request, audit_id: int, municipality: str, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    audit, review = _municipality_review(db, user, audit_id, municipality)
    return render(request, "review/municipality.html", _muni_context(db, audit, review), user=user)


@router.post("/review/municipalities/{audit_id}/{municipality}/answer", include_in_schema=False)
def municipality_answer(request: Request, audit_id: int, municipality: str, user: CurrentUser, db: DB,
                        form: Annotated[AutosaveForm, Form()]):  # type: ignore[no-untyped-def]
    _audit_, review = _municipality_review(db, user, audit_id, municipality)
    return _save(request, db, user, form, owner=review)


@router.post("/review/municipalities/{audit_id}/{municipality}/complete", include_in_schema=False)
def municipality_complete(request: Request, audit_id: int, municipality: str, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    audit, review = _municipality_review(db, user, audit_id, municipality)
    try:
        missing = workflow.complete_municipality(db, review, user, _instrument(audit))
    except AnswerError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    if missing:
        db.rollback()
        ctx = _muni_context(db, audit, review)
        ctx["missing"] = [ctx["form"].item(n) for n in missing]
        return render(request, "review/municipality.html", ctx, status_code=422, user=user)
    db.commit()
    return RedirectResponse(f"/review/municipalities/{audit.id}/{municipality}", status_code=303)


# --- JSON API -----------------------------------------------------------------

class AnswerIn(BaseModel):
    value: Any = Field(None, description="Answer value as in docs/contracts.md (list of codes for multiple choice); null clears")
    note: str | None = Field(None, description="Note on the item; null leaves the note as it is")
    expected_version: int | None = Field(None, description="Case version the editor loaded; a stale one gives 409")
    pass_no: int = Field(1, description="1 = the review, 2 = the independent second review")


class AssignIn(BaseModel):
    auditor: str | None = None
    municipalities: list[str] = []
    round_robin: list[str] = Field([], description="Usernames; municipalities are dealt to them in turn")


class SecondReviewIn(BaseModel):
    share: float = Field(0.1, gt=0, le=1)
    seed: int
    auditors: list[str]


class CompleteIn(BaseModel):
    pass_no: int = 1


def _api_error(exc: Exception) -> JSONResponse:
    if isinstance(exc, VersionConflict):
        return JSONResponse({"detail": str(exc), "current_version": exc.current_version}, status_code=409)
    status = 422 if isinstance(exc, save.UnknownItem) else getattr(exc, "status", 422)
    return JSONResponse({"detail": str(exc)}, status_code=status)


@router.get("/api/cases/{case_id}", tags=["review"])
def case_facts(case_id: int, user: CurrentUser, db: DB) -> dict:
    """Register facts of one sampled case (no more personal data than the review needs)."""
    case = load_case(db, user, case_id)
    return form_mod.case_facts(db, case)


@router.get("/api/review/cases", tags=["review"])
def api_work_list(user: CurrentUser, db: DB, audit_id: int | None = None, municipality: str | None = None,
                  auditor: int | None = None, status: str | None = None) -> list[dict]:
    """The work list: an auditor's own cases, or (admin) all cases with filters."""
    require(user, "audit.view")
    rows = db.exec(_worklist_query(user, audit_id, municipality, auditor, status)).all()
    return [{"case_id": c.id, "audit": name, "municipality": c.municipality, "seniority_band": c.seniority_band,
             "status": c.status, "assigned_to": c.assigned_to, "version": c.version} for c, name in rows]


@router.get("/api/review/cases/{case_id}/form", tags=["review"])
def api_case_form(case_id: int, user: CurrentUser, db: DB, pass_no: int = 1) -> dict:
    """The case form: themes, items with applicability, values, notes, answered/applicable counts."""
    case = load_case(db, user, case_id, "case.edit")
    _check_pass(user, case, pass_no)
    view = form_mod.case_form(db, case, pass_no, _instrument(db.get(Audit, case.audit_id)))
    return {"case": form_mod.case_facts(db, case), **view.to_dict()}


@router.put("/api/review/cases/{case_id}/answers/{item}", tags=["review"],
            responses={409: {"description": "stale expected_version"}, 422: {"description": "invalid value"},
                       423: {"description": "audit locked"}})
def api_set_answer(case_id: int, item: str, body: AnswerIn, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    """Save one answer (and note) through the review room's `save_answer`. Returns the new version and applicability."""
    case = load_case(db, user, case_id, "case.edit")
    _check_pass(user, case, body.pass_no)
    try:
        saved = save.save_answer(db, owner=case, item=item, value=body.value, raw=True, user=user, note=body.note,
                                 expected_version=body.expected_version, pass_no=body.pass_no, form=True, commit=True)
    except AnswerError as exc:
        db.rollback()
        return _api_error(exc)
    return {"version": saved.version, "status": saved.status, "answered": saved.form.answered,
            "applicable_count": saved.form.applicable, "applicable": saved.applicable}


@router.post("/api/review/cases/{case_id}/complete", tags=["review"],
             responses={422: {"description": "required items missing (listed)"}})
def api_complete(case_id: int, user: CurrentUser, db: DB, body: CompleteIn | None = None):  # type: ignore[no-untyped-def]
    """Complete the case, or list the applicable required items still missing (422)."""
    pass_no = body.pass_no if body else 1
    case = load_case(db, user, case_id, "case.edit")
    _check_pass(user, case, pass_no)
    try:
        missing = workflow.complete_case(db, case, user, pass_no, _instrument(db.get(Audit, case.audit_id)))
    except AnswerError as exc:
        db.rollback()
        return _api_error(exc)
    if missing:
        db.rollback()
        return JSONResponse({"detail": "required items missing", "missing": missing}, status_code=422)
    db.commit()
    return {"status": case.status if pass_no == 1 else case.second_status, "version": case.version}


@router.post("/api/review/cases/{case_id}/reopen", tags=["review"])
def api_reopen(case_id: int, user: CurrentUser, db: DB) -> dict:
    """Reopen a completed case (admin)."""
    case = _reopen(db, user, case_id)
    return {"status": case.status, "version": case.version}


@router.get("/api/review/municipalities/{audit_id}/{municipality}/form", tags=["review"])
def api_municipality_form(audit_id: int, municipality: str, user: CurrentUser, db: DB) -> dict:
    """Theme 7 (answered once per municipality)."""
    audit, review = _municipality_review(db, user, audit_id, municipality)
    return {"municipality": municipality, "status": review.status,
            **form_mod.municipality_form(db, review, _instrument(audit)).to_dict()}


@router.put("/api/review/municipalities/{audit_id}/{municipality}/answers/{item}", tags=["review"])
def api_set_municipality_answer(audit_id: int, municipality: str, item: str, body: AnswerIn,
                                user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    """Save one theme-7 answer of a municipality."""
    audit, review = _municipality_review(db, user, audit_id, municipality)
    try:
        saved = save.save_answer(db, owner=review, item=item, value=body.value, raw=True, user=user, note=body.note,
                                 expected_version=body.expected_version, commit=True)
    except AnswerError as exc:
        db.rollback()
        return _api_error(exc)
    return {"version": saved.version, "status": saved.status}


@router.post("/api/review/municipalities/{audit_id}/{municipality}/complete", tags=["review"])
def api_complete_municipality(audit_id: int, municipality: str, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    audit, review = _municipality_review(db, user, audit_id, municipality)
    try:
        missing = workflow.complete_municipality(db, review, user, _instrument(audit))
    except AnswerError as exc:
        db.rollback()
        return _api_error(exc)
    if missing:
        db.rollback()
        return JSONResponse({"detail": "required items missing", "missing": missing}, status_code=422)
    db.commit()
    return {"status": review.status}


@router.post("/api/review/audits/{audit_id}/assign", tags=["review"])
def api_assign(audit_id: int, body: AssignIn, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    """Assign municipalities' cases to one auditor, or deal all municipalities round robin (admin)."""
    require(user, "audit.manage")
    audit = _audit(db, audit_id)
    try:
        if body.round_robin:
            plan = assignment.assign_round_robin(
                db, audit, [assignment.auditor_by_name(db, n) for n in body.round_robin], user)
            db.commit()
            return {"plan": plan}
        if not body.auditor:
            raise assignment.AssignmentError("give auditor and municipalities, or round_robin")
        n = assignment.assign(db, audit, assignment.auditor_by_name(db, body.auditor), body.municipalities, user)
        db.commit()
        return {"assigned": n}
    except assignment.AssignmentError as exc:
        db.rollback()
        return JSONResponse({"detail": str(exc)}, status_code=getattr(exc, "status", 422))


@router.get("/api/review/audits/{audit_id}/progress", tags=["review"])
def api_progress(audit_id: int, user: CurrentUser, db: DB) -> list[dict]:
    """Completed / total cases per municipality."""
    require(user, "audit.view")
    _audit(db, audit_id)
    return [{"municipality": p.municipality, "total": p.total, "completed": p.completed,
             "in_progress": p.in_progress} for p in assignment.progress(db, audit_id=audit_id)]


@router.post("/api/review/audits/{audit_id}/second-review", tags=["review"])
def api_second_review(audit_id: int, body: SecondReviewIn, user: CurrentUser, db: DB):  # type: ignore[no-untyped-def]
    """Mark a reproducible random subsample for independent double review (admin)."""
    require(user, "audit.manage")
    audit = _audit(db, audit_id)
    try:
        ids = assignment.mark_second_review(db, audit, body.share, body.seed,
                                            [assignment.auditor_by_name(db, n) for n in body.auditors], user)
        db.commit()
    except assignment.AssignmentError as exc:
        db.rollback()
        return JSONResponse({"detail": str(exc)}, status_code=getattr(exc, "status", 422))
    return {"case_ids": ids}


@router.get("/api/review/audits/{audit_id}/agreement", tags=["review"])
def api_agreement(audit_id: int, user: CurrentUser, db: DB) -> list[dict]:
    """Per item: cases answered in both reviews, percent agreement and Cohen's kappa."""
    require(user, "stats.view")
    return [r.to_dict() for r in agreement_mod.agreement(db, _audit(db, audit_id))]


@router.get("/api/review/audits/{audit_id}/sheet", tags=["review"])
def api_export_sheet(audit_id: int, user: CurrentUser, db: DB,
                     format: Annotated[str, Query(pattern="^(xlsx|csv)$")] = "xlsx"):  # type: ignore[no-untyped-def]
    """The audit's answers as a wide sheet: one row per case, one column per item code (admin)."""
    require(user, "export.all")
    audit = _audit(db, audit_id)
    _instrument(audit)
    header, rows = sheets.export_rows(db, audit)
    tmp = Path(tempfile.mkdtemp()) / f"answers_{audit.id}.{format}"
    sheets.write_sheet(tmp, header, rows)
    return FileResponse(tmp, filename=f"answers_{audit.name}.{format}")


@router.post("/api/review/audits/{audit_id}/sheet", tags=["review"],
             responses={422: {"description": "problems (file, row, column, value, why); nothing imported"}})
def api_import_sheet(audit_id: int, user: CurrentUser, db: DB, file: UploadFile = File(...)):  # type: ignore[no-untyped-def]
    """Import a wide sheet (.xlsx or .csv), all-or-nothing, as the logged-in user."""
    require(user, "case.edit")
    if user.role == "municipality":
        raise HTTPException(status_code=403, detail="forbidden")
    audit = _audit(db, audit_id)
    _instrument(audit)
    suffix = Path(file.filename or "sheet.xlsx").suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        return JSONResponse({"detail": "upload an .xlsx or .csv file"}, status_code=422)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"upload{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        try:
            result = sheets.import_sheet(db, audit, path, user, file_label=file.filename)
            db.commit()
        except sheets.SheetImportError as exc:
            db.rollback()
            return JSONResponse({"detail": f"{len(exc.errors)} problem(s); nothing was imported",
                                 "errors": [e.__dict__ for e in exc.errors]}, status_code=422)
    return {"cases": result.cases, "changed": result.changed}
