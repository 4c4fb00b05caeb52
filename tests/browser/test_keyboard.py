"""A case reviewed with the keyboard alone (WCAG 2.1.1): log in, open the case from the work
list, answer every required item that applies, and complete the case, using only Tab,
Shift+Tab, the arrow keys, Space and Enter (and typing into text fields). No mouse click,
no element focused or filled from the script."""
from __future__ import annotations

import pytest
from sqlmodel import Session

from audit.models import Case
from audit.review.answers import case_answers
from tests.conftest import PASSWORD
from tests.hearing.world import make_world, use_instrument

pytestmark = pytest.mark.danish

# What has the focus: its kind, and for a field of the form whether its item is required and answered.
AT_LEAST = {"passive_period_longest_months": "12"}   # its constraint: . >= 12
FOCUS = """() => {
  const el = document.activeElement;
  const item = el.closest('.item');
  const info = {tag: el.tagName.toLowerCase(), type: el.type || '', text: (el.textContent || '').trim(),
                testid: el.getAttribute('data-testid'), name: el.name || '', item: item ? item.id : null,
                cls: el.className || ''};
  if (item && el.name === 'value') {
    info.required = !!item.querySelector('abbr.req');
    const field = item.querySelector('[name=value]');
    info.answered = !!item.querySelector('input[name=value]:checked') ||
      (field && !['radio', 'checkbox'].includes(field.type) && field.value !== '');
  }
  return info;
}"""


def tab_to(page, wanted, limit: int = 400):  # type: ignore[no-untyped-def]
    for _ in range(limit):
        page.keyboard.press("Tab")
        info = page.evaluate(FOCUS)
        if wanted(info):
            return info
    raise AssertionError("never reached with Tab")


def test_a_case_is_reviewed_with_the_keyboard_only(live_server, page, engine, make_user, monkeypatch):
    world = make_world(engine, make_user)
    use_instrument(monkeypatch, world.instrument)
    case_id = world.aarhus[0]  # not started, assigned to bo
    page.goto(f"{live_server}/login")
    # the username field has the focus (autofocus); type, Tab to the password, Enter sends the form
    page.keyboard.type(world.auditor.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/review")

    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == f"Sag {case_id}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/review/cases/{case_id}")

    answered: set[str] = set()
    for _attempt in range(6):
        for _ in range(3000):
            page.keyboard.press("Tab")
            f = page.evaluate(FOCUS)
            if f["testid"] == "complete":
                break
            if f.get("required") and not f.get("answered") and f["item"] not in answered:
                with page.expect_response(lambda r: "/answer" in r.url and r.request.method == "POST"):
                    if f["type"] in ("radio", "checkbox"):
                        page.keyboard.press("Space")        # the first option of the group
                    elif f["tag"] == "select":
                        page.keyboard.press("ArrowDown")    # the first choice after "–"
                    elif f["type"] == "date":
                        page.keyboard.type("01012020")
                        page.keyboard.press("Tab")
                    else:
                        # a number each numeric item's rule accepts: 1, or 12 where at least 12 months are asked
                        if "num" in f["cls"].split():
                            page.keyboard.type(AT_LEAST.get(f["item"].removeprefix("item-"), "1"))
                        else:
                            page.keyboard.type("1" if "num" in (f["name"] or "") or f["type"] == "text" else "Tekst")
                        page.keyboard.press("Tab")
                page.wait_for_timeout(300)   # htmx swaps the answer's effects in after the response (items made applicable)
                answered.add(f["item"])
        else:
            raise AssertionError("the complete button was never reached with Tab")
        page.keyboard.press("Enter")   # "Afslut sagen"
        page.wait_for_load_state("networkidle")
        if page.get_by_test_id("case-status").inner_text() == "afsluttet":
            break
        # items that the answers made applicable are listed: go round once more
        assert page.get_by_test_id("missing").is_visible()
    assert page.get_by_test_id("case-status").inner_text() == "afsluttet"
    assert page.get_by_test_id("readonly").is_visible()
    with Session(engine) as s:
        case = s.get(Case, case_id)
        assert case.status == "completed"
        assert len(case_answers(s, case_id)) >= len(answered) > 5
