"""Cohen's kappa: a hand-computed example, statsmodels on the same tables, and
agreement per item over cases reviewed twice."""
from __future__ import annotations

import random

import pytest
from sqlmodel import Session
from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa

from audit.models import Audit, Case
from audit.review.agreement import agreement, cohen_kappa, confusion_table
from audit.review.answers import set_answer
from audit.review.assignment import mark_second_review
from audit.review.instrument import instrument_for


def test_kappa_hand_computed():
    # first review ja/nej on 10 cases, table [[4, 1], [2, 3]] (rows first review, columns second)
    pairs = [("ja", "ja")] * 4 + [("ja", "nej")] + [("nej", "ja")] * 2 + [("nej", "nej")] * 3
    # p_o = 7/10; p_e = (5*6 + 5*4) / 100 = 0.5; kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    cats, table = confusion_table(pairs)
    assert cats == ["ja", "nej"] and table == [[4, 1], [2, 3]]
    assert sm_kappa(table).kappa == pytest.approx(0.4)


@pytest.mark.parametrize("seed", range(5))
def test_kappa_equals_statsmodels_on_random_tables(seed):
    rng = random.Random(seed)
    cats = ["jobrettet", "rehabiliterende", "fritaget"]
    pairs = []
    for _ in range(60):
        a = rng.choice(cats)
        pairs.append((a, a if rng.random() < 0.6 else rng.choice(cats)))
    _, table = confusion_table(pairs)
    assert cohen_kappa(pairs) == pytest.approx(sm_kappa(table).kappa)


def test_kappa_edge_cases():
    assert cohen_kappa([]) is None
    assert cohen_kappa([("ja", "ja")] * 5) is None  # one category used by both: undefined
    assert cohen_kappa([(["a", "b"], ["b", "a"]), (["a"], ["b"])]) is not None  # sets compared as sets


def test_agreement_per_item_over_double_reviewed_cases(engine, world):
    with Session(engine) as s:
        audit = s.get(Audit, world.audit_id)
        ids = mark_second_review(s, audit, 1.0, seed=1, auditors=[world.auditor, world.auditor2], by=world.admin)
        assert len(ids) == 5
        for cid in ids:
            case = s.get(Case, cid)
            assert case.second_reviewer not in (None, case.assigned_to)
        inst = instrument_for(audit)
        first = ["ja", "ja", "nej", "nej", "ja"]
        second = ["ja", "nej", "nej", "nej", "ja"]
        for cid, a, b in zip(ids, first, second):
            case = s.get(Case, cid)
            for pass_no in (1, 2):
                set_answer(s, case=case, item="plan_exists", value="ja", user=None, instrument=inst, pass_no=pass_no)
            set_answer(s, case=case, item="plan_job_goal", value=a, user=None, instrument=inst)
            set_answer(s, case=case, item="plan_job_goal", value=b, user=None, instrument=inst, pass_no=2)
        s.commit()
        rows = {r.item: r for r in agreement(s, audit)}
        row = rows["plan_job_goal"]
        assert row.n == 5 and row.agree == 4 and row.percent == pytest.approx(80.0)
        _, table = confusion_table(list(zip(first, second)))
        assert row.kappa == pytest.approx(sm_kappa(table).kappa)
        # the second review never changes the first review's status
        assert s.get(Case, ids[0]).status == "in_progress" and s.get(Case, ids[0]).second_status == "in_progress"


def test_second_review_draw_is_reproducible(engine, world):
    with Session(engine) as s:
        audit = s.get(Audit, world.audit_id)
        a = mark_second_review(s, audit, 0.4, seed=9, auditors=[world.auditor, world.auditor2], by=None)
        s.rollback()
        b = mark_second_review(s, audit, 0.4, seed=9, auditors=[world.auditor, world.auditor2], by=None)
        assert a == b and len(a) == 2


def test_agreement_counts_an_item_only_where_it_applies_in_both_reviews(engine, world):
    with Session(engine) as s:
        audit = s.get(Audit, world.audit_id)
        ids = mark_second_review(s, audit, 1.0, seed=1, auditors=[world.auditor, world.auditor2], by=None)
        inst = instrument_for(audit)
        a, b = s.get(Case, ids[0]), s.get(Case, ids[1])
        for case, first_goal in ((a, "ja"), (b, "ja")):
            for pass_no in (1, 2):
                set_answer(s, case=case, item="plan_exists", value="ja", user=None, instrument=inst, pass_no=pass_no)
            set_answer(s, case=case, item="plan_job_goal", value="ja", user=None, instrument=inst)
            set_answer(s, case=case, item="plan_job_goal_concrete", value="ja", user=None, instrument=inst)
            set_answer(s, case=case, item="plan_job_goal", value="ja", user=None, instrument=inst, pass_no=2)
            set_answer(s, case=case, item="plan_job_goal_concrete", value="nej", user=None, instrument=inst, pass_no=2)
        # case b: the first reviewer changes the goal to nej; the concrete answer is kept but does not apply
        set_answer(s, case=b, item="plan_job_goal", value="nej", user=None, instrument=inst)
        s.commit()
        rows = {r.item: r for r in agreement(s, audit)}
        assert rows["plan_job_goal_concrete"].n == 1 and rows["plan_job_goal_concrete"].agree == 0
        assert rows["plan_job_goal"].n == 2 and rows["plan_job_goal"].agree == 1


def test_kappa_compares_typed_values_not_text():
    """3 and 3.0 are one answer; so is "3" for a numeric item; a set is compared as a set.
    The expected kappa comes from statsmodels on the table built here by hand."""
    pairs = [(3, 3.0), (2, 2), (3.0, 3), (1, 2), (2, 2.0), (1, 1)]
    # by value: first 3,2,3,1,2,1 / second 3,2,3,2,2,1 -> categories 1,2,3
    table = [[1, 1, 0], [0, 2, 0], [0, 0, 2]]
    assert cohen_kappa(pairs) == pytest.approx(sm_kappa(table).kappa)
    assert confusion_table(pairs) == (["1", "2", "3"], table)
    text_pairs = [("3", 3), ("2", 2.0), ("1", 1), ("2", 1)]
    assert cohen_kappa(text_pairs, numeric=True) == pytest.approx(sm_kappa([[1, 0, 0], [1, 1, 0], [0, 0, 1]]).kappa)
    assert cohen_kappa(text_pairs) != cohen_kappa(text_pairs, numeric=True)  # codes stay text unless numeric
    # sets: rows/columns "a", "a b", "b"
    assert cohen_kappa([(["a", "b"], ("b", "a")), (["a"], ["b"]), (["b"], ["b"])]) == pytest.approx(
        sm_kappa([[0, 0, 1], [0, 1, 0], [0, 0, 1]]).kappa)
