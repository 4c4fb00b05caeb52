"""Every route of the app declares its permission rule (issue 12): the test walks the
app's own route table, so a new route without a rule in `audit.permissions.ROUTES`
(or on the public allow-list) fails here, and the app refuses it at runtime."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.testclient import TestClient

from audit import permissions


def _route_table(app):  # type: ignore[no-untyped-def]
    """(methods, path, is_api_route) for every route, included routers flattened."""
    try:
        from fastapi.routing import iter_route_contexts   # FastAPI with included-router contexts
        routes = list(iter_route_contexts(app.routes))
    except ImportError:  # pragma: no cover - older FastAPI: included routes are copied in
        routes = list(app.routes)
    out = []
    for r in routes:
        methods = set(getattr(r, "methods", None) or ())
        out.append((methods - {"HEAD"}, r.path, hasattr(r, "dependant")))
    return out


def test_every_route_declares_a_permission_rule(app):
    table = _route_table(app)
    assert len(table) > 50, "the route table was not walked"
    missing, seen = [], set()
    for methods, path, is_api in table:
        if path in permissions.PUBLIC_ROUTES:
            continue
        assert is_api, f"{path}: not a FastAPI route and not on the public allow-list"
        for method in sorted(methods):
            seen.add((method, path))
            action = permissions.ROUTES.get((method, path))
            if action is None:
                missing.append(f"{method} {path}")
            else:
                assert action in permissions.ACTIONS or action in (permissions.PUBLIC, permissions.LOGGED_IN), \
                    f"{method} {path}: unknown action {action!r}"
    assert not missing, "routes without a permission rule in audit.permissions.ROUTES: " + ", ".join(missing)
    stale = sorted(set(permissions.ROUTES) - seen)
    assert not stale, f"rules for routes that do not exist: {stale}"


def test_a_route_without_a_rule_is_refused_and_rules_bind_at_runtime(app, make_user, engine):
    router = APIRouter()

    @router.get("/api/undeclared")
    def undeclared() -> dict:
        return {"secret": 1}

    app.include_router(router)
    assert ("GET", "/api/undeclared") not in permissions.ROUTES
    from tests.conftest import login

    admin = make_user("ada", "admin")
    with TestClient(app) as c:
        login(c, admin.username)
        r = c.get("/api/undeclared")
        assert r.status_code == 403 and "declares no permission rule" in r.text
        assert c.get("/api/me").status_code == 200
    # every non-public GET route refuses an anonymous caller
    anonymous = TestClient(app)
    for methods, path, is_api in _route_table(app):
        if "GET" not in methods or not is_api or path in permissions.PUBLIC_ROUTES:
            continue
        if permissions.ROUTES.get(("GET", path)) in (permissions.PUBLIC, None):
            continue
        url = path.replace("{", "").replace("}", "")
        for name in ("audit_id", "case_id", "round_id", "remark_id"):
            url = url.replace(name, "1")
        r = anonymous.get(url, headers={"accept": "application/json"}, follow_redirects=False)
        assert r.status_code == 401, (path, r.status_code)
