"""Requests larger than the limits are refused with a clear message: bodies and uploads
over AUDIT_MAX_UPLOAD_MB with 413 before they are read whole, free-text fields over
AUDIT_MAX_TEXT_CHARS with 422 naming the field; a refused form keeps what was typed."""
from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import Session, select

import audit.config
from audit.models import Remark


@pytest.fixture
def small_limits(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AUDIT_MAX_UPLOAD_MB", "1")
    monkeypatch.setenv("AUDIT_MAX_TEXT_CHARS", "50")
    audit.config.get_settings.cache_clear()
    yield
    audit.config.get_settings.cache_clear()


MB = 1024 * 1024


def test_an_upload_over_the_limit_is_refused_with_413(web_world, client_for, small_limits):
    admin, token = client_for(web_world.admin)
    big = b"case_id,direction\n" + b"1,jobrettet\n" * (MB // 10)
    resp = admin.post(f"/api/review/audits/{web_world.audit_id}/sheet", files={"file": ("sheet.csv", big)},
                      headers={"X-CSRF-Token": token, "accept": "application/json"})
    assert resp.status_code == 413
    assert "more than the 1 MB a request or uploaded file may be" in resp.json()["detail"]
    # the sampling page's form: the same refusal as a page for a person
    page = admin.post(f"/sampling/{web_world.audit_id}/population", data={"csrf_token": token},
                      files={"register": ("register.csv", big)})
    assert page.status_code == 413 and "text/html" in page.headers["content-type"]
    assert "more than the 1 MB" in page.text
    # a body without Content-Length (streamed in chunks) is refused the same way
    chunks = (b"x" * 65536 for _ in range(40))
    resp = admin.put(f"/api/review/cases/{web_world.hearing.aarhus[0]}/answers/direction", content=chunks,
                     headers={"X-CSRF-Token": token, "accept": "application/json",
                              "content-type": "application/json"})
    assert resp.status_code == 413


def _asgi_post(app, path: str, declared: int, chunk: int, chunks: int, headers: list[tuple[bytes, bytes]]):  # type: ignore[no-untyped-def]
    """POST straight to the ASGI app, counting how much of the body it asks for."""
    pulled = {"bytes": 0}
    sent: list[dict] = []

    async def receive():  # type: ignore[no-untyped-def]
        if pulled["bytes"] >= chunk * chunks:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled["bytes"] += chunk
        return {"type": "http.request", "body": b"x" * chunk, "more_body": pulled["bytes"] < chunk * chunks}

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver"), (b"content-length", str(declared).encode()), *headers],
             "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    # its own event loop in a thread: the browser tests' Playwright may hold this thread's loop
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, pulled["bytes"]


def test_a_large_body_is_refused_before_it_is_read(web_world, app, small_limits):
    # declared larger than the limit: refused without reading a byte of it
    status, pulled = _asgi_post(app, f"/api/review/audits/{web_world.audit_id}/sheet", declared=200 * MB,
                                chunk=64 * 1024, chunks=3200,
                                headers=[(b"content-type", b"multipart/form-data; boundary=b"),
                                         (b"x-csrf-token", b"x")])
    assert status == 413 and pulled == 0
    # a body that lies about its length: reading stops just past the limit, not at 200 MB
    status, pulled = _asgi_post(app, "/login", declared=100, chunk=64 * 1024, chunks=3200,
                                headers=[(b"content-type", b"application/x-www-form-urlencoded")])
    assert status == 413 and MB < pulled <= MB + 64 * 1024


def _put(client, token, url, body):  # type: ignore[no-untyped-def]
    return client.put(url, json=body, headers={"X-CSRF-Token": token, "accept": "application/json"})


def test_json_text_fields_over_the_limit_answer_422_naming_the_field(engine, web_world, client_for, small_limits):
    auditor, token = client_for(web_world.auditor)
    case_id = web_world.hearing.aarhus[0]
    url = f"/api/review/cases/{case_id}/answers/direction"
    resp = _put(auditor, token, url, {"value": "jobrettet", "note": "n" * 51})
    assert resp.status_code == 422
    (error,) = resp.json()["detail"]
    assert error["loc"] == ["body", "note"] and "note: 51 characters is more than the 50 allowed" in error["msg"]
    assert "n" * 51 not in resp.text  # the refused text is not sent back
    assert _put(auditor, token, url, {"value": "jobrettet", "note": "n" * 50}).status_code == 200
    # a NUL character cannot be stored (PostgreSQL refuses it): 422 naming the field, not a 500
    resp = _put(auditor, token, url, {"value": "jobrettet", "note": "før\x00efter"})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "note"]
    resp = _put(auditor, token, f"/api/review/cases/{case_id}/answers/challenges_other_text",
                {"value": "v" * 51})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "value"]
    admin, atoken = client_for(web_world.admin)
    resp = admin.post(f"/api/review/audits/{web_world.audit_id}/assign", json={"round_robin": ["b\x00o"]},
                      headers={"X-CSRF-Token": atoken, "accept": "application/json"})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "round_robin"]
    resp = admin.post(f"/api/hearing/remarks/{web_world.remark_id}/respond",
                      json={"decision": "maintained", "response": "r" * 51},
                      headers={"X-CSRF-Token": atoken, "accept": "application/json"})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "response"]
    with Session(engine) as s:
        assert s.get(Remark, web_world.remark_id).status == "submitted"   # nothing was answered


