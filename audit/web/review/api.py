"""The review room's JSON API: the work list, the case form and its answers, completion,
theme 7 per municipality, assignment, second review, agreement and the wide sheet.
Each operation has a response model (`…Public`) and documents its refusals
(`audit.web.schemas`). Thin: the logic lives in audit.review."""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from audit.i18n import _
from audit.limits import MAX_DB_INTEGER
from audit.models import Audit
from audit.review import agreement as agreement_mod
from audit.review import assignment, form as form_mod, sheets, workflow, worklist
from audit.review import save
from audit.review.answers import AnswerError, VersionConflict
from audit.web.deps import (DB, AuditInPath, AuditIdQuery, AuditorQuery, CurrentUser, TextQuery, allowed,
                            case_for)
from audit.web.downloads import CSV, XLSX, download, file_responses
from audit.web.review.common import Theme7InPath, _check_pass, _editable, _instrument, _reopen
from audit.web.schemas import (READ, WRITE, ConflictPublic, InvalidPublic, RequestBody, errors,
                               limited_text, limited_value)

router = APIRouter(tags=["review"])
Viewer = allowed("audit.view")
Manager = allowed("audit.manage")
StatsViewer = allowed("stats.view")
Exporter = allowed("export.all")
Editor = allowed("case.edit")
CaseToView = case_for("case.view")
CaseToEdit = case_for("case.edit")
PassNo = Annotated[int, Query(description="1 = the review, 2 = the independent second review")]


# --- request bodies --------------------------------------------------------------

class AnswerIn(RequestBody):
    value: limited_value("value") = Field(
        None, description="Answer value as in docs/contracts.md (list of codes for multiple choice); null clears")
    note: limited_text("note") | None = Field(None, description="Note on the item; null leaves the note as it is")
    expected_version: int | None = Field(None, ge=0, le=MAX_DB_INTEGER,
                                         description="Case version the editor loaded; a stale one gives 409")
    pass_no: int = Field(1, description="1 = the review, 2 = the independent second review")


class AssignIn(RequestBody):
    auditor: str | None = None
    municipalities: list[str] = []
    round_robin: list[str] = Field([], description="Usernames; municipalities are dealt to them in turn")


class SecondReviewIn(RequestBody):
    share: float = Field(0.1, gt=0, le=1)
    seed: int = Field(ge=0, le=MAX_DB_INTEGER)
    auditors: list[str]


class CompleteIn(RequestBody):
    pass_no: int = 1


# --- response models ---------------------------------------------------------------

class CaseFactsPublic(BaseModel):
    """Register facts of a sampled case: no person id, exact age or birth date."""
    case_id: int
    audit_id: int
    municipality: str
    seniority_band: str
    sex: str | None
    age_band: str | None
    origin: str | None
    status: str
    register_variables: dict[str, Any] = {}  # declared register variables; a municipality sees the showable ones


class WorkItemPublic(BaseModel):
    case_id: int
    audit: str = Field(description="Name of the audit")
    municipality: str
    seniority_band: str
    status: str
    assigned_to: int | None = Field(description="User id of the auditor")
    version: int


class ItemPublic(BaseModel):
    item: str = Field(description="Item code")
    label: str
    type: str
    required: bool
    applicable: bool
    value: Any = Field(description="The answer (list of codes for multiple choice), null when unanswered")
    note: str
    kept_not_counted: bool = Field(description="Answered, but the item does not apply: kept, not counted")
    choices: list[str] = Field(description="Codes of the choices")


class ThemePublic(BaseModel):
    number: int
    label: str
    answered: int
    applicable: int
    items: list[ItemPublic]


class FormPublic(BaseModel):
    version: int
    answered: int
    applicable: int
    themes: list[ThemePublic]


class CaseFormPublic(FormPublic):
    case: CaseFactsPublic


class MunicipalityFormPublic(FormPublic):
    municipality: str
    status: str


