"""Security headers on a page, an API answer and a download; the templates carry no
inline script, so the CSP can forbid it."""
from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


def _csp(resp) -> dict[str, str]:  # type: ignore[no-untyped-def]
    policy = resp.headers["content-security-policy"]
    return {d.split()[0]: " ".join(d.split()[1:]) for d in (p.strip() for p in policy.split(";")) if d}


def _assert_security_headers(resp, *, no_store: bool = True) -> None:  # type: ignore[no-untyped-def]
    csp = _csp(resp)
    assert csp["script-src"] == "'self'", csp            # no 'unsafe-inline', no 'unsafe-eval', no hosts
    assert csp["style-src"] == "'self'", csp
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "same-origin"
    assert resp.headers["x-frame-options"] == "DENY"
    if no_store:
        assert resp.headers["cache-control"] == "no-store"


def test_headers_on_a_page_an_api_call_and_downloads(web_world, client_for):
    admin, _ = client_for(web_world.admin)
    page = admin.get(f"/review/cases/{web_world.hearing.aarhus[0]}")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    _assert_security_headers(page)
    api = admin.get(f"/api/cases/{web_world.hearing.odense[0]}", headers={"accept": "application/json"})
    assert api.status_code == 200 and api.json()["municipality"] == "Odense"
    _assert_security_headers(api)
    for url in (f"/exports/{web_world.audit_id}/codebook.csv",
                f"/hearing/export/{web_world.audit_id}/Odense/hearing.xlsx",
                f"/api/review/audits/{web_world.audit_id}/sheet?format=csv"):
        download = admin.get(url)
        assert download.status_code == 200, url
        assert download.headers["content-disposition"].startswith("attachment;"), url
        _assert_security_headers(download)
    # refusals and the login page carry them too
    anonymous = TestClient(admin.app)
    _assert_security_headers(anonymous.get("/api/me"))
    _assert_security_headers(anonymous.get("/login"))
    # static files may be cached, and still get nosniff and the CSP
    static = anonymous.get("/static/app.js")
    assert static.status_code == 200
    _assert_security_headers(static, no_store=False)
    assert "no-store" not in static.headers.get("cache-control", "")


def test_a_municipality_download_is_not_stored(web_world, client_for):
    muni, _ = client_for(web_world.municipality)
    resp = muni.get(f"/hearing/export/{web_world.audit_id}/Odense/hearing.xlsx")
    assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_ATTR = re.compile(r"\sstyle\s*=", re.I)


def test_templates_have_no_inline_script_handlers_or_styles():
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for rx, what in ((INLINE_SCRIPT, "inline <script>"), (HANDLER, "on* handler"), (STYLE_ATTR, "style attribute")):
            for m in rx.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                problems.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert problems == []


def test_htmx_is_told_not_to_inject_its_style(web_world, client_for):
    """htmx inserts a <style> for its indicators unless told not to; the CSP would block it."""
    admin, _ = client_for(web_world.admin)
    page = admin.get("/review").text
    assert re.search(r'<meta name="htmx-config" content=\'\{[^\']*"includeIndicatorStyles": false', page)
