"""JSON API: the same operations as the pages, with permission checks per role,
and documented in the generated OpenAPI."""
from __future__ import annotations

from sqlmodel import Session

from audit.models import Case


def _put(c, token, cid, item, value, **body):  # type: ignore[no-untyped-def]
    return c.put(f"/api/review/cases/{cid}/answers/{item}", json={"value": value, **body},
                 headers={"X-CSRF-Token": token, "accept": "application/json"})


def test_api_answer_form_conflict_and_completion(world, client_for, engine):
    c, token = client_for(world.auditor)
    cid = world.case_ids[0]
    form = c.get(f"/api/review/cases/{cid}/form").json()
    assert form["case"]["municipality"] == "Odense" and form["version"] == 0
    items = {i["item"]: i for t in form["themes"] for i in t["items"]}
    assert items["plan_job_goal_concrete"]["applicable"] is False
    r = _put(c, token, cid, "plan_exists", "ja", expected_version=0)
    assert r.status_code == 200 and r.json()["version"] == 1 and r.json()["status"] == "in_progress"
    r = _put(c, token, cid, "plan_job_goal", "ja", expected_version=1)
    assert r.status_code == 200 and r.json()["version"] == 2
    assert r.json()["applicable"]["plan_job_goal_concrete"] is True
    r = _put(c, token, cid, "plan_job_goal", "nej", expected_version=1)
    assert r.status_code == 409 and r.json()["current_version"] == 2
    assert _put(c, token, cid, "plan_job_goal", "måske").status_code == 422
    assert _put(c, token, cid, "no_such_item", "ja").status_code == 422
    r = c.post(f"/api/review/cases/{cid}/complete", headers={"X-CSRF-Token": token})
    assert r.status_code == 422 and "plan_job_goal_concrete" in r.json()["missing"]
    with Session(engine) as s:
        from tests.review.fill import fill_required
        fill_required(s, s.get(Case, cid))
        s.commit()
    r = c.post(f"/api/review/cases/{cid}/complete", headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["status"] == "completed"
    assert _put(c, token, cid, "plan_job_goal", "ja").status_code == 409   # completed: read-only
    assert c.post(f"/api/review/cases/{cid}/reopen", headers={"X-CSRF-Token": token}).status_code == 403
    admin, atoken = client_for(world.admin)
    r = admin.post(f"/api/review/cases/{cid}/reopen", headers={"X-CSRF-Token": atoken})
    assert r.status_code == 200 and r.json()["status"] == "in_progress"


def test_api_permissions_per_role(world, client_for):
    odense_case, kbh_case = world.case_ids[0], world.case_ids[3]
    muni, mtoken = client_for(world.municipality_user)
    assert muni.get(f"/api/review/cases/{odense_case}/form").status_code == 404
    assert muni.get(f"/api/review/cases/{kbh_case}/form").status_code == 404
    assert _put(muni, mtoken, odense_case, "plan_job_goal", "ja").status_code == 404
    assert muni.get("/api/review/cases").status_code == 403
    assert muni.get(f"/api/review/municipalities/{world.audit_id}/Odense/form").status_code == 404
    bo, btoken = client_for(world.auditor)
    assert bo.get(f"/api/review/cases/{kbh_case}/form").status_code == 403
    assert _put(bo, btoken, kbh_case, "plan_job_goal", "ja").status_code == 403
    assert sorted(r["case_id"] for r in bo.get("/api/review/cases").json()) == world.case_ids[:3]
    assert bo.post(f"/api/review/audits/{world.audit_id}/assign", json={"round_robin": ["bo"]},
                   headers={"X-CSRF-Token": btoken}).status_code == 403
    assert bo.get(f"/api/review/audits/{world.audit_id}/sheet").status_code == 403
    assert bo.get(f"/api/review/cases/{odense_case}/form?pass_no=2").status_code == 403
    admin, atoken = client_for(world.admin)
    assert len(admin.get("/api/review/cases?municipality=København").json()) == 2
    # no CSRF token: refused
    assert admin.put(f"/api/review/cases/{odense_case}/answers/plan_job_goal", json={"value": "ja"}).status_code == 403


def test_api_assign_second_review_agreement_progress_and_sheet(world, client_for, tmp_path):
    admin, token = client_for(world.admin)
    h = {"X-CSRF-Token": token}
    r = admin.post(f"/api/review/audits/{world.audit_id}/assign", json={"round_robin": ["cy", "bo"]}, headers=h)
    assert r.status_code == 200 and r.json()["plan"] == {"København": "cy", "Odense": "bo"}
    r = admin.post(f"/api/review/audits/{world.audit_id}/assign", json={"auditor": "bo", "municipalities": ["Atlantis"]},
                   headers=h)
    assert r.status_code == 422
    r = admin.post(f"/api/review/audits/{world.audit_id}/second-review",
                   json={"share": 0.4, "seed": 2, "auditors": ["bo", "cy"]}, headers=h)
    assert r.status_code == 200 and len(r.json()["case_ids"]) == 2
    second = r.json()["case_ids"][0]
    assert admin.get(f"/api/review/audits/{world.audit_id}/agreement").json() == []
    progress = admin.get(f"/api/review/audits/{world.audit_id}/progress").json()
    assert {p["municipality"]: p["total"] for p in progress} == {"København": 2, "Odense": 3}
    sheet = admin.get(f"/api/review/audits/{world.audit_id}/sheet?format=csv")
    assert sheet.status_code == 200 and sheet.content.startswith("\ufeffcase_id;municipality".encode())  # Danish Excel
    import csv
    import io
    rows = list(csv.reader(io.StringIO(sheet.text.lstrip("\ufeff")), delimiter=";"))
    rows[1][rows[0].index("plan_job_goal")] = "måske"
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    r = admin.post(f"/api/review/audits/{world.audit_id}/sheet", headers=h,
                   files={"file": ("offline.csv", buf.getvalue().encode("utf-8"), "text/csv")})
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err == {"file": "offline.csv", "row": 2, "column": "plan_job_goal", "value": "måske",
                   "why": err["why"]} and "not one of" in err["why"]
    r = admin.post(f"/api/review/audits/{world.audit_id}/sheet", headers=h,
                   files={"file": ("offline.csv", sheet.content, "text/csv")})
    assert r.status_code == 200 and r.json()["changed"] == 0
    # the second reviewer sees pass 2 only; the first reviewer of that case cannot open pass 2
    with Session(admin.app.state.engine) as s:
        case = s.get(Case, second)
        reviewer = case.second_reviewer
    reviewer_user = world.auditor if reviewer == world.auditor.id else world.auditor2
    c, _ = client_for(reviewer_user)
    assert c.get(f"/api/review/cases/{second}/form?pass_no=2").status_code == 200


def test_openapi_documents_the_review_api(app, make_user, client_for):
    client, _ = client_for(make_user("ada", "admin"))  # the schema is behind login
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/api/review/cases", "/api/review/cases/{case_id}/form", "/api/review/cases/{case_id}/answers/{item}",
                 "/api/review/cases/{case_id}/complete", "/api/review/audits/{audit_id}/assign",
                 "/api/review/audits/{audit_id}/second-review", "/api/review/audits/{audit_id}/agreement",
                 "/api/review/audits/{audit_id}/sheet", "/api/review/municipalities/{audit_id}/{municipality}/form"):
        assert path in paths, path
        assert all("review" in op["tags"] for op in paths[path].values())
    assert "/review/cases/{case_id}" not in paths
