"""Comment-round pages: the admin's rounds page, the municipality portal and the
auditors' remark queue. Thin: every rule lives in audit.hearing, every read in
audit.hearing.overview; every route asks audit.permissions (via its dependencies).
The downloads and JSON operations are in `audit.web.hearing.api`."""
from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from audit.i18n import _
from audit.audits import all_audits
from audit.hearing import instrument as hi
from audit.hearing import overview
from audit.hearing.lock import lock_audit
from audit.hearing.remarks import delete_draft, respond, save_draft, submit, update_draft
from audit.hearing.rounds import (HearingError, as_utc, close_round, comment_window, deadline_passed, membership,
                                  open_round, open_round_for)
from audit.instrument import Instrument
from audit.models import Audit, Case, HearingRound, Remark, User
from audit.permissions import refusal_for
from audit.review.answers import AnswerError, case_answers, decode
from audit.web.deps import (DB, AuditIdQuery, AuditInPath, CurrentUser, RoundInPath, TextQuery, allowed,
                            audit_or_404, checked_id, load_case, remark_for, render)
from audit.web.schemas import check_form_text

router = APIRouter(include_in_schema=False)
Manager = allowed("audit.manage")
Municipality = allowed("case.remark")
Responder = allowed("remark.answer")
OwnDraft = remark_for("case.remark")
Answerable = remark_for("remark.answer")


# --- helpers ------------------------------------------------------------------

def _flash(request: Request, message: str, kind: str = "ok", at: str | None = None) -> None:
    """A message for the next page; `at` places it next to an item (or "case") of the case page."""
    request.session["hearing_flash"] = {"message": message, "kind": kind, "at": at}


def _pop_flash(request: Request) -> dict | None:
    return request.session.pop("hearing_flash", None)


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


_instrument = overview.instrument_or_none


def _parse_proposed(inst: Instrument | None, item: str | None, raw: list[str]) -> Any:
    it = hi.item_or_none(inst, item)
    if it is None:
        return None
    values = [v for v in raw if v.strip()]
    if not values:
        return None
    if it.kind == "multiple":
        return hi.parse(it, [code for v in values for code in v.replace(",", " ").split()])
    return hi.parse(it, values[0])


def _municipality_case(db: Session, user: User, case_id: int) -> Case:
    case = load_case(db, user, case_id, "case.remark")
    if not overview.visible_to_municipality(db, case):
        raise HTTPException(status_code=404, detail=_("not found"))
    return case


def _own_case(case_id: int, user: CurrentUser, db: DB) -> Case:
    return _municipality_case(db, user, case_id)


OwnCase = Annotated[Case, Depends(_own_case)]
"""The municipality's case named by `{case_id}`, once it has been in one of its rounds."""


def _writable(db: Session, case: Case) -> tuple[HearingRound | None, str | None]:
    """(open round, None) when remarks can be written on the case; else (round or None, why not).
    The rule is audit.permissions' "remark.write", as for saving a remark."""
    rnd = open_round_for(db, case.audit_id, case.municipality)
    refusal = refusal_for(None, "remark.write", comment_window(db, case, rnd=rnd))
    return rnd, None if refusal is None else refusal.reason[:1].upper() + refusal.reason[1:] + "."


# --- admin: rounds and locking -----------------------------------------------------

@router.get("/hearing/admin")
def rounds_page(request: Request, user: Manager, db: DB, audit_id: AuditIdQuery):  # type: ignore[no-untyped-def]
    audits = all_audits(db)
    audit = audit_or_404(db, audit_id) if audit_id else (audits[0] if audits else None)
    ctx: dict[str, Any] = {"audits": audits, "audit": audit, "flash": _pop_flash(request)}
    if audit is not None:
        view = overview.rounds_overview(db, audit)
        ctx.update(rounds=view.rounds, candidates=view.candidates, lock_problems=view.lock_problems,
                   unreviewed=view.unreviewed, heard=view.heard)
    return render(request, "hearing/admin.html", ctx, user=user)


@router.post("/hearing/admin/{audit_id}/rounds")
def open_round_form(request: Request, user: Manager, audit: AuditInPath, db: DB,
                    deadline: Annotated[str, Form()] = "",
                    municipality: Annotated[list[str], Form()] = []):  # type: ignore[no-untyped-def]  # noqa: B006
    audit_id = audit.id
    try:
        rnd = open_round(db, audit, municipality, deadline, user)
        db.commit()
        _flash(request, _("Round {number} is open for {municipalities} until {deadline} UTC.").format(
            number=rnd.number, municipalities=", ".join(sorted(municipality)),
            deadline=f"{as_utc(rnd.deadline):%Y-%m-%d %H:%M}"))
    except HearingError as exc:
        db.rollback()
        _flash(request, _("Round not opened: {reason}").format(reason=exc), "error")
    return _back(f"/hearing/admin?audit_id={audit_id}")


