"""The API's documentation and schema are for logged-in users only."""
from __future__ import annotations

from fastapi.testclient import TestClient


def test_docs_redoc_and_schema_need_a_login(web_world, client_for, app):
    anonymous = TestClient(app)
    for url in ("/openapi.json", "/docs", "/redoc"):
        resp = anonymous.get(url, headers={"accept": "application/json"}, follow_redirects=False)
        assert resp.status_code == 401 and resp.json() == {"detail": "login required"}, url
        page = anonymous.get(url, headers={"accept": "text/html"}, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == f"/login?next={url}", url
    muni, _ = client_for(web_world.municipality)
    spec = muni.get("/openapi.json", headers={"accept": "application/json"})
    assert spec.status_code == 200 and "/api/review/cases/{case_id}/answers/{item}" in spec.json()["paths"]
    docs = muni.get("/docs")
    assert docs.status_code == 200 and 'data-url="/openapi.json"' in docs.text
    assert muni.get("/redoc", follow_redirects=False).headers["location"] == "/docs"
    # Swagger UI is served from the installed package (no CDN) and started by a script file
    for src in ("/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css", "/static/docs.js"):
        assert src in docs.text and anonymous.get(src).status_code == 200, src
    assert "cdn" not in docs.text.lower()
