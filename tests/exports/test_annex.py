"""The annex workbook, reopened and checked cell by cell against the statistics functions."""
from __future__ import annotations

import math
import re
from dataclasses import replace

import pandas as pd
import pytest
from openpyxl import load_workbook

from audit.exports.annex import CONTENTS, PINK, SHARE_FORMAT, note_text, write_annex
from audit.exports.compute import Labeller, build_grids
from audit.statistics import cross_matrix
from tests.exports.oracle import EXTRA_HIDDEN, assert_sheet_matches, expected_sheet


def printed(share: float, digits: int = 2) -> float:
    """A share (or, digits=1, a mean) as the annex cell holds it: rounded half up to what it prints."""
    return math.floor(float(share) * 10 ** digits + 0.5 + 1e-9) / 10 ** digits


# instrument, spec and annex (the synthetic frame's suppressed annex, written once per session and
# shared with test_libreoffice.py): tests/exports/conftest.py


def _sheet_values(ws, lay):  # type: ignore[no-untyped-def]
    """Data rows (label -> list of cells) of a table sheet, skipping block heading rows."""
    rows = {}
    for r in range(lay.first_data_row, lay.last_data_row + 1):
        cells = [ws.cell(row=r, column=c) for c in range(1, ws.max_column + 1)]
        if cells[1].value is None and all(c.value is None for c in cells[1:]):
            continue  # block heading
        rows.setdefault(cells[0].value, []).append(cells[1:])
    return rows


def test_every_table_weighted_matches_pandas_cell_by_cell(frame, spec, instrument, population, tmp_path):  # type: ignore[no-untyped-def]
    """Every table design-weighted (where the definitions allow it) holds the weighted shares and
    means the oracle computes by hand: sums of N_h/n_h over the cell and over its base."""
    tables = [replace(t, weighting="design") for t in spec.tables
              if t.kind != "representativeness" and not (t.filter and t.kind in ("matrix", "indicators"))
              and t.frame == "sample"]  # a population table is a census: never weighted
    assert {t.kind for t in tables} >= {"frequency", "crosstab", "breakdown", "matrix", "indicators"}
    out = tmp_path / "weighted.xlsx"
    layouts = {lay.sheet: lay for lay in write_annex(frame, replace(spec, tables=tables), out, instrument=instrument,
                                                     population=population)}
    wb = load_workbook(out)
    compared = sum(assert_sheet_matches(wb[t.id], layouts[t.id], expected_sheet(t, frame, spec, instrument))
                   for t in tables)
    assert compared > 1000


def test_contents_sheet_links_every_table_and_back(annex, spec):  # type: ignore[no-untyped-def]
    out, layouts = annex
    wb = load_workbook(out)
    assert wb.sheetnames == [CONTENTS] + [t.id for t in spec.tables]
    ws = wb[CONTENTS]
    assert ws["A1"].value == "Bilag: tabeller fra sagsgennemgangen"
    assert [ws.cell(row=5, column=c).value for c in range(1, 5)] == ["Tabel", "Ark", "Titel", "Sager (N)"]
    for i, t in enumerate(spec.tables):
        link = ws.cell(row=6 + i, column=2)
        assert link.value == t.id
        assert link.hyperlink.location == f"'{t.id}'!A1"
        assert ws.cell(row=6 + i, column=3).value == t.title
        back = wb[t.id]["A2"]
        assert back.hyperlink.location == f"'{CONTENTS}'!A1"


