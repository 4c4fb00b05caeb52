"""The real instrument: counts, fixed codes, skip logic, calculated fields and answer checks."""
from __future__ import annotations

import pytest

from audit.instrument import Instrument

CHALLENGES = ["misbrug", "fysiske", "psykiske", "sociale", "sproglige", "laese_skrive_regne", "familie", "andet"]


def test_exactly_194_items_in_seven_themes(real: Instrument):
    assert len(real.assessment_items) == 194
    assert real.counts_per_theme() == {1: 20, 2: 33, 3: 22, 4: 40, 5: 30, 6: 30, 7: 19}
    assert [n for n, _, _ in real.themes] == [1, 2, 3, 4, 5, 6, 7]


def test_theme_7_is_municipality_level_and_the_rest_case_level(real: Instrument):
    assert {i.level for i in real.items if i.theme == 7} == {"municipality"}
    assert {i.level for i in real.items if i.theme != 7} == {"case"}


def test_every_item_has_both_labels(real: Instrument):
    for item in real.items:
        assert item.label_da.strip() and item.label_en.strip(), item.name
        assert item.label_da != item.label_en or item.name == "plan_type", item.name


def test_fixed_codes(real: Instrument):
    assert real.item("direction").type == "select_one"
    assert real.item("direction").codes == ("jobrettet", "rehabiliterende", "fritaget")
    assert real.item("challenges").type == "select_multiple"
    assert real.item("challenges").codes == tuple(CHALLENGES)
    assert real.item("stable_participation").type == "yes_no"
    assert real.item("plan_job_goal").type == "yes_no"
    assert real.item("plan_job_goal_concrete").relevant.strip() == "${plan_job_goal} = 'ja'"
    breadth = real.item("challenge_breadth")
    assert breadth.type == "calculate" and breadth.codes == ("0", "1", "2", "3", "4+")
    certs = real.item("medical_certificate_types")
    assert certs.codes == ("lae105", "lae125", "lae145", "lae155", "lae265", "andet")


def test_report_questions_are_items(real: Instrument):
    """One item per question behind the report's figures and tables (spot list)."""
    for name in ["interviews_count", "job_resource_focus", "focus_job_wishes", "focus_job_options",
                 "focus_job_goals", "focus_resources_job", "focus_resources_subgoals", "barrier_focus",
                 "exempt_225", "exempt_225_justification", "exempt_225_extension", "no_shows",
                 "contact_attempted", "sanctioned", "caseworker_count", "plan_type", "plan_sub_goal",
                 "plan_updated", "plan_citizen_involved", "plan_coherence", "cv_jobnet", "cv_other_format",
                 "latest_offer_type", "offer_goal", "offer_goal_concrete", "offer_sub_goal",
                 "offer_sub_goal_concrete", "offer_individual", "offer_towards_employment", "offer_followup",
                 "offer_final_evaluation", "offer_evaluation_used", "parallel_health_support",
                 "exempt_illness", "mentor_during_exemption", "passive_period_over_year",
                 "interrupted_courses", "company_placement", "company_placement_weeks", "ordinary_hours",
                 "ordinary_hours_followup", "placement_employee", "company_goal", "company_followup",
                 "coordination", "coordination_cross_disciplinary", "meetings_other_departments",
                 "meetings_departments", "efforts_other_departments", "efforts_departments", "roundtable",
                 "roundtable_participants", "holistic_plan", "psychiatric_admission", "discharge_mentor",
                 "medical_certificates_count", "latest_certificate_type", "latest_certificate_reason",
                 "certificate_clear_order", "certificate_used_to_qualify", "personal_job_broker", "mentor",
                 "status_before", "activation_weeks", "political_focus", "supervision_focus",
                 "dashboard_focus", "management_info_focus"]:
        assert name in real, name


