"""The columnar case frame equals the frame main built row by row (tests/statistics/reference_frame.py),
cell by cell: same columns, dtypes, attrs, and in every cell a value of the same type and the
same value. On the demo audit (both databases) and on a synthetic 10,000-case audit (SQLite),
each with stale answers to items that no longer apply, malformed stored values, unknown items,
answers stored for calculated fields and second-review answers mixed in."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from audit.statistics import dataset
from tests.statistics import reference_frame

STATUS_SETS = (dataset.REPORT_STATUSES, None, ("in_progress",))

# Stored values no well-behaved form writes, but an old import or a hand edit might.
MALFORMED = ['"maybe"', '"x"', '[]', '""', '12.5', 'true', '{"a": 1}', str(2 ** 60), '["ukendt"]',
             '[1, 2]', 'null', None, '"2019-02-30"', '-3', '"ja"', '["fysiske", "fysiske"]', '7']


def same_cell(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def assert_same_frames(old: pd.DataFrame, new: pd.DataFrame) -> int:
    """Every cell: same type, same value. Returns the number of cells compared. The reference
    frame predates the derived variables (questionnaires/derived_2022.yaml, checked in
    test_derived.py) and the register variables (registers/kontanthjaelp_2022.yaml, checked in
    tests/population): the new frame has them after all of the reference's columns."""
    import yaml

    derived = list(yaml.safe_load(open("questionnaires/derived_2022.yaml"))["variables"])
    register = [v["code"] for v in yaml.safe_load(open("registers/kontanthjaelp_2022.yaml"))["variables"]]
    extra = [c for c in new.columns if c not in old.columns]
    assert set(extra) <= set(derived) | set(register), extra  # derived and register variables on top
    new = new[[c for c in new.columns if c in old.columns]]
    assert list(old.columns) == list(new.columns)
    assert old.dtypes.to_dict() == new.dtypes.to_dict()
    assert set(old.attrs) == set(new.attrs)
    for key, value in old.attrs.items():      # the derived variables' entries come on top
        got = new.attrs[key]
        if isinstance(value, dict) and isinstance(got, dict):
            assert set(got) - set(value) <= set(derived) | set(register), (key, set(got) - set(value))
            got = {k: v for k, v in got.items() if k in value}
        assert value == got, key
    assert len(old) == len(new)
    pd.testing.assert_frame_equal(old, new, check_exact=True)
    cells = 0
    for col in old.columns:
        a, b = old[col].tolist(), new[col].tolist()
        bad = [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if not same_cell(x, y)]
        assert not bad, f"column {col}: first differences {bad[:5]}"
        cells += len(a)
    return cells