@pytest.mark.parametrize("suppress", [True, False])
def test_every_table_matches_the_statistics_room_cell_by_cell(frame, spec, instrument, population, tmp_path,  # type: ignore[no-untyped-def]
                                                              suppress, annex):
    """Each sheet, reopened, equals what audit.statistics (and, for Table 12, the sampling
    room) computes for its definition. Suppressed, that is the module's annex (the same call
    but for the audit's name on the contents sheet); unsuppressed, one written here."""
    if suppress:
        out, layouts = annex
    else:
        out = tmp_path / "annex.xlsx"
        layouts = {lay.sheet: lay for lay in write_annex(frame, spec, out, instrument=instrument, suppress=False,
                                                         population=population)}
    wb = load_workbook(out)
    compared = 0
    for tdef in spec.tables:
        compared += assert_sheet_matches(wb[tdef.id], layouts[tdef.id],
                                         expected_sheet(tdef, frame, spec, instrument, suppress=suppress,
                                                        population=population))
    assert compared > 1000
    # further suppression (secondary, the attacker's audit) hides a minority of the figures
    assert sum(EXTRA_HIDDEN[t.id] for t in spec.tables) < compared / 10 if suppress else \
        not any(EXTRA_HIDDEN[t.id] for t in spec.tables)
    hidden = sum(c.value == "x" for ws in wb.worksheets for row in ws.iter_rows() for c in row)
    assert (hidden > 0) == suppress


def test_t02_against_pandas(annex, frame, spec, instrument):  # type: ignore[no-untyped-def]
    """Table 2 recomputed by hand with pandas: row shares of 'ja', N per breadth."""
    out, layouts = annex
    tdef = spec.table("T02")
    sub = frame[frame.challenge_breadth.isin(["1", "2", "3", "4+"]) & frame.stable_participation.notna()]
    shares = pd.crosstab(sub.challenge_breadth, sub.stable_participation, normalize="index")
    ns = sub.challenge_breadth.value_counts()
    ws = load_workbook(out)["T02"]
    lay = layouts["T02"]
    assert ws["A1"].value == f"Tabel 2 (T02): {tdef.title}"
    assert ws["A1"].font.b
    header = lay.header_rows[-1]
    assert [ws.cell(row=header, column=c).value for c in (2, 3, 4)] == ["Ja", "Nej", "N"]
    assert ws.cell(row=header, column=2).fill.fgColor.rgb.endswith("DCE6F1")
    assert ws.cell(row=header, column=2).border.top.style == "thin"
    labels = {"1": "1 type udfordring", "2": "2 typer", "3": "3 typer", "4+": "4 eller flere typer"}
    for i, code in enumerate(["1", "2", "3", "4+"]):
        r = lay.first_data_row + i
        assert ws.cell(row=r, column=1).value == labels[code]
        ja = ws.cell(row=r, column=2)
        assert ja.value == pytest.approx(printed(shares.at[code, "ja"]), abs=1e-12)
        assert ja.number_format == SHARE_FORMAT
        assert ws.cell(row=r, column=3).value == pytest.approx(printed(shares.at[code, "nej"]), abs=1e-12)
        assert (ja.fill.fgColor.rgb == PINK.fgColor.rgb) == (shares.at[code, "ja"] > 0.6)
        n_cell = ws.cell(row=r, column=4)
        assert n_cell.value == ns[code] and isinstance(n_cell.value, int)
    note = ws.cell(row=lay.note_row, column=1).value
    assert note.startswith("Anm.: N=" + ", ".join(str(ns[c]) for c in ["1", "2", "3"]) + f" og {ns['4+']}.")
    assert "Centrale resultater er markeret med lyserødt." in note  # the pink cells are explained
    assert ws.cell(row=lay.source_row, column=1).value == spec.source
    assert ws.freeze_panes == f"B{lay.first_data_row}"


