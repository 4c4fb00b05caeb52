"""Simultaneous saves of one case (issue 12, "lost answers"): with the same expected
version exactly one wins and the others are refused (VersionConflict in the room,
409 through the HTTP route); without a version no change and no log entry is lost
and the trail's old values form one chain. On SQLite and PostgreSQL, with threads
on separate connections, released together by a barrier."""
from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import Session, select

from audit.models import AuditLog, Case
from audit.review.answers import VersionConflict, case_answers
from audit.review.save import save_answer
from tests.review.live import client, live_server, twin

ITEM = "interviews_count"   # a whole number 0..150 that always applies
WRITERS = 6
TRIALS = 5


def _trail(engine, case_id: int, item: str = ITEM) -> list[AuditLog]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(AuditLog).where(AuditLog.entity == "answer", AuditLog.field == "value",
                                                  AuditLog.entity_id == f"{case_id}/{item}")
                           .order_by(AuditLog.id)).all())


def _version(engine, case_id: int) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.get(Case, case_id).version


def _run_together(n: int, fn):  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)

    def go(k: int):  # type: ignore[no-untyped-def]
        barrier.wait()
        return fn(k)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


def test_room_function_same_expected_version_exactly_one_wins(engine, world):
    cid = world.case_ids[0]
    previous = None
    for trial in range(TRIALS):
        version = _version(engine, cid)
        log_before = len(_trail(engine, cid))

        def save(k: int):  # type: ignore[no-untyped-def]
            value = 10 * trial + k + 1
            with Session(engine) as s:
                case = s.get(Case, cid)
                try:
                    save_answer(s, owner=case, item=ITEM, value=value, user=world.auditor,
                                expected_version=version, commit=True)
                    return ("won", value)
                except VersionConflict as exc:
                    s.rollback()
                    return ("conflict", exc.current_version)

        results = _run_together(WRITERS, save)
        won = [v for r, v in results if r == "won"]
        assert len(won) == 1, results
        assert all(v == version + 1 for r, v in results if r == "conflict"), results
        assert _version(engine, cid) == version + 1
        trail = _trail(engine, cid)[log_before:]
        assert len(trail) == 1, [(e.old_value, e.new_value) for e in trail]
        assert json.loads(trail[0].new_value) == won[0]
        assert (None if trail[0].old_value is None else json.loads(trail[0].old_value)) == previous
        with Session(engine) as s:
            assert case_answers(s, cid)[ITEM] == won[0]
        previous = won[0]


def test_http_route_same_expected_version_one_200_the_others_409(engine, world, app):
    cid = world.case_ids[0]
    with live_server(app) as base:
        c, token = client(base, world.auditor.username)
        tabs = [c] + [twin(c) for _ in range(WRITERS - 1)]
        previous = None
        try:
            for trial in range(TRIALS):
                version = c.get(f"/api/review/cases/{cid}/form").json()["version"]
                log_before = len(_trail(engine, cid))

                def put(k: int):  # type: ignore[no-untyped-def]
                    value = 10 * trial + k + 1
                    r = tabs[k].put(f"/api/review/cases/{cid}/answers/{ITEM}", headers={"X-CSRF-Token": token},
                                    json={"value": value, "expected_version": version})
                    return r.status_code, value, r.json()

                results = _run_together(WRITERS, put)
                codes = sorted(code for code, _, _ in results)
                assert codes == [200] + [409] * (WRITERS - 1), results
                winner = next(v for code, v, _ in results if code == 200)
                assert all(body["current_version"] == version + 1 for code, _, body in results if code == 409)
                trail = _trail(engine, cid)[log_before:]
                assert [json.loads(e.new_value) for e in trail] == [winner]
                assert (None if trail[0].old_value is None else json.loads(trail[0].old_value)) == previous
                assert _version(engine, cid) == version + 1
                previous = winner
        finally:
            for t in tabs:
                t.close()


def test_without_a_version_every_change_is_kept_and_the_trail_is_one_chain(engine, world, app):
    """Writers that send no version: each write is applied after the one before it,
    so the trail has one entry per write, each old value the previous new value."""
    cid = world.case_ids[1]
    with live_server(app) as base:
        c, token = client(base, world.auditor.username)
        tabs = [c] + [twin(c) for _ in range(WRITERS - 1)]
        try:
            def put(k: int):  # type: ignore[no-untyped-def]
                r = tabs[k].put(f"/api/review/cases/{cid}/answers/{ITEM}", headers={"X-CSRF-Token": token},
                                json={"value": 100 + k})
                return r.status_code

            assert _run_together(WRITERS, put) == [200] * WRITERS

            def room(k: int):  # type: ignore[no-untyped-def]  # the room function too, on its own connections
                with Session(engine) as s:
                    save_answer(s, owner=s.get(Case, cid), item=ITEM, value=120 + k, user=world.auditor, commit=True)

            _run_together(WRITERS, room)
        finally:
            for t in tabs:
                t.close()
    trail = _trail(engine, cid)
    news = [json.loads(e.new_value) for e in trail]
    olds = [None if e.old_value is None else json.loads(e.old_value) for e in trail]
    assert sorted(news) == sorted([100 + k for k in range(WRITERS)] + [120 + k for k in range(WRITERS)])
    assert olds == [None] + news[:-1]            # a chain: no old value repeats, none is skipped
    assert _version(engine, cid) == 2 * WRITERS
    with Session(engine) as s:
        assert case_answers(s, cid)[ITEM] == news[-1]
        status_changes = s.exec(select(AuditLog).where(AuditLog.entity == "case", AuditLog.field == "status",
                                                       AuditLog.entity_id == str(cid))).all()
        assert [(e.old_value, e.new_value) for e in status_changes] == [("not_started", "in_progress")]
