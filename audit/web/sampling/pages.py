"""The admins' sampling page: register import, the draw, the protocol, replacements and
the sample downloads, the same steps as `audit population import` and `audit sample ...`.

Thin: parse the form, ask `permissions`, call `audit.population` / `audit.sampling`
(which validate, refuse and write the audit trail with the acting user), render.
A refused form answers 422 with the room's message and keeps what the user typed."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from audit.i18n import _, number
from audit.web.deps import register_label
from audit.audits import all_audits, latest_audit
from audit.limits import valid_id
from audit.models import Audit, User
from audit.population.importer import PopulationError, import_population
from audit.population.snapshots import SnapshotError, import_snapshot, snapshots
from audit.population.register import RegisterError
from audit.population.summary import population_summary
from audit.sampling.bands import audit_bands, parse_bands
from audit.sampling.draw import SamplingError, draw_sample, has_sample
from audit.sampling import representativeness
from audit.sampling.protocol import protocol, replace_case
from audit.web.deps import DB, AuditIdQuery, AuditInPath, allowed, audit_or_404, render

router = APIRouter(include_in_schema=False)
Manager = allowed("audit.manage")
SHOWN_ERRORS = 500  # a file with thousands of bad rows still gives a readable page


# --- helpers ------------------------------------------------------------------

def _flash(request: Request, message: str, details: list[str] | None = None, kind: str = "ok") -> None:
    request.session["sampling_flash"] = {"message": message, "details": details or [], "kind": kind}


def _whole(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(_("{what} must be a whole number, got {value}").format(what=what, value=repr(text.strip()))
                         if text.strip() else _("{what} is required").format(what=what)) from None


def _bands_text(audit: Audit) -> str:
    return ",".join(str(b) for b in audit_bands(audit))


def _back(audit_id: int) -> RedirectResponse:
    """After a change: the page from the top, where its confirmation is shown."""
    return RedirectResponse(f"/sampling?audit_id={audit_id}", status_code=303)


def _page(request: Request, db: Session, user: User, audit: Audit | None, *, status_code: int = 200,
          upload: dict | None = None, draw: dict | None = None, replace: dict | None = None):  # type: ignore[no-untyped-def]
    """The page with the audit's population and sample state; `upload`/`draw`/`replace`
    carry a refused form's message and typed values back into it."""
    audits = all_audits(db)
    ctx: dict[str, Any] = {"audits": audits, "audit": audit, "flash": request.session.pop("sampling_flash", None),
                           "upload": upload or {}, "replace": replace or {}, "shown_errors": SHOWN_ERRORS}
    if audit is not None:
        ctx["population"] = population_summary(db, audit)
        ctx["snapshots"] = snapshots(db, audit)
        ctx["draw"] = draw or {"per_stratum": "5", "seed": "", "bands": _bands_text(audit), "reserves": "2"}
        ctx["municipalities"] = json.loads(audit.municipalities_json or "[]")
        if has_sample(db, audit):
            header, table = protocol(db, audit)
            ctx["header"] = header
            ctx["strata"] = table.to_dict("records")
            ctx["table12"] = representativeness.display(representativeness.audit_table(db, audit))
    return render(request, "sampling/index.html", ctx, status_code=status_code, user=user)


# --- the page and its forms -----------------------------------------------------

@router.get("/sampling")
def sampling_page(request: Request, user: Manager, db: DB, audit_id: AuditIdQuery):  # type: ignore[no-untyped-def]
    audit = audit_or_404(db, audit_id) if audit_id is not None else latest_audit(db)
    return _page(request, db, user, audit)


