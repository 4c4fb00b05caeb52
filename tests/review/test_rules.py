"""Who-may rules that lived in one path only (issue 12), now asked of
`audit.permissions` by the web, the API, the CLI and the domain functions alike:

- the independence of the second review: the first reviewer cannot write pass 2,
  not through the CLI's sheet import either;
- a locked audit accepts no assignment and no second-review marking, through the
  API, the form or the CLI.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func
from sqlmodel import Session, select

from audit.cli import main
from audit.models import Answer, Audit, AuditLog, Case, utcnow
from audit.review.answers import AnswerError, set_answer
from audit.review.assignment import AssignmentError, assign, mark_second_review


def _mark_for_second_review(engine, world) -> int:  # type: ignore[no-untyped-def]
    """Case 0 (Odense, first reviewer bo) goes to cy for the second review."""
    with Session(engine) as s:
        case = s.get(Case, world.case_ids[0])
        case.second_reviewer, case.second_status = world.auditor2.id, "not_started"
        s.add(case)
        s.commit()
        assert case.assigned_to == world.auditor.id
        return case.id


def _pass2_rows(engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Answer).where(Answer.pass_no == 2)).one()


def _sheet(tmp_path: Path, case_id: int) -> Path:
    path = tmp_path / "pass2.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "plan_exists"])
        w.writerow([case_id, "ja"])
    return path


def test_cli_import_of_pass_2_as_the_first_reviewer_is_refused(engine, world, tmp_path):
    cid = _mark_for_second_review(engine, world)
    path = _sheet(tmp_path, cid)
    runner = CliRunner()
    r = runner.invoke(main, ["reviews", "import", "--audit", "Revision 2022", str(path), "--as", "bo", "--pass", "2"])
    assert r.exit_code != 0, r.output
    assert "bo may not edit the second review of this case" in r.output and "nothing was imported" in r.output
    assert _pass2_rows(engine) == 0
    # the second reviewer may, and the system (no --as) may for a case in the subsample
    r = runner.invoke(main, ["reviews", "import", "--audit", "Revision 2022", str(path), "--as", "cy", "--pass", "2"])
    assert r.exit_code == 0 and "1 answers changed" in r.output, r.output
    assert _pass2_rows(engine) == 1
    # a case outside the subsample has no second review to write, whoever asks
    other = _sheet(tmp_path, world.case_ids[1])
    r = runner.invoke(main, ["reviews", "import", "--audit", "Revision 2022", str(other), "--pass", "2"])
    assert r.exit_code != 0 and "not in the second-review subsample" in r.output, r.output


def test_domain_and_api_refuse_pass_2_to_the_first_reviewer(engine, world, client_for):
    cid = _mark_for_second_review(engine, world)
    with Session(engine) as s:
        case = s.get(Case, cid)
        with pytest.raises(AnswerError, match="not assigned to you"):
            set_answer(s, case=case, item="plan_exists", value="ja", user=world.auditor, pass_no=2)
        with pytest.raises(AnswerError, match="not assigned to you"):      # and cy not pass 1
            set_answer(s, case=case, item="plan_exists", value="ja", user=world.auditor2, pass_no=1)
        s.rollback()
    bo, token = client_for(world.auditor)
    r = bo.put(f"/api/review/cases/{cid}/answers/plan_exists", headers={"X-CSRF-Token": token},
               json={"value": "ja", "pass_no": 2})
    assert r.status_code == 403
    assert _pass2_rows(engine) == 0


def _lock(engine, world) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        audit = s.get(Audit, world.audit_id)
        audit.locked_at = utcnow()
        s.add(audit)
        s.commit()


def _assignments(engine):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        cases = sorted((c.id, c.assigned_to, c.second_reviewer, c.second_status) for c in s.exec(select(Case)).all())
        return cases, s.exec(select(func.count()).select_from(AuditLog)).one()


def test_a_locked_audit_accepts_no_assignment_and_no_second_review(engine, world, client_for):
    _lock(engine, world)
    admin, token = client_for(world.admin)
    before = _assignments(engine)          # after the log-in, which the trail records
    r = admin.post(f"/api/review/audits/{world.audit_id}/assign", headers={"X-CSRF-Token": token},
                   json={"auditor": "cy", "municipalities": ["Odense"]})
    assert r.status_code == 423 and "locked" in r.json()["detail"], r.text
    r = admin.post(f"/api/review/audits/{world.audit_id}/assign", headers={"X-CSRF-Token": token},
                   json={"round_robin": ["cy", "bo"]})
    assert r.status_code == 423
    r = admin.post(f"/api/review/audits/{world.audit_id}/second-review", headers={"X-CSRF-Token": token},
                   json={"share": 1.0, "seed": 3, "auditors": ["cy", "bo"]})
    assert r.status_code == 423 and "locked" in r.json()["detail"], r.text
    page = admin.post("/review/assign", data={"csrf_token": token, "audit_id": world.audit_id,
                                              "auditor": "cy", "municipality": ["Odense"]})
    assert "locked" in page.text
    runner = CliRunner()
    r = runner.invoke(main, ["reviews", "assign", "--audit", "Revision 2022", "--auditor", "cy",
                             "--municipality", "Odense"])
    assert r.exit_code != 0 and "locked" in r.output, r.output
    r = runner.invoke(main, ["reviews", "second-review", "--audit", "Revision 2022", "--share", "1",
                             "--seed", "3", "--auditor", "cy", "--auditor", "bo"])
    assert r.exit_code != 0 and "locked" in r.output, r.output
    with Session(engine) as s:
        audit = s.get(Audit, world.audit_id)
        with pytest.raises(AssignmentError, match="locked"):
            assign(s, audit, world.auditor2, ["Odense"], world.admin)
        with pytest.raises(AssignmentError, match="locked"):
            mark_second_review(s, audit, 1.0, 3, [world.auditor, world.auditor2], None)
    assert _assignments(engine) == before
