"""The leaks of issue 16, reproduced as an attacker would run them on what the tool prints,
and shown to recover nothing now. Each would recover hidden counts from main's output."""
from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from scipy.stats import chi2_contingency

from tests.statistics.attack import Attacker, read_crosstab, read_frequency_by

AUDIT = "Demo 2022"


def fill_ins(published: dict, printed_chi2: float | None) -> list[dict]:
    """Every integer filling of the hidden cells that agrees with the printed N of rows and
    columns, and with the printed chi-square when there is one (to the printed 3 decimals)."""
    rv, cv = published["row"], published["column"]
    cells = {(str(r[rv]), str(r[cv])): r["count"] for r in published["records"]}
    rows = sorted({k[0] for k in cells})
    cols = sorted({k[1] for k in cells})
    hidden = [k for k, v in cells.items() if v is None]
    att = Attacker()
    read_crosstab(att, published, "t")
    bounds = att.intervals()
    ranges = [range(int(math.ceil(bounds[("t", "cell", *k)][0] - 1e-9)),
                    int(math.floor(min(bounds[("t", "cell", *k)][1], 400) + 1e-9)) + 1) for k in hidden]
    n_rows = {str(k): v for k, v in published["n_rows"].items()}
    n_cols = {str(k): v for k, v in published["n_columns"].items()}
    out = []
    for values in itertools.product(*ranges):
        full = dict(cells)
        full.update(zip(hidden, values))
        if any(n_rows.get(r) is not None and sum(full[(r, c)] for c in cols) != n_rows[r] for r in rows):
            continue
        if any(n_cols.get(c) is not None and sum(full[(r, c)] for r in rows) != n_cols[c] for c in cols):
            continue
        if printed_chi2 is not None:
            m = np.array([[full[(r, c)] for c in cols] for r in rows], dtype=float)
            m = m[m.sum(axis=1) > 0][:, m.sum(axis=0) > 0]
            if abs(chi2_contingency(m, correction=False)[0] - printed_chi2) > 5e-4:
                continue
        out.append(dict(zip(hidden, values)))
    return out


def test_no_chi_square_under_a_suppressed_table_so_nothing_pins_its_hidden_cells(demo_cli):
    """Main printed Chi2 under a suppressed table (issue 16: challenge_breadth x
    stable_participation on the demo of then; on today's demo challenge_breadth x
    plan_job_goal_concrete has hidden cells); only the true filling gave that Chi2."""
    out = demo_cli("stats", "crosstab", "--audit", AUDIT, "--row", "challenge_breadth",
                   "--col", "plan_job_goal_concrete", "--format", "json")
    published = json.loads(out)
    assert any(r["count"] is None for r in published["records"]), "the table must have hidden cells"
    text = demo_cli("stats", "crosstab", "--audit", AUDIT, "--row", "challenge_breadth", "--col", "plan_job_goal_concrete")
    assert published["test"] is None and "Chi2" not in text and "The test of association is left out" in text
    candidates = fill_ins(published, None)
    assert len(candidates) >= 3  # several fillings fit everything printed
    # with main's printed statistic the same search leaves only one: the attack itself works
    truth = json.loads(demo_cli("stats", "crosstab", "--audit", AUDIT, "--row", "challenge_breadth",
                                "--col", "plan_job_goal_concrete", "--format", "json", "--no-suppress"))
    chi2 = truth["test"]["chi2"]
    true_cells = {(str(r["challenge_breadth"]), str(r["plan_job_goal_concrete"])): r["count"] for r in truth["records"]}
    pinned = fill_ins(published, chi2)
    # (on today's demo it narrows several fillings down to two, the true one among them)
    assert len(pinned) < len(candidates)
    assert any(all(true_cells[k] == v for k, v in p.items()) for p in pinned)


