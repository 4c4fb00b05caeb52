"""The auditor's work list (filter by municipality, status and band; sort), "next case" on
the case page, counters of the required applicable items, and a refused answer that puts the
stored choice back."""
from __future__ import annotations

import re

from sqlmodel import Session

from audit.instrument import load_instrument
from audit.models import Case
from audit.review.form import case_form
from audit.review.workflow import missing_for_case
from tests.review.conftest import QUESTIONNAIRE
from tests.review.fill import fill_required
from tests.review.test_pages import _post, _version


def _listed(html: str) -> list[int]:
    if 'data-testid="worklist"' not in html:
        return []
    table = html.split('data-testid="worklist"', 1)[1].split("</table>", 1)[0]
    return [int(x) for x in re.findall(r'href="/review/cases/(\d+)"', table)]


def test_auditor_filters_and_sorts_the_work_list(world, client_for, engine):
    with Session(engine) as s:
        done = s.get(Case, world.case_ids[1])
        done.status = "completed"
        s.add(done)
        s.commit()
    c, _ = client_for(world.auditor)                      # bo: the three Odense cases
    page = c.get(f"/review?audit_id={world.audit_id}").text
    assert 'data-testid="filter-band"' in page and 'data-testid="sort"' in page
    assert sorted(_listed(page)) == world.case_ids[:3]
    assert _listed(c.get("/review?band=7-10").text) == [world.case_ids[1]]
    assert _listed(c.get("/review?status=not_started").text) == [world.case_ids[0], world.case_ids[2]]
    assert _listed(c.get("/review?municipality=København").text) == []   # not bo's
    # sorted by band: 5-7, 7-10, 10+ in the audit's band order; by status: not started first
    assert _listed(c.get("/review?sort=band").text) == [world.case_ids[0], world.case_ids[1], world.case_ids[2]]
    assert _listed(c.get("/review?sort=status").text) == [world.case_ids[0], world.case_ids[2], world.case_ids[1]]
    assert _listed(c.get("/review?sort=case").text) == world.case_ids[:3]
    assert "No case matches the filter." in c.get("/review?band=10%2B&status=completed").text


def test_next_case_skips_completed_cases_and_follows_the_filter(world, client_for, engine):
    first, second, third = world.case_ids[:3]
    with Session(engine) as s:
        done = s.get(Case, second)
        done.status = "completed"
        s.add(done)
        s.commit()
    c, _ = client_for(world.auditor)
    c.get("/review")
    page = c.get(f"/review/cases/{first}").text
    assert re.search(rf'href="/review/cases/{third}" data-testid="next-case"', page)   # the completed one is skipped
    page = c.get(f"/review/cases/{third}").text
    assert re.search(rf'href="/review/cases/{first}" data-testid="next-case"', page)   # round to the start
    c.get("/review?band=10%2B")                      # the list filtered to one band: nothing else to do
    page = c.get(f"/review/cases/{third}").text
    assert 'data-testid="no-next-case"' in page and 'href="/review?band=10%2B"' in page


def test_counters_count_required_applicable_items_and_optional_apart(world, client_for, engine):
    inst = load_instrument(QUESTIONNAIRE)
    cid = world.case_ids[0]
    with Session(engine) as s:
        case = s.get(Case, cid)
        fill_required(s, case)
        s.commit()
        assert missing_for_case(s, case) == []
        view = case_form(s, case, 1, inst, actor=None)
        applicable_required = [i for i in view.items if i.applicable and i.required and i.kind != "calculated"]
        applicable_optional = [i for i in view.items if i.applicable and not i.required and i.kind != "calculated"]
        assert applicable_optional, "the filled case has optional items that apply"
    c, token = client_for(world.auditor)
    page = c.get(f"/review/cases/{cid}").text
    n = len(applicable_required)
    overall = page.split('data-testid="overall"', 1)[1].split("</p>", 1)[0]
    assert f"<strong>{n}/{n}</strong> required" in overall and "optional" not in overall
    # answering an optional item: the required count stays, the optional one is shown apart
    from tests.review.fill import candidates_for

    version, saved = _version(page), None
    for optional in applicable_optional:       # the first optional item some candidate value satisfies
        for value in candidates_for(optional.source):
            r = _post(c, token, cid, optional.name, value if isinstance(value, list) else str(value), version)
            if "Saved" in r.text:
                saved = optional.name
                break
        if saved:
            break
    assert saved
    overall = c.get(f"/review/cases/{cid}").text.split('data-testid="overall"', 1)[1].split("</p>", 1)[0]
    assert f"<strong>{n}/{n}</strong> required" in overall and "+ 1 optional answered" in overall


