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
    assert rows["N"].values[0] == len(asked)
    assert rows["cv"].values[0] == sum("cv" in a["supervision_focus"] for a in asked)
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