def test_frequencies_by_municipality_give_no_hidden_n_away(demo_cli):
    """Main hid small municipality N's without looking at the printed cells: one N was their
    sum, and the next followed from the total (plan_job_goal_concrete: N = 2; mentor: N = 1)."""
    hidden_any = []
    for item in ("plan_job_goal_concrete", "mentor_during_exemption"):
        published = json.loads(demo_cli("stats", "frequencies", "--audit", AUDIT, "--item", item,
                                         "--by", "municipality", "--format", "json"))
        hidden_any += [g for g, v in published["n_rows"].items() if v is None]
        att = Attacker()
        read_frequency_by(att, published, item)
        assert att.narrowest() >= 3, (item, {k: v for k, v in att.intervals().items() if v[1] - v[0] < 3})
    assert hidden_any, "the demo must hide some municipality N for this test to mean anything"
    # the two tables printed together share nothing an attacker could combine into less
    both = json.loads(demo_cli("stats", "frequencies", "--audit", AUDIT, "--item", "plan_job_goal_concrete",
                               "--item", "mentor_during_exemption", "--by", "municipality", "--format", "json"))
    att = Attacker()
    for t in both:
        read_frequency_by(att, t, t["column"])
    assert att.narrowest() >= 3


def test_table_13_blocks_sharing_margins_are_suppressed_together(tmp_path):
    """The annex's Table 13 prints every characteristic against every other: the r x c and
    c x r blocks are the same counts, and each block's rows and columns add up to the
    characteristic's N. Read together, no hidden count narrows below 3."""
    from audit.exports.compute import build_grids
    from audit.exports.definitions import load_definitions
    from audit.exports.service import default_instrument
    from audit.exports.synthetic import case_frame

    instrument = default_instrument()
    spec = load_definitions(instrument=instrument)
    spec = replace(spec, tables=[spec.table("T16")])
    frame = case_frame(90, seed=5)
    grid = build_grids(frame, spec, instrument)[0]
    t = next(c for c in grid.stats_tables if c.kind == "crosstab")  # the matrix, as the sheet prints it
    register = ("sex", "age_band", "seniority_band", "origin")  # every case has them: the sums are exact
    assert all(frame[v].notna().all() for v in ("sex", "seniority_band", "origin", "age"))

    def value(v):  # type: ignore[no-untyped-def]
        return None if pd.isna(v) else float(v)

    def cell(a, x, b, y):  # type: ignore[no-untyped-def]
        return ("cell", a, x, b, y) if register.index(a) <= register.index(b) else ("cell", b, y, a, x)

    att = Attacker()
    att.figure(("total",), t.n_total)
    codes = {v: [k[1] for k in t.counts.index if k[0] == v] for v in register}
    for a in register:
        for x in codes[a]:
            att.figure(("n", a, x), value(t.n_rows[(a, x)]))
            att.figure(("n", a, x), value(t.n_cols[(a, x)]))
        att.sum_is([("n", a, x) for x in codes[a]], ("total",))
        for b in register:
            if a == b:
                continue
            for x in codes[a]:
                for y in codes[b]:
                    att.figure(cell(a, x, b, y), value(t.counts.at[(a, x), (b, y)]))
                att.sum_is([cell(a, x, b, y) for y in codes[b]], ("n", a, x))
    hidden = att.intervals()
    assert hidden, "the small frame must leave hidden cells"
    assert att.narrowest() >= 3, {k: v for k, v in hidden.items() if v[1] - v[0] < 3}


def band_counts_pinned(cells: list[tuple[list[str], list[int], list[float], int, float, int]],
                       weights: dict[str, float]) -> int:
    """How many printed weighted shares let an attacker who knows N_h and n_h (the sampling
    protocol), the municipality's N and its count pin the count of one band to 1 or 2.

    cells: (the municipality's strata, their n_h, -, N, printed share in percent, count)."""
    pinned = 0
    for strata, n_h, _, n, share, count in cells:
        tol = 0.5 + 1e-9 if abs(share - round(share)) < 1e-9 else 1e-7  # the printed precision
        fits = []
        for d in itertools.product(*[range(k + 1) for k in n_h]):
            if sum(d) != n:
                continue
            den = sum(weights[s] * di for s, di in zip(strata, d))
            for y in itertools.product(*[range(di + 1) for di in d]):
                if sum(y) == count and abs(100 * sum(weights[s] * yi for s, yi in zip(strata, y)) / den - share) <= tol:
                    fits.append(y)
        if any(len({y[i] for y in fits}) == 1 and fits[0][i] in (1, 2) for i in range(len(strata))):
            pinned += 1
    return pinned