def test_a_refused_choice_goes_back_to_the_stored_answer(world, client_for):
    c, token = client_for(world.auditor)
    cid = world.case_ids[0]
    v = _version(c.get(f"/review/cases/{cid}").text)
    for item, value in (("has_challenges", "ja"), ("challenges", ["misbrug", "fysiske"]), ("main_challenge", "misbrug")):
        r = _post(c, token, cid, item, value, v)
        assert "Saved" in r.text, r.text
        v = _version(r.text)
    # the rules refuse a main challenge that is not among the ticked ones
    r = _post(c, token, cid, "main_challenge", "psykiske", v)
    assert "Not saved" in r.text
    block = r.text.split('id="choices-main_challenge"', 1)[1].split("</div>", 1)[0]
    assert r.text.count('id="choices-main_challenge"') == 1 and 'hx-swap-oob="outerHTML"' in block
    assert re.search(r'value="misbrug" checked', block) and not re.search(r'value="psykiske" checked', block)
    # an unreadable number keeps what was typed (no control is replaced)
    r = _post(c, token, cid, "interviews_count", "mange", v)
    assert "Not saved" in r.text and 'hx-swap-oob="outerHTML"' not in r.text


def test_next_case_follows_the_work_list_order_for_every_sort_and_filter(engine, make_user):
    """"Next case" is found by the database (worklist._order); the expected one here is worked out
    in Python from the orders the work list page promises: by municipality (code point order, so
    "Ærø" after "Odense"), band, status or case id, each ending in the case id."""
    from audit.models import CASE_STATUSES
    from audit.review.worklist import SORTS, next_case
    from tests.review.conftest import fresh_instrument_cache, make_review_audit

    fresh_instrument_cache()
    w = make_review_audit(engine, make_user, per_municipality=(7, 6))
    statuses = ["in_progress", "completed", "not_started", "submitted", "in_progress", "not_started", "completed"]
    with Session(engine) as s:
        cases = [s.get(Case, cid) for cid in w.case_ids]
        for k, case in enumerate(cases):
            case.status = statuses[k % len(statuses)] if statuses[k % len(statuses)] in CASE_STATUSES else "completed"
            if k in (2, 9):
                case.municipality = "Ærø"
            if k == 11:
                case.municipality = "aabenraa"
            s.add(case)
        s.commit()
        rows = {c.id: (c.municipality, c.seniority_band, c.status, c.assigned_to) for c in
                (s.get(Case, cid) for cid in w.case_ids)}
    band_rank = {"5-7": 0, "7-10": 1, "10+": 2}
    status_rank = {st: i for i, st in enumerate(CASE_STATUSES)}
    keys = {None: lambda i: (rows[i][0], band_rank[rows[i][1]], i),
            "municipality": lambda i: (rows[i][0], band_rank[rows[i][1]], i),
            "band": lambda i: (band_rank[rows[i][1]], rows[i][0], i),
            "status": lambda i: (status_rank[rows[i][2]], rows[i][0], band_rank[rows[i][1]], i),
            "case": lambda i: (i,)}
    assert set(keys) - {None} == set(SORTS)
    checked = 0
    for user in (w.admin, w.auditor):
        for filters in ({}, {"band": "7-10"}, {"municipality": "Odense"}, {"municipality": "Ærø", "status": "x"}):
            for sort in keys:
                listed = [i for i in w.case_ids
                          if (user.role == "admin" or rows[i][3] == user.id)
                          and rows[i][0] == filters.get("municipality", rows[i][0])
                          and rows[i][1] == filters.get("band", rows[i][1])]
                listed.sort(key=keys[sort])
                for cid in w.case_ids:
                    start = listed.index(cid) + 1 if cid in listed else 0
                    expected = next((i for i in listed[start:] + listed[:start]
                                     if i != cid and rows[i][2] in ("not_started", "in_progress")), None)
                    with Session(engine) as s:
                        found = next_case(s, s.get(type(user), user.id), s.get(Case, cid), {**filters, "sort": sort})
                        assert (found.id if found else None) == expected, (user.username, filters, sort, cid)
                    checked += expected is not None
    assert checked > 100
