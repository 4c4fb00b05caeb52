"""The web layer's shape: per room a pages and an api module, no database query in a
route, a response model for every JSON operation and a documented error body for every
refusal it can give."""
from __future__ import annotations

import re
from pathlib import Path

from audit.web.app import ROOMS

WEB = Path(__file__).resolve().parents[2] / "audit" / "web"
QUERY = re.compile(r"\bselect\(|\.exec\(|\.execute\(|\.scalars?\(")
# The users and audit-trail pages belong to the accounts work (their queries move with it).
NOT_YET = {("admin", "pages.py"): 4}


def test_every_room_has_a_pages_and_an_api_module_and_no_queries():
    counts = {}
    for room in ROOMS:
        for module in ("pages.py", "api.py"):
            path = WEB / room / module
            assert path.is_file(), path
            counts[(room, module)] = len(QUERY.findall(path.read_text(encoding="utf-8")))
    for path in WEB.glob("*.py"):
        counts[("", path.name)] = len(QUERY.findall(path.read_text(encoding="utf-8")))
    assert {k: v for k, v in counts.items() if v} == NOT_YET


def test_every_json_operation_has_a_response_model_and_documented_errors(app):
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    operations = [(m.upper(), p, op) for p, ops in spec["paths"].items() for m, op in ops.items()]
    assert len(operations) >= 25
    for method, path, op in operations:
        ok = op["responses"]["200"]["content"]
        if "application/json" in ok:
            schema = ok["application/json"]["schema"]
            ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
            assert ref and ref.endswith("Public"), (method, path, schema)
        else:  # a download: a file, never JSON
            assert all(s["schema"].get("format") == "binary" for s in ok.values()), (method, path)
        assert "401" in op["responses"], (method, path)
        for code, response in op["responses"].items():
            if code.startswith(("4", "5")) and code != "501":
                ref = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                assert ref.endswith("Public") and "detail" in schemas[ref]["properties"], (method, path, code)
    # the 422 body is one shape: a text, or FastAPI's list of field errors
    detail = schemas["InvalidPublic"]["properties"]["detail"]["anyOf"]
    assert {"type": "string"} in detail and any(d.get("type") == "array" for d in detail)