class AnswerSavedPublic(BaseModel):
    version: int = Field(description="The case's new version: send it as expected_version next time")
    status: str
    answered: int
    applicable_count: int
    applicable: dict[str, bool] = Field(description="Applicability of every item after the save")


class CaseStatusPublic(BaseModel):
    status: str
    version: int


class ReviewStatusPublic(BaseModel):
    status: str


class Theme7SavedPublic(BaseModel):
    version: int
    status: str


class MissingPublic(InvalidPublic):
    """422 on completion: the applicable required items still unanswered."""
    missing: list[str] = []


class AssignmentPublic(BaseModel):
    plan: dict[str, str] | None = Field(None, description="Round robin: municipality -> auditor")
    assigned: int | None = Field(None, description="Cases whose auditor changed")


class ProgressPublic(BaseModel):
    municipality: str
    total: int
    completed: int
    in_progress: int


class SecondReviewPublic(BaseModel):
    case_ids: list[int]


class AgreementPublic(BaseModel):
    item: str
    label: str
    n: int = Field(description="Cases answered in both reviews")
    agree: int
    percent_agreement: float | None
    kappa: float | None = Field(description="Cohen's kappa")


class CellErrorPublic(BaseModel):
    file: str
    row: int | None
    column: str | None
    value: Any
    why: str


class SheetInvalidPublic(InvalidPublic):
    """422 on import: every problem (file, row, column, value, why); nothing was imported."""
    errors: list[CellErrorPublic] = []


class SheetImportedPublic(BaseModel):
    cases: int
    changed: int


def _api_error(exc: Exception) -> JSONResponse:
    if isinstance(exc, VersionConflict):
        return JSONResponse({"detail": str(exc), "current_version": exc.current_version}, status_code=409)
    status = 422 if isinstance(exc, save.UnknownItem) else getattr(exc, "status", 422)
    return JSONResponse({"detail": str(exc)}, status_code=status)


def _complete(db: DB, complete: Callable[[], list[str]]) -> JSONResponse | None:
    """Run a completion (a case's or a municipality's theme 7): committed and None when done;
    else rolled back and the response (the refusal, or the required items still missing)."""
    try:
        missing = complete()
    except AnswerError as exc:
        db.rollback()
        return _api_error(exc)
    if missing:
        db.rollback()
        return JSONResponse({"detail": "required items missing", "missing": missing}, status_code=422)
    db.commit()
    return None


def _work_item(row: worklist.WorkRow) -> WorkItemPublic:
    c = row.case
    return WorkItemPublic(case_id=c.id, audit=row.audit_name, municipality=c.municipality,
                          seniority_band=c.seniority_band, status=c.status, assigned_to=c.assigned_to,
                          version=c.version)


# --- cases -------------------------------------------------------------------------------

@router.get("/api/cases/{case_id}", responses=errors(*READ))
def case_facts(user: CurrentUser, case: CaseToView, db: DB) -> CaseFactsPublic:
    """Register facts of one sampled case (no more personal data than the review needs)."""
    return CaseFactsPublic(**form_mod.case_facts(db, case, actor=user))


@router.get("/api/review/cases", responses=errors(401, 403, 404, 422))
def api_work_list(user: Viewer, db: DB, audit_id: AuditIdQuery, auditor: AuditorQuery,
                  municipality: TextQuery = None, status: TextQuery = None) -> list[WorkItemPublic]:
    """The work list: an auditor's own cases, or (admin) all cases with filters."""
    rows = worklist.work_list(db, user, audit_id=audit_id, municipality=municipality, auditor=auditor, status=status)
    return [_work_item(r) for r in rows]


@router.get("/api/review/cases/{case_id}/form", responses=errors(*READ, 409, 422))
def api_case_form(user: CurrentUser, case: CaseToEdit, db: DB, pass_no: PassNo = 1) -> CaseFormPublic:
    """The case form: themes, items with applicability, values, notes, answered/applicable counts."""
    _check_pass(user, case, pass_no)
    view = form_mod.case_form(db, case, pass_no, _instrument(db.get(Audit, case.audit_id)), actor=user)
    return CaseFormPublic(case=form_mod.case_facts(db, case, actor=user), **view.to_dict())


