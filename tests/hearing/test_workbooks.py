"""The hearing and feedback workbooks, reopened and checked cell by cell."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from io import BytesIO

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from audit.hearing.lock import lock_audit
from audit.hearing.remarks import respond, save_draft, submit
from audit.hearing.rounds import HearingError, close_round, open_round
from audit.hearing.shares import Share, feedback_rows
from audit.hearing.workbooks import feedback_workbook, hearing_workbook
from audit.models import Audit, Case, Person

SOON = datetime.now(timezone.utc) + timedelta(days=14)


def _rows(ws, first: int):  # type: ignore[no-untyped-def]
    return [list(r) for r in ws.iter_rows(min_row=first, values_only=True) if any(v is not None for v in r)]


def test_feedback_rows_are_the_statistics_rooms_shares_with_suppression():
    # A: 6 ja, 3 nej, 1 ikke relevant (left out of N); B: 1 ja, 4 nej; C: 4 nej; D: 1 ja
    cells = {"A": ["ja"] * 6 + ["nej"] * 3 + ["ikke_relevant"], "B": ["ja"] + ["nej"] * 4, "C": ["nej"] * 4,
             "D": ["ja"]}
    frame = pd.DataFrame([{"municipality": m, "x": v, "m": ("b",) if v == "ja" else (("a", "b") if v == "nej" else None)}
                          for m, vs in cells.items() for v in vs] + [{"municipality": "C", "x": None, "m": None}])
    spec = [{"code": "x", "value": "ja", "label": "X", "exclude": ["ikke_relevant"]}, {"code": "m", "value": "a"}]
    # by hand with pandas: N = cases with an answer other than ikke_relevant
    sub = frame[frame.x.isin(["ja", "nej"])]
    a = sub[sub.municipality == "A"]
    per_municipality = sub.groupby("municipality").x.apply(lambda v: (v == "ja").mean())
    [x, m] = feedback_rows(frame, "A", spec, threshold=None)
    assert x.own == Share(int((a.x == "ja").sum()), len(a), pytest.approx((a.x == "ja").mean()))
    assert x.pooled == Share(int((sub.x == "ja").sum()), len(sub), pytest.approx((sub.x == "ja").mean()))
    assert x.mean_of_municipalities == pytest.approx(per_municipality.mean()) and x.municipalities == 4
    has_m = frame[frame.m.notna()]
    has_a = has_m.m.map(lambda v: "a" in v)
    assert m.pooled == Share(int(has_a.sum()), len(has_m), pytest.approx(has_a.mean()))  # multiple choice: contains
    # suppressed as the statistics room does it, on the whole table by municipality: D's single
    # 'ja' is hidden, and what all municipalities' workbooks publish together does not give it back
    published = {mun: feedback_rows(frame, mun, spec[:1], threshold=3)[0] for mun in "ABCD"}
    hidden_d = published["D"]
    assert hidden_d.own.hidden and hidden_d.own.count is None and hidden_d.own.value is None
    assert hidden_d.suppression_rule.startswith("Cells with fewer than 3 cases")
    pooled = {r.pooled.count for r in published.values()}
    assert len(pooled) == 1                                   # one total, the same in every workbook
    others = [published[mun].own.count for mun in "ABC"]
    assert None in pooled or None in others, "D's count = total - the others' published counts"
    assert all(r.mean_of_municipalities is None for r in published.values())   # it would give D back too
    for mun, row in published.items():                        # whatever is shown is the true figure
        true = sub[sub.municipality == mun]
        if not row.own.hidden:
            assert row.own.count == int((true.x == "ja").sum()) and row.own.n == len(true)
    assert feedback_rows(frame, "D", spec[:1], threshold=None)[0].own == Share(1, 1, 1.0)


def _round_with_responses(s, world):  # type: ignore[no-untyped-def]
    rnd = open_round(s, s.get(Audit, world.audit_id), ["Odense", "København"], SOON, world.admin)
    od = s.get(Case, world.odense[0])
    a = save_draft(s, case=od, user=world.odense_user, item="plan_job_goal_concrete",
                   text="Jobmålet er konkret", proposed_value="ja")
    b = save_draft(s, case=od, user=world.odense_user, text="Sagen som helhed")
    save_draft(s, case=s.get(Case, world.kbh[0]), user=world.kbh_user, text="København: hemmelig kladde")
    submit(s, rnd, "Odense", world.odense_user)
    respond(s, a, "accepted", "Enig", world.auditor)
    s.commit()
    return rnd, a, b


@pytest.mark.danish  # the workbook in the default language: Danish throughout
def test_hearing_workbook_has_its_cases_with_labels_and_its_remarks_only(engine, world):
    with Session(engine) as s:
        _, a, b = _round_with_responses(s, world)
        data = hearing_workbook(s, s.get(Audit, world.audit_id), "Odense", actor=None)
    wb = load_workbook(BytesIO(data))
    assert wb.sheetnames == ["Vurderinger", "Bemærkninger"]
    ws = wb["Vurderinger"]
    assert ws["A1"].value == "Revision 2022: vurderinger til høring, Odense"
    assert ws["A2"].value.startswith("Dannet ") and "sager. Kun spørgsmål, der er relevante for sagen." in ws["A2"].value
    # people read labels in the first columns; the item code is the last column, for scripts
    assert [c.value for c in ws[4]] == ["Sag", "Personens id", "Anciennitet", "Tema", "Spørgsmål", "Vurdering",
                                        "Note", "Spørgsmål (kode)"]
    assert ws["A5"].value == world.odense[0]                    # data right under the header
    rows = _rows(ws, 5)
    assert {r[0] for r in rows} == set(world.odense)          # only Odense's cases
    # each case with its citizen's register person id, to find the file by
    with Session(engine) as s:
        pid = {c.id: s.get(Person, c.person_pk).person_id for c in s.exec(select(Case).where(Case.id.in_(world.odense)))}
    assert {(r[0], r[1]) for r in rows} == set(pid.items())
    assert {r[2] for r in rows} <= {"5-7 år", "7-10 år", "10+ år", "10 år eller mere"}  # the band's label
    first = {r[7]: r for r in rows if r[0] == world.odense[0]}
    assert first["direction"][4:6] == ["Hvilken retning har indsatsen for borgeren pr. 1. marts 2020?",
                                       "Jobrettet indsats mod det ordinære arbejdsmarked"]  # labels, not codes
    assert first["challenges"][5] == "Fysiske udfordringer, Psykiske udfordringer"
    assert first["challenge_breadth"][5] == "2 typer"                # calculated field, with its label
    assert first["plan_job_goal_concrete"][5] == "Ja"          # already revised by the accepted remark
    assert first["direction"][3] == "1 Målgruppens karakteristika"
    second = {r[7] for r in rows if r[0] == world.odense[1]}
    assert "plan_job_goal_concrete" not in second               # not applicable when no job goal
    assert "political_focus" not in second                      # theme 7 is per municipality
    assert "focus_job_wishes" not in second                     # skip logic: job_resource_focus unanswered
    rs = wb["Bemærkninger"]
    assert [c.value for c in rs[3]] == ["Runde", "Sag", "Personens id", "Spørgsmål", "Bemærkning", "Foreslået vurdering", "Status",
                                        "Afgørelse", "Revisors svar", "Indsendt", "Besvaret", "Spørgsmål (kode)"]
    remarks = _rows(rs, 4)
    assert len(remarks) == 2
    assert remarks[0][:9] == [1, world.odense[0], pid[world.odense[0]], "Er jobmålet konkret?",
                              "Jobmålet er konkret", "Ja", "Besvaret", "Imødekommet", "Enig"]
    assert remarks[0][11] == "plan_job_goal_concrete"
    assert remarks[1][3] == "(hele sagen)" and remarks[1][6] == "Indsendt" and remarks[1][7] is None
    assert remarks[1][11] is None                               # no item code for the whole case
    assert "hemmelig" not in str(remarks)


def test_hearing_workbook_in_english_for_a_reader_who_chose_english(engine, world):
    # the test suite runs in English (conftest): the reader's language, for sheets, headers,
    # statuses, decisions and the instrument's own texts; the codes stay the same
    with Session(engine) as s:
        _round_with_responses(s, world)
        data = hearing_workbook(s, s.get(Audit, world.audit_id), "Odense", actor=None)
    wb = load_workbook(BytesIO(data))
    assert wb.sheetnames == ["Assessments", "Remarks"]
    ws = wb["Assessments"]
    assert ws["A1"].value == "Revision 2022: assessments for comment, Odense"
    assert [c.value for c in ws[4]] == ["Case", "Person id", "Seniority", "Theme", "Question", "Assessment", "Note",
                                        "Question (code)"]
    rows = _rows(ws, 5)
    assert {r[2] for r in rows} <= {"5-7 years", "7-10 years", "10+ years", "10 years or more"}
    first = {r[7]: r for r in rows if r[0] == world.odense[0]}
    assert first["plan_job_goal_concrete"][4:6] == ["Is the job goal concrete?", "Yes"]
    assert "æ" not in first["direction"][4] and first["direction"][4] != "direction"
    remarks = _rows(wb["Remarks"], 4)
    assert remarks[0][6:8] == ["Answered", "Accepted"] and remarks[0][11] == "plan_job_goal_concrete"
    assert remarks[1][3] == "(the whole case)" and remarks[1][6] == "Submitted"


@pytest.mark.danish  # the municipality reads it in Danish by default
def test_feedback_workbook_only_after_lock_with_shares_next_to_all_municipalities(engine, world):
    with Session(engine) as s:
        rnd, a, b = _round_with_responses(s, world)
        audit = s.get(Audit, world.audit_id)
        with pytest.raises(HearingError, match="dannes, når revisionen er låst"):
            feedback_workbook(s, audit, "Odense", actor=None)
        respond(s, b, "maintained", "Fastholdt", world.auditor)
        close_round(s, rnd, world.admin)
        lock_audit(s, audit, world.admin)
        s.commit()
        data = feedback_workbook(s, audit, "Odense", threshold=1, actor=None)  # 1: nothing hidden, every count shown
        hidden = load_workbook(BytesIO(feedback_workbook(s, audit, "Odense", actor=None)))["Tilbagemelding"]
    ws = load_workbook(BytesIO(data))["Tilbagemelding"]
    assert ws["A1"].value == "Revision 2022: tilbagemelding til Odense"
    # the key figure and the answer by their labels first; the codes last, for scripts
    assert [c.value for c in ws[4]] == ["Nøgletal", "Svar", "Odense: andel", "Odense: antal", "Odense: N",
                                        "Alle kommuner: andel", "Alle kommuner: antal", "Alle kommuner: N",
                                        "Gennemsnit af kommunernes andele", "Antal kommuner", "Spørgsmål (kode)",
                                        "Svar (kode)"]
    rows = {(r[10], r[11]): r for r in _rows(ws, 5) if r[11] is not None}
    # Odense: jobrettet, rehabiliterende, jobrettet; København: fritaget, jobrettet
    job = rows[("direction", "jobrettet")]
    assert job[0] == "Retning for indsatsen: jobrettet"
    assert job[1] == "Jobrettet indsats mod det ordinære arbejdsmarked"     # the answer's label, not its code
    # shares leave the agency rounded to whole percent (audit.statistics: published shares)
    assert job[2:8] == [pytest.approx(2 / 3, abs=0.005), 2, 3, pytest.approx(3 / 5, abs=0.005), 3, 5]
    assert job[8] == pytest.approx((2 / 3 + 1 / 2) / 2) and job[9] == 2
    # concrete job goal applies only where there is a job goal; case 1 was revised to ja by the remark
    concrete = rows[("plan_job_goal_concrete", "ja")]
    assert concrete[1] == "Ja" and concrete[2:8] == [1.0, 2, 2, 1.0, 3, 3]
    assert ws.cell(row=5, column=3).number_format == "0%"
    assert ws.cell(row=5, column=6).number_format == "0%" and ws.cell(row=5, column=9).number_format == "0%"
    notes = [r[0] for r in _rows(ws, 5) if r[11] is None]
    assert any(n.startswith("Anm.: N er angivet for hvert tal") for n in notes)
    assert not any(n.startswith("Ikke i instrumentet") for n in notes)   # every key item exists
    # unanswered key items: empty share, N = 0
    assert rows[("barrier_focus", "ja")][2:8] == [None, 0, 0, None, 0, 0]
    assert any(n.startswith("Kilde: Revision 2022") for n in notes)
    # by default (3) the workbook leaves the agency with small cells hidden: Odense's 2 of 3 is an x,
    # and so is the total of 3 of 5 (with København's 1 of 2 hidden in its own workbook, the
    # total would pin Odense's count between 1 and 3: narrower than the protection of 3)
    hrows = {(r[10], r[11]): r for r in _rows(hidden, 5) if r[11] is not None}
    assert hrows[("direction", "jobrettet")][2:4] == ["x", "x"] and hrows[("direction", "jobrettet")][6] == "x"
    assert any(str(r[0]).startswith("x: Celler med færre end 3 sager") for r in _rows(hidden, 5))


def test_feedback_workbook_in_english(engine, world):
    with Session(engine) as s:
        audit = s.get(Audit, world.audit_id)
        with pytest.raises(HearingError, match="after the audit is locked"):
            feedback_workbook(s, audit, "Odense", actor=None)
        lock_audit(s, audit, world.admin)
        s.commit()
        wb = load_workbook(BytesIO(feedback_workbook(s, audit, "Odense", actor=None)))
    assert wb.sheetnames == ["Feedback"]
    ws = wb["Feedback"]
    assert ws["A1"].value == "Revision 2022: feedback to Odense"
    assert [c.value for c in ws[4]][:3] == ["Key figure", "Answer", "Odense: share"]
    assert [c.value for c in ws[4]][10:] == ["Question (code)", "Answer (code)"]
    rows = {(r[10], r[11]): r for r in _rows(ws, 5) if r[11] is not None}
    # the key items' own labels are Danish (exports/feedback_items.yaml has no label_en): the
    # instrument's English question text (with the answer's label for a choice) instead
    assert rows[("plan_job_goal_concrete", "ja")][:2] == ["Is the job goal concrete?", "Yes"]
    direction = rows[("direction", "jobrettet")]
    assert direction[0].endswith(": " + direction[1]) and "jobrettet" not in direction[0].lower()
    notes = [str(r[0]) for r in _rows(ws, 5) if r[11] is None]
    assert any(n.startswith("Source: Revision 2022, case review") for n in notes)
    assert any(n.startswith("x: Cells with fewer than 3 cases are hidden") for n in notes)  # the statistics room's rule


@pytest.mark.danish
def test_feedback_items_unknown_to_the_instrument_are_listed_not_dropped(engine, world, tmp_path):
    items = tmp_path / "items.yaml"
    items.write_text("items:\n  - {code: direction, value: fritaget}\n  - {code: no_such_item}\n", encoding="utf-8")
    with Session(engine) as s:
        audit = s.get(Audit, world.audit_id)
        lock_audit(s, audit, world.admin)
        for cid in world.odense + world.kbh:  # locking finalises completed cases even without a round
            assert s.get(Case, cid).status == "final"
        s.commit()
        data = feedback_workbook(s, audit, "København", items_path=items, threshold=1, actor=None)
    ws = load_workbook(BytesIO(data))["Tilbagemelding"]
    rows = _rows(ws, 5)
    assert rows[0][:8] == ["Hvilken retning har indsatsen for borgeren pr. 1. marts 2020?: Fritaget for indsats",
                           "Fritaget for indsats", 0.5, 1, 2, pytest.approx(1 / 5), 1, 5]
    assert rows[0][10:12] == ["direction", "fritaget"]
    assert any(str(r[0]).startswith("Ikke i instrumentet og derfor udeladt: no_such_item") for r in rows)
