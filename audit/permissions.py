"""The one place that decides who may do what.

Every page, API call, download, command and domain function asks the same
question, `can(user, action, resource)` (or `decide`, which says why not):

- web routes and the JSON API call `require`, which turns a refusal into an HTTP
  error; every route also declares its action in `ROUTES` (or is listed in
  `PUBLIC_ROUTES`), and the app refuses a route that declares nothing;
- domain functions (answers, remarks, assignment) and through them the CLI call
  `check`, which raises the room's own error with the reason. There the actor may
  be None: the command line without `--as`/`--by`, logged as "system", which has no
  role but is bound by every rule about the resource (a locked audit, the
  independence of the second review, a comment round's window).

Municipality users are confined to their own municipality; for them, a case of
another municipality does not exist (404), so ids cannot be probed by URL guessing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from fastapi import HTTPException

from audit.i18n import _
from audit.models import Audit, Case, MunicipalityReview, User

# action -> roles allowed (before resource checks)
ACTIONS: dict[str, frozenset[str]] = {
    "audit.manage": frozenset({"admin"}),          # create audits, import, sample, rounds, lock
    "audit.assign": frozenset({"admin"}),          # assign cases, mark the second-review subsample (not once locked)
    "audit.view": frozenset({"admin", "auditor"}),
    "case.view": frozenset({"admin", "auditor", "municipality"}),
    "case.edit": frozenset({"admin", "auditor"}),
    "review.pass": frozenset({"admin", "auditor"}),  # work on pass 1 (the review) or 2 (second review) of a case
    "case.remark": frozenset({"municipality"}),
    "remark.write": frozenset({"municipality"}),     # write, edit, delete or submit remarks: the round's window
    "remark.answer": frozenset({"admin", "auditor"}),
    "stats.view": frozenset({"admin", "auditor"}),
    "export.all": frozenset({"admin"}),
    "export.municipality": frozenset({"admin", "municipality"}),
    "users.manage": frozenset({"admin"}),
}

# Pseudo-actions of routes: anyone, or anyone logged in.
PUBLIC = "public"
LOGGED_IN = "logged_in"

# Every route of the web app and the action it needs before it looks at a resource.
# The app refuses a route that is not listed (audit.web.deps.route_permission), and
# tests/test_permissions_routes.py walks `app.routes` so a new route cannot forget it.
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/"): PUBLIC,                       # redirects to the login or the role's landing page
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/api/me"): LOGGED_IN,
    ("GET", "/admin"): "audit.manage",
    ("GET", "/admin/users"): "users.manage",
    ("GET", "/api/admin/audits"): "audit.manage",
    ("GET", "/api/stats/audits/{audit_id}/variables"): "stats.view",
    ("GET", "/api/stats/audits/{audit_id}/crosstab"): "stats.view",
    ("GET", "/sampling/{audit_id}/population"): "audit.manage",   # a reload of a refused form
    ("GET", "/sampling/{audit_id}/draw"): "audit.manage",
    ("GET", "/sampling/{audit_id}/replace"): "audit.manage",
    ("POST", "/admin/audits"): "audit.manage",                    # create an audit
    ("GET", "/admin/audits/{audit_id}"): "audit.manage",
    ("POST", "/admin/audits/{audit_id}"): "audit.manage",         # edit an audit
    ("POST", "/admin/users"): "users.manage",                     # add a user
    ("GET", "/admin/users/{user_id}"): "users.manage",
    ("POST", "/admin/users/{user_id}/{action}"): "users.manage",   # details, deactivate, reactivate, unlock
    ("GET", "/admin/log/verify"): "audit.manage",
    ("GET", "/admin/access"): "audit.manage",
    ("GET", "/account"): LOGGED_IN,
    ("POST", "/account/language"): PUBLIC,             # the language switch, also on the login page
    ("GET", "/accessibility"): PUBLIC,                 # the accessibility statement
    ("GET", "/account/password"): LOGGED_IN,
    ("POST", "/account/password"): LOGGED_IN,
    ("GET", "/openapi.json"): LOGGED_IN,                # the API docs, behind login (audit.web.apidocs)
    ("GET", "/docs"): LOGGED_IN,
    ("GET", "/redoc"): LOGGED_IN,
    ("GET", "/admin/log"): "audit.manage",
    ("GET", "/review"): "audit.view",
    ("GET", "/review/assign"): "audit.manage",
    ("POST", "/review/assign"): "audit.assign",
    ("POST", "/review/second-review"): "audit.assign",
    ("GET", "/review/agreement/{audit_id}"): "stats.view",
    ("GET", "/review/cases/{case_id}"): "case.edit",
    ("POST", "/review/cases/{case_id}/answer"): "case.edit",
    ("POST", "/review/cases/{case_id}/complete"): "case.edit",
    ("POST", "/review/cases/{case_id}/reopen"): "audit.manage",
    ("GET", "/review/municipalities/{audit_id}/{municipality}"): "case.edit",
    ("POST", "/review/municipalities/{audit_id}/{municipality}/answer"): "case.edit",
    ("POST", "/review/municipalities/{audit_id}/{municipality}/complete"): "case.edit",
    ("GET", "/api/cases/{case_id}"): "case.view",
    ("GET", "/api/review/cases"): "audit.view",
    ("GET", "/api/review/cases/{case_id}/form"): "case.edit",
    ("PUT", "/api/review/cases/{case_id}/answers/{item}"): "case.edit",
    ("POST", "/api/review/cases/{case_id}/complete"): "case.edit",
    ("POST", "/api/review/cases/{case_id}/reopen"): "audit.manage",
    ("GET", "/api/review/municipalities/{audit_id}/{municipality}/form"): "case.edit",
    ("PUT", "/api/review/municipalities/{audit_id}/{municipality}/answers/{item}"): "case.edit",
    ("POST", "/api/review/municipalities/{audit_id}/{municipality}/complete"): "case.edit",
    ("POST", "/api/review/audits/{audit_id}/assign"): "audit.assign",
    ("GET", "/api/review/audits/{audit_id}/progress"): "audit.view",
    ("POST", "/api/review/audits/{audit_id}/second-review"): "audit.assign",
    ("GET", "/api/review/audits/{audit_id}/agreement"): "stats.view",
    ("GET", "/api/review/audits/{audit_id}/sheet"): "export.all",
    ("POST", "/api/review/audits/{audit_id}/sheet"): "case.edit",
    ("GET", "/hearing/admin"): "audit.manage",
    ("POST", "/hearing/admin/{audit_id}/rounds"): "audit.manage",
    ("POST", "/hearing/admin/rounds/{round_id}/close"): "audit.manage",
    ("POST", "/hearing/admin/{audit_id}/lock"): "audit.manage",
    ("GET", "/hearing"): "case.remark",
    ("GET", "/hearing/cases/{case_id}"): "case.remark",
    ("POST", "/hearing/cases/{case_id}/remarks"): "remark.write",
    ("POST", "/hearing/remarks/{remark_id}/edit"): "remark.write",
    ("POST", "/hearing/remarks/{remark_id}/delete"): "remark.write",
    ("POST", "/hearing/rounds/{round_id}/submit"): "remark.write",
    ("GET", "/hearing/remarks"): "remark.answer",
    ("POST", "/hearing/remarks/{remark_id}/respond"): "remark.answer",
    ("GET", "/hearing/export/{audit_id}/{municipality}/hearing.xlsx"): "export.municipality",
    ("GET", "/hearing/export/{audit_id}/{municipality}/feedback.xlsx"): "export.municipality",
    ("GET", "/api/hearing/audits/{audit_id}/rounds"): "audit.view",
    ("POST", "/api/hearing/remarks/{remark_id}/respond"): "remark.answer",
    ("GET", "/stats"): "stats.view",
    ("GET", "/exports"): "export.all",
    ("GET", "/exports/{audit_id}/{kind}"): "export.all",
    ("GET", "/exports/{audit_id}/{kind}/job"): "export.all",            # a background job's state (htmx)
    ("POST", "/exports/{audit_id}/{kind}/job"): "export.all",           # queue a background job
    ("GET", "/exports/{audit_id}/{kind}/job/{job_id}"): "export.all",   # a finished job's file
    ("GET", "/sampling"): "audit.manage",
    ("POST", "/sampling/{audit_id}/population"): "audit.manage",
    ("POST", "/sampling/{audit_id}/draw"): "audit.manage",
    ("POST", "/sampling/{audit_id}/replace"): "audit.manage",
    ("GET", "/sampling/{audit_id}/sample.csv"): "audit.manage",
    ("GET", "/sampling/{audit_id}/protocol.csv"): "audit.manage",
}

# Path parameters that name something of one municipality: a municipality user refused such a
# route gets 404 (as for another municipality's case), so ids cannot be probed; other refusals are 403.
MUNICIPALITY_SCOPED_PARAMS: frozenset[str] = frozenset({"case_id", "remark_id", "municipality"})

# Routes outside FastAPI's dependency system (static files, FastAPI's own API docs):
# listed here so the route-table test knows they are public on purpose.
PUBLIC_ROUTES: frozenset[str] = frozenset({"/static", "/static/swagger-ui"})


@dataclass(frozen=True)
class ReviewPass:
    """One pass of a case's review: 1 = the review, 2 = the independent second review."""
    case: Case
    pass_no: int

    @property
    def municipality(self) -> str:
        return self.case.municipality


