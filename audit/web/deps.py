"""Request dependencies: database session, current user, CSRF check, templates, and the
typed things a route takes from its URL: the audit, the case (with its permission
check), a remark, a round, a role.

Every id in a path or query goes through `checked_id`: an id outside the database's
integer range (or below 1) cannot exist, so it answers 404 like any missing row.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy.engine import Engine
from sqlmodel import Session

from audit import i18n, resources
from audit.limits import valid_id
from audit.models import Audit, Case, HearingRound, Remark, User
from audit.permissions import can, require

# Where the templates and static files are found: here and nowhere else (audit.resources).
TEMPLATES_DIR = resources.templates_dir()
STATIC_DIR = resources.static_dir()
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.globals["can"] = can
# Every text a person reads goes through the catalogues (audit.i18n): `{% trans %}` blocks and
# `_()` in templates call the current request's language at render time (newstyle: values are
# named, escaped, and filled in after translation; whitespace inside a block is trimmed).
templates.env.add_extension("jinja2.ext.i18n")
templates.env.policies["ext.i18n.trimmed"] = True
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=i18n.gettext, ngettext=i18n.ngettext, pgettext=i18n.pgettext, newstyle=True)
templates.env.globals["current_language"] = i18n.current
templates.env.globals["languages"] = i18n.LANGUAGES
templates.env.globals["number"] = i18n.number


def register_label(variable: str, code: Any = None) -> str:
    """A register variable's label, or one of its values' (`audit.labels`), in the page's language."""
    from audit.labels import vocabulary

    if code is None and variable is None:
        return ""
    return vocabulary().label(variable, code, i18n.current())


templates.env.globals["register_label"] = register_label

# The texts every item of the review form repeats (review/_macros.html, `item_block`): translated once
# per language and process, not once per item (a case form shows 194 items; a `_()` per item and text
# was a quarter of the form's rendering). Markup, as `_()` gives a translation in a template.
ITEM_TEXTS = {"required": i18n.N_("required"), "calculated": i18n.N_("calculated"),
              "clear_answer": i18n.N_("Clear answer"), "all_that_apply": i18n.N_("choose all that apply"),
              "note": i18n.N_("Note"), "note_on": i18n.N_("Note on %(label)s"), "saved": i18n.N_("Saved")}
_item_texts: dict[str, dict[str, Markup]] = {}


def item_texts() -> dict[str, Markup]:
    lang = i18n.current()
    found = _item_texts.get(lang)
    if found is None:
        found = _item_texts[lang] = {k: Markup(i18n.translations(lang).gettext(v)) for k, v in ITEM_TEXTS.items()}
    return found


templates.env.globals["item_texts"] = item_texts
ROLE_LABELS = {"admin": i18n.lazy_gettext("administrator"), "auditor": i18n.lazy_gettext("auditor"),
               "municipality": i18n.lazy_gettext("municipality")}
templates.env.globals["role_label"] = lambda role: str(ROLE_LABELS.get(role, role))

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_db(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


DB = Annotated[Session, Depends(get_db)]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def csrf_protect(request: Request) -> None:
    """Every state-changing request carries the session's token, as form field
    `csrf_token` or header `X-CSRF-Token` (htmx and the JSON API)."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        sent = form.get("csrf_token")  # type: ignore[assignment]
    if not expected or not sent or not secrets.compare_digest(str(sent), expected):
        raise HTTPException(status_code=403, detail=i18n.gettext(
            "The form's security token is missing or out of date; reload the page and try again"))


def optional_user(request: Request, db: DB) -> User | None:
    """The user of the request's server-side session (audit.sessions), if it is live."""
    from audit.sessions import resolve

    token = request.session.get("sid")
    if token is None:
        return None
    user = resolve(db, token)
    if user is None:
        request.session.pop("sid", None)
    return user


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise HTTPException(status_code=401, detail=i18n.gettext("login required"))
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def allowed(action: str) -> Any:
    """`user: allowed("audit.manage")`: the logged-in user, if the role may do `action`
    at all (401 without login, 403 otherwise). Resource checks come with the resource."""
    def dependency(user: CurrentUser) -> User:
        require(user, action)
        return user

    dependency.__name__ = f"allowed_{action.replace('.', '_')}"
    return Annotated[User, Depends(dependency)]


async def route_permission(request: Request, user: Annotated[User | None, Depends(optional_user)]) -> None:
    """App-wide: every route declares its action in `audit.permissions.ROUTES`; the role
    check happens here, before the route looks at any resource. A route that declares
    nothing is refused (and tests/test_permissions_routes.py fails). No database work
    here (the user was loaded by `optional_user` in the thread pool), so it runs on the loop."""
    from audit import permissions

    route = request.scope.get("route")
    template = getattr(route, "path", None)
    action = permissions.ROUTES.get((request.method if request.method != "HEAD" else "GET", template or ""))
    if action is None:
        action = permissions.route_action(request.method, request.url.path)
    if action is None:
        raise HTTPException(status_code=403, detail="this route declares no permission rule")
    if action == permissions.PUBLIC:
        return
    if user is None:
        raise HTTPException(status_code=401, detail="login required")
    if action == permissions.LOGGED_IN:
        return
    refusal = permissions.decide(user, action)
    if refusal is not None:
        # a municipality user asking another role's page about a case (remark, municipality) gets 404
        scoped = permissions.MUNICIPALITY_SCOPED_PARAMS.intersection(request.path_params)
        status = 404 if user.role == "municipality" and scoped and refusal.status == 403 else refusal.status
        raise HTTPException(status_code=status, detail="not found" if status == 404 else refusal.reason)


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           status_code: int = 200, user: User | None = None):  # type: ignore[no-untyped-def]
    ctx = {"user": user, "csrf_token": csrf_token(request)}
    ctx.update(context or {})
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)