def test_t01_weighted_shares_by_hand(annex, frame):  # type: ignore[no-untyped-def]
    """Design-weighted shares = sum of N_h/n_h over the code / sum over all cases."""
    out, layouts = annex
    ws = load_workbook(out)["T01"]
    lay = layouts["T01"]
    assert ws.cell(row=lay.header_rows[-1], column=2).value == "Antal"
    assert ws.cell(row=lay.header_rows[-1], column=3).value == "Andel (vægtet)"
    n_h = frame.groupby("stratum").stratum.transform("size")
    w = frame.stratum_population / n_h
    labels = {"jobrettet": "Jobrettet", "rehabiliterende": "Rehabiliterende", "fritaget": "Fritaget"}
    for i, code in enumerate(labels):
        r = lay.first_data_row + i
        assert ws.cell(row=r, column=1).value.lower().startswith(labels[code].lower())
        assert ws.cell(row=r, column=2).value == int((frame.direction == code).sum())
        assert ws.cell(row=r, column=2).number_format == "#,##0"
        weighted = w[frame.direction == code].sum() / w.sum()
        assert ws.cell(row=r, column=3).value == pytest.approx(printed(weighted), abs=1e-12)
        # the weights matter: the weighted share is not the sample share
        assert abs(weighted - (frame.direction == code).mean()) > 1e-3
    total = ws.cell(row=lay.last_data_row, column=2)
    assert ws.cell(row=lay.last_data_row, column=1).value == "I alt (N)" and total.value == len(frame)
    note = ws.cell(row=lay.note_row, column=1).value
    assert note.startswith("Anm.: N=375.") and note.count("designvægte") == 1  # said once, by the writer


def test_t03_multiple_choice_rows_by_hand(annex, frame, spec, instrument):  # type: ignore[no-untyped-def]
    """A case counts in every challenge it has; each row's share is among the cases having it."""
    out, layouts = annex
    lab = Labeller(spec, instrument)
    rows = _sheet_values(load_workbook(out)["T03"], layouts["T03"])
    has = {code: frame.challenges.map(lambda v, c=code: isinstance(v, tuple) and c in v) for code in
           lab.order("challenges")}
    present = [c for c, m in has.items() if m.any()]
    assert len(rows) == len(lab.order("challenges"))
    assert sum(int(has[c].sum()) for c in present) > len(frame)
    for code in present:
        cells = rows[lab.value("challenges", code)][0]
        group = frame[has[code] & frame.stable_participation.notna()]
        ja = (group.stable_participation == "ja").mean()
        assert cells[0].value == ("x" if 0 < (group.stable_participation == "ja").sum() < 3 else pytest.approx(printed(ja)))
        assert cells[2].value == len(group)


def test_every_sheet_matches_its_grid_and_is_print_ready(annex, frame, spec, instrument, population):  # type: ignore[no-untyped-def]
    out, layouts = annex
    wb = load_workbook(out)
    from audit import i18n

    with i18n.language("da"):  # the annex's notes are in the report's language, whatever the caller's
        grids = {g.definition.id: g for g in build_grids(frame, spec, instrument, population=population)}
    for tdef in spec.tables:
        ws, lay, grid = wb[tdef.id], layouts[tdef.id], grids[tdef.id]
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 1  # one page per table
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True
        assert ws.freeze_panes == f"B{lay.first_data_row}"
        assert ws.cell(row=lay.note_row, column=1).value == note_text(grid)
        assert ws.cell(row=lay.note_row, column=1).value.startswith("Anm.: N=")
        assert ws.cell(row=lay.source_row, column=1).value.startswith("Kilde: ")
        # every grid value sits in its cell: shares as numbers with '0%', counts as ints, 'x' when hidden
        r = lay.first_data_row
        block = object()
        use_blocks = lay.block_rows
        for grow in grid.rows:
            if use_blocks and grow.block != block and grow.block is not None and not grow.total:
                assert ws.cell(row=r, column=1).value == grow.block
                r += 1
            block = grow.block
            assert ws.cell(row=r, column=1).value == grow.label
            for k, column in enumerate(grid.columns):
                cell = ws.cell(row=r, column=k + 2)
                kind = grow.kind(k, grid.columns)
                if grow.label == "N":
                    assert kind == "n", (tdef.id, "an N row holds counts")
                if grow.suppressed[k]:
                    assert cell.value == "x"
                elif grow.values[k] is None:
                    assert cell.value is None
                elif kind == "share":
                    assert cell.value == pytest.approx(printed(grow.values[k])) and cell.number_format == SHARE_FORMAT
                    assert 0 <= cell.value <= 1
                elif kind == "mean":
                    assert cell.value == pytest.approx(printed(grow.values[k], 1)) and cell.number_format == "0.0"
                else:
                    assert cell.value == grow.values[k] and isinstance(cell.value, int)
                    assert cell.number_format == "#,##0"
            r += 1
        assert r - 1 == lay.last_data_row