def test_forms_over_the_text_limit_keep_what_was_typed(engine, web_world, client_for, small_limits):
    # the case form's autosave: the note is refused, the field (not swapped by htmx) keeps it
    auditor, token = client_for(web_world.auditor)
    case_id = web_world.hearing.aarhus[0]
    resp = auditor.post(f"/review/cases/{case_id}/answer", headers={"X-CSRF-Token": token},
                        data={"item": "direction", "value": "jobrettet", "note": "n" * 60, "version": "0"})
    assert 'role="alert"' in resp.text and "note: 60 characters is more than the 50 allowed" in resp.text
    # the auditor's answer to a remark: the queue comes back with the decision and the text
    admin, atoken = client_for(web_world.admin)
    typed = "Vurderingen fastholdes, fordi planen " + "x" * 30
    resp = admin.post(f"/hearing/remarks/{web_world.remark_id}/respond",
                      data={"csrf_token": atoken, "decision": "maintained", "response": typed,
                            "back": "/hearing/remarks?status=submitted"})
    assert resp.status_code == 422 and "response: 67 characters is more than the 50 allowed" in resp.text
    form = re.search(rf'data-testid="respond-{web_world.remark_id}">(.*?)</form>', resp.text, re.S).group(1)
    assert f">{typed}</textarea>" in form and 'value="maintained" checked' in form
    with Session(engine) as s:
        assert s.get(Remark, web_world.remark_id).status == "submitted"
    # a municipality's remark in an open round
    from audit.hearing.rounds import open_round
    from audit.models import Audit, User

    with Session(engine) as s:
        open_round(s, s.get(Audit, web_world.audit_id), ["København"], "2099-12-31", s.get(User, web_world.admin.id))
        s.commit()
    kbh, ktoken = client_for(web_world.hearing.kbh_user)
    remark = "Bemærkning om målet " + "y" * 40
    resp = kbh.post(f"/hearing/cases/{web_world.hearing.kbh[0]}/remarks",
                    data={"csrf_token": ktoken, "item": "direction", "text": remark, "proposed": "fritaget"})
    assert resp.status_code == 422 and "remark: 60 characters is more than the 50 allowed" in resp.text
    form = re.search(r'data-testid="remark-form-direction">(.*?)</form>', resp.text, re.S).group(1)
    assert f">{remark}</textarea>" in form and 'value="fritaget" selected' in form
    with Session(engine) as s:
        assert s.exec(select(Remark).where(Remark.case_id == web_world.hearing.kbh[0])).all() == []