@router.put("/api/review/cases/{case_id}/answers/{item}",
            responses=errors(*WRITE, 409, 423, m409=ConflictPublic))
def api_set_answer(user: CurrentUser, case: CaseToEdit, item: str, body: AnswerIn,
                   db: DB) -> AnswerSavedPublic:
    """Save one answer (and note) through the review room's `save_answer`. Returns the new version and
    applicability. 409 with `current_version` when `expected_version` is stale, or the case is no longer editable."""
    _check_pass(user, case, body.pass_no)
    try:
        saved = save.save_answer(db, owner=case, item=item, value=body.value, raw=True, user=user, note=body.note,
                                 expected_version=body.expected_version, pass_no=body.pass_no, form=True, commit=True)
    except AnswerError as exc:
        db.rollback()
        return _api_error(exc)
    return {"version": saved.version, "status": saved.status, "answered": saved.form.answered,
            "applicable_count": saved.form.applicable, "applicable": saved.applicable}


@router.post("/api/review/cases/{case_id}/complete",
             responses=errors(*WRITE, 409, 423, m422=MissingPublic))
def api_complete(user: CurrentUser, case: CaseToEdit, db: DB, body: CompleteIn | None = None) -> CaseStatusPublic:
    """Complete the case, or list the applicable required items still missing (422)."""
    pass_no = body.pass_no if body else 1
    _check_pass(user, case, pass_no)
    refused = _complete(db, lambda: workflow.complete_case(db, case, user, pass_no,
                                                           _instrument(db.get(Audit, case.audit_id))))
    if refused is not None:
        return refused
    return {"status": case.status if pass_no == 1 else case.second_status, "version": case.version}


@router.post("/api/review/cases/{case_id}/reopen", responses=errors(*WRITE, 409))
def api_reopen(user: CurrentUser, case: CaseToEdit, db: DB) -> CaseStatusPublic:
    """Reopen a completed case (admin)."""
    case = _reopen(db, user, case.id)
    return CaseStatusPublic(status=case.status, version=case.version)


# --- theme 7 per municipality ----------------------------------------------------------

@router.get("/api/review/municipalities/{audit_id}/{municipality}/form", responses=errors(*READ, 409, 422))
def api_municipality_form(found: Theme7InPath, db: DB) -> MunicipalityFormPublic:
    """Theme 7 (answered once per municipality)."""
    audit, review = found
    return MunicipalityFormPublic(municipality=review.municipality, status=review.status,
                                  **form_mod.municipality_form(db, review, _instrument(audit)).to_dict())


@router.put("/api/review/municipalities/{audit_id}/{municipality}/answers/{item}",
            responses=errors(*WRITE, 409, 423, m409=ConflictPublic))
def api_set_municipality_answer(user: CurrentUser, found: Theme7InPath, item: str, body: AnswerIn,
                                db: DB) -> Theme7SavedPublic:
    """Save one theme-7 answer of a municipality."""
    _audit, review = found
    try:
        saved = save.save_answer(db, owner=review, item=item, value=body.value, raw=True, user=user, note=body.note,
                                 expected_version=body.expected_version, commit=True)
    except AnswerError as exc:
        db.rollback()
        return _api_error(exc)
    return {"version": saved.version, "status": saved.status}


@router.post("/api/review/municipalities/{audit_id}/{municipality}/complete",
             responses=errors(*WRITE, 409, 423, m422=MissingPublic))
def api_complete_municipality(user: CurrentUser, found: Theme7InPath, db: DB) -> ReviewStatusPublic:
    """Complete a municipality's theme 7, or list the required items still missing (422)."""
    audit, review = found
    refused = _complete(db, lambda: workflow.complete_municipality(db, review, user, _instrument(audit)))
    if refused is not None:
        return refused
    return {"status": review.status}


