"""Review pages: the work list, assignment, the case form with autosave (htmx),
theme 7 per municipality, completion and agreement. Thin: the logic and the queries
live in audit.review; the JSON operations are in `audit.web.review.api`."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlmodel import Session

from audit.i18n import _, ngettext
from audit.audits import all_audits
from audit.models import CASE_STATUSES, Audit, Case, MunicipalityReview, User
from audit.review import agreement as agreement_mod
from audit.review import assignment, form as form_mod, save, workflow, worklist
from audit.review.answers import AnswerError, VersionConflict
from audit.web.deps import (DB, AuditIdQuery, AuditInPath, AuditorQuery, CurrentUser, TextQuery, allowed,
                            audit_or_404, case_for, render)
from audit.web.review.common import Theme7InPath, _check_pass, _editable, _instrument, _reopen
from audit.web.schemas import check_form_text

router = APIRouter(include_in_schema=False)
TZ = ZoneInfo("Europe/Copenhagen")
Manager = allowed("audit.manage")
Viewer = allowed("audit.view")
StatsViewer = allowed("stats.view")
CaseToEdit = case_for("case.edit")


def _now() -> str:
    return datetime.now(TZ).strftime("%H:%M:%S")


# --- work list, progress, assignment -----------------------------------------

@router.get("/review")
def work_list(request: Request, user: Viewer, db: DB, audit_id: AuditIdQuery,
              auditor: AuditorQuery, municipality: TextQuery = None,
              status: TextQuery = None, band: TextQuery = None, sort: TextQuery = None):  # type: ignore[no-untyped-def]
    sort = sort if sort in worklist.SORTS else None
    filters = {"municipality": municipality or None, "auditor": auditor, "status": status or None,
               "band": band or None, "sort": sort}
    rows = worklist.work_list(db, user, audit_id=audit_id, **filters)
    # "next case" on the case page follows the list as the user last filtered and sorted it
    request.session["worklist"] = {k: v for k, v in {**filters, "audit_id": audit_id}.items() if v}
    second = worklist.second_reviews(db, user) if user.role == "auditor" else []
    audits = all_audits(db, newest_first=False)
    progress = assignment.progress(db, audit_id=audit_id, auditor_id=user.id if user.role == "auditor" else auditor)
    theme7 = worklist.theme7_reviews(db, user, audit_id)
    auditors = worklist.reviewers(db)
    names = {u.id: u.username for u in auditors}
    municipalities = (sorted({r.case.municipality for r in worklist.work_list(db, user, audit_id=audit_id)})
                      if user.role == "auditor" else worklist.case_municipalities(db))
    return render(request, "review/worklist.html", {
        "rows": rows, "second": second, "audits": audits, "progress": progress, "theme7": theme7,
        "auditors": auditors, "names": names, "municipalities": municipalities, "statuses": CASE_STATUSES,
        "labels": workflow.STATUS_LABELS, "bands": worklist.case_bands(db, audit_id), "sorts": worklist.SORTS,
        "f": {"audit_id": audit_id, "municipality": municipality or "", "auditor": auditor, "status": status or "",
              "band": band or "", "sort": sort or "municipality"},
        "filtered": any(v for k, v in filters.items() if k != "sort"),
    }, user=user)


@router.get("/review/assign")
def assign_page(request: Request, user: Manager, db: DB, audit_id: AuditIdQuery,
                message: str | None = None, error: str | None = None):  # type: ignore[no-untyped-def]
    audits = all_audits(db, newest_first=False)
    audit = audit_or_404(db, audit_id) if audit_id else (audits[0] if audits else None)
    auditors = worklist.reviewers(db, admins=False, active_only=True)
    rows = []
    if audit:
        names = {u.id: u.username for u in auditors} | worklist.usernames(db, {user.id})
        rows = worklist.assignment_rows(db, audit, names)
    return render(request, "review/assign.html", {"audits": audits, "audit": audit, "auditors": auditors,
                                                  "rows": rows, "message": message, "error": error}, user=user)


@router.post("/review/assign")
def assign_submit(request: Request, user: Manager, db: DB, audit_id: Annotated[int, Form()],
                  auditor: Annotated[str, Form()] = "", municipality: Annotated[list[str] | None, Form()] = None,
                  round_robin: Annotated[str, Form()] = ""):  # type: ignore[no-untyped-def]
    audit = audit_or_404(db, audit_id)
    try:
        if round_robin.strip():
            auditors = [assignment.auditor_by_name(db, n.strip()) for n in round_robin.split(",") if n.strip()]
            plan = assignment.assign_round_robin(db, audit, auditors, user)
            message = _("{municipalities} municipalities dealt to {auditors} auditors").format(
                municipalities=len(plan), auditors=len(auditors))
        else:
            n = assignment.assign(db, audit, assignment.auditor_by_name(db, auditor), municipality or [], user)
            message = ngettext("{n} case assigned to {auditor}", "{n} cases assigned to {auditor}", n).format(
                n=n, auditor=auditor)
        db.commit()
    except assignment.AssignmentError as exc:
        db.rollback()
        return RedirectResponse(f"/review/assign?audit_id={audit_id}&error={quote(str(exc))}", status_code=303)
    return RedirectResponse(f"/review/assign?audit_id={audit_id}&message={quote(message)}", status_code=303)


@router.post("/review/second-review")
def second_review_submit(user: Manager, db: DB, audit_id: Annotated[int, Form()],
                         share: Annotated[float, Form()], seed: Annotated[int, Form()],
                         auditors: Annotated[str, Form()]):  # type: ignore[no-untyped-def]
    audit = audit_or_404(db, audit_id)
    try:
        reviewers = [assignment.auditor_by_name(db, n.strip()) for n in auditors.split(",") if n.strip()]
        ids = assignment.mark_second_review(db, audit, share, seed, reviewers, user)
        db.commit()
    except assignment.AssignmentError as exc:
        db.rollback()
        return RedirectResponse(f"/review/assign?audit_id={audit_id}&error={quote(str(exc))}", status_code=303)
    message = ngettext("{n} case marked for second review", "{n} cases marked for second review", len(ids))
    return RedirectResponse(f"/review/assign?audit_id={audit_id}&message={quote(message.format(n=len(ids)))}",
                            status_code=303)


@router.get("/review/agreement/{audit_id}")
def agreement_page(request: Request, user: StatsViewer, audit: AuditInPath, db: DB):  # type: ignore[no-untyped-def]
    rows = agreement_mod.agreement(db, audit)
    return render(request, "review/agreement.html", {"audit": audit, "rows": rows}, user=user)


# --- the case form ------------------------------------------------------------

def _case_context(db: Session, case: Case, user: User, pass_no: int, request_filters: dict | None = None,
                  **extra: Any) -> dict[str, Any]:
    audit = db.get(Audit, case.audit_id)
    inst = _instrument(audit)
    view = form_mod.case_form(db, case, pass_no, inst, actor=user)
    ctx = {"case": case, "audit": audit, "facts": form_mod.case_facts(db, case, actor=user), "form": view, "pass_no": pass_no,
           "editable": _editable(case, pass_no) and audit.locked_at is None,
           "post_url": f"/review/cases/{case.id}/answer?pass_no={pass_no}",
           "labels": workflow.STATUS_LABELS, "missing": None,
           "names": worklist.usernames(db, {case.assigned_to, case.second_reviewer}),
           "next_case": worklist.next_case(db, user, case, request_filters) if pass_no == 1 else None,
           "back_url": "/review" + ("?" + urlencode(request_filters) if request_filters else "")}
    ctx.update(extra)
    return ctx


@router.get("/review/cases/{case_id}")
def case_page(request: Request, user: CurrentUser, case: CaseToEdit, db: DB, pass_no: int = 1):  # type: ignore[no-untyped-def]
    _check_pass(user, case, pass_no)
    return render(request, "review/case.html",
                  _case_context(db, case, user, pass_no, request.session.get("worklist")), user=user)


class AutosaveForm(BaseModel):
    """The fields one autosave posts (htmx)."""
    item: str = ""
    value: list[str] = []
    note: str | None = None
    version: str = ""
    clear: str = ""


def _fragment(request: Request, user: User, template_ctx: dict[str, Any]):  # type: ignore[no-untyped-def]
    return render(request, "review/_saved.html", template_ctx, user=user)


@router.post("/review/cases/{case_id}/answer")
def case_answer(request: Request, user: CurrentUser, case: CaseToEdit, db: DB,
                form: Annotated[AutosaveForm, Form()], pass_no: int = 1):  # type: ignore[no-untyped-def]
    """Autosave of one item (htmx). Answers the item's status, and out-of-band: the
    stored version, every item whose applicability changed, and the theme counters."""
    _check_pass(user, case, pass_no)
    return _save(request, db, user, form, owner=case, pass_no=pass_no)


def _save(request: Request, db: Session, user: User, form: AutosaveForm, *, owner: Any, pass_no: int = 1):  # type: ignore[no-untyped-def]
    """One call to the review room's `save_answer`; this only turns its result into the fragment."""
    name = form.item
    post_url = (f"/review/cases/{owner.id}/answer?pass_no={pass_no}" if isinstance(owner, Case)
                else f"/review/municipalities/{owner.audit_id}/{owner.municipality}/answer")
    ctx: dict[str, Any] = {"name": name, "error": None, "conflict": None, "changed": [], "form": None, "stored": None,
                           "version": owner.version, "clear": bool(form.clear), "item": None,
                           "post_url": post_url}
    value = None if form.clear else (form.value[0] if len(form.value) == 1 else (form.value or None))
    try:
        check_form_text(form.note, "note")   # the rules for free text, before anything is parsed or stored
        for v in form.value:
            check_form_text(v, "answer")
    except ValueError as exc:
        ctx["error"] = _("Not saved: {reason}").format(reason=exc)
        return _fragment(request, user, ctx)
    try:
        saved = save.save_answer(db, owner=owner, item=name, value=value, raw=True, user=user, note=form.note,
                                 expected_version=int(form.version) if form.version.strip().isdigit() else None,
                                 pass_no=pass_no, form=True, commit=True)
    except save.UnknownItem as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except VersionConflict as exc:
        db.rollback()
        ctx["conflict"] = exc.current_version
        ctx["error"] = _("Not saved: this case was changed in another tab or by another auditor after you opened it.")
        return _fragment(request, user, ctx)
    except AnswerError as exc:
        db.rollback()
        if exc.status == 403:
            raise HTTPException(status_code=403, detail=str(exc)) from None
        msg = str(exc)
        ctx["error"] = _("Not saved: {reason}").format(reason=msg.split(": ", 1)[1] if msg.startswith(name + ":") else msg)
        ctx["stored"] = _stored_item(db, owner, name, pass_no)
        return _fragment(request, user, ctx)
    ctx.update({"form": saved.form, "version": saved.version, "saved_at": _now(),
                "changed": saved.changed_items, "item": saved.form.item(name)})
    return _fragment(request, user, ctx)


