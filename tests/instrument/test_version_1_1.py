"""Instrument 1.1 (questionnaires/kontanthjaelp_2022_v1_1.yaml): the same questionnaire with the
2022 report's bases for the follow-up questions (Figures 39, 40, 58, 59). A new audit can be
bound to it from the CLI and from the admin's form; an audit bound to 1.0 keeps its frozen
snapshot and its case frame."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from audit.instrument import bind_check, load_instrument
from audit.models import Answer, Audit, Case, Person

ROOT = Path(__file__).resolve().parents[2]
V10 = ROOT / "questionnaires" / "kontanthjaelp_2022.yaml"
V11 = ROOT / "questionnaires" / "kontanthjaelp_2022_v1_1.yaml"
# the items whose skip logic (or answer list) 1.1 changes, and nothing else
CHANGED = {"offer_followup", "offer_followup_actor", "followup_focus_progression", "followup_focus_progress_made",
           "followup_focus_towards_job", "followup_focus_adjust", "company_involved_followup",
           "company_followup_progression", "company_followup_progress_made", "company_followup_towards_job",
           "company_followup_adjust"}
# one company-oriented latest offer, followed up without a focus on progression, and an offer
# whose follow-up was not done
ANSWERS = {"latest_offer_type": "virksomhedspraktik", "company_followup": "ja",
           "company_involved_followup": "ja", "company_followup_progression": "nej",
           "company_followup_progress_made": "ja", "offer_followup": "nej"}


def _asked(inst, answers) -> set[str]:  # type: ignore[no-untyped-def]
    return {name for name, yes in inst.applicable(answers).items() if yes}


def test_same_questionnaire_same_codes_only_the_report_bases_differ() -> None:
    old, new = load_instrument(V10), load_instrument(V11)
    assert new.version.startswith("1.1:") and old.version.startswith("1.0:")
    assert new.id == old.id == "kontanthjaelp_2022"
    assert [i.name for i in new.items] == [i.name for i in old.items]       # item codes stay stable
    check = bind_check(old.to_dict(), V11)
    assert check.changed and check.added == () and check.removed == ()
    assert set(check.modified) == CHANGED
    assert [c.code for c in new.item("offer_followup").choices] == ["ja", "nej", "ikke_relevant"]

    # Figures 39-40: with no follow-up done (offer_followup = nej) 1.1 still asks the actor and the
    # focus items (their answer is then "nej"); 1.0 skips them; a follow-up not due skips them in both
    answers = {"latest_offer_type": "virksomhedspraktik", "offer_followup": "nej"}
    assert "offer_followup_actor" in _asked(new, answers) and "offer_followup_actor" not in _asked(old, answers)
    assert "offer_followup_actor" not in _asked(new, {**answers, "offer_followup": "ikke_relevant"})
    assert new.item("followup_focus_progression").constraint
    # Figure 59: the three sub-questions depend on a focus on progression, not on the follow-up
    asked_new, asked_old = _asked(new, ANSWERS), _asked(old, ANSWERS)
    for item in ("company_followup_progress_made", "company_followup_towards_job", "company_followup_adjust"):
        assert item in asked_old and item not in asked_new
    no_followup = {"latest_offer_type": "loentilskud", "company_followup": "nej"}
    assert "company_followup_progression" in _asked(new, no_followup)
    assert "company_followup_progression" not in _asked(old, no_followup)


def _audit_with_one_case(session: Session, name: str, instrument: Path) -> Audit:
    from audit.audits import new_audit

    audit = new_audit(session, name, period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                      reference_date=date(2020, 3, 1), municipalities=["Odense"], instrument=instrument)
    person = Person(audit_id=audit.id, person_id=f"{name}-p1", municipality="Odense", seniority_years=6.0,
                    seniority_band="5-7", sex="kvinde", age=45, origin="dansk")
    session.add(person)
    session.flush()
    case = Case(audit_id=audit.id, person_pk=person.id, municipality="Odense", seniority_band="5-7",
                stratum_population=10, stratum_sample=5, inclusion_probability=0.5, weight=2.0, status="completed")
    session.add(case)
    session.flush()
    for item, value in ANSWERS.items():
        session.add(Answer(case_id=case.id, item=item, value_json=json.dumps(value)))
    session.commit()
    return audit


def test_a_running_1_0_audit_keeps_its_snapshot_and_frame_when_new_audits_use_1_1(
        engine, make_user, client_for) -> None:  # type: ignore[no-untyped-def]
    from audit.audits import AuditError, bind_instrument, clear_instrument_cache, shipped_instruments
    from audit.cli import main
    from audit.statistics.dataset import clear_cache, load_case_frame

    assert shipped_instruments()[0] == (V11.name, load_instrument(V11).version)   # newest first on the form
    assert (V10.name, load_instrument(V10).version) in shipped_instruments()
    with Session(engine) as s:
        running = _audit_with_one_case(s, "Løbende 2022", V10)
        snapshot, version = running.instrument_json, running.instrument_version
        before = load_case_frame(s, running)
    assert version.startswith("1.0:")
    row = before.iloc[0]
    assert row["company_followup_progress_made"] == "ja" and row["company_involved_followup"] == "ja"

    # a new audit on 1.1 from the CLI (by the shipped file's name) and from the admin's form
    result = CliRunner().invoke(main, ["audits", "create", "Ny CLI", "--period-start", "2018-03-01",
                                       "--period-end", "2020-02-29", "--reference-date", "2020-03-01",
                                       "--instrument", V11.name])
    assert result.exit_code == 0, result.output
    assert "instrument 1.1:" in result.output
    admin, token = client_for(make_user("ada", "admin"))
    page = admin.get("/admin")
    assert f'<option value="{V11.name}" selected>' in page.text
    resp = admin.post("/admin/audits", data={"name": "Ny formular", "period_start": "2018-03-01",
                                             "period_end": "2020-02-29", "reference_date": "2020-03-01",
                                             "instrument": V11.name, "municipalities": ["Odense"],
                                             "csrf_token": token}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    refused = CliRunner().invoke(main, ["audits", "create", "Ingen", "--period-start", "2018-03-01",
                                        "--period-end", "2020-02-29", "--reference-date", "2020-03-01",
                                        "--instrument", "kontanthjaelp_2099.yaml"])
    assert refused.exit_code != 0 and "no instrument file named" in refused.output

    clear_instrument_cache()
    clear_cache()
    with Session(engine) as s:
        versions = dict(s.exec(select(Audit.name, Audit.instrument_version)).all())
        assert versions["Ny CLI"].startswith("1.1:") and versions["Ny formular"].startswith("1.1:")
        running = s.exec(select(Audit).where(Audit.name == "Løbende 2022")).one()
        assert (running.instrument_json, running.instrument_version) == (snapshot, version)
        with pytest.raises(AuditError, match="bound to instrument 1.0"):
            bind_instrument(s, running, V11)
        after = load_case_frame(s, running)
        assert after.equals(before)
        # the same answers in an audit on 1.1: the progress item is outside its base (no focus on
        # progression), so the frozen instrument, not the file, decides what a frame holds
        other = _audit_with_one_case(s, "Ny 1.1", V11)
        on_11 = load_case_frame(s, other).iloc[0]
    assert pd.isna(on_11["company_followup_progress_made"])
    assert on_11["company_involved_followup"] == "ja"