def add_noise(session: Session, audit_id: int, seed: int) -> int:
    """Stale, malformed and odd answers on a few percent of the audit's cases, written directly."""
    from audit.bulk import insert_rows
    from audit.models import Answer, Case
    from audit.review.instrument import instrument_for
    from audit.models import Audit

    from audit.models import utcnow

    now = utcnow()
    rng = np.random.default_rng(seed)
    inst = instrument_for(session.get(Audit, audit_id))
    answerable = [i for i in inst.items if i.level == "case"]
    c, a = Case.__table__.c, Answer.__table__.c
    conn = session.connection()
    case_ids = [r[0] for r in conn.execute(select(c.id).where(c.audit_id == audit_id))]
    existing = {(r[0], r[1]) for r in conn.execute(
        select(a.case_id, a.item).join_from(Answer.__table__, Case.__table__, c.id == a.case_id)
        .where(c.audit_id == audit_id, a.pass_no == 1))}
    plausible = {"yes_no": '"ja"', "yes_no_na": '"nej"', "select_one": None, "select_multiple": None,
                 "integer": "3", "scale": "4", "date": '"2019-05-01"', "text": '"=1+1"', "calculate": '"3"'}
    rows = []
    for case_id in rng.choice(case_ids, max(3, len(case_ids) // 25), replace=False).tolist():
        for item in rng.choice(answerable, 6, replace=False):
            if (case_id, item.name) in existing:
                continue
            value = plausible[item.type]
            if value is None:  # a valid code of the item, stored where the item does not apply
                codes = [ch.code for ch in item.choices]
                value = json.dumps(codes[:1] if item.type == "select_multiple" else codes[0])
            rows.append((case_id, item.name, 1, value, "", now))
            existing.add((case_id, item.name))
        rows.append((case_id, "not_an_item", 1, '"ja"', "", now))
        rows.append((case_id, "plan_exists", 2, '"nej"', "", now))  # second review: never in the frame
    insert_rows(session, Answer.__table__, ("case_id", "item", "pass_no", "value_json", "note", "updated_at"), rows)
    stored = [r[0] for r in conn.execute(
        select(a.id).join_from(Answer.__table__, Case.__table__, c.id == a.case_id)
        .where(c.audit_id == audit_id, a.pass_no == 1))]
    hits = rng.choice(stored, max(len(MALFORMED), len(stored) // 100), replace=False).tolist()
    for k, answer_id in enumerate(hits):
        conn.execute(update(Answer.__table__).where(a.id == answer_id).values(value_json=MALFORMED[k % len(MALFORMED)]))
    return len(rows) + len(hits)


def compare_all(session: Session, audit: object) -> int:
    cells = 0
    for statuses in STATUS_SETS:
        dataset.clear_cache()
        old = reference_frame.load_case_frame(session, audit, statuses=statuses)
        new = dataset.load_case_frame(session, audit, statuses=statuses)
        cells += assert_same_frames(old, new)
        again = dataset.load_case_frame(session, audit, statuses=statuses)  # from the cache
        cells += assert_same_frames(old, again)
        chunks = list(dataset.iter_case_frames(session, audit, statuses=statuses, chunk_cases=97))
        joined = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
        joined.attrs = chunks[0].attrs
        cells += assert_same_frames(old, _retype(joined, old))
    return cells


def _retype(joined: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """Chunks are typed per chunk (a calculated share is numeric only where a chunk has numbers);
    the cells themselves must be the same."""
    for col in like.columns:
        if joined[col].dtype != like[col].dtype:
            joined[col] = joined[col].astype(like[col].dtype)
    return joined


def test_demo_frame_equals_the_row_engine_frame(engine, built_once):
    from tests.conftest import build_demo_world

    name = built_once("demo", build_demo_world)["audit"]  # SQLite: a copy of the session's demo
    with Session(engine) as s:
        from audit.audits import get_audit

        audit = get_audit(s, name)
        assert add_noise(s, audit.id, seed=5) > 20
        s.commit()
    with Session(engine) as s:
        audit = get_audit(s, name)
        assert compare_all(s, audit) > 3 * 300 * 190
        # the noise reaches the frame: a malformed value shows as stored where the item applies
        frame = dataset.load_case_frame(s, audit, statuses=None)
        shown = {v for col in frame.columns[12:] for v in frame[col].tolist() if isinstance(v, str)}
        assert "maybe" in shown or "x" in shown


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_ten_thousand_case_frame_equals_the_row_engine_frame(engine):
    from audit.demo import build_synthetic_audit

    with Session(engine) as s:
        info = build_synthetic_audit(s, "Scale 10k", cases=10_000, seed=3)
        add_noise(s, info["audit_id"], seed=3)
        s.commit()
    assert info["cases"] >= 10_000
    with Session(engine) as s:
        from audit.audits import get_audit

        audit = get_audit(s, "Scale 10k")
        dataset.clear_cache()
        old = reference_frame.load_case_frame(s, audit, statuses=None)
        new = dataset.load_case_frame(s, audit, statuses=None)
        assert len(old) == info["cases"]
        assert assert_same_frames(old, new) > 10_000 * 190
        # statuses filter the same cases
        reported = dataset.load_case_frame(s, audit)
        assert set(reported["case_id"]) == set(old.loc[old["case_id"].isin(reported["case_id"]), "case_id"])
        assert 0.8 * len(old) < len(reported) < 0.95 * len(old)