@dataclass(frozen=True)
class CommentWindow:
    """The facts that decide whether a municipality may still write remarks in a comment
    round, gathered by `audit.hearing.rounds.comment_window` (for one case, or with
    `case_id` None for the round as a whole, i.e. submitting)."""
    municipality: str
    audit_name: str
    locked_at: datetime | None
    round_number: int | None          # the municipality's open round (None: none open)
    member: bool                      # the municipality is in that round
    submitted_at: datetime | None     # when it submitted its remarks in that round
    deadline: datetime | None
    now: datetime
    case_id: int | None = None
    case_in_hearing: bool = True
    case_active: bool = True


@dataclass(frozen=True)
class Refusal:
    status: int     # the HTTP status a route answers with: 401, 403, 404, 409 or 423
    reason: str     # in the current language: the page's; English for the JSON API (audit.i18n)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _municipality_of(resource: Any) -> str | None:
    if isinstance(resource, (Case, MunicipalityReview, ReviewPass, CommentWindow)):
        return resource.municipality
    if isinstance(resource, str):
        return resource
    return getattr(resource, "municipality", None)


def _resource_rule(user: User | None, action: str, resource: Any) -> Refusal | None:
    """Rules about the resource itself; they bind every actor, the system included."""
    role = user.role if user is not None else None
    if action == "case.edit" and role == "auditor":
        if isinstance(resource, Case) and user.id not in (resource.assigned_to, resource.second_reviewer):
            return Refusal(403, _("this case is not assigned to you"))
        if isinstance(resource, MunicipalityReview) and user.id != resource.assigned_to:
            return Refusal(403, _("theme 7 of {municipality} is not assigned to you").format(
                municipality=resource.municipality))
    if action == "review.pass" and isinstance(resource, ReviewPass):
        case, pass_no = resource.case, resource.pass_no
        if pass_no not in (1, 2):
            return Refusal(404, _("not found"))
        if role == "auditor":
            # independence: the first reviewer never works on pass 2, the second reviewer never on pass 1
            owner = case.assigned_to if pass_no == 1 else case.second_reviewer
            if owner != user.id:
                return Refusal(403, _("this review of the case is not assigned to you"))
        elif pass_no == 2 and case.second_reviewer is None:
            return Refusal(404, _("this case is not in the second-review subsample"))
    if action == "remark.answer" and isinstance(resource, Case) and role == "auditor" \
            and user.id != resource.assigned_to:
        # the auditor who reviewed the case (or an admin) answers its remarks, and may revise the answer
        return Refusal(403, _("remarks on case {case} are answered by the case's auditor or an admin").format(
            case=resource.id))
    if action == "audit.assign" and isinstance(resource, Audit) and resource.locked_at is not None:
        return Refusal(423, _("audit '{audit}' is locked since {date}; assignments and the second-review "
                              "subsample are final").format(audit=resource.name,
                                                            date=f"{_utc(resource.locked_at):%Y-%m-%d}"))
    if action == "remark.write" and isinstance(resource, CommentWindow):
        return _window_rule(resource)
    return None