def test_subgroup_skip_logic(real: Instrument):
    ap = real.applicable({"plan_exists": "ja", "plan_job_goal": "nej", "exempt_illness": "nej", "exempt_225": "ja"})
    assert ap["plan_job_goal"] is True
    assert ap["plan_job_goal_concrete"] is False
    assert ap["mentor_during_exemption"] is False
    assert ap["exempt_225_justification"] is True
    ap = real.applicable({"plan_exists": "ja", "plan_job_goal": "ja", "exempt_illness": "ja", "exempt_225": "nej"})
    assert ap["plan_job_goal_concrete"] is True
    assert ap["mentor_during_exemption"] is True
    assert ap["exempt_225_justification"] is False


def test_applicability_chain_nested_under_non_applicable_item(real: Instrument):
    # plan_job_goal_concrete depends on plan_job_goal, which depends on plan_exists.
    # A stale 'ja' for plan_job_goal must not open its child once the plan is gone.
    answers = {"plan_exists": "nej", "plan_job_goal": "ja", "plan_job_goal_concrete": "ja"}
    ap = real.applicable(answers)
    assert ap["plan_job_goal"] is False
    assert ap["plan_job_goal_concrete"] is False
    # three levels: exempt_225 -> exempt_225_justification -> exempt_225_basis
    answers = {"exempt_225": "nej", "exempt_225_justification": "konkret", "exempt_225_basis": ["helbred"]}
    assert real.applicable(answers)["exempt_225_basis"] is False
    answers["exempt_225"] = "ja"
    assert real.applicable(answers)["exempt_225_basis"] is True


def test_not_applicable_answers_are_ignored_by_derive_and_effective(real: Instrument):
    answers = {"has_challenges": "nej", "challenges": ["misbrug", "fysiske"]}
    assert real.derive(answers)["challenge_breadth"] == "0"
    eff = real.effective(answers)
    assert eff["challenges"] is None and eff["has_challenges"] == "nej"
    assert answers["challenges"] == ["misbrug", "fysiske"]      # the caller's data is untouched


@pytest.mark.parametrize("ticked", range(9))
def test_challenge_breadth_for_0_to_8_types(real: Instrument, ticked: int):
    answers = {"has_challenges": "ja", "challenges": CHALLENGES[:ticked]}
    expected = ["0", "1", "2", "3", "4+", "4+", "4+", "4+", "4+"][ticked]
    assert real.derive(answers)["challenge_breadth"] == expected


def test_challenge_breadth_missing_until_has_challenges_answered(real: Instrument):
    assert real.derive({})["challenge_breadth"] is None


def test_other_calculations(real: Instrument):
    d = real.derive({"caseworker_count": 6, "interviews_count": 9, "activation_weeks": 26,
                     "latest_offer_type": "virksomhedspraktik", "cv_jobnet": "nej", "cv_other_format": "ja",
                     "company_placement_weeks": 14})
    assert d == {"challenge_breadth": None, "caseworker_band": "5+", "interviews_per_year": 4.5,
                 "has_cv": "ja", "had_offer": "ja", "activation_weeks_share": 0.25,
                 "company_weeks_band": "14-26", "latest_offer_company": "ja"}
    d = real.derive({"latest_offer_type": "intet_tilbud", "caseworker_count": 1})
    assert d["had_offer"] == "nej" and d["latest_offer_company"] == "nej" and d["caseworker_band"] == "1"


def test_calculated_field_drives_relevance(real: Instrument):
    ap = real.applicable({"latest_offer_type": "intet_tilbud"})
    assert ap["offer_goal"] is False and ap["company_goal"] is False
    ap = real.applicable({"latest_offer_type": "loentilskud"})
    assert ap["offer_goal"] is True and ap["company_goal"] is True
    ap = real.applicable({"latest_offer_type": "nytteindsats"})
    assert ap["offer_goal"] is True and ap["company_goal"] is False


