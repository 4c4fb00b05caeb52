"""An id outside the database's integer range (or below 1) names nothing: 404 on every
route that takes one, in its path or its query, never a 500. The routes come from the
app's own route table, so a new route with an id is checked without being listed here."""
from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from audit.limits import MAX_DB_INTEGER

BAD_IDS = (MAX_DB_INTEGER + 1, 2**64, 10**30, -1, 0)
OTHER_PARAMS = {"municipality": "Odense", "item": "direction", "kind": "codebook.csv"}
QUERY_IDS = ("audit_id", "auditor")


def api_routes(routes):  # type: ignore[no-untyped-def]
    """Every APIRoute of the app, also inside included routers (FastAPI >= 0.16x keeps
    an included router as one entry of `app.routes`; the rooms are included without prefix)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def _routes(app):  # type: ignore[no-untyped-def]
    for route in api_routes(app.routes):
        for method in sorted(route.methods - {"HEAD"}):
            yield method, route


def _fill(path: str, id_name: str, value: int, good: dict[str, int]) -> str:
    def one(m: re.Match) -> str:
        name = m.group(1)
        if name == id_name:
            return str(value)
        return str(good.get(name, OTHER_PARAMS.get(name, "x")))
    return re.sub(r"\{(\w+)\}", one, path)


def _send(client, method: str, url: str, token: str):  # type: ignore[no-untyped-def]
    headers = {"X-CSRF-Token": token, "accept": "application/json"}
    if method in ("POST", "PUT"):
        return client.request(method, url, headers=headers, json={})
    return client.request(method, url, headers=headers)


def test_ids_out_of_range_answer_404_on_every_route_with_an_id(web_world, client_for, app):
    """As the admin, and as a municipality user for the municipality's own routes (the
    admin is refused those by role first, 403, before any id is looked at)."""
    clients = [client_for(web_world.admin), client_for(web_world.municipality)]
    good = {"audit_id": web_world.audit_id, "case_id": web_world.hearing.odense[0],
            "remark_id": web_world.remark_id, "round_id": web_world.round_id}
    checked, failures = 0, []
    for method, route in _routes(app):
        ids = [n for n in re.findall(r"\{(\w+)\}", route.path) if n.endswith("_id")]
        for name in ids:
            for bad in BAD_IDS:
                url = _fill(route.path, name, bad, good)
                statuses = [_send(c, method, url, token).status_code for c, token in clients]
                checked += 1
                if 404 not in statuses or not set(statuses) <= {403, 404}:
                    failures.append(f"{method} {url}: {statuses}")
    assert checked > 150, checked  # the table has some 40 routes with ids
    assert failures == []


def test_query_ids_out_of_range_answer_404(web_world, client_for, app):
    admin, token = client_for(web_world.admin)
    checked, failures = 0, []
    for method, route in _routes(app):
        if method != "GET":
            continue
        names = {p.name for p in route.dependant.query_params}
        names |= {p.name for d in route.dependant.dependencies for p in d.query_params}
        for name in QUERY_IDS:
            if name not in names:
                continue
            for bad in BAD_IDS:
                url = _fill(route.path, "", 0, {"audit_id": web_world.audit_id,
                                               "case_id": web_world.hearing.odense[0]}) + f"?{name}={bad}"
                resp = _send(admin, method, url, token)
                checked += 1
                if resp.status_code != 404:
                    failures.append(f"GET {url}: {resp.status_code} {resp.text[:120]}")
    assert checked >= 25, checked
    assert failures == []


@pytest.mark.parametrize("bad", [MAX_DB_INTEGER + 1, -5])
def test_form_ids_out_of_range_are_refused_without_a_crash(web_world, client_for, bad):
    admin, token = client_for(web_world.admin)
    for url, data in (("/review/assign", {"audit_id": bad, "auditor": "bo", "municipality": "Odense"}),
                      ("/review/second-review", {"audit_id": bad, "share": 0.5, "seed": 1, "auditors": "cy"})):
        resp = admin.post(url, data={**data, "csrf_token": token}, follow_redirects=False)
        assert resp.status_code == 404, (url, resp.status_code)
    resp = admin.post(f"/sampling/{web_world.audit_id}/replace",
                      data={"csrf_token": token, "case_id": str(bad), "reason": "flyttet"})
    assert resp.status_code == 422 and f"has no case {bad}" in resp.text
    assert f'value="{bad}"' in resp.text  # the form keeps what was typed