def _stored_item(db: Session, owner: Any, name: str, pass_no: int):  # type: ignore[no-untyped-def]
    """The item as stored, after a refusal: its choice control goes back to the stored answer.
    A re-computation after the user's own attempt: nothing new is handed out (actor=None)."""
    audit = db.get(Audit, owner.audit_id)
    inst = _instrument(audit)
    view = (form_mod.case_form(db, owner, pass_no, inst, actor=None) if isinstance(owner, Case)
            else form_mod.municipality_form(db, owner, inst))
    try:
        return view.item(name)
    except KeyError:
        return None


@router.post("/review/cases/{case_id}/complete")
def case_complete(request: Request, user: CurrentUser, case: CaseToEdit, db: DB, pass_no: int = 1):  # type: ignore[no-untyped-def]
    _check_pass(user, case, pass_no)
    try:
        missing = workflow.complete_case(db, case, user, pass_no, _instrument(db.get(Audit, case.audit_id)))
    except AnswerError as exc:
        db.rollback()
        return render(request, "review/case.html", _case_context(db, case, user, pass_no, request.session.get("worklist"), flash_error=str(exc)),
                      status_code=409, user=user)
    if missing:
        db.rollback()
        ctx = _case_context(db, case, user, pass_no, request.session.get("worklist"))
        ctx["missing"] = [ctx["form"].item(n) for n in missing]
        return render(request, "review/case.html", ctx, status_code=422, user=user)
    db.commit()
    return RedirectResponse(f"/review/cases/{case.id}?pass_no={pass_no}", status_code=303)


@router.post("/review/cases/{case_id}/reopen")
def case_reopen(user: CurrentUser, case: CaseToEdit, db: DB):  # type: ignore[no-untyped-def]
    case = _reopen(db, user, case.id)
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


@router.get("/review/municipalities/{audit_id}/{municipality}")
def municipality_page(request: Request, user: CurrentUser, found: Theme7InPath, db: DB):  # type: ignore[no-untyped-def]
    audit, review = found
    return render(request, "review/municipality.html", _muni_context(db, audit, review), user=user)


@router.post("/review/municipalities/{audit_id}/{municipality}/answer")
def municipality_answer(request: Request, user: CurrentUser, found: Theme7InPath, db: DB,
                        form: Annotated[AutosaveForm, Form()]):  # type: ignore[no-untyped-def]
    _audit_, review = found
    return _save(request, db, user, form, owner=review)


@router.post("/review/municipalities/{audit_id}/{municipality}/complete")
def municipality_complete(request: Request, user: CurrentUser, found: Theme7InPath, db: DB):  # type: ignore[no-untyped-def]
    audit, review = found
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
    return RedirectResponse(f"/review/municipalities/{audit.id}/{review.municipality}", status_code=303)