# --- ids and the rows they name -------------------------------------------------------

def not_found() -> HTTPException:
    return HTTPException(status_code=404, detail=i18n.gettext("not found"))


def checked_id(value: int | None) -> int | None:
    """The id, if a row could have it; 404 if it is outside the integer range."""
    if value is not None and not valid_id(value):
        raise not_found()
    return value


def audit_or_404(db: Session, audit_id: int) -> Audit:
    audit = db.get(Audit, checked_id(audit_id))
    if audit is None:
        raise not_found()
    return audit


def path_audit(audit_id: int, db: DB) -> Audit:
    return audit_or_404(db, audit_id)


AuditInPath = Annotated[Audit, Depends(path_audit)]
"""The audit named by the path's `{audit_id}`; 404 if there is none."""


def query_audit_id(audit_id: int | None = None) -> int | None:
    return checked_id(audit_id)


AuditIdQuery = Annotated[int | None, Depends(query_audit_id)]
"""An optional `?audit_id=` filter, range-checked (404 outside the integer range)."""


def query_auditor_id(auditor: int | None = None) -> int | None:
    return checked_id(auditor)


AuditorQuery = Annotated[int | None, Depends(query_auditor_id)]


def load_case(db: Session, user: User, case_id: int, action: str = "case.view") -> Case:
    """The case, if it exists and the user may do `action` on it; else 404/403.
    Every route that takes a case id goes through here."""
    case = db.get(Case, checked_id(case_id))
    if case is None:
        raise not_found()
    require(user, action, case)
    return case


def case_for(action: str) -> Any:
    """`case: case_for("case.edit")`: the case named by `{case_id}`, if the user may do
    `action` on it (404 for another municipality's case or a missing one, 403 otherwise)."""
    def dependency(case_id: int, user: CurrentUser, db: DB) -> Case:
        return load_case(db, user, case_id, action)

    dependency.__name__ = f"case_for_{action.replace('.', '_')}"
    return Annotated[Case, Depends(dependency)]


def load_remark(db: Session, user: User, remark_id: int, action: str) -> tuple[Remark, Case]:
    """A remark and its case, if the user may do `action` on the case."""
    remark = db.get(Remark, checked_id(remark_id))
    if remark is None:
        raise not_found()
    case = load_case(db, user, remark.case_id, action)
    return remark, case


def remark_for(action: str) -> Any:
    """`found: remark_for("case.remark")`: (remark, case) named by `{remark_id}`."""
    def dependency(remark_id: int, user: CurrentUser, db: DB) -> tuple[Remark, Case]:
        return load_remark(db, user, remark_id, action)

    dependency.__name__ = f"remark_for_{action.replace('.', '_')}"
    return Annotated[tuple[Remark, Case], Depends(dependency)]


def path_round(round_id: int, db: DB) -> HearingRound:
    rnd = db.get(HearingRound, checked_id(round_id))
    if rnd is None:
        raise not_found()
    return rnd


RoundInPath = Annotated[HearingRound, Depends(path_round)]


# Names in a path or query (a municipality, a status): text without control characters,
# so a NUL byte never reaches the database (PostgreSQL refuses it with an error).
PLAIN_TEXT = r"^[^\x00-\x1f\x7f]*$"
MunicipalityInPath = Annotated[str, Path(pattern=PLAIN_TEXT, min_length=1, max_length=200,
                                         description="Municipality name as in the audit")]
TextQuery = Annotated[str | None, Query(pattern=PLAIN_TEXT, max_length=200)]