def test_charts_reference_share_cells(annex, spec):  # type: ignore[no-untyped-def]
    out, layouts = annex
    wb = load_workbook(out)
    charted = [t.id for t in spec.tables if t.chart == "bar"]
    assert charted
    for tid in charted:
        lay = layouts[tid]
        assert lay.chart, tid
        charts = wb[tid]._charts
        assert len(charts) == 1
        refs = [s.val.numRef.f for s in charts[0].series]
        cats = charts[0].series[0].cat
        cat_ref = (cats.numRef or cats.strRef).f
        assert cat_ref == f"'{tid}'!$A${lay.first_data_row}:$A${lay.last_data_row - (1 if spec.table(tid).kind == 'frequency' else 0)}"
        for ref in refs:
            assert re.fullmatch(rf"'{tid}'!\$[B-Z]\$\d+:\$[B-Z]\$\d+", ref)
        if spec.table(tid).kind == "frequency":
            assert refs == [f"'{tid}'!$C${lay.first_data_row}:$C${lay.last_data_row - 1}"]
    for t in spec.tables:
        if t.chart == "none":
            assert not wb[t.id]._charts


def test_suppression_marks_small_cells_and_no_suppress_shows_them(frame, spec, instrument, population, tmp_path):  # type: ignore[no-untyped-def]
    small = frame.head(40)
    write_annex(small, spec, tmp_path / "s.xlsx", instrument=instrument, population=population)
    write_annex(small, spec, tmp_path / "u.xlsx", instrument=instrument, suppress=False, population=population)
    ws_s, ws_u = load_workbook(tmp_path / "s.xlsx")["T04"], load_workbook(tmp_path / "u.xlsx")["T04"]
    hidden = [(c.row, c.column) for row in ws_s.iter_rows() for c in row if c.value == "x"]
    assert hidden, "40 cases spread over 4 characteristics must leave small cells"
    note = next(c.value for c in ws_s["A"] if isinstance(c.value, str) and c.value.startswith("Anm.:"))
    assert "x: Celler med færre end 3 sager er udeladt" in note
    for r, c in hidden:
        # an "x" hides a number; or the share of a group of 0 whose N is hidden (an empty
        # cell there would tell the reader the N is 0)
        value = ws_u.cell(row=r, column=c).value
        assert isinstance(value, (int, float)) or (value is None and ws_u.cell(row=r, column=ws_u.max_column).value == 0)
    assert not any(c.value == "x" for row in ws_u.iter_rows() for c in row)
    assert "Uden diskretionsudeladelse" in load_workbook(tmp_path / "u.xlsx")[CONTENTS]["A3"].value


def test_matrix_against_cross_matrix_and_pandas(annex, frame):  # type: ignore[no-untyped-def]
    out, layouts = annex
    ws, lay = load_workbook(out)["T16"], layouts["T16"]
    header = [ws.cell(row=lay.header_rows[-1], column=c).value for c in range(1, ws.max_column + 1)]
    col_mand = header.index("Mand") + 1
    rows = {ws.cell(row=r, column=1).value: r for r in range(lay.first_data_row, lay.last_data_row + 1)}
    by_hand = pd.crosstab(frame.age_band, frame.sex, normalize="columns")
    matrix = cross_matrix(frame, ["sex", "age_band", "seniority_band", "origin", "direction", "challenges"])
    labels = {"<40": "Under 40 år", "40-49": "40-49 år", "50-59": "50-59 år", "60+": "60+ år"}
    for code, label in labels.items():
        cell = ws.cell(row=rows[label], column=col_mand).value
        assert cell == pytest.approx(printed(by_hand.at[code, "mand"]))
        assert cell == pytest.approx(printed(matrix.percents.at[("age_band", code), ("sex", "mand")] / 100))
    # a characteristic against itself is 100 % on the diagonal
    assert ws.cell(row=rows["Mand"], column=col_mand).value == pytest.approx(1.0)
    assert ws.cell(row=rows["N"], column=col_mand).value == int((frame.sex == "mand").sum())