@pytest.mark.parametrize("name, good, bad, message", [
    ("stable_participation", "ja", "yes", "not one of the codes ja, nej"),
    ("citizen_sees_self_working", "ikke_relevant", "maybe", "not one of the codes ja, nej, ikke_relevant"),
    ("direction", "fritaget", "jobret", "not one of the codes jobrettet, rehabiliterende, fritaget"),
    ("challenges", ["misbrug", "andet"], ["misbrug", "drugs"], "unknown code(s) 'drugs'"),
    ("interviews_count", 8, "8", "is not a whole number"),
    ("interview_first_date", "2019-05-01", "2019-02-30", "is not a date written YYYY-MM-DD"),
    ("challenges_other_text", "gæld", 5, "is not text"),
    ("political_focus", 5, 6, "is not a score from 1 to 5"),
])
def test_check_answer_each_type(real: Instrument, name, good, bad, message):
    assert real.check_answer(name, good, {}) == []
    problems = real.check_answer(name, bad, {})
    assert len(problems) == 1 and problems[0].startswith(f"{name}: ") and message in problems[0]


def test_check_answer_multiple_choice_shape_and_duplicates(real: Instrument):
    assert "must be a list" in real.check_answer("challenges", "misbrug", {})[0]
    assert "ticked twice" in real.check_answer("challenges", ["misbrug", "misbrug"], {})[0]
    assert real.check_answer("challenges", ("misbrug",), {}) == []       # tuples as in the case frame


def test_check_answer_constraints(real: Instrument):
    assert real.check_answer("interviews_count", -1, {}) != []
    assert real.check_answer("interviews_job_count", 5, {"interviews_count": 8}) == []
    msg = real.check_answer("interviews_job_count", 9, {"interviews_count": 8})
    assert msg == ["interviews_job_count: Antallet af jobsamtaler kan ikke overstige det samlede antal samtaler."]
    held = {"interviews_count": 5, "interview_first_date": "2019-02-01"}
    assert real.check_answer("interview_last_date", "2019-01-01", held) != []
    assert real.check_answer("interview_last_date", "2019-03-01", held) == []
    assert real.check_answer("interview_last_date", "2021-03-01", held) != []      # outside the period
    # the first date only counts while it applies: without interviews it is ignored
    assert real.check_answer("interview_last_date", "2019-01-01", {"interview_first_date": "2019-02-01"}) == []
    answers = {"has_challenges": "ja", "challenges": ["fysiske"]}
    assert real.check_answer("main_challenge", "fysiske", answers) == []
    assert real.check_answer("main_challenge", "misbrug", answers) != []
    assert real.check_answer("benefit_start_date", "2016-01-01", {}) != []


def test_check_answer_unanswered_calculated_and_unknown(real: Instrument):
    assert real.check_answer("direction", None, {}) == []
    assert real.check_answer("challenges", [], {}) == []
    assert real.check_answer("challenge_breadth", "2", {}) == ["challenge_breadth: is calculated and cannot be answered"]
    assert "is not an item" in real.check_answer("no_such_item", 1, {})[0]


def test_missing_required(real: Instrument):
    missing = real.missing_required({}, level="case")
    assert "direction" in missing and "plan_exists" in missing
    assert "plan_job_goal" not in missing                 # not applicable yet
    assert "challenges_other_text" not in missing          # optional
    assert "political_focus" not in missing                # municipality level
    assert real.missing_required({}, level="municipality")[:2] == ["political_focus", "management_focus"]
    after = real.missing_required({"direction": "jobrettet", "plan_exists": "ja"}, level="case")
    assert "direction" not in after and "plan_job_goal" in after


def test_every_relevance_renders_in_words(real: Instrument):
    from audit.instrument.codebook import relevance_words
    assert relevance_words(real.item("plan_job_goal_concrete"), "en") == "only if plan_job_goal = ja"
    assert relevance_words(real.item("plan_job_goal_concrete"), "da") == "kun hvis plan_job_goal = ja"
    assert relevance_words(real.item("direction"), "en") == "always"
    assert relevance_words(real.item("challenges_other_text"), "en") == "only if challenges includes andet"