@router.post("/sampling/{audit_id}/population")
def upload_population(request: Request, user: Manager, audit: AuditInPath, db: DB,
                      register_file: Annotated[UploadFile | None, File(alias="register")] = None,
                      spells: Annotated[UploadFile | None, File()] = None,
                      replace: Annotated[str, Form()] = "", ignore_extra: Annotated[str, Form()] = "",
                      as_of: Annotated[str, Form()] = ""):  # type: ignore[no-untyped-def]
    """The sampling frame (with its spells file), or with a date a snapshot of the register
    at that date; the same functions as `audit population import [--as-of] [--ignore-extra]`."""
    kept = {"replace": bool(replace), "ignore_extra": bool(ignore_extra), "as_of": as_of.strip()}
    if register_file is None or not register_file.filename:
        return _page(request, db, user, audit, status_code=422,
                     upload={**kept, "message": _("Choose a register file (CSV or XLSX) to import.")})
    has_spells = spells is not None and bool(spells.filename)
    day = None
    if as_of.strip():
        try:
            day = date.fromisoformat(as_of.strip())
        except ValueError:
            return _page(request, db, user, audit, status_code=422, upload={
                **kept, "message": _("Snapshot date: {value} is not a date (YYYY-MM-DD).").format(value=as_of.strip())})
        if has_spells:
            return _page(request, db, user, audit, status_code=422, upload={
                **kept, "message": _("A spells file belongs to the sampling frame, not to a snapshot: "
                                     "leave the snapshot date empty or the spells file out.")})
    try:
        # validated as a whole before anything is written; rows and log entry commit together
        if day is not None:
            snap = import_snapshot(db, audit, register_file.file, Path(register_file.filename).name, as_of=day,
                                   replace=bool(replace), ignore_extra=bool(ignore_extra), user=user)
            db.commit()
            _flash(request, _("Imported the snapshot at {date} from {file}: {rows} persons, {linked} of them in "
                              "the sampling frame; variables: {variables}.").format(
                date=snap.as_of.isoformat(), file=snap.file, rows=number(snap.rows), linked=number(snap.linked),
                variables=", ".join(register_label(v) for v in snap.variables) or "–"), snap.warnings)
            return _back(audit.id)
        result = import_population(db, audit, register_file.file, Path(register_file.filename).name,
                                   spells=spells.file if has_spells else None,
                                   spells_filename=Path(spells.filename).name if has_spells else None,
                                   replace=bool(replace), user=user, ignore_extra=bool(ignore_extra))
        db.commit()
    except RegisterError as exc:
        db.rollback()
        return _page(request, db, user, audit, status_code=422,
                     upload={**kept, "message": str(exc), "errors": exc.errors, "error_total": exc.total})
    except (PopulationError, SnapshotError) as exc:
        db.rollback()
        return _page(request, db, user, audit, status_code=422, upload={**kept, "message": str(exc)})
    bands = ", ".join(_("{n} in {band}").format(n=number(n), band=register_label("seniority_band", band))
                      for band, n in result.per_band.items())
    if result.replaced:
        message = _("Imported {rows} persons from {file} (replacing {replaced}): {bands}.").format(
            rows=number(result.rows), file=result.file, replaced=number(result.replaced), bands=bands)
    else:
        message = _("Imported {rows} persons from {file}: {bands}.").format(
            rows=number(result.rows), file=result.file, bands=bands)
    _flash(request, message, result.warnings)
    return _back(audit.id)


@router.post("/sampling/{audit_id}/draw")
def draw_form(request: Request, user: Manager, audit: AuditInPath, db: DB,
              per_stratum: Annotated[str, Form()] = "", seed: Annotated[str, Form()] = "",
              bands: Annotated[str, Form()] = "", reserves: Annotated[str, Form()] = "",
              force: Annotated[str, Form()] = ""):  # type: ignore[no-untyped-def]
    typed = {"per_stratum": per_stratum, "seed": seed, "bands": bands, "reserves": reserves, "force": bool(force)}
    try:
        result = draw_sample(db, audit, per_stratum=_whole(per_stratum, _("cases per stratum")),
                             seed=_whole(seed, _("the seed")), bands=parse_bands(bands),
                             reserves=_whole(reserves, _("reserves per stratum")), force=bool(force), user=user)
        db.commit()
    except (SamplingError, ValueError) as exc:
        db.rollback()
        return _page(request, db, user, audit, status_code=422, draw={**typed, "error": str(exc)})
    details = [_("Shortfall: {municipality} {band}: {drawn} of {requested} (N_h={population})").format(
                   municipality=s.municipality, band=register_label("seniority_band", s.band), drawn=s.drawn,
                   requested=s.requested, population=s.population)
               for s in result.shortfalls]
    if result.outside_bands:
        details.append(_("{n} persons fall below the first band and were not sampled.").format(
            n=number(result.outside_bands)))
    _flash(request, _("Drew {sampled} cases and {reserves} reserves in {strata} strata (seed {seed}).").format(
               sampled=result.sampled, reserves=result.reserve_cases, strata=len(result.strata), seed=result.seed)
           + (" " + _("The previous sample was discarded.") if result.forced else ""),
           details)
    return _back(audit.id)


@router.post("/sampling/{audit_id}/replace")
def replace_form(request: Request, user: Manager, audit: AuditInPath, db: DB,
                 case_id: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                 force: Annotated[str, Form()] = ""):  # type: ignore[no-untyped-def]
    typed = {"case_id": case_id, "reason": reason, "force": bool(force)}
    try:
        old = _whole(case_id, _("the case id"))
        if not valid_id(old):
            raise SamplingError(_("audit {name} has no case {case}").format(name=repr(audit.name), case=old))
        reserve = replace_case(db, audit, old, reason, user=user, force=bool(force))
        db.commit()
    except (SamplingError, ValueError) as exc:
        db.rollback()
        return _page(request, db, user, audit, status_code=422, replace={**typed, "error": str(exc)})
    _flash(request, _("Case {case} replaced by reserve case {reserve} (rank {rank}) in {municipality} {band}: {reason}").format(
        case=old, reserve=reserve.id, rank=reserve.reserve_rank, municipality=reserve.municipality,
        band=register_label("seniority_band", reserve.seniority_band), reason=reason.strip()))
    return _back(audit.id)


def form_url_reloaded(user: Manager, audit: AuditInPath) -> RedirectResponse:
    """Reloading the address a refused form was posted to comes back to the page."""
    return _back(audit.id)


for _form in ("population", "draw", "replace"):
    router.add_api_route(f"/sampling/{{audit_id}}/{_form}", form_url_reloaded, methods=["GET"])