def test_indicators_by_hand_and_weighted(annex, frame, spec, instrument, tmp_path):  # type: ignore[no-untyped-def]
    out, layouts = annex
    ws, lay = load_workbook(out)["T17"], layouts["T17"]
    rows = {ws.cell(row=r, column=1).value: r for r in range(lay.first_data_row, lay.last_data_row + 1)}
    men = frame[frame.sex == "mand"]
    assert ws.cell(row=rows["Mand"], column=2).value == pytest.approx(printed(men.interviews_count.mean(), 1))
    assert ws.cell(row=rows["Mand"], column=2).number_format == "0.0"
    header = [ws.cell(row=lay.header_rows[-1], column=c).value for c in range(1, ws.max_column + 1)]
    mentor = next(i for i, h in enumerate(header, start=1) if h and h.endswith("(andel ja)")
                  and "entor" in h)
    assert ws.cell(row=rows["Mand"], column=mentor).value == pytest.approx(printed((men.mentor == "ja").mean()))
    assert ws.cell(row=rows["I alt"], column=ws.max_column).value == len(frame)
    # weighted: sum(w y) / sum(w) within the group, w = N_h / n_h
    tdef = replace(spec.table("T17"), weighting="design")
    wspec = replace(spec, tables=[tdef])
    layout = write_annex(frame, wspec, tmp_path / "w.xlsx", instrument=instrument)[0]
    wws = load_workbook(tmp_path / "w.xlsx")["T17"]
    wrows = {wws.cell(row=r, column=1).value: r for r in range(layout.first_data_row, layout.last_data_row + 1)}
    w = frame.stratum_population / frame.groupby("stratum").stratum.transform("size")
    m = frame.sex == "mand"
    want = (w[m] * frame.interviews_count[m]).sum() / w[m].sum()
    assert wws.cell(row=wrows["Mand"], column=2).value == pytest.approx(printed(want, 1))
    assert abs(want - men.interviews_count.mean()) > 1e-6


def test_t18_population_and_sample_by_hand(annex, frame, population):  # type: ignore[no-untyped-def]
    """Table 12 in the annex: shares of women in the register and among the reviewed cases."""
    out, layouts = annex
    ws, lay = load_workbook(out)["T18"], layouts["T18"]
    groups, header = [], [ws.cell(row=lay.header_rows[-1], column=c).value for c in range(2, ws.max_column + 1)]
    g = None
    for c in range(2, ws.max_column + 1):
        g = ws.cell(row=lay.header_rows[0], column=c).value or g
        groups.append(g)
    col = {(grp, h): i + 2 for i, (grp, h) in enumerate(zip(groups, header))}
    rows = {ws.cell(row=r, column=1).value: r for r in range(lay.first_data_row, lay.last_data_row + 1)}
    women = rows["Kvinde"]
    assert ws.cell(row=women, column=col[("Population", "I alt")]).value == pytest.approx(
        printed((population.sex == "kvinde").mean()))
    in_band = population[population.seniority_band == "10+"]
    assert ws.cell(row=women, column=col[("Population", "10+ år")]).value == pytest.approx(
        printed((in_band.sex == "kvinde").mean()))
    assert ws.cell(row=women, column=col[("Stikprøve", "I alt")]).value == pytest.approx(printed((frame.sex == "kvinde").mean()))
    assert ws.cell(row=rows["N"], column=col[("Population", "I alt")]).value == len(population) == 14164
    assert ws.cell(row=rows["N"], column=col[("Stikprøve", "I alt")]).value == len(frame)
    assert ws.cell(row=lay.note_row, column=1).value.startswith("Anm.: N=14.164 og 375.")