@router.post("/hearing/admin/rounds/{round_id}/close")
def close_round_form(request: Request, user: Manager, rnd: RoundInPath, db: DB):  # type: ignore[no-untyped-def]
    try:
        close_round(db, rnd, user)
        db.commit()
        _flash(request, _("Round {number} is closed.").format(number=rnd.number))
    except HearingError as exc:
        db.rollback()
        _flash(request, str(exc), "error")
    return _back(f"/hearing/admin?audit_id={rnd.audit_id}")


@router.post("/hearing/admin/{audit_id}/lock")
def lock_form(request: Request, user: Manager, audit: AuditInPath, db: DB,
              force: Annotated[str, Form()] = ""):  # type: ignore[no-untyped-def]
    audit_id = audit.id
    try:
        overridden = lock_audit(db, audit, user, force=bool(force))
        db.commit()
        _flash(request, _("Audit {name} is locked; its answers are final.").format(name=audit.name)
               + (" " + _("Overridden: {problems}.").format(problems="; ".join(overridden)) if overridden else ""))
    except HearingError as exc:
        db.rollback()
        _flash(request, str(exc), "error")
    return _back(f"/hearing/admin?audit_id={audit_id}")


# --- municipality portal -------------------------------------------------------------

@router.get("/hearing")
def municipality_portal(request: Request, user: Municipality, db: DB):  # type: ignore[no-untyped-def]
    portal = overview.municipality_portal(db, user.municipality, actor=user)
    return render(request, "hearing/portal.html",
                  {"rounds": [o.round for o in portal.open_rounds], "open_rounds": portal.open_rounds,
                   "earlier": portal.earlier, "answered_cases": portal.answered_cases, "audits": portal.audits,
                   "person_ids": portal.person_ids,
                   "flash": _pop_flash(request)}, user=user)


def _case_page(request: Request, db: Session, user: User, case: Case, *, typed: dict[str, Any] | None = None,
               flash: dict | None = None, status_code: int = 200):  # type: ignore[no-untyped-def]
    """The case's assessment with its remarks; a refused form comes back with what was
    typed (`typed`: item or remark_id, text, proposed) and the reason (`flash`)."""
    audit = db.get(Audit, case.audit_id)
    inst = hi.instrument_for(audit)
    rnd, closed_why = _writable(db, case)
    remarks = overview.case_remarks(db, case)
    by_item: dict[str | None, list[Remark]] = {}
    for r in remarks:
        by_item.setdefault(r.item, []).append(r)
    shown, raw = {}, {}
    for r in remarks:
        it = hi.item_or_none(inst, r.item)
        value = decode(r.proposed_value_json)
        shown[r.id] = hi.display(it, value)
        raw[r.id] = [str(v) for v in value] if isinstance(value, list) else ([] if value is None else [str(value)])
    themes = hi.case_assessment(db, case, inst, actor=user)   # logged as a view of the case
    # the citizen's register id, for the municipality to find its own file (its own citizen only)
    person_id = (overview.person_ids(db, [case], actor=user, what="hearing case page").get(case.id)
                 if user.role == "municipality" and user.municipality == case.municipality else None)
    return render(request, "hearing/case.html",
                  {"case": case, "audit": audit, "themes": themes, "person_id": person_id,
                   "round": rnd, "writable": closed_why is None, "closed_why": closed_why,
                   "by_item": by_item, "proposed_shown": shown, "proposed_raw": raw,
                   "flash": flash or _pop_flash(request), "typed": typed or {},
                   "drafts": [r for r in remarks if r.status == "draft"]}, user=user, status_code=status_code)


@router.get("/hearing/cases/{case_id}")
def case_page(request: Request, user: CurrentUser, case: OwnCase, db: DB):  # type: ignore[no-untyped-def]
    return _case_page(request, db, user, case)


@router.post("/hearing/cases/{case_id}/remarks")
def add_remark(request: Request, user: CurrentUser, case: OwnCase, db: DB,
               text: Annotated[str, Form()] = "", item: Annotated[str, Form()] = "",
               proposed: Annotated[list[str], Form()] = []):  # type: ignore[no-untyped-def]  # noqa: B006
    inst = _instrument(db.get(Audit, case.audit_id))
    try:
        check_form_text(text, "remark")
        value = _parse_proposed(inst, item or None, proposed)
        save_draft(db, case=case, user=user, text=text, item=item or None, proposed_value=value)
        db.commit()
        _flash(request, _("Remark saved as a draft. It is sent when you submit all remarks."), at=item or "case")
    except (HearingError, ValueError) as exc:
        db.rollback()
        return _case_page(request, db, user, case, status_code=422,
                          flash={"message": _("Remark not saved: {reason}").format(reason=exc), "kind": "error"},
                          typed={"item": item or None, "text": text, "proposed": proposed})
    return _back(f"/hearing/cases/{case.id}" + (f"#item-{item}" if item else "#case-remark"))