def test_weighted_shares_by_municipality_give_no_band_count_away(demo_cli, demo_frame):
    """Main printed full-precision weighted shares per municipality: with N_h and n_h they
    gave the count of a seniority band back (mostly 1s and 2s). Now a weighted share is
    printed to the whole percent, and only for groups large and spread enough."""
    f = demo_frame
    weights = (f.groupby("stratum")["stratum_population"].first() / f.groupby("stratum").size()).to_dict()
    sizes = f.groupby("stratum").size().to_dict()
    cells = []
    shown = 0
    for item in ("mentor_during_exemption", "company_placement"):
        t = json.loads(demo_cli("stats", "frequencies", "--audit", AUDIT, "--item", item, "--by", "municipality",
                                "--weighted", "--format", "json"))
        for r in t["records"]:
            if r["municipality"] == "I alt":
                share = r["weighted_share"]
                assert share is not None and abs(share - round(share)) < 1e-9  # national: printed, rounded
                continue
            if r["weighted_share"] is None or r["count"] is None or r["n"] is None:
                continue
            shown += 1
            strata = sorted(s for s in sizes if s.startswith(f"{r['municipality']}|"))
            cells.append((strata, [sizes[s] for s in strata], [], r["n"], r["weighted_share"], r["count"]))
    assert band_counts_pinned(cells, weights) == 0
    # the attack works on full-precision shares: main's output for the same tables
    full = []
    for item in ("mentor_during_exemption", "company_placement"):
        t = json.loads(demo_cli("stats", "frequencies", "--audit", AUDIT, "--item", item, "--by", "municipality",
                                "--weighted", "--format", "json", "--no-suppress"))
        for r in t["records"]:
            if r["municipality"] != "I alt" and r["weighted_share"] is not None and 0 < r["count"] < r["n"]:
                strata = sorted(s for s in sizes if s.startswith(f"{r['municipality']}|"))
                full.append((strata, [sizes[s] for s in strata], [], r["n"], r["weighted_share"], r["count"]))
    assert band_counts_pinned(full[:30], weights) >= 10


def test_annex_cells_hold_the_printed_share_and_withhold_small_weighted_domains(demo_frame, tmp_path):
    from audit.exports.annex import write_annex
    from audit.exports.definitions import TableDef, load_definitions
    from audit.exports.service import default_instrument

    instrument = default_instrument()
    spec = load_definitions(instrument=instrument)
    tdef = TableDef(id="TW", title="Mentor under undtagelse pr. kommune (vægtet)", kind="crosstab",
                    rows=("municipality",), cols=("mentor_during_exemption",), weighting="design", percent="row")
    out = tmp_path / "w.xlsx"
    layout = write_annex(demo_frame, replace(spec, tables=[spec.table("T01"), tdef]), out, instrument=instrument,
                         protocol=tmp_path / "p.xlsx")
    wb = load_workbook(out)
    numbers = [c.value for ws in wb.worksheets[1:] for row in ws.iter_rows() for c in row
               if c.number_format == "0%" and isinstance(c.value, float)]
    assert numbers and all(abs(v * 100 - round(v * 100)) < 1e-9 for v in numbers)  # the value as printed
    tw = wb["TW"]
    lay = layout[1]
    rows = [[tw.cell(row=r, column=c).value for c in (2, 3, 4)] for r in range(lay.first_data_row, lay.last_data_row + 1)]
    # municipalities: too small for a weighted share ("x"); a municipality without such cases has none
    assert len(rows) >= 25 and sum(row[:2] == ["x", "x"] for row in rows) >= 20
    assert all(row[:2] == ["x", "x"] or (row[:2] == [None, None] and row[2] in (0, "x")) for row in rows), rows
    assert "Vægtede tal vises kun for grupper med mindst 30 sager" in tw.cell(row=lay.note_row, column=1).value
    protocol = load_workbook(tmp_path / "p.xlsx").active
    assert "MÅ IKKE OFFENTLIGGØRES" in protocol["A1"].value
    assert "Diskretionsprotokol" not in [ws.title for ws in wb.worksheets]  # never inside the annex