def test_weighted_filtered_table_keeps_the_audits_weights(frame, spec, instrument, tmp_path):  # type: ignore[no-untyped-def]
    """A weighted table with a filter is a domain of the audit: each case keeps N_h/n_h with
    n_h counted over all reviewed cases in its stratum, not within the filter."""
    tdef = replace(spec.table("T08"), weighting="design")  # concrete job goal, among cases with a job goal
    layout = write_annex(frame, replace(spec, tables=[tdef]), tmp_path / "w.xlsx", instrument=instrument)[0]
    ws = load_workbook(tmp_path / "w.xlsx")["T08"]
    w = frame.stratum_population / frame.groupby("stratum").stratum.transform("size")
    dom = frame.plan_job_goal == "ja"
    want = (w[dom] * (frame.plan_job_goal_concrete[dom] == "ja")).sum() / w[dom].sum()
    assert ws.cell(row=layout.first_data_row, column=1).value == "Ja"
    assert ws.cell(row=layout.first_data_row, column=3).value == pytest.approx(printed(want), abs=1e-12)
    # the within-filter weights give another number: the test can tell them apart
    sub = frame[dom]
    w_in = sub.stratum_population / sub.groupby("stratum").stratum.transform("size")
    assert abs((w_in * (sub.plan_job_goal_concrete == "ja")).sum() / w_in.sum() - want) > 1e-4
    assert ws.cell(row=layout.last_data_row, column=2).value == int(dom.sum())  # N: cases in the filter


def test_no_small_count_is_visible_anywhere_when_suppressed(frame, spec, instrument, population, tmp_path):  # type: ignore[no-untyped-def]
    """Whatever the table, a count or N of 1 or 2 cases never prints (shares aside)."""
    small = frame.head(60).copy()
    small["origin"] = ["vestlig"] + ["dansk"] * 30 + ["ikke-vestlig"] * 29  # a group of exactly one case
    write_annex(small, spec, tmp_path / "s.xlsx", instrument=instrument, population=population)
    wb = load_workbook(tmp_path / "s.xlsx")
    seen = 0
    for ws in wb.worksheets[1:]:
        for row in ws.iter_rows():
            for c in row:
                if c.number_format == "#,##0" and isinstance(c.value, int):
                    seen += 1
                    assert not 0 < c.value < 3, (ws.title, c.coordinate, c.value)
    assert seen > 100


def test_annex_follows_the_audits_own_bands(frame, spec, population, tmp_path):  # type: ignore[no-untyped-def]
    """An audit drawn with bands 5,8 prints 5-8 and 8+ wherever bands appear (T05, T18)."""
    f = frame.assign(seniority_band=["5-8" if i % 2 else "8+" for i in range(len(frame))])
    f.attrs["orders"] = {"seniority_band": ("5-8", "8+")}
    people = population.assign(seniority_band=(population.seniority_years >= 8).map({True: "8+", False: "5-8"}))
    tables = [spec.table("T05"), spec.table("T18")]
    layouts = {lay.sheet: lay for lay in write_annex(f, replace(spec, tables=tables), tmp_path / "b.xlsx",
                                                     population=people)}
    wb = load_workbook(tmp_path / "b.xlsx")
    t05, lay = wb["T05"], layouts["T05"]
    assert [t05.cell(row=r, column=1).value for r in range(lay.first_data_row, lay.last_data_row + 1)] == ["5-8 år", "8+ år"]
    t18, lay = wb["T18"], layouts["T18"]
    header = [t18.cell(row=lay.header_rows[-1], column=c).value for c in range(2, t18.max_column + 1)]
    assert header == ["5-8 år", "8+ år", "I alt"] * 2
    rows = {t18.cell(row=r, column=1).value: r for r in range(lay.first_data_row, lay.last_data_row + 1)}
    long = people[people.seniority_band == "8+"]
    assert t18.cell(row=rows["Kvinde"], column=3).value == pytest.approx(printed((long.sex == "kvinde").mean()))
    assert t18.cell(row=rows["N"], column=3).value == len(long)