def _window_rule(w: CommentWindow) -> Refusal | None:
    """The municipality's "may I still write" rule, the one copy of it."""
    if w.locked_at is not None:
        return Refusal(423, _("the audit was locked on {date}; the assessments are final and remarks are "
                              "closed").format(date=f"{_utc(w.locked_at):%Y-%m-%d}"))
    if w.case_id is not None and (w.round_number is None or not w.member or not w.case_in_hearing
                                  or not w.case_active):
        return Refusal(409, _("case {case} is not in an open comment round").format(case=w.case_id))
    if w.round_number is None or not w.member:
        return Refusal(409, _("no comment round is open for {municipality}").format(municipality=w.municipality))
    if w.submitted_at is not None:
        return Refusal(409, _("{municipality} already submitted its remarks for round {round} on {at} UTC; they "
                              "can no longer be changed").format(municipality=w.municipality, round=w.round_number,
                                                                 at=f"{_utc(w.submitted_at):%Y-%m-%d %H:%M}"))
    if w.deadline is not None and _utc(w.now) > _utc(w.deadline):
        return Refusal(409, _("the deadline of round {round} ({at} UTC) has passed; no new remarks can be "
                              "written or submitted").format(round=w.round_number,
                                                             at=f"{_utc(w.deadline):%Y-%m-%d %H:%M}"))
    return None


