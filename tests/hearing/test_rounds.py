"""Opening, following and closing comment rounds."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from audit.hearing.rounds import (HearingError, close_round, open_round, parse_deadline, round_status, rounds_of)
from audit.models import Audit, AuditLog, Case, HearingRound, RoundMunicipality

SOON = datetime.now(timezone.utc) + timedelta(days=14)


def test_open_round_moves_completed_cases_to_hearing_and_logs(engine, world):
    with Session(engine) as s:
        audit = s.get(Audit, world.audit_id)
        rnd = open_round(s, audit, ["odense", "København"], SOON, world.admin)
        s.commit()
        assert rnd.number == 1
        members = s.exec(select(RoundMunicipality.municipality).where(RoundMunicipality.round_id == rnd.id)).all()
        assert sorted(members) == ["København", "Odense"]  # canonical spelling
        statuses = {c.id: c.status for c in s.exec(select(Case)).all()}
        assert all(statuses[i] == "in_hearing" for i in world.odense + world.kbh)
        assert statuses[world.aarhus[0]] == "not_started"
        log = s.exec(select(AuditLog).where(AuditLog.entity == "case", AuditLog.field == "status",
                                            AuditLog.new_value == "in_hearing")).all()
        assert len(log) == 5 and all(e.username == "ada" and e.reason == "hearing round 1" for e in log)
        assert s.exec(select(AuditLog).where(AuditLog.entity == "hearing_round")).one().field == "opened"


def test_open_round_refuses_municipality_without_completed_cases_or_already_open(engine, world):
    with Session(engine) as s:
        audit = s.get(Audit, world.audit_id)
        with pytest.raises(HearingError, match="Aarhus has no completed cases"):
            open_round(s, audit, ["Odense", "Aarhus"], SOON, world.admin)
        s.rollback()
        assert s.exec(select(HearingRound)).all() == []
        open_round(s, audit, ["Odense"], SOON, world.admin)
        s.commit()
        with pytest.raises(HearingError, match="Odense is already in an open round"):
            open_round(s, audit, ["Odense"], SOON, world.admin)
        with pytest.raises(HearingError, match="already past"):
            open_round(s, audit, ["København"], datetime.now(timezone.utc) - timedelta(hours=1), world.admin)
        with pytest.raises(HearingError, match="unknown municipality"):
            open_round(s, audit, ["Atlantis"], SOON, world.admin)
        with pytest.raises(HearingError, match="at least one"):
            open_round(s, audit, [], SOON, world.admin)


def test_several_rounds_per_audit_and_status_per_municipality(engine, world):
    with Session(engine) as s:
        audit = s.get(Audit, world.audit_id)
        r1 = open_round(s, audit, ["Odense"], SOON, world.admin)
        r2 = open_round(s, audit, ["København"], SOON, world.admin)  # a second round, open at the same time
        s.commit()
        assert (r1.number, r2.number) == (1, 2)
        [st] = round_status(s, r1)
        assert (st.municipality, st.cases, st.drafts, st.submitted, st.responded) == ("Odense", 3, 0, 0, False)
        close_round(s, r1, world.admin)
        s.commit()
        with pytest.raises(HearingError, match="already closed"):
            close_round(s, r1, world.admin)
        # Aarhus completes its case later: a third round for it after the first closed
        aarhus = s.get(Case, world.aarhus[0])
        aarhus.status = "completed"
        s.add(aarhus)
        r3 = open_round(s, audit, ["Aarhus"], "2999-06-01", world.admin)
        s.commit()
        assert [r.number for r in rounds_of(s, audit.id)] == [1, 2, 3]
        assert r3.deadline.replace(tzinfo=timezone.utc) == datetime(2999, 6, 1, 23, 59, 59, tzinfo=timezone.utc)
        assert [e.field for e in s.exec(select(AuditLog).where(AuditLog.entity == "hearing_round")
                                         .order_by(AuditLog.id)).all()] == ["opened", "opened", "closed", "opened"]


def test_deadline_parsing_is_utc():
    assert parse_deadline("2022-06-01") == datetime(2022, 6, 1, 23, 59, 59, tzinfo=timezone.utc)
    assert parse_deadline("2022-06-01T12:00+02:00") == datetime(2022, 6, 1, 10, 0, tzinfo=timezone.utc)
    assert parse_deadline("2022-06-01T12:00") == datetime(2022, 6, 1, 12, 0, tzinfo=timezone.utc)
    with pytest.raises(HearingError, match="expected YYYY-MM-DD"):
        parse_deadline("1 June")


def test_deadline_comparison_is_in_utc_whatever_offset_was_given():
    from audit.hearing.rounds import deadline_passed

    rnd = HearingRound(audit_id=1, number=1, deadline=parse_deadline("2022-06-01T00:30+02:00"))  # 22:30 UTC
    assert deadline_passed(rnd, now=datetime(2022, 5, 31, 23, 0, tzinfo=timezone.utc))
    assert not deadline_passed(rnd, now=datetime(2022, 5, 31, 22, 0, tzinfo=timezone.utc))
    naive = HearingRound(audit_id=1, number=1, deadline=datetime(2022, 5, 31, 22, 30))  # as SQLite returns it
    assert deadline_passed(naive, now=datetime(2022, 6, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))))  # 23:00Z
    assert not deadline_passed(naive, now=datetime(2022, 6, 1, 0, 29, tzinfo=timezone(timedelta(hours=2))))  # 22:29Z
