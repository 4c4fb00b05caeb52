"""Reading ahead (audit.statistics.dataset._ahead): the next piece of answers is read by a
thread on its own connection while the last one is decoded. The frame read so, whole or in
chunks, is cell for cell the frame read in one query on the session's own connection; a
session with a change of its own waiting for commit reads on its own connection (the
thread would not see the change); an error in the reader reaches the caller; a caller that
stops early leaves no thread behind."""
from __future__ import annotations

import threading
import time

import pandas as pd
import pytest
from sqlmodel import Session

from audit.statistics import dataset
from tests.statistics.test_case_frame_columnar import _retype, assert_same_frames


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "case-frame-reader"]


@pytest.fixture()
def demo(engine):
    from audit.audits import get_audit
    from audit.demo import build_demo

    with Session(engine) as s:
        result = build_demo(s, seed=11)
        s.commit()
    with Session(engine) as s:
        yield s, get_audit(s, result["audit"])


def test_frame_read_ahead_in_pieces_equals_one_query(demo, monkeypatch):
    session, audit = demo
    monkeypatch.setattr(dataset, "READ_AHEAD", False)
    dataset.clear_cache()
    one = dataset.load_case_frame(session, audit, statuses=None)
    dataset.clear_cache()  # chunks read from the database, not sliced from the cached frame
    one_chunks = list(dataset.iter_case_frames(session, audit, statuses=None, chunk_cases=50))
    monkeypatch.setattr(dataset, "READ_AHEAD", True)
    monkeypatch.setattr(dataset, "PIECE_CASES", 37)  # the demo's 375 cases in 11 pieces
    assert dataset._reader_engine(session, audit.id) is not None
    seen: list[int] = []
    real = dataset._read_answers

    def counting(conn, *args):  # type: ignore[no-untyped-def]
        seen.append(threading.get_ident())
        return real(conn, *args)

    monkeypatch.setattr(dataset, "_read_answers", counting)
    dataset.clear_cache()
    ahead = dataset.load_case_frame(session, audit, statuses=None)
    assert len(seen) == 11 and threading.get_ident() not in seen  # read by the thread, in pieces
    assert len(one) == 375
    assert assert_same_frames(one, ahead) > 375 * 190
    seen.clear()
    dataset.clear_cache()
    chunks = list(dataset.iter_case_frames(session, audit, statuses=None, chunk_cases=50))
    assert len(seen) == 8 and threading.get_ident() not in seen
    assert [len(c) for c in chunks] == [len(c) for c in one_chunks] == [50] * 7 + [25]
    joined = pd.concat(chunks, ignore_index=True)
    joined.attrs = chunks[0].attrs
    assert assert_same_frames(one, _retype(joined, one)) > 375 * 190
    assert not _reader_threads()


def test_a_pending_change_is_read_on_the_sessions_connection(demo):
    from sqlalchemy import select

    from audit.models import Answer, Case

    session, audit = demo
    assert dataset._reader_engine(session, audit.id) is not None
    answer = session.scalars(select(Answer).join(Case, Case.id == Answer.case_id)
                             .where(Case.audit_id == audit.id, Answer.pass_no == 1)).first()
    answer.note = "changed, not committed"
    session.add(answer)
    session.flush()
    assert dataset._reader_engine(session, audit.id) is None
    session.rollback()
    # a bulk statement not yet committed (SQLite: the connection's write transaction is open)
    from sqlalchemy import update

    session.connection().execute(update(Answer.__table__).where(Answer.__table__.c.id == answer.id)
                                 .values(note="bulk, not committed"))
    if session.get_bind().dialect.name == "sqlite":
        assert dataset._reader_engine(session, audit.id) is None
    session.rollback()
    assert dataset._reader_engine(session, audit.id) is not None


def test_an_error_in_the_reader_reaches_the_caller_and_an_early_stop_ends_the_thread():
    def failing():
        yield 1
        raise ValueError("the database went away")

    it = dataset._ahead(failing())
    assert next(it) == 1
    with pytest.raises(ValueError, match="went away"):
        next(it)

    closed = threading.Event()

    def endless():
        try:
            k = 0
            while True:
                k += 1
                yield k
        finally:
            closed.set()  # the generator (its connection) is closed by the reader

    it = dataset._ahead(endless())
    assert [next(it), next(it), next(it)] == [1, 2, 3]
    it.close()
    assert closed.wait(5)
    deadline = time.monotonic() + 5
    while _reader_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _reader_threads()
