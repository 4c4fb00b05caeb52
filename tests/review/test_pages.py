"""Review pages (HTML + htmx fragments): the case form, autosave, skip logic
swapped out of band, version conflict, completion, roles."""
from __future__ import annotations

import re

from sqlmodel import Session

from audit.models import Case


def _post(c, token, case_id, item, value=None, version=None, note=None, **extra):  # type: ignore[no-untyped-def]
    data = {"item": item, **extra}
    if value is not None:
        data["value"] = value
    if version is not None:
        data["version"] = str(version)
    if note is not None:
        data["note"] = note
    return c.post(f"/review/cases/{case_id}/answer", data=data, headers={"X-CSRF-Token": token, "HX-Request": "true"})


def _version(html: str) -> int:
    return int(re.search(r'id="form-version" name="version" value="(\d+)"', html).group(1))


def test_case_form_shows_facts_and_only_applicable_items(world, client_for):
    c, _ = client_for(world.auditor)
    page = c.get(f"/review/cases/{world.case_ids[0]}")
    assert page.status_code == 200
    html = page.text
    for fact in ("Odense", "5-7 years", "Woman", "Under 40", "Danish"):  # labels, not codes
        assert fact.replace("<", "&lt;") in html
    assert 'id="item-plan_job_goal"' in html
    assert re.search(r'id="item-plan_job_goal_concrete"\s+data-applicable="no"\s*hidden', html)
    assert "p1" not in re.sub(r"<[^>]+>", "", html).split()  # no person id on the page
    assert '<label for="in-' in html or "<legend>" in html


def test_autosave_swaps_skipped_item_in_and_out_and_updates_version(world, client_for):
    c, token = client_for(world.auditor)
    cid = world.case_ids[0]
    v = _version(c.get(f"/review/cases/{cid}").text)
    r = _post(c, token, cid, "plan_exists", "ja", v)
    assert re.search(r'id="item-plan_job_goal"\s+data-applicable="yes" hx-swap-oob="outerHTML"', r.text)
    v = _version(r.text)
    r = _post(c, token, cid, "plan_job_goal", "ja", v)
    assert r.status_code == 200 and "Saved" in r.text
    assert re.search(r'id="item-plan_job_goal_concrete"\s+data-applicable="yes" hx-swap-oob="outerHTML"', r.text)
    v2 = _version(r.text)
    assert v2 == v + 1
    # the same tab saves again with its updated version: no conflict with itself
    r = _post(c, token, cid, "plan_job_goal_concrete", "ja", v2, note="jobmål: lager")
    assert "Saved" in r.text and _version(r.text) == v2 + 1
    r = _post(c, token, cid, "plan_job_goal", "nej", v2 + 1)
    assert re.search(r'id="item-plan_job_goal_concrete"\s+data-applicable="no" hx-swap-oob="outerHTML"', r.text)
    assert "Answer kept but not counted: this item does not apply" in r.text
    page = c.get(f"/review/cases/{cid}").text
    assert "Answer kept but not counted" in page and "jobmål: lager" in page


def test_second_tab_with_old_version_gets_conflict_and_nothing_is_overwritten(world, client_for, engine):
    c, token = client_for(world.auditor)
    cid = world.case_ids[0]
    v = _version(c.get(f"/review/cases/{cid}").text)
    assert "Saved" in _post(c, token, cid, "plan_job_goal", "ja", v).text
    r = _post(c, token, cid, "plan_job_goal", "nej", v)  # the other tab still holds version v
    assert r.status_code == 200
    assert "changed in another tab or by another auditor" in r.text and 'data-testid="conflict"' in r.text
    assert 'id="form-version"' not in r.text
    with Session(engine) as s:
        from audit.review.answers import case_answers
        assert case_answers(s, cid)["plan_job_goal"] == "ja"


def test_invalid_value_message_in_place(world, client_for):
    c, token = client_for(world.auditor)
    cid = world.case_ids[0]
    r = _post(c, token, cid, "plan_job_goal", "måske", 0)
    assert r.status_code == 200 and "Not saved" in r.text and 'role="alert"' in r.text


def test_complete_lists_missing_with_links_then_completes(world, client_for, engine):
    c, token = client_for(world.auditor)
    cid = world.case_ids[0]
    r = c.post(f"/review/cases/{cid}/complete", data={"csrf_token": token})
    assert r.status_code == 422
    assert 'href="#item-plan_exists"' in r.text and 'data-testid="missing"' in r.text
    with Session(engine) as s:
        from tests.review.fill import fill_required
        fill_required(s, s.get(Case, cid))
        s.commit()
    r = c.post(f"/review/cases/{cid}/complete", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    page = c.get(f"/review/cases/{cid}").text
    assert 'data-testid="readonly"' in page and "completed" in page
    r = _post(c, token, cid, "plan_comment" if "plan_comment" in page else "plan_job_goal", "x", 99)
    assert "cannot be changed" in r.text


def test_roles_on_case_form(world, client_for, make_user):
    cid_odense, cid_kbh = world.case_ids[0], world.case_ids[3]
    muni, _ = client_for(world.municipality_user)
    assert muni.get(f"/review/cases/{cid_odense}").status_code in (403, 404)   # own municipality: not a reviewer
    assert muni.get(f"/review/cases/{cid_kbh}").status_code == 404             # another municipality: does not exist
    assert muni.get(f"/review/municipalities/{world.audit_id}/Odense").status_code == 404
    other, token = client_for(world.auditor2)
    assert other.get(f"/review/cases/{cid_odense}").status_code == 403        # not assigned to cy
    assert _post(other, token, cid_odense, "plan_job_goal", "ja", 0).status_code == 403
    admin, _ = client_for(world.admin)
    assert admin.get(f"/review/cases/{cid_odense}").status_code == 200


def test_worklist_shows_own_cases_progress_and_admin_filters(world, client_for):
    c, _ = client_for(world.auditor)
    html = c.get("/review").text
    assert html.count('href="/review/cases/') == 3 and "Progress per municipality" in html
    assert "København" not in html
    admin, _ = client_for(world.admin)
    html = admin.get("/review?municipality=København").text
    assert html.count('href="/review/cases/') == 2 and 'data-testid="filters"' in html
    assert admin.get("/review/assign").status_code == 200
    assert c.get("/review/assign").status_code == 403


def test_theme7_page_autosaves_per_municipality(world, client_for):
    c, token = client_for(world.auditor)
    page = c.get(f"/review/municipalities/{world.audit_id}/Odense")
    assert page.status_code == 200
    inst = world.instrument
    item = next(i for i in inst.items if i.level == "municipality")
    from tests.review.fill import value_for
    value = value_for(item)
    r = c.post(f"/review/municipalities/{world.audit_id}/Odense/answer",
               data={"item": item.name, "value": " ".join(value) if isinstance(value, list) else str(value),
                     "version": str(_version(page.text))}, headers={"X-CSRF-Token": token})
    assert "Saved" in r.text, r.text
    assert c.get(f"/review/municipalities/{world.audit_id}/København").status_code == 403  # cy's municipality
