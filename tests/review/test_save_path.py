"""The cost of one save (issue 13), counted rather than timed: one read of the case's
answers, one statement that checks and bumps the version, one walk of the skip
logic, on the form's autosave and the JSON API; and the one walk gives the same
applicability, values and messages as evaluating before and after separately."""
from __future__ import annotations

import random
import re
from contextlib import contextmanager

from sqlalchemy import event

from audit.instrument.model import Instrument
from tests.review.fill import candidates_for


@contextmanager
def counted(engine, monkeypatch):  # type: ignore[no-untyped-def]
    seen: dict[str, list] = {"sql": [], "walks": []}

    def on_execute(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        seen["sql"].append(" ".join(statement.split()))

    real_run, real_transition = Instrument._run, Instrument.transition

    def run(self, *a, **kw):  # type: ignore[no-untyped-def]
        seen["walks"].append("_run")
        return real_run(self, *a, **kw)

    def transition(self, *a, **kw):  # type: ignore[no-untyped-def]
        seen["walks"].append("transition")
        return real_transition(self, *a, **kw)

    monkeypatch.setattr(Instrument, "_run", run)
    monkeypatch.setattr(Instrument, "transition", transition)
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def _answer_reads(sql: list[str]) -> list[str]:
    return [s for s in sql if s.upper().startswith("SELECT") and re.search(r'\bFROM "?answer"?\b', s)]


def _version_bumps(sql: list[str]) -> list[str]:
    return [s for s in sql if s.upper().startswith('UPDATE "CASE"') and "version" in s.lower()]


def test_one_autosave_reads_the_answers_once_bumps_once_and_walks_the_skip_logic_once(
        engine, world, client_for, monkeypatch):
    c, token = client_for(world.auditor)
    cid = world.case_ids[0]
    page = c.get(f"/review/cases/{cid}").text
    version = int(re.search(r'id="form-version" name="version" value="(\d+)"', page).group(1))
    with counted(engine, monkeypatch) as seen:
        r = c.post(f"/review/cases/{cid}/answer", data={"item": "plan_exists", "value": "ja", "version": version},
                   headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert "Saved" in r.text and 'id="item-plan_job_goal"' in r.text      # a skipped item swapped in
    assert len(_answer_reads(seen["sql"])) == 1, _answer_reads(seen["sql"])
    assert len(_version_bumps(seen["sql"])) == 1, seen["sql"]
    assert seen["walks"] == ["transition"]
    with counted(engine, monkeypatch) as seen:
        r = c.put(f"/api/review/cases/{cid}/answers/plan_job_goal", headers={"X-CSRF-Token": token},
                  json={"value": "ja", "expected_version": version + 1})
    assert r.status_code == 200 and r.json()["applicable"]["plan_job_goal_concrete"] is True
    assert len(_answer_reads(seen["sql"])) == 1 and len(_version_bumps(seen["sql"])) == 1
    assert seen["walks"] == ["transition"]


def test_transition_equals_evaluating_before_and_after(world):
    """The one-walk transition against the full engine run twice, on the real instrument."""
    inst = world.instrument
    rng = random.Random(13)
    items = [i for i in inst.items if not i.is_calculated]
    for trial in range(300):
        answers: dict = {}
        for item in rng.sample(items, rng.randrange(0, len(items))):
            values = candidates_for(item)
            if values:
                answers[item.name] = rng.choice(values)
        item = rng.choice(items)
        value = rng.choice(candidates_for(item) + [None, "måske", 999, -1, ["x"], "2019-13-01"])
        after_answers = {**answers, item.name: value}
        move = inst.transition(answers, item.name, value)
        assert move.before[0] == inst.applicable(answers)
        assert move.after[0] == inst.applicable(after_answers)
        assert {k: move.before[1][k] for k in inst.derive(answers)} == inst.derive(answers)
        assert {k: move.after[1][k] for k in inst.derive(after_answers)} == inst.derive(after_answers)
        assert move.after[1] == inst.effective(after_answers)
        assert move.problems == inst.check_answer(item.name, value, answers), (item.name, value)
        moved = {n for n in move.after[0] if move.after[0][n] != move.before[0][n]
                 or move.after[1][n] != move.before[1][n]}
        assert moved == set(move.moved)