def decide(user: User | None, action: str, resource: Any = None) -> Refusal | None:
    """None when `user` may do `action` (on `resource`), else the refusal and its reason."""
    roles = ACTIONS.get(action)
    if roles is None:
        raise KeyError(f"unknown action {action!r}")
    if user is None or not user.is_active:
        return Refusal(401, _("login required"))
    if user.role not in roles:
        if user.role == "municipality" and resource is not None:
            return Refusal(404, _("not found"))
        return Refusal(403, _("forbidden"))
    if user.role == "municipality":
        if resource is None:
            return None if action in {"case.remark", "remark.write", "export.municipality", "case.view"} \
                else Refusal(403, _("forbidden"))
        if _municipality_of(resource) != user.municipality:
            return Refusal(404, _("not found"))
    return _resource_rule(user, action, resource)


def can(user: User | None, action: str, resource: Any = None) -> bool:
    return decide(user, action, resource) is None


def require(user: User | None, action: str, resource: Any = None) -> None:
    """Raise 401/403/404 (409/423 for a state that forbids it) unless allowed.
    Foreign municipality data answers 404."""
    refusal = decide(user, action, resource)
    if refusal is not None:
        raise HTTPException(status_code=refusal.status, detail=refusal.reason)


def refusal_for(actor: User | None, action: str, resource: Any = None) -> Refusal | None:
    """`decide` for domain code, where `actor` None is the system (see `check`)."""
    if actor is None:
        if action not in ACTIONS:
            raise KeyError(f"unknown action {action!r}")
        return _resource_rule(None, action, resource)
    return decide(actor, action, resource)


def check(actor: User | None, action: str, resource: Any = None,
          error: type[Exception] = PermissionError) -> None:
    """The domain functions' form of `can`: raise `error(reason)` when refused.
    `actor` None is the system (the command line without an account): no role, but
    every rule about the resource applies to it."""
    refusal = refusal_for(actor, action, resource)
    if refusal is not None:
        exc = error(refusal.reason)
        exc.status = refusal.status  # type: ignore[attr-defined]
        raise exc


def _compile(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}/]+\}", "[^/]+", re.escape(template).replace(r"\{", "{")
                                   .replace(r"\}", "}")) + "$")


_ROUTE_PATTERNS = [(method, _compile(path), path, action) for (method, path), action in ROUTES.items()]


def route_action(method: str, path: str) -> str | None:
    """The action a request to `path` needs (None: the route declares none)."""
    method = "GET" if method == "HEAD" else method
    exact = ROUTES.get((method, path))
    if exact is not None:
        return exact
    for m, pattern, _template, action in _ROUTE_PATTERNS:
        if m == method and pattern.match(path):
            return action
    return None
