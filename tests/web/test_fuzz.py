"""Schemathesis on the app's own OpenAPI schema, in-process against the ASGI app, for
each role: every operation gets a bounded number of generated requests (valid ones and,
for the logged-in roles, ones that break the schema), with real ids from a small seeded
audit half of the time so the requests reach real code. Every response must be no 5xx,
carry a documented status code and content type, and have a body that matches its
documented schema (the success models and the error shapes alike)."""
from __future__ import annotations

import os
import random

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# per operation, role and mode; PostgreSQL gets a third (it is run for what only it refuses,
# e.g. a NUL character in text), so the whole run stays near a minute per database
EXAMPLES = int(os.environ.get("AUDIT_FUZZ_EXAMPLES", "6"))


def _real_values(world) -> dict[str, list]:  # type: ignore[no-untyped-def]
    return {"audit_id": [world.audit_id, world.empty_audit_id], "case_id": world.case_ids,
            "remark_id": [world.remark_id], "round_id": [world.round_id],
            "municipality": ["Odense", "København", "Aarhus"],
            "item": ["direction", "plan_job_goal", "challenges", "political_focus", "no_such_item"],
            "kind": ["annex.xlsx", "data.csv", "codebook.csv", "data.xlsx"]}


def _headers(client, token: str | None) -> dict[str, str]:  # type: ignore[no-untyped-def]
    headers = {"accept": "application/json"}
    if client is not None:
        headers["Cookie"] = f"audit_session={client.cookies.get('audit_session')}"
        headers["X-CSRF-Token"] = token
    return headers


@pytest.mark.parametrize("role", ["admin", "auditor", "municipality", "anonymous"])
def test_fuzz_the_api_schema_for_each_role(role, web_world, client_for, app, db_url):
    users = {"admin": web_world.admin, "auditor": web_world.auditor, "municipality": web_world.municipality}
    client, token = client_for(users[role]) if role in users else (None, None)
    headers = _headers(client, token)
    schema = schemathesis.openapi.from_dict(app.openapi())
    schema.app = app
    values = _real_values(web_world)
    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if role != "anonymous" else [])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    rng = random.Random(f"fuzz-{role}")
    examples = EXAMPLES if db_url.startswith("sqlite") else max(2, EXAMPLES // 3)
    calls: dict[int, int] = {}
    for operation in operations:
        names = [p.name for p in operation.path_parameters]
        for mode in modes:
            real = {n: rng.choice(values[n]) for n in names if n in values}
            strategy = st.one_of(operation.as_strategy(generation_mode=mode),
                                 operation.as_strategy(generation_mode=mode, path_parameters=real))

            @hypothesis.given(case=strategy)  # noqa: B023
            @hypothesis.settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                                 suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate])
            def run(case):  # type: ignore[no-untyped-def]
                response = case.call(headers=headers)
                calls[response.status_code] = calls.get(response.status_code, 0) + 1
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                # nothing can break the schema of an operation without inputs (GET /api/me)
                assert mode == GenerationMode.NEGATIVE and not names, (operation.label, mode)
    print(role, dict(sorted(calls.items())))
    # the run reached real code, not only refusals
    if role == "anonymous":
        assert set(calls) <= {400, 401, 403, 404, 422}, calls
    else:  # the municipality has few operations: who it is, its cases' facts, its workbooks
        assert calls.get(200, 0) >= {"admin": 20, "auditor": 10, "municipality": 3}[role], calls