@router.post("/hearing/remarks/{remark_id}/edit")
def edit_remark(request: Request, user: CurrentUser, found: OwnDraft, db: DB,
                text: Annotated[str, Form()] = "",
                proposed: Annotated[list[str], Form()] = []):  # type: ignore[no-untyped-def]  # noqa: B006
    remark, case = found
    inst = _instrument(db.get(Audit, case.audit_id))
    try:
        check_form_text(text, "remark")
        update_draft(db, remark, user=user, text=text, proposed_value=_parse_proposed(inst, remark.item, proposed))
        db.commit()
        _flash(request, _("Draft updated."))
    except (HearingError, ValueError) as exc:
        db.rollback()
        return _case_page(request, db, user, case, status_code=422,
                          flash={"message": _("Draft not updated: {reason}").format(reason=exc), "kind": "error"},
                          typed={"remark_id": remark.id, "text": text, "proposed": proposed})
    return _back(f"/hearing/cases/{case.id}")


@router.post("/hearing/remarks/{remark_id}/delete")
def remove_remark(request: Request, user: CurrentUser, found: OwnDraft, db: DB):  # type: ignore[no-untyped-def]
    remark, case = found
    try:
        delete_draft(db, remark, user=user)
        db.commit()
        _flash(request, _("Draft deleted."))
    except HearingError as exc:
        db.rollback()
        _flash(request, str(exc), "error")
    return _back(f"/hearing/cases/{case.id}")


@router.post("/hearing/rounds/{round_id}/submit")
def submit_remarks(request: Request, user: Municipality, rnd: RoundInPath, db: DB):  # type: ignore[no-untyped-def]
    if membership(db, rnd, user.municipality) is None:
        raise HTTPException(status_code=404, detail=_("not found"))
    try:
        sent = submit(db, rnd, user.municipality, user)
        db.commit()
        _flash(request, _("{n} remark(s) submitted to the auditors.").format(n=len(sent)) if sent
               else _("Submitted: no remarks from {municipality}.").format(municipality=user.municipality))
    except HearingError as exc:
        db.rollback()
        _flash(request, str(exc), "error")
    return _back("/hearing")


# --- auditors: the remark queue ------------------------------------------------------

def _queue_page(request: Request, db: Session, user: User, audit_id: int | None, municipality: str | None,
                status: str | None, *, typed: dict[str, Any] | None = None, flash: dict | None = None,
                status_code: int = 200):  # type: ignore[no-untyped-def]
    status = status if status in ("submitted", "answered") else None
    return render(request, "hearing/remarks.html",
                  {"rows": overview.remark_queue(db, audit_id, municipality or None, status, actor=user,
                                                       auditor_id=user.id if user.role == "auditor" else None),
                   "audits": all_audits(db), "municipalities": overview.round_municipalities(db),
                   "f_audit": audit_id, "f_municipality": municipality or "", "f_status": status or "",
                   "flash": flash or _pop_flash(request), "typed": typed or {}},
                  user=user, status_code=status_code)


@router.get("/hearing/remarks")
def remark_queue(request: Request, user: Responder, db: DB, audit_id: AuditIdQuery,
                 municipality: TextQuery = None, status: TextQuery = "submitted"):  # type: ignore[no-untyped-def]
    return _queue_page(request, db, user, audit_id, municipality, status)


def _filters(back: str) -> tuple[int | None, str | None, str | None]:
    """The queue's filters from the page's own address (`back`), to show it again."""
    query = parse_qs(urlsplit(back).query)
    audit_id = (query.get("audit_id") or [""])[0]
    try:
        checked = checked_id(int(audit_id)) if audit_id else None
    except (ValueError, HTTPException):
        checked = None
    return checked, (query.get("municipality") or [None])[0], (query.get("status") or ["submitted"])[0]


@router.post("/hearing/remarks/{remark_id}/respond")
def respond_form(request: Request, user: Responder, found: Answerable, db: DB,
                 decision: Annotated[str, Form()] = "", response: Annotated[str, Form()] = "",
                 value: Annotated[list[str], Form()] = [], back: Annotated[str, Form()] = ""):  # type: ignore[no-untyped-def]  # noqa: B006
    remark, case = found
    remark_id = remark.id
    inst = _instrument(db.get(Audit, case.audit_id))
    try:
        check_form_text(response, "response")
        kwargs: dict[str, Any] = {}
        if decision == "accepted" and remark.item:
            kwargs["new_value"] = _parse_proposed(inst, remark.item, value)
        respond(db, remark, decision, response, user, **kwargs)
        db.commit()
        _flash(request, _("Remark {id} answered: {decision}.").format(
            id=remark.id, decision=_("accepted") if decision == "accepted" else _("maintained")))
    except (HearingError, AnswerError, ValueError) as exc:
        db.rollback()
        return _queue_page(request, db, user, *_filters(back), status_code=422,
                           flash={"message": _("Remark {id} not answered: {reason}").format(id=remark_id, reason=exc),
                                  "kind": "error"},
                           typed={"remark_id": remark_id, "decision": decision, "response": response,
                                  "value": value})
    return _back(back if back.startswith("/hearing/remarks") else "/hearing/remarks")
