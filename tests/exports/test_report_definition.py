"""The report definition: every exhibit checks, and exhibits built from it equal pandas."""
from __future__ import annotations

import random
from dataclasses import replace

import pandas as pd
import pytest

from audit.exports.compute import build_grids
from audit.exports.definitions import load_definitions
from audit.exports.service import default_instrument
from audit.resources import export_definition
from audit.statistics.dataset import case_frame, municipality_frame
from audit.statistics.derived import apply_derived, load_derived

N = 375


@pytest.fixture(scope="module")
def setup():  # type: ignore[no-untyped-def]
    inst = default_instrument()
    spec = load_definitions(export_definition("report_2022.yaml"), instrument=inst)
    rng = random.Random(2022)
    # Figure 8's published shares 55 / 34 / 12 % of N=375 come from 205 / 126 / 44 cases
    directions = ["jobrettet"] * 205 + ["rehabiliterende"] * 126 + ["fritaget"] * 44
    rng.shuffle(directions)
    cases = pd.DataFrame({"case_id": range(1, N + 1), "municipality": [f"K{k % 25:02d}" for k in range(N)],
                          "seniority_band": ["5-7", "7-10", "10+"] * (N // 3), "sex": ["mand", "kvinde"] * 187 + ["mand"],
                          "age": [rng.randint(30, 65) for _ in range(N)], "origin": ["dansk"] * N,
                          "stratum_population": [500] * N, "stratum_sample": [5] * N, "weight": [100.0] * N})
    answers = {}
    for cid, d in zip(cases["case_id"], directions):
        med = "ja" if rng.random() < 2 / 3 else "nej"
        a = {"direction": d, "medical_certificates": med, "meetings_other_departments": rng.choice(["ja", "nej"]),
             "roundtable": rng.choice(["ja", "nej", "nej"])}
        if med == "ja":
            a["medical_certificates_count"] = rng.randint(1, 8)
        answers[int(cid)] = a
    frame = apply_derived(case_frame(cases, answers, inst), load_derived(instrument=inst))
    names = [f"K{k:02d}" for k in range(25)]
    reviews = pd.DataFrame({"municipality_review_id": range(1, 23), "municipality": names[:22]})
    m_answers = {i: {"supervision": "ja" if i % 3 else "nej",
                     "supervision_focus": ["jobfokus", "cv"] if i % 2 else ["cv"]} for i in range(1, 23)}
    mframe = municipality_frame(reviews, m_answers, inst, not_answered=names[22:], municipalities=25)
    return inst, spec, frame, answers, mframe, m_answers


def _grid(setup, exhibit: str):  # type: ignore[no-untyped-def]
    inst, spec, frame, _, mframe, _ = setup
    one = replace(spec, tables=[spec.table(exhibit)])
    return build_grids(frame, one, inst, suppress=False, municipality_frame=mframe)[0]


def test_the_report_definition_numbers_exhibits_as_the_report(setup) -> None:  # type: ignore[no-untyped-def]
    spec = setup[1]
    ids = [t.id for t in spec.tables]
    assert len(ids) >= 40 and "Figur 8" in ids and "Tabel 8" in ids and "Figur 66" in ids
    assert all(i.split()[0] in ("Figur", "Tabel") for i in ids)
    assert spec.table("Figur 8").title == "Hvordan arbejdes der med målgruppen?"


def test_figure_8_reproduces_the_published_shares(setup) -> None:  # type: ignore[no-untyped-def]
    answers = setup[3]
    g = _grid(setup, "Figur 8")
    raw = pd.Series([a["direction"] for a in answers.values()])
    expected = raw.value_counts(normalize=True)
    rows = {r.key: r for r in g.rows}
    assert rows["N"].values[0] == N
    for code, share in expected.items():
        assert rows[code].values[1] == pytest.approx(share)
    assert [round(100 * rows[c].values[1]) for c in ("jobrettet", "rehabiliterende", "fritaget")] == [55, 34, 12]
    assert rows["jobrettet"].label != "jobrettet"  # a label, not the code


def test_figure_63_band_with_ingen_over_all_cases(setup) -> None:  # type: ignore[no-untyped-def]
    answers = setup[3]
    counts = pd.Series([a.get("medical_certificates_count", 0) for a in answers.values()])
    bands = pd.cut(counts, [-1, 0, 2, 4, 6, 99], labels=["Ingen", "1-2", "3-4", "5-6", "7+"]).astype(str)
    g = _grid(setup, "Figur 63")
    rows = {r.key: r for r in g.rows}
    assert rows["N"].values[0] == N
    for code, count in bands.value_counts().items():
        assert rows[code].values[0] == count


def test_table_8_mean_includes_the_zeros(setup) -> None:  # type: ignore[no-untyped-def]
    answers = setup[3]
    raw = pd.DataFrame({"d": [a["direction"] for a in answers.values()],
                        "n": [a.get("medical_certificates_count", 0) for a in answers.values()]})
    g = _grid(setup, "Tabel 8")
    t = g.stats_tables[0]
    text = repr(t.counts if hasattr(t, "counts") else t)
    means = raw.groupby("d")["n"].mean()
    cells = [v for r in g.rows for v in r.values if isinstance(v, float)]
    for m in means:
        assert any(abs(c - m) < 1e-9 for c in cells), (m, cells, text)


def test_figure_66_counts_municipalities(setup) -> None:  # type: ignore[no-untyped-def]
    m_answers = setup[5]
    asked = [a for a in m_answers.values() if a["supervision"] == "ja"]
    g = _grid(setup, "Figur 66")
    rows = {r.key: r for r in g.rows}
    assert 0 < len(asked) < len(m_answers)
    assert rows["N"].values[0] == len(m_answers)   # every municipality that answered, asked or not
    assert rows["cv"].values[0] == sum("cv" in a["supervision_focus"] for a in asked)
    assert rows["ingen"].values[0] == len(m_answers) - len(asked)
    assert g.definition.source == "Survey til ledelsen i de deltagende kommuner"


def test_the_coverage_document_accounts_for_every_exhibit(setup) -> None:  # type: ignore[no-untyped-def]
    """docs/report_coverage.md: 82 rows, one per exhibit; each exhibit of the definition is named
    there as produced, and the count it states is the definition's."""
    import re
    from pathlib import Path

    spec = setup[1]
    text = Path("docs/report_coverage.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| ((?:Figur|Tabel) \d+) \| [^|]+ \| (.+) \|$", text, flags=re.M)
    assert [int(r[0]) for r in rows] == list(range(1, 83))
    produced = {r[1] for r in rows if r[2].startswith(f"`{r[1]}`")}
    assert produced == {t.id for t in spec.tables}
    assert f"{len(spec.tables)} of 82 exhibits have an entry" in text


def _strata_cases(base: int, per_municipality: int, per_band: int) -> pd.DataFrame:
    """375 cases in 25 municipalities (15 each, 5 per band) whose strata differ in size
    (N_h = base + per_municipality * k + per_band * band), so a weighted estimate differs from
    the share of all cases."""
    munis = [f"K{k // 15:02d}" for k in range(N)]
    bands = ["5-7", "7-10", "10+"] * (N // 3)
    pop = [base + per_municipality * int(m[1:]) + per_band * ["5-7", "7-10", "10+"].index(b)
           for m, b in zip(munis, bands)]
    cases = pd.DataFrame({"case_id": range(1, N + 1), "municipality": munis, "seniority_band": bands,
                          "sex": ["mand", "kvinde"] * 187 + ["mand"], "age": [40] * N, "origin": ["dansk"] * N,
                          "stratum_population": pop, "stratum_sample": [5] * N})
    cases["weight"] = cases["stratum_population"] / 5
    return cases


def _comparison_frame():  # type: ignore[no-untyped-def]
    """375 cases in 25 municipalities (15 each, 5 per band), 227 of them with a job and resource
    focus (the report's N of Figure 17), and strata of unequal size so the weighted estimate
    differs from the share of all cases."""
    inst = default_instrument()
    rng = random.Random(16)
    rest = ["ja"] * 213 + ["nej"] * 147
    rng.shuffle(rest)
    focus = ["ja"] * 14 + ["nej"] + rest          # K00: 14 of 15, its one "nej" a small cell
    cases = _strata_cases(20, 37, 11)
    munis, bands = cases["municipality"].tolist(), cases["seniority_band"].tolist()
    answers = {i + 1: {"job_resource_focus": f} for i, f in enumerate(focus)}
    frame = apply_derived(case_frame(cases, answers, inst), load_derived(instrument=inst))
    return inst, frame, cases.assign(focus=focus)


def test_figure_16_compares_municipalities_sorted_with_all_cases_and_the_weighted_estimate(setup) -> None:  # type: ignore[no-untyped-def]
    inst, frame, raw = _comparison_frame()
    spec = setup[1]
    assert spec.table("Figur 16").kind == "comparison"
    one = replace(spec, tables=[spec.table("Figur 16")])
    g = build_grids(frame, one, inst, suppress=False)[0]
    yes = raw["focus"].eq("ja")
    shares = yes.groupby(raw["municipality"]).mean().sort_values(ascending=False, kind="stable")
    body = [r for r in g.rows if not r.total]
    for r in body:
        assert r.values[0] == pytest.approx(shares[r.key]) and r.values[2] == 15
        assert r.values[1] == pytest.approx(227 / 375)            # the all-cases line on every bar
    assert [r.values[0] for r in body] == sorted((r.values[0] for r in body), reverse=True)
    totals = {r.key: r for r in g.rows if r.total}
    assert totals["I alt"].values[0] == pytest.approx(227 / 375) and totals["I alt"].values[2] == N
    # design-weighted: each case weighs N_h / n_h of its stratum (municipality x band)
    n_h = raw.groupby(["municipality", "seniority_band"])["case_id"].transform("size")
    w = raw["stratum_population"] / n_h
    assert totals["weighted"].values[0] == pytest.approx(float((w * yes).sum() / w.sum()))
    assert totals["weighted"].values[0] != pytest.approx(227 / 375, abs=1e-3)
    # suppressed: a municipality with fewer than 3 "nej" (or "ja") prints x for its share, not
    # its whole row, and sorts last; every other share is still shown
    small = {m for m, s in raw.groupby("municipality")["focus"] if min((s == "ja").sum(), (s == "nej").sum()) < 3}
    hidden = build_grids(frame, one, inst, suppress=True)[0]
    rows = [r for r in hidden.rows if not r.total]
    flagged = [r.key for r in rows if r.suppressed[0]]
    assert "K00" in small and set(small) <= set(flagged) and all(not r.suppressed[2] for r in rows)
    assert len(flagged) < len(rows)
    assert [r.key for r in rows[len(rows) - len(flagged):]] == flagged


def test_table_4_profiles_by_column_shares_as_pandas(setup) -> None:  # type: ignore[no-untyped-def]
    """Tabel 4: the four profiles (job-oriented under 50 and 50+, rehabilitating, exempted) as
    columns, each block a column share computed here with pandas; a register block the frame
    lacks (status before the spell) is left out and named in the note."""
    inst, spec, frame, answers, _m, _a = setup
    g = _grid(setup, "Tabel 4")
    assert [c.label for c in g.columns] == ["Jobrettet indsats under 50 år", "Jobrettet indsats 50+ år",
                                            "Rehabiliterende indsats", "Fritagelse"]
    assert g.columns[0].group == "Målgruppe"
    assert "status_before_spell" in g.definition.note and "status_before_spell" not in g.definition.rows
    raw = pd.DataFrame({"d": [answers[c]["direction"] for c in frame["case_id"]], "age": frame["age"].to_numpy(),
                        "sex": frame["sex"].to_numpy()})
    raw["profile"] = [("Jobrettet indsats under 50 år" if a < 50 else "Jobrettet indsats 50+ år") if d == "jobrettet"
                      else {"rehabiliterende": "Rehabiliterende indsats", "fritaget": "Fritagelse"}[d]
                      for d, a in zip(raw["d"], raw["age"])]
    shares = pd.crosstab(raw["sex"], raw["profile"], normalize="columns")
    sizes = raw["profile"].value_counts()
    block = [r for r in g.rows if r.block == "Køn"]
    by_label = {r.label: r for r in block}
    for code, label in (("kvinde", "Kvinde"), ("mand", "Mand")):
        for k, col in enumerate(g.columns):
            assert by_label[label].values[k] == pytest.approx(shares.loc[code, col.label])
    assert by_label["N"].values == [int(sizes[c.label]) for c in g.columns]


def _items_frame(goals_yes: int = 118):  # type: ignore[no-untyped-def]
    """375 cases in 25 municipalities with strata of unequal size, Figure 8's 205 / 126 / 44
    directions, and the answers behind Figures 17 and 33 as the report publishes them:
    227 cases with a job and resource focus, asked the five focus items (79, 69, 52, 60 and
    54 % "ja"); a CV on Jobnet in 146 / 60 / 20 cases by direction (226 of 375, 60 %), and of
    the 149 without one, 10 / 7 / 2 with CV information in another format (13 %, jobrettet 17 %).
    (The report's 37 % for fritaget cannot be had from 44 cases; its figures do not add up to
    its 60 %.) `goals_yes` sets how many of the 227 have concrete job goals."""
    inst = default_instrument()
    rng = random.Random(17)
    directions = ["jobrettet"] * 205 + ["rehabiliterende"] * 126 + ["fritaget"] * 44
    rng.shuffle(directions)
    cases = _strata_cases(30, 41, 13)
    munis, bands = cases["municipality"].tolist(), cases["seniority_band"].tolist()
    focus = ["ja"] * 227 + ["nej"] * 148
    rng.shuffle(focus)
    asked = [i for i, f in enumerate(focus) if f == "ja"]
    yes_counts = {"focus_job_wishes": 179, "focus_job_options": 157, "focus_job_goals": goals_yes,
                  "focus_resources_job": 136, "focus_resources_subgoals": 123}
    answers: dict[int, dict[str, str]] = {i + 1: {"direction": d, "job_resource_focus": f}
                                          for i, (d, f) in enumerate(zip(directions, focus))}
    for item, yes in yes_counts.items():
        values = ["ja"] * yes + ["nej"] * (len(asked) - yes)
        rng.shuffle(values)
        for i, v in zip(asked, values):
            answers[i + 1][item] = v
    for direction, (jobnet, other) in {"jobrettet": (146, 10), "rehabiliterende": (60, 7), "fritaget": (20, 2)}.items():
        members = [i for i, d in enumerate(directions) if d == direction]
        rng.shuffle(members)
        for k, i in enumerate(members):
            answers[i + 1]["cv_jobnet"] = "ja" if k < jobnet else "nej"
            if k >= jobnet:
                answers[i + 1]["cv_other_format"] = "ja" if k < jobnet + other else "nej"
    frame = apply_derived(case_frame(cases, answers, inst), load_derived(instrument=inst))
    raw = cases.assign(**{name: [answers[i].get(name) for i in cases["case_id"]]
                          for name in ("direction", *yes_counts, "cv_jobnet", "cv_other_format")})
    return inst, frame, raw


def _share_and_n(answers: pd.Series) -> tuple[float, int]:
    """pandas: the share "ja" among the cases where the item was answered, and that N."""
    given = answers.dropna()
    return float((given == "ja").mean()), int(len(given))


FOCUS = ("focus_job_wishes", "focus_job_options", "focus_job_goals", "focus_resources_job", "focus_resources_subgoals")


def test_figure_17_five_focus_items_each_over_the_cases_asked(setup) -> None:  # type: ignore[no-untyped-def]
    """Figur 17: one row per focus item, its share "ja" and N among the cases where it was
    answered (those with a job and resource focus), as pandas computes them from the answers;
    design-weighted with N_h/n_h; suppressed, an item with 2 "ja" prints x and the others stay."""
    from audit.exports.annex import note_text

    inst, frame, raw = _items_frame()
    spec = setup[1]
    tdef = spec.table("Figur 17")
    assert tdef.kind == "items" and tdef.items == FOCUS and tdef.chart == "bar"
    one = replace(spec, tables=[tdef])
    g = build_grids(frame, one, inst, suppress=False)[0]
    assert [c.kind for c in g.columns] == ["share", "n"] and g.columns[0].label == "Andel ja"
    assert [r.key for r in g.rows] == list(FOCUS)
    for r in g.rows:
        share, n = _share_and_n(raw[r.key])
        assert r.values[0] == pytest.approx(share) and r.values[1] == n
        assert r.label == inst.item(r.key).label_da  # the question, not the code
    # the report's published figures: N=227, 79 / 69 / 52 / 60 / 54 %
    assert [r.values[1] for r in g.rows] == [227] * 5
    assert [round(100 * r.values[0]) for r in g.rows] == [79, 69, 52, 60, 54]
    assert note_text(g).startswith("Anm.: N=227. Sager, hvor der er svaret ja")  # the same N said once

    # design-weighted: each case weighs N_h / n_h of its stratum (municipality x band), n_h over all cases
    n_h = raw.groupby(["municipality", "seniority_band"])["case_id"].transform("size")
    w = raw["stratum_population"] / n_h
    weighted = build_grids(frame, replace(one, tables=[replace(tdef, weighting="design")]), inst, suppress=False)[0]
    assert weighted.weighted and weighted.columns[0].label == "Andel ja (vægtet)"
    for r in weighted.rows:
        given = raw[r.key].notna()
        expected = float((w[given] * raw.loc[given, r.key].eq("ja")).sum() / w[given].sum())
        assert r.values[0] == pytest.approx(expected) and r.values[1] == 227
    assert any(abs(r.values[0] - u.values[0]) > 1e-3 for r, u in zip(weighted.rows, g.rows))

    # suppressed: concrete job goals in 2 of 227 cases is a small cell; its share prints x, its N and
    # every other item stay
    inst, frame, raw = _items_frame(goals_yes=2)
    hidden = build_grids(frame, one, inst, suppress=True)[0]
    rows = {r.key: r for r in hidden.rows}
    assert rows["focus_job_goals"].suppressed == [True, False] and rows["focus_job_goals"].values[1] == 227
    for item in FOCUS:
        if item != "focus_job_goals":
            assert rows[item].suppressed == [False, False]
            assert rows[item].values[0] == pytest.approx(round(100 * _share_and_n(raw[item])[0]) / 100)
    assert "x: " in note_text(hidden)


def test_figure_33_two_cv_items_by_direction_with_their_own_bases(setup, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Figur 33: per direction (and in total) the share "ja" of CV on Jobnet (all cases) and of CV
    information in another format (the cases without a Jobnet CV), and an N column per group,
    against pandas; the note says N=375 og 149; suppressed, a direction with 2 "ja" prints x, in the
    written sheet too, and the chart has a series per direction."""
    from openpyxl import load_workbook

    from audit.exports.annex import write_annex

    inst, frame, raw = _items_frame()
    spec = setup[1]
    tdef = spec.table("Figur 33")
    assert tdef.kind == "items" and tdef.items == ("cv_jobnet", "cv_other_format") and tdef.cols == ("direction",)
    one = replace(spec, tables=[tdef])
    g = build_grids(frame, one, inst, suppress=False)[0]
    groups = ["jobrettet", "rehabiliterende", "fritaget"]
    # per direction (its label above) the share and its N, then all cases
    assert [c.key for c in g.columns] == [f"{k}:{d}" for d in (*groups, "I alt") for k in ("share", "N")]
    assert [c.label for c in g.columns] == ["Andel ja", "N"] * 4
    labels = {c.code: c.label_da for c in inst.item("direction").choices}
    assert [c.group for c in g.columns] == [h for d in groups for h in (labels[d],) * 2] + ["I alt"] * 2
    assert g.rows[1].label == "CV-oplysninger i andet format (sager uden CV på Jobnet)"
    for r in g.rows:
        for k, d in enumerate(groups):
            share, n = _share_and_n(raw.loc[raw["direction"] == d, r.key])
            assert r.values[2 * k] == pytest.approx(share) and r.values[2 * k + 1] == n, (r.key, d)
        share, n = _share_and_n(raw[r.key])
        assert r.values[6] == pytest.approx(share) and r.values[7] == n
    assert g.n_note == [375, 149]
    assert [round(100 * g.rows[0].values[k]) for k in (0, 2, 6)] == [71, 48, 60]
    assert [round(100 * g.rows[1].values[k]) for k in (0, 6)] == [17, 13]

    # suppressed: fritaget's 2 "ja" of 24 is hidden, and so is every share whose "ja" or "nej" count is
    # below 3; the N's stay, and CV on Jobnet (no small cell) is shown in full
    hidden = build_grids(frame, one, inst, suppress=True)[0]
    other = hidden.rows[1]
    assert other.suppressed[4] and not any(other.suppressed[1::2])
    assert not any(hidden.rows[0].suppressed)
    for r in hidden.rows:
        for k, d in enumerate(groups):
            answered = raw.loc[raw["direction"] == d, r.key].dropna()
            if min(answered.eq("ja").sum(), answered.eq("nej").sum()) < 3:
                assert r.suppressed[2 * k], (r.key, d)
    out = tmp_path / "f33.xlsx"
    write_annex(frame, one, out, instrument=inst, audit_name="Test")
    ws = load_workbook(out)["Figur 33"]
    cells = {ws.cell(row=r, column=1).value: [ws.cell(row=r, column=c).value for c in range(2, 10)]
             for r in range(1, ws.max_row + 1)}
    assert cells["CV-oplysninger i andet format (sager uden CV på Jobnet)"][4] == "x"
    assert cells["CV-oplysninger i andet format (sager uden CV på Jobnet)"][1::2] == [59, 66, 24, 149]
    note = next(v for v in cells if isinstance(v, str) and v.startswith("Anm.:"))
    assert note.startswith("Anm.: N=375 og 149.")
    assert len(ws._charts) == 1 and len(ws._charts[0].series) == 4
    # each series is named by its direction's heading above "Andel ja"
    names = [ws[s.tx.strRef.f.split("!")[1].replace("$", "")].value for s in ws._charts[0].series]
    assert names == [c.group for c in g.columns[::2]] and names[-1] == "I alt"


def test_table_14_is_the_annex_t17(setup) -> None:  # type: ignore[no-untyped-def]
    """One definition of Table 14: the report's entry and the default annex's T17 declare the
    same characteristics and indicators, so the two workbooks cannot disagree."""
    from audit.resources import export_definition

    report = setup[1].table("Tabel 14")
    annex = load_definitions(export_definition("annex_default.yaml"), instrument=setup[0]).table("T17")
    assert (report.kind, report.characteristics, report.indicators, report.indicator_as) == \
        (annex.kind, annex.characteristics, annex.indicators, annex.indicator_as)


def test_means_by_group_with_the_design_interval_equal_pandas_and_r(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """kind means: mean, median and N of a number per group and in total (pandas), and weighted
    the design-based mean with its 95 % interval, equal to R's survey (svymean, confint)."""
    from audit.exports.definitions import load_definitions
    from tests.statistics.rsurvey import run_r
    from tests.statistics.test_stats_r_oracle import DESIGN

    inst = default_instrument()
    rng = random.Random(12)
    cases = _strata_cases(20, 37, 11)
    munis, bands = cases["municipality"].tolist(), cases["seniority_band"].tolist()
    directions = [rng.choice(["jobrettet", "rehabiliterende", "fritaget"]) for _ in range(N)]
    answers = {i + 1: {"direction": d, **({"interviews_count": rng.randint(0, 20)} if rng.random() < 0.9 else {})}
               for i, d in enumerate(directions)}
    frame = apply_derived(case_frame(cases, answers, inst), load_derived(instrument=inst))
    definitions = tmp_path / "means.yaml"
    definitions.write_text(
        "tables:\n"
        "  - {id: M1, title: Samtaler, kind: means, row: direction, col: interviews_count}\n"
        "  - {id: M2, title: Samtaler (vægtet), kind: means, row: direction, col: interviews_count,"
        " weighting: design}\n", encoding="utf-8")
    spec = load_definitions(definitions, instrument=inst)
    plain, weighted = build_grids(frame, spec, inst, suppress=False)
    raw = pd.DataFrame({"d": directions, "y": [answers[i + 1].get("interviews_count") for i in range(N)]}).dropna()
    by = raw.groupby("d")["y"]
    rows = {r.key: r for r in plain.rows}
    for d in ("jobrettet", "rehabiliterende", "fritaget"):
        assert rows[d].values == [pytest.approx(by.mean()[d]), pytest.approx(by.median()[d]), int(by.count()[d])]
    assert rows["I alt"].values == [pytest.approx(raw["y"].mean()), pytest.approx(raw["y"].median()), len(raw)]
    assert [c.label for c in weighted.columns] == ["Gennemsnit (vægtet)", "95 %-interval, fra", "95 %-interval, til",
                                                   "Median", "N"]
    f = cases.assign(direction=directions, y=[answers[i + 1].get("interviews_count") for i in range(N)],
                     stratum=[f"{m}|{b}" for m, b in zip(munis, bands)])
    r = run_r('d <- read("f.csv")\n' + DESIGN + r"""
for (g in c("jobrettet", "rehabiliterende", "fritaget")) {
  s <- subset(des, direction == g & !is.na(y)); m <- svymean(~y, s)
  out(g, c(coef(m), confint(m)))
}
m <- svymean(~y, subset(des, !is.na(y))); out("all", c(coef(m), confint(m)))
""", tmp_path, f=f[["stratum", "stratum_population", "direction", "y"]])
    wrows = {r.key: r for r in weighted.rows}
    for key, name in (("jobrettet", "jobrettet"), ("rehabiliterende", "rehabiliterende"), ("fritaget", "fritaget"),
                      ("I alt", "all")):
        assert wrows[key].values[:3] == [pytest.approx(v, abs=1e-9) for v in r[name]]
