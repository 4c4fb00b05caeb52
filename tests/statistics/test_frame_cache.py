"""The cached case frame is never older than the database: every change to what it shows
(an answer through set_answer, a case's status through the ORM, a bulk write) replaces
Audit.data_version at commit, a rolled-back change leaves no trace in the cache, and a
session reading its own uncommitted change sees it without caching it."""
from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlmodel import select
from sqlmodel import Session

from audit.models import Audit, Case
from audit.statistics import dataset


def _build_small_audit(engine):  # type: ignore[no-untyped-def]
    from audit.demo import build_synthetic_audit

    with Session(engine) as s:
        info = build_synthetic_audit(s, "Cache test", cases=200, seed=2)
        s.commit()
    return info


@pytest.fixture
def small_audit(engine, built_once):  # type: ignore[no-untyped-def]
    info = built_once("frame_cache_small_audit", _build_small_audit)  # SQLite: a copy per test
    dataset.clear_cache()
    return info


def _version(engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(Audit.data_version).where(Audit.name == "Cache test")).one()


def _a_completed_case(s: Session) -> Case:
    return s.exec(select(Case).where(Case.status == "completed", Case.active == True)  # noqa: E712
                  .order_by(Case.id)).first()


class Statements:
    def __init__(self, engine):  # type: ignore[no-untyped-def]
        self.seen: list[str] = []
        event.listen(engine, "before_cursor_execute", self._note)
        self.engine = engine

    def _note(self, conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        self.seen.append(statement)

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._note)


def test_frame_is_cached_until_the_data_version_changes(engine, small_audit):
    from audit.review.answers import set_answer
    from audit.review.instrument import instrument_for

    with Session(engine) as s:
        first = dataset.load_case_frame(s, "Cache test")
        watch = Statements(engine)
        again = dataset.load_case_frame(s, "Cache test")
        watch.close()
        assert again.equals(first) and again is not first
        assert not [q for q in watch.seen if "answer" in q.lower()]  # served from the cache

        case = _a_completed_case(s)
        row = first.index[first["case_id"] == case.id][0]
        old = first.at[row, "plan_exists"]
        new = "nej" if old == "ja" else "ja"
        before = _version(engine)
        audit = s.get(Audit, case.audit_id)
        set_answer(s, case=case, item="plan_exists", value=new, user=None, instrument=instrument_for(audit))
        mine = dataset.load_case_frame(s, "Cache test")  # my own change, not yet committed
        assert mine.at[row, "plan_exists"] == new
        s.commit()
    assert _version(engine) != before
    with Session(engine) as s:
        frame = dataset.load_case_frame(s, "Cache test")
        assert frame.at[row, "plan_exists"] == new


def test_rolled_back_change_is_not_served_from_the_cache(engine, small_audit):
    from audit.review.answers import set_answer
    from audit.review.instrument import instrument_for

    with Session(engine) as s:
        base = dataset.load_case_frame(s, "Cache test")
    with Session(engine) as s:
        case = _a_completed_case(s)
        row = base.index[base["case_id"] == case.id][0]
        old = base.at[row, "plan_exists"]
        audit = s.get(Audit, case.audit_id)
        set_answer(s, case=case, item="plan_exists", value="nej" if old == "ja" else "ja", user=None,
                   instrument=instrument_for(audit))
        assert dataset.load_case_frame(s, "Cache test").at[row, "plan_exists"] != old
        s.rollback()
    with Session(engine) as s:
        assert dataset.load_case_frame(s, "Cache test").at[row, "plan_exists"] == old


def test_a_status_change_through_the_orm_reaches_the_frame(engine, small_audit):
    with Session(engine) as s:
        frame = dataset.load_case_frame(s, "Cache test")
        case = _a_completed_case(s)
        assert case.id in set(frame["case_id"])
        before = _version(engine)
        case.status = "in_progress"  # as the workflow reopens a case
        s.add(case)
        s.commit()
        case_id = case.id
    assert _version(engine) != before
    with Session(engine) as s:
        assert case_id not in set(dataset.load_case_frame(s, "Cache test")["case_id"])
        assert case_id in set(dataset.load_case_frame(s, "Cache test", statuses=None)["case_id"])


def test_a_bulk_write_bumps_the_version(engine, small_audit):
    from audit.bulk import insert_rows
    from audit.dataversion import bump_data_version
    from audit.models import Answer, utcnow

    with Session(engine) as s:
        frame = dataset.load_case_frame(s, "Cache test")
        case = _a_completed_case(s)
        row = frame.index[frame["case_id"] == case.id][0]
        if frame.at[row, "mentor"] is None:
            assert "mentor" in frame.columns
        before = _version(engine)
        # bulk writers say so themselves (nothing the ORM could notice)
        insert_rows(s, Answer.__table__, ("case_id", "item", "pass_no", "value_json", "note", "updated_at"),
                    [(case.id, "zz_unknown", 1, '"ja"', "", utcnow())])
        bump_data_version(s, case.audit_id)
        s.commit()
    assert _version(engine) != before
