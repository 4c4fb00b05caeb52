"""The report's exhibits added with instrument 1.1 and the last derived variables (issue 15):
Figures 26, 39, 40, 58, 59 and 65, Tables 5, 7 and 10. Case-level answers on instrument 1.1 that
reproduce the report's published shares and N; each exhibit is checked cell by cell against
pandas written here (from the answers, not from the frame or the code under test)."""
from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from audit.exports.compute import build_grids
from audit.exports.definitions import load_definitions
from audit.instrument import load_instrument
from audit.resources import export_definition
from audit.statistics.dataset import case_frame
from audit.statistics.derived import apply_derived, load_derived

N = 375
V11 = Path(__file__).resolve().parents[2] / "questionnaires" / "kontanthjaelp_2022_v1_1.yaml"
CHALLENGES = ("misbrug", "fysiske", "psykiske", "sociale", "sproglige", "laese_skrive_regne", "familie", "andet")


def _flags(rng: random.Random, members: list[int], yes: int) -> dict[int, str]:
    """`yes` of `members` (at random) answer ja, the others nej."""
    chosen = set(rng.sample(members, yes))
    return {i: "ja" if i in chosen else "nej" for i in members}


def _ticks(members: list[int], counts: dict[str, int]) -> dict[int, list[str]]:
    """A multiple-response item ticked `counts[code]` times among `members`, every member ticking
    at least one code: code blocks laid end to end round the members (no code twice for a case)."""
    out: dict[int, list[str]] = {i: [] for i in members}
    k = 0
    for code, n in counts.items():
        for _ in range(n):
            out[members[k % len(members)]].append(code)
            k += 1
    assert k >= len(members) and all(out.values())
    return out


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    inst = load_instrument(V11)
    rng = random.Random(59)
    ids = list(range(1, N + 1))
    rng.shuffle(ids)
    cases = pd.DataFrame({"case_id": range(1, N + 1), "municipality": [f"K{k % 25:02d}" for k in range(N)],
                          "seniority_band": ["5-7", "7-10", "10+"] * (N // 3), "sex": ["mand", "kvinde"] * 187 + ["mand"],
                          "age": [45] * N, "origin": ["dansk"] * N, "stratum_population": [500] * N,
                          "stratum_sample": [5] * N, "weight": [100.0] * N})
    a: dict[int, dict] = {i: {"direction": rng.choice(["jobrettet", "rehabiliterende", "fritaget"])} for i in ids}

    # Figures 39-40, 56-59: 356 cases with an offer (Figure 38's N), 192 of them company-oriented
    offer, company, other = ids[:356], ids[:192], ids[192:356]
    for i in company:
        a[i]["latest_offer_type"] = rng.choice(["virksomhedspraktik", "loentilskud"])
    for i in other:
        a[i]["latest_offer_type"] = rng.choice(["vejledning_opkvalificering", "ordinaer_uddannelse", "andet"])
    for i in ids[356:]:
        a[i]["latest_offer_type"] = "intet_tilbud"
    # Figure 39: a follow-up was due in 318 (N=318), done in 223 of them (70 %); the company or another
    # provider took part in 156 (49 %); Figure 40: focus on progression 165 (52 %), on progress made
    # 150 ("knapt halvdelen"), on the way to a job 97 and on adjusting the offer 96 ("godt 30 pct.")
    order = rng.sample(offer, len(offer))
    due, not_due = order[:318], order[318:]
    done = due[:223]
    for i in not_due:  # answers stored where 1.1 does not ask: its skip logic leaves them out
        a[i].update(offer_followup="ikke_relevant", offer_followup_actor="ja", followup_focus_progression="ja")
    for i in due:
        a[i]["offer_followup"] = "ja" if i in done else "nej"
        for item in ("offer_followup_actor", "followup_focus_progression", "followup_focus_progress_made",
                     "followup_focus_towards_job", "followup_focus_adjust"):
            a[i][item] = "nej"   # no follow-up done: "nej" (the instrument's constraint)
    for item, yes in {"offer_followup_actor": 156, "followup_focus_progression": 165,
                      "followup_focus_progress_made": 150, "followup_focus_towards_job": 97,
                      "followup_focus_adjust": 96}.items():
        for i, v in _flags(rng, done, yes).items():
            a[i][item] = v
    # Figures 58-59: of the 192 placements 131 followed up (68 %), the company involved in 113 (59 %),
    # a focus on progression in 114 (59 %, the next base), and of those 104 / 73 / 87 (91 / 64 / 76 %)
    followed = _flags(rng, company, 131)
    fu = [i for i in company if followed[i] == "ja"]
    for i in company:
        a[i].update(company_followup=followed[i], company_involved_followup="nej", company_followup_progression="nej")
    for i, v in _flags(rng, fu, 113).items():
        a[i]["company_involved_followup"] = v
    progression = [i for i, v in _flags(rng, fu, 114).items() if v == "ja"]
    for i in progression:
        a[i]["company_followup_progression"] = "ja"
    for item, yes in {"company_followup_progress_made": 104, "company_followup_towards_job": 73,
                      "company_followup_adjust": 87}.items():
        for i in fu:  # stored where 1.1 does not ask (no focus on progression): left out of the base
            a[i][item] = "ja"
        for i, v in _flags(rng, progression, yes).items():
            a[i][item] = v

    # Figure 57: a final evaluation of 82 placements (43 %), with feedback in 77 (94 %) and used in 75 (91 %)
    evaluated = [i for i, v in _flags(rng, company, 82).items() if v == "ja"]
    for i in company:
        a[i]["company_final_evaluation"] = "ja" if i in evaluated else "nej"
    for item, yes in {"company_feedback": 77, "company_evaluation_used": 75}.items():
        for i, v in _flags(rng, evaluated, yes).items():
            a[i][item] = v

    # Figure 26: number of caseworkers, under 9 interviews (175 cases) and 9+ (200)
    under, nine = ids[:175], ids[175:]
    bands = {"under": {1: 42, 2: 45, 3: 56, 4: 24, 5: 8}, "nine": {1: 62, 2: 70, 3: 30, 4: 20, 5: 18}}
    for group, members in (("under", under), ("nine", nine)):
        pool = [n for n, k in bands[group].items() for _ in range(k)]
        rng.shuffle(pool)
        for i, n in zip(members, pool):
            a[i]["caseworker_count"] = n if n < 5 else rng.randint(5, 9)
            a[i]["interviews_count"] = rng.randint(0, 8) if group == "under" else rng.randint(9, 24)

    # Table 5: one type of challenge per case for 312 cases, interrupted courses among them as the
    # report's shares, and 13 of the 63 without challenges: 94 of 375 (25 %) in all
    table5 = {"misbrug": (41, 11), "fysiske": (43, 9), "psykiske": (40, 10), "sociale": (39, 11),
              "sproglige": (38, 13), "laese_skrive_regne": (36, 12), "familie": (37, 10), "andet": (38, 5)}
    rest = ids[:]
    rng.shuffle(rest)
    for code, (n, yes) in table5.items():
        members, rest = rest[:n], rest[n:]
        for i, v in _flags(rng, members, yes).items():
            a[i].update(has_challenges="ja", challenges=[code], interrupted_courses=v)
    for i, v in _flags(rng, rest, 13).items():
        a[i].update(has_challenges="nej", interrupted_courses=v)

    # Table 7: efforts in other departments in 130 cases, round-table meetings in 85
    shuffled = ids[:]
    rng.shuffle(shuffled)
    efforts, roundtable = shuffled[:130], shuffled[100:185]
    for i in ids:
        a[i]["efforts_other_departments"] = "ja" if i in efforts else "nej"
        a[i]["roundtable"] = "ja" if i in roundtable else "nej"
    for i, codes in _ticks(efforts, {"socialafdeling": 26, "familieafdeling": 36, "misbrugsafdeling": 20,
                                     "sundhedsafdeling": 65, "andre_offentlige": 68, "andet": 17}).items():
        a[i]["efforts_departments"] = codes
    for i, codes in _ticks(roundtable, {"socialafdeling": 16, "familieafdeling": 14, "misbrugsafdeling": 7,
                                        "sundhedsafdeling": 10, "andre_offentlige": 39, "laegekonsulent": 11,
                                        "andet": 19}).items():
        a[i]["roundtable_participants"] = codes

    # Table 10 and Figure 65: certificates in 250 cases; the LÆ 105 column as the report's
    # (41 / 41 / 7 / 7 / 4 %: 11, 11, 2, 2, 1 of 27); LÆ 265 and other types together
    certs = rng.sample(ids, 250)
    for i in ids:
        a[i]["medical_certificates"] = "ja" if i in certs else "nej"
    lae105 = ["helbredsaendring"] * 11 + ["deltagelse_indsats"] * 11 + ["generel_arbejdsevne"] * 2 + \
        ["myndighedsafgoerelse"] * 2 + ["andet"]
    reasons = [c.code for c in inst.item("latest_certificate_reason").choices]
    for k, i in enumerate(certs):
        if k < len(lae105):
            a[i].update(latest_certificate_type="lae105", latest_certificate_reason=lae105[k])
        else:
            a[i].update(latest_certificate_type=rng.choice(["lae125", "lae145", "lae155", "lae265", "andet"]),
                        latest_certificate_reason=rng.choice(reasons))
        a[i]["medical_certificates_count"] = rng.randint(1, 6)
    for item, v in _flags(rng, certs, 163).items():
        a[item]["certificate_clear_order"] = v
    for item, v in _flags(rng, certs, 162).items():
        a[item]["certificate_used_to_qualify"] = v

    frame = apply_derived(case_frame(cases, a, inst), load_derived(instrument=inst))
    spec = load_definitions(export_definition("report_2022.yaml"), instrument=inst)
    raw = pd.DataFrame.from_dict(a, orient="index").sort_index()
    return inst, spec, frame, raw


def _grid(world, exhibit: str, suppress: bool = False):  # type: ignore[no-untyped-def]
    inst, spec, frame, _ = world
    return build_grids(frame, replace(spec, tables=[spec.table(exhibit)]), inst, suppress=suppress)[0]


def _yes_share(values: pd.Series) -> tuple[float, int]:
    given = values.dropna()
    return float((given == "ja").mean()), int(len(given))


def _check_items(grid, expected: dict[str, pd.Series]) -> None:  # type: ignore[no-untyped-def]
    assert [r.key for r in grid.rows] == list(expected)
    for r in grid.rows:
        share, n = _yes_share(expected[r.key])
        assert r.values[0] == pytest.approx(share) and r.values[1] == n, r.key


def test_figures_39_and_40_on_the_cases_where_a_follow_up_was_due(world) -> None:  # type: ignore[no-untyped-def]
    raw = world[3]
    base = raw[raw["offer_followup"].isin(["ja", "nej"])]
    g39 = _grid(world, "Figur 39")
    _check_items(g39, {k: base[k] for k in ("offer_followup", "offer_followup_actor")})
    assert [r.values[1] for r in g39.rows] == [318, 318]
    assert [round(100 * r.values[0]) for r in g39.rows] == [70, 49]
    g40 = _grid(world, "Figur 40")
    focus = ("followup_focus_progression", "followup_focus_progress_made", "followup_focus_towards_job",
             "followup_focus_adjust")
    _check_items(g40, {k: base[k] for k in focus})
    assert [r.values[1] for r in g40.rows] == [318] * 4
    assert [round(100 * r.values[0]) for r in g40.rows] == [52, 47, 31, 30]
    assert g40.rows[0].label == world[0].item("followup_focus_progression").label_da


def test_figures_58_and_59_on_the_placements_and_the_progression_base(world) -> None:  # type: ignore[no-untyped-def]
    raw = world[3]
    placed = raw[raw["latest_offer_type"].isin(["virksomhedspraktik", "loentilskud"])]
    g58 = _grid(world, "Figur 58")
    # the company not involved where there was no follow-up: pandas counts a blank as "nej" here
    _check_items(g58, {"company_followup": placed["company_followup"],
                       "company_involved_followup_all": placed["company_involved_followup"].fillna("nej")})
    assert [(round(100 * r.values[0]), r.values[1]) for r in g58.rows] == [(68, 192), (59, 192)]
    assert g58.rows[1].label == "Er virksomheden inddraget i opfølgningen?"   # the derived variable's label
    g59 = _grid(world, "Figur 59")
    on_progression = placed[placed["company_followup_progression"] == "ja"]
    _check_items(g59, {"company_followup_progression_all": placed["company_followup_progression"].fillna("nej"),
                       **{k: on_progression[k] for k in ("company_followup_progress_made",
                                                        "company_followup_towards_job", "company_followup_adjust")}})
    assert [(round(100 * r.values[0]), r.values[1]) for r in g59.rows] == [(59, 192), (91, 114), (64, 114), (76, 114)]


def test_figure_57_evaluation_over_placements_and_its_use_over_the_evaluated(world) -> None:  # type: ignore[no-untyped-def]
    raw = world[3]
    placed = raw[raw["latest_offer_type"].isin(["virksomhedspraktik", "loentilskud"])]
    evaluated = placed[placed["company_final_evaluation"] == "ja"]
    g = _grid(world, "Figur 57")
    _check_items(g, {"company_final_evaluation": placed["company_final_evaluation"],
                     "company_feedback": evaluated["company_feedback"],
                     "company_evaluation_used": evaluated["company_evaluation_used"]})
    assert [(round(100 * r.values[0]), r.values[1]) for r in g.rows] == [(43, 192), (94, 82), (91, 82)]


def test_figure_26_caseworkers_by_the_9_interview_band(world) -> None:  # type: ignore[no-untyped-def]
    raw = world[3]
    band = pd.cut(raw["interviews_count"], [-1, 8, 999], labels=["Under 9 samtaler", "9+ samtaler"]).astype(str)
    workers = raw["caseworker_count"].clip(upper=5).astype(int).astype(str).replace("5", "5+")
    expected = pd.crosstab(band, workers, normalize="index")
    sizes = band.value_counts()
    g = _grid(world, "Figur 26")
    assert [r.key for r in g.rows] == ["Under 9 samtaler", "9+ samtaler", "I alt"]
    codes = ["1", "2", "3", "4", "5+"]
    assert [c.key for c in g.columns] == [f"caseworker_band:{c}" for c in codes] + ["caseworker_band:N"]
    for r in g.rows[:2]:
        assert r.values[:5] == pytest.approx([expected.at[r.key, c] for c in codes])
        assert r.values[5] == sizes[r.key]
    total = g.rows[2]
    assert total.total and total.values[:5] == pytest.approx(list(workers.value_counts(normalize=True)[codes]))
    assert total.values[5] == N
    # the report: 9+ interviews 31 % one and 35 % two caseworkers, under 9 24 % one; in all 28/31/23/12/7 %
    rows = {r.key: r for r in g.rows}
    assert round(100 * rows["9+ samtaler"].values[0]) == 31 and round(100 * rows["9+ samtaler"].values[1]) == 35
    assert round(100 * rows["Under 9 samtaler"].values[0]) == 24
    assert [round(100 * s) for s in workers.value_counts(normalize=True)[codes]] == [28, 31, 23, 12, 7]


def test_table_5_interrupted_courses_by_type_of_challenge(world) -> None:  # type: ignore[no-untyped-def]
    raw = world[3]
    g = _grid(world, "Tabel 5")
    ticked = raw.dropna(subset=["challenges"]).explode("challenges")
    expected = pd.crosstab(ticked["challenges"], ticked["interrupted_courses"], normalize="index")
    sizes = ticked["challenges"].value_counts()
    assert [r.key for r in g.rows] == [*CHALLENGES, "I alt"]
    for r in g.rows[:-1]:
        assert r.values[0] == pytest.approx(expected.at[r.key, "ja"]) and r.values[2] == sizes[r.key]
    assert [round(100 * r.values[0]) for r in g.rows] == [27, 21, 25, 28, 34, 33, 27, 13, 25]
    # I alt: every case, with or without challenges (the report's 25 %)
    assert g.rows[-1].values[0] == pytest.approx((raw["interrupted_courses"] == "ja").mean())
    assert g.rows[-1].values[2] == N


def test_table_7_two_multiple_response_lists_side_by_side(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    from audit.exports.annex import write_annex

    inst, spec, frame, raw = world
    g = _grid(world, "Tabel 7")
    lists = ("efforts_departments", "roundtable_participants")
    assert [c.key for c in g.columns] == [f"{v}:{k}" for v in lists for k in ("count", "share")]
    assert [c.group for c in g.columns] == [inst.item(v).label_da for v in lists for _ in (0, 1)]
    rows = {r.key: r for r in g.rows}
    published = {"efforts_departments": [20, 28, 15, 50, 52, None, 13],
                 "roundtable_participants": [19, 16, 8, 12, 46, 13, 22]}
    codes = ["socialafdeling", "familieafdeling", "misbrugsafdeling", "sundhedsafdeling", "andre_offentlige",
             "laegekonsulent", "andet"]
    for k, var in enumerate(lists):
        answered = raw[var].dropna()
        counts = answered.explode().value_counts()
        assert rows["N"].values[2 * k] == len(answered)
        for code, pct in zip(codes, published[var]):
            count = int(counts.get(code, 0))
            assert rows[code].values[2 * k] == count
            assert rows[code].values[2 * k + 1] == pytest.approx(count / len(answered))
            if pct is not None:
                assert round(100 * count / len(answered)) == pct, (var, code)
    assert g.n_note == [130, 85]
    out = tmp_path / "t7.xlsx"
    write_annex(frame, replace(spec, tables=[spec.table("Tabel 7")]), out, instrument=inst, audit_name="Test")
    ws = load_workbook(out)["Tabel 7"]
    cells = {ws.cell(row=r, column=1).value: [ws.cell(row=r, column=c).value for c in range(2, 6)]
             for r in range(1, ws.max_row + 1)}
    assert cells["Sundhedsafdeling"][0] == 65 and cells["Lægekonsulent"][2] == 11
    headings = [v for r in range(1, 8) for v in (ws.cell(row=r, column=c).value for c in range(2, 6))
                if isinstance(v, str)]
    assert [h for h in headings if h not in ("Antal", "Andel")] == [inst.item(v).label_da for v in lists]
    # suppressed: the small counts of one list hide there, the other list keeps its figures
    hidden = _grid(world, "Tabel 7", suppress=True)
    assert hidden.rows[[r.key for r in hidden.rows].index("andre_offentlige")].suppressed == [False] * 4


def test_table_10_latest_certificate_by_reason_with_lae_265_as_another_type(world) -> None:  # type: ignore[no-untyped-def]
    inst, _, _, raw = world
    given = raw.dropna(subset=["latest_certificate_type"])
    kind = given["latest_certificate_type"].replace({"lae265": "andet"})
    expected = pd.crosstab(given["latest_certificate_reason"], kind, normalize="columns")
    g = _grid(world, "Tabel 10")
    kinds = ["lae105", "lae125", "lae145", "lae155", "andet"]
    assert [c.key for c in g.columns] == [f"latest_certificate_type_report:{k}" for k in kinds]
    assert g.columns[-1].label == "Anden type" and g.columns[0].label == inst.item("latest_certificate_type").choice_label("lae105")
    for r in g.rows:
        if r.key == "N":
            assert r.values == [int((kind == k).sum()) for k in kinds]
            continue
        want = [expected.at[r.key, k] if r.key in expected.index else 0.0 for k in kinds]
        assert r.values == pytest.approx(want), r.key
    col = [round(100 * r.values[0]) for r in g.rows if r.key != "N"]
    assert col == [41, 41, 0, 0, 0, 0, 0, 7, 7, 4]   # the report's LÆ 105 column


def test_figure_65_clear_order_and_use_over_the_cases_with_certificates(world) -> None:  # type: ignore[no-untyped-def]
    raw = world[3]
    certs = raw[raw["medical_certificates"] == "ja"]
    g = _grid(world, "Figur 65")
    _check_items(g, {k: certs[k] for k in ("certificate_clear_order", "certificate_used_to_qualify")})
    assert [(round(100 * r.values[0]), r.values[1]) for r in g.rows] == [(65, 250), (65, 250)]


def test_the_new_exhibits_draw_and_write(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Every new figure draws (PNG and SVG, titled and with its N note) and every new exhibit
    writes into one annex workbook with the report's numbering."""
    from openpyxl import load_workbook

    from audit.exports.annex import write_annex
    from audit.exports.figures import figure_files

    inst, spec, frame, _ = world
    new = ["Figur 26", "Figur 39", "Figur 40", "Tabel 5", "Figur 57", "Figur 58", "Figur 59", "Tabel 7", "Tabel 10",
           "Figur 65"]
    ids = [t.id for t in spec.tables]
    assert [i for i in ids if i in new] == new   # in the report's order
    one = replace(spec, tables=[spec.table(i) for i in new])
    for g in build_grids(frame, one, inst, suppress=True):
        if g.definition.id.startswith("Figur"):
            png, svg = figure_files(g)
            assert png.startswith(b"\x89PNG") and b"<svg" in svg[:400]
            if g.definition.id == "Figur 26":   # the all-cases bars are drawn too
                assert b"bar|I alt|caseworker_band:1" in svg and b"bar|9+ samtaler|caseworker_band:1" in svg
    out = tmp_path / "new.xlsx"
    write_annex(frame, one, out, instrument=inst, audit_name="Test")
    assert set(new) <= set(load_workbook(out).sheetnames)


def test_figure_10_mean_focus_on_the_1_to_5_scale_over_the_22_municipalities_answering() -> None:
    """Figur 10: the mean (and median) of the two theme-7 focus scales over the 22 municipalities
    that answered theme 7 (3 of 25 recorded as not answering), as pandas computes them."""
    from audit.exports.annex import note_text
    from audit.exports.figures import figure_files
    from audit.statistics.dataset import municipality_frame

    inst = load_instrument(V11)
    spec = load_definitions(export_definition("report_2022.yaml"), instrument=inst)
    rng = random.Random(10)
    names = [f"K{k:02d}" for k in range(25)]
    reviews = pd.DataFrame({"municipality_review_id": range(1, 23), "municipality": names[:22]})
    answers = {i: {"political_focus": str(rng.choice([2, 3, 3, 4, 4, 5])),
                   "management_focus": str(rng.choice([3, 4, 4, 5, 5]))} for i in range(1, 23)}
    answers[5].pop("management_focus")   # one municipality left one scale blank: 21 there
    mframe = municipality_frame(reviews, answers, inst, not_answered=names[22:], municipalities=25)
    one = replace(spec, tables=[spec.table("Figur 10")])
    cases = pd.DataFrame({"case_id": [1], "municipality": ["K00"], "seniority_band": ["5-7"], "sex": ["mand"],
                          "age": [40], "origin": ["dansk"], "stratum_population": [5], "stratum_sample": [1],
                          "weight": [5.0]})
    g = build_grids(case_frame(cases, {1: {}}, inst), one, inst, suppress=True, municipality_frame=mframe)[0]
    raw = pd.DataFrame.from_dict(answers, orient="index").apply(pd.to_numeric)
    assert [c.label for c in g.columns] == ["Gennemsnit", "Median", "N"]
    assert [r.key for r in g.rows] == ["political_focus", "management_focus"]
    for r in g.rows:
        given = raw[r.key].dropna()
        assert r.values == [pytest.approx(given.mean()), pytest.approx(given.median()), len(given)]
        assert r.label == inst.item(r.key).label_da
    assert [r.values[2] for r in g.rows] == [22, 21]
    assert note_text(g).startswith("Anm.: N=22 og 21 kommuner. 3 af 25 kommuner har ikke besvaret tema 7")
    png, svg = figure_files(g)
    assert png.startswith(b"\x89PNG") and b"bar|political_focus|mean" in svg


def test_figure_10_without_theme_7_answers_prints_empty_rows() -> None:
    """An audit whose municipalities have not answered theme 7 yet still gets Figure 10: each scale
    a row with N 0 and no mean (it used to stop the whole report)."""
    from audit.statistics.dataset import municipality_frame

    inst = load_instrument(V11)
    spec = load_definitions(export_definition("report_2022.yaml"), instrument=inst)
    empty = municipality_frame(pd.DataFrame({"municipality_review_id": [], "municipality": []}), {}, inst,
                               not_answered=[], municipalities=25)
    cases = pd.DataFrame({"case_id": [1], "municipality": ["K00"], "seniority_band": ["5-7"], "sex": ["mand"],
                          "age": [40], "origin": ["dansk"], "stratum_population": [5], "stratum_sample": [1],
                          "weight": [5.0]})
    g = build_grids(case_frame(cases, {1: {}}, inst), replace(spec, tables=[spec.table("Figur 10")]), inst,
                    suppress=True, municipality_frame=empty)[0]
    assert [(r.key, r.values) for r in g.rows] == [("political_focus", [None, None, 0]),
                                                   ("management_focus", [None, None, 0])]


@pytest.mark.parametrize("exhibit, gate, focus, none_label", [
    ("Figur 66", "supervision", "supervision_focus", "Intet ledelsestilsyn"),
    ("Figur 67", "dashboards", "dashboard_focus", "Ingen dashboards"),
    ("Figur 68", "management_info", "management_info_focus", "Ingen ledelsesinformation"),
])
def test_figures_66_to_68_focus_areas_over_all_22_municipalities_answering(exhibit, gate, focus,
                                                                           none_label) -> None:
    """Figures 66-68 (N=22 kommuner): every municipality that answered theme 7 is in the base, also
    one without supervision, dashboards or management information, whose focus question was not
    asked (instrument 1.1's skip logic); it is counted in its own row, so the shares are of the 22
    and not of those that were asked. Checked against counts made here from the answers."""
    from audit.exports.annex import note_text
    from audit.statistics.dataset import municipality_frame

    inst = load_instrument(V11)
    spec = load_definitions(export_definition("report_2022.yaml"), instrument=inst)
    names = [f"K{k:02d}" for k in range(25)]
    reviews = pd.DataFrame({"municipality_review_id": range(1, 23), "municipality": names[:22]})
    rng = random.Random(exhibit)
    codes = [c.code for c in inst.item(focus).choices]
    answers: dict[int, dict[str, object]] = {}
    for i in range(1, 23):
        has = i <= 17                      # 5 of the 22 have none: their focus question is not asked
        answers[i] = {gate: "ja" if has else "nej"}
        if has:
            answers[i][focus] = sorted(rng.sample(codes, rng.randint(1, 8)))
    mframe = municipality_frame(reviews, answers, inst, not_answered=names[22:], municipalities=25)
    cases = pd.DataFrame({"case_id": [1], "municipality": ["K00"], "seniority_band": ["5-7"], "sex": ["mand"],
                          "age": [40], "origin": ["dansk"], "stratum_population": [5], "stratum_sample": [1],
                          "weight": [5.0]})
    g = build_grids(case_frame(cases, {1: {}}, inst), replace(spec, tables=[spec.table(exhibit)]), inst,
                    suppress=False, municipality_frame=mframe)[0]
    ticked = pd.Series([answers[i].get(focus, ["ingen"]) for i in answers]).explode().value_counts()
    expected = [(c, int(ticked.get(c, 0)), ticked.get(c, 0) / 22) for c in [*codes, "ingen"]]
    body = [r for r in g.rows if not r.total]
    assert [(r.key, r.values[0]) for r in body] == [(c, n) for c, n, _ in expected]
    assert [r.values[1] for r in body] == [pytest.approx(s) for _, _, s in expected]
    assert body[-1].label == none_label and body[-1].values[0] == 5
    assert [r.values[0] for r in g.rows if r.total] == [22]
    assert note_text(g).startswith("Anm.: N=22 kommuner. 3 af 25 kommuner har ikke besvaret tema 7")


TOOLS = ("weeks_virksomhedspraktik", "weeks_loentilskud", "weeks_nytteindsats", "weeks_ordinaer_uddannelse",
         "weeks_vejledning_opkvalificering")


def _population(n: int, seed: int, rare: dict[str, int] | None = None) -> pd.DataFrame:
    """A register extract of `n` persons, each with weeks in the five tools over the two years
    (some with none at all); a tool in `rare` is used by that many persons only."""
    rng = random.Random(seed)
    rows = []
    for k in range(n):
        weeks = {t: (rng.choice([0, 0, 4, 8, 13, 26]) if t != TOOLS[-1] else rng.choice([0, 6, 12, 30, 52]))
                 for t in TOOLS}
        for t, users in (rare or {}).items():
            weeks[t] = rng.randint(3, 20) if k < users else 0
        rows.append({"person_id": f"P{k}", "municipality": f"K{k % 5:02d}", "sex": "mand", "age": 40,
                     "origin": "dansk", "seniority_band": "5-7", **weeks})
    return pd.DataFrame(rows)


def _figure_36(population: pd.DataFrame, suppress: bool):  # type: ignore[no-untyped-def]
    inst = load_instrument(V11)
    spec = load_definitions(export_definition("report_2022.yaml"), instrument=inst)
    cases = pd.DataFrame({"case_id": [1], "municipality": ["K00"], "seniority_band": ["5-7"], "sex": ["mand"],
                          "age": [40], "origin": ["dansk"], "stratum_population": [5], "stratum_sample": [1],
                          "weight": [5.0]})
    return build_grids(case_frame(cases, {1: {}}, inst), replace(spec, tables=[spec.table("Figur 36")]), inst,
                       suppress=suppress, population=population)[0]


def test_figure_36_each_tools_weeks_as_a_share_of_all_weeks_in_activation() -> None:
    """Figur 36 (N=14.164): the weeks under each tool as a share of all weeks in offers (a ratio
    of sums over the population, not a share of persons), as pandas sums them here."""
    pop = _population(600, 36)
    g = _figure_36(pop, suppress=True)
    sums = pop[list(TOOLS)].sum()
    body = [r for r in g.rows if not r.total]
    assert [r.key for r in body] == list(TOOLS)
    assert [r.label for r in body][0] == "Virksomhedspraktik"
    assert [r.values[0] for r in body] == [int(sums[t]) for t in TOOLS]
    assert [r.values[1] for r in body] == [pytest.approx(sums[t] / sums.sum()) for t in TOOLS]
    assert not any(any(r.suppressed) for r in body)
    total = next(r for r in g.rows if r.total)
    assert total.values == [int(sums.sum()), 1.0]
    assert g.n_note == [600]


def test_figure_36_hides_a_tool_few_persons_used_and_one_more() -> None:
    """A tool that only 2 persons used (fewer than the report's 3) is hidden with its share, and
    the next smallest sum with it, since the shares add up to 100 %; the others print."""
    pop = _population(300, 7, rare={"weeks_ordinaer_uddannelse": 2})
    assert (pop["weeks_ordinaer_uddannelse"] > 0).sum() == 2
    g = _figure_36(pop, suppress=True)
    rows = {r.key: r for r in g.rows if not r.total}
    sums = pop[list(TOOLS)].sum()
    hidden = {k for k, r in rows.items() if all(r.suppressed)}
    others = sums.drop("weeks_ordinaer_uddannelse")
    assert hidden == {"weeks_ordinaer_uddannelse", others.idxmin()}
    assert all(rows[k].values == [None, None] for k in hidden)
    for k in set(TOOLS) - hidden:
        assert rows[k].values == [int(sums[k]), pytest.approx(sums[k] / sums.sum())]
    assert g.suppression_rule and "færre end 3" in g.suppression_rule
    shown = _figure_36(pop, suppress=False)
    assert not any(any(r.suppressed) for r in shown.rows)


def test_figures_14_52_and_64_from_the_reviewed_cases() -> None:
    """Figur 14 (interviews by direction, in Figure 13's bands), Figur 52 (weeks in company-oriented
    courses by direction, in Figure 51's bands; instrument 1.1's calculated band) and Figur 64 (the
    certificate types obtained, over the 250 cases with certificates; LÆ 125 in 58 % and LÆ 265 in
    9 % as the report): each cell as pandas counts it here from the answers."""
    inst = load_instrument(V11)
    spec = load_definitions(export_definition("report_2022.yaml"), instrument=inst)
    rng = random.Random(1452)
    cases = pd.DataFrame({"case_id": range(1, N + 1), "municipality": [f"K{k % 25:02d}" for k in range(N)],
                          "seniority_band": ["5-7", "7-10", "10+"] * (N // 3), "sex": ["mand", "kvinde"] * 187 + ["mand"],
                          "age": [45] * N, "origin": ["dansk"] * N, "stratum_population": [500] * N,
                          "stratum_sample": [5] * N, "weight": [100.0] * N})
    a: dict[int, dict] = {}
    certs = set(rng.sample(range(1, N + 1), 250))
    lae125, lae265 = set(rng.sample(sorted(certs), 145)), set(rng.sample(sorted(certs), 23))
    for i in range(1, N + 1):
        weeks = rng.choice([0, 0, 5, 13, 14, 20, 26, 27, 40, 52, 53, 80])
        a[i] = {"direction": rng.choice(["jobrettet", "jobrettet", "rehabiliterende", "fritaget"]),
                "interviews_count": rng.randint(0, 18), "company_placement": "ja" if weeks else "nej",
                "company_placement_weeks": weeks, "medical_certificates": "ja" if i in certs else "nej"}
        if i in certs:
            types = {t for t in ("lae105", "lae145", "lae155", "andet") if rng.random() < 0.3}
            types |= {"lae125"} if i in lae125 else set()
            types |= {"lae265"} if i in lae265 else set()
            a[i]["medical_certificate_types"] = sorted(types or {"andet"})
    frame = apply_derived(case_frame(cases, a, inst), load_derived(instrument=inst))
    raw = pd.DataFrame.from_dict(a, orient="index").sort_index()

    def grid(exhibit: str):  # type: ignore[no-untyped-def]
        return build_grids(frame, replace(spec, tables=[spec.table(exhibit)]), inst, suppress=False)[0]

    def check_crosstab(g, column: pd.Series, codes: list[str]) -> None:  # type: ignore[no-untyped-def]
        expected = pd.crosstab(raw["direction"], column, normalize="index")
        ns = raw["direction"].value_counts()
        rows = [r for r in g.rows if not r.total and r.key != "N"]
        assert [r.key for r in rows] == ["jobrettet", "rehabiliterende", "fritaget"]
        for r in rows:
            want = [expected.at[r.key, c] if c in expected.columns else 0.0 for c in codes]
            assert r.values[:len(codes)] == pytest.approx(want), r.key
            assert r.values[len(codes)] == ns[r.key]

    bands14 = pd.cut(raw["interviews_count"], [0, 8, 11, float("inf")], right=False,
                     labels=["Under 8", "8-10", "Over 10"]).astype(str)
    check_crosstab(grid("Figur 14"), bands14, ["Under 8", "8-10", "Over 10"])
    w = raw["company_placement_weeks"]
    bands52 = pd.Series(["0" if v == 0 else "1-13" if v <= 13 else "14-26" if v <= 26 else "27-52" if v <= 52
                         else "52+" for v in w], index=w.index)
    check_crosstab(grid("Figur 52"), bands52, ["0", "1-13", "14-26", "27-52", "52+"])

    g64 = grid("Figur 64")
    ticked = raw["medical_certificate_types"].dropna().explode().value_counts()
    body = [r for r in g64.rows if not r.total]
    assert [r.key for r in body] == [c.code for c in inst.item("medical_certificate_types").choices]
    for r in body:
        assert r.values == [int(ticked.get(r.key, 0)), pytest.approx(ticked.get(r.key, 0) / 250)], r.key
    assert [r.values[0] for r in g64.rows if r.total] == [250]
    assert {r.key: round(100 * r.values[1]) for r in body if r.key in ("lae125", "lae265")} == {"lae125": 58,
                                                                                                "lae265": 9}


def test_figure_36_hides_the_total_when_it_would_give_a_lone_hidden_sum_away() -> None:
    """A pilot's register where only 2 persons were in any offer, all in one tool: that sum is
    hidden, no other sum is above 0 to hide with it, so the total (which equals it) is hidden
    too; the zeros print."""
    pop = _population(50, 3, rare={t: 0 for t in TOOLS})
    pop.loc[:1, "weeks_loentilskud"] = [7, 9]
    g = _figure_36(pop, suppress=True)
    rows = {r.key: r for r in g.rows}
    assert rows["weeks_loentilskud"].values == [None, None] and all(rows["weeks_loentilskud"].suppressed)
    assert all(rows["I alt"].suppressed) and rows["I alt"].values == [None, None]
    assert [rows[t].values[0] for t in TOOLS if t != "weeks_loentilskud"] == [0, 0, 0, 0]
    shown = _figure_36(pop, suppress=False)
    assert next(r for r in shown.rows if r.total).values == [16, 1.0]