# --- the audit: assignment, progress, second review, agreement, sheets ---------------

@router.post("/api/review/audits/{audit_id}/assign", responses=errors(*WRITE),
             response_model_exclude_none=True)
def api_assign(user: Manager, audit: AuditInPath, body: AssignIn, db: DB) -> AssignmentPublic:
    """Assign municipalities' cases to one auditor, or deal all municipalities round robin (admin)."""
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


@router.get("/api/review/audits/{audit_id}/progress", responses=errors(*READ, 422))
def api_progress(user: Viewer, audit: AuditInPath, db: DB) -> list[ProgressPublic]:
    """Completed / total cases per municipality."""
    return [ProgressPublic(municipality=p.municipality, total=p.total, completed=p.completed,
                           in_progress=p.in_progress) for p in assignment.progress(db, audit_id=audit.id)]


@router.post("/api/review/audits/{audit_id}/second-review", responses=errors(*WRITE))
def api_second_review(user: Manager, audit: AuditInPath, body: SecondReviewIn, db: DB) -> SecondReviewPublic:
    """Mark a reproducible random subsample for independent double review (admin)."""
    try:
        ids = assignment.mark_second_review(db, audit, body.share, body.seed,
                                            [assignment.auditor_by_name(db, n) for n in body.auditors], user)
        db.commit()
    except assignment.AssignmentError as exc:
        db.rollback()
        return JSONResponse({"detail": str(exc)}, status_code=getattr(exc, "status", 422))
    return SecondReviewPublic(case_ids=ids)


@router.get("/api/review/audits/{audit_id}/agreement", responses=errors(*READ, 409, 422))
def api_agreement(user: StatsViewer, audit: AuditInPath, db: DB) -> list[AgreementPublic]:
    """Per item: cases answered in both reviews, percent agreement and Cohen's kappa."""
    _instrument(audit)
    return [AgreementPublic(**r.to_dict()) for r in agreement_mod.agreement(db, audit)]


@router.get("/api/review/audits/{audit_id}/sheet", response_class=Response,
            responses={**file_responses(XLSX, CSV), **errors(*READ, 409, 422)})
def api_export_sheet(user: Exporter, audit: AuditInPath, db: DB,
                     format: Annotated[str, Query(pattern="^(xlsx|csv)$")] = "xlsx") -> Response:
    """The audit's answers as a wide sheet: one row per case, one column per item code (admin)."""
    _instrument(audit)
    header, rows = sheets.export_rows(db, audit, actor=user)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d) / f"answers_{audit.id}.{format}"
        sheets.write_sheet(tmp, header, rows)
        body = tmp.read_bytes()
    return download(body, XLSX if format == "xlsx" else CSV, f"answers_{audit.name}.{format}")


@router.post("/api/review/audits/{audit_id}/sheet", responses=errors(*WRITE, 409, 423, m422=SheetInvalidPublic))
def api_import_sheet(user: Editor, audit: AuditInPath, db: DB,
                     file: UploadFile = File(...)) -> SheetImportedPublic:
    """Import a wide sheet (.xlsx or .csv), all-or-nothing, as the logged-in user."""
    if user.role == "municipality":
        raise HTTPException(status_code=403, detail=_("forbidden"))
    _instrument(audit)
    suffix = Path(file.filename or "sheet.xlsx").suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        return JSONResponse({"detail": "upload an .xlsx or .csv file"}, status_code=422)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"upload{suffix}"
        with path.open("wb") as out:
            while chunk := file.file.read(1024 * 1024):
                out.write(chunk)
        try:
            result = sheets.import_sheet(db, audit, path, user, file_label=file.filename)
            db.commit()
        except sheets.SheetImportError as exc:
            db.rollback()
            return JSONResponse({"detail": f"{len(exc.errors)} problem(s); nothing was imported",
                                 "errors": [e.__dict__ for e in exc.errors]}, status_code=422)
    return SheetImportedPublic(cases=result.cases, changed=result.changed)
