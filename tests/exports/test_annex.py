"""The annex workbook, reopened and checked cell by cell against the statistics functions."""
from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook

from audit.exports import statsbridge as stats
from audit.exports.annex import CONTENTS, PINK, SHARE_FORMAT, n_phrase, note_text, write_annex
from audit.exports.compute import Labeller, apply_filter, build_grids, prepare_frame
from audit.exports.definitions import load_definitions
from audit.exports.service import default_instrument


@pytest.fixture(scope="module")
def instrument():  # type: ignore[no-untyped-def]
    return default_instrument()


@pytest.fixture(scope="module")
def spec(instrument):  # type: ignore[no-untyped-def]
    return load_definitions(instrument=instrument)


@pytest.fixture(scope="module")
def annex(frame, spec, instrument, tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("annex") / "annex.xlsx"
    layouts = write_annex(frame, spec, out, instrument=instrument, audit_name="Syntetisk 2022")
    return out, {lay.sheet: lay for lay in layouts}


def _sheet_values(ws, lay):  # type: ignore[no-untyped-def]
    """Data rows (label -> list of cells) of a table sheet, skipping block heading rows."""
    rows = {}
    for r in range(lay.first_data_row, lay.last_data_row + 1):
        cells = [ws.cell(row=r, column=c) for c in range(1, ws.max_column + 1)]
        if cells[1].value is None and all(c.value is None for c in cells[1:]):
            continue  # block heading
        rows.setdefault(cells[0].value, []).append(cells[1:])
    return rows


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


def test_t02_crosstab_matches_statistics_cell_by_cell(annex, frame, spec, instrument):  # type: ignore[no-untyped-def]
    out, layouts = annex
    lab = Labeller(spec, instrument)
    tdef = spec.table("T02")
    sub = apply_filter(prepare_frame(frame, spec), tdef.filter)
    expected = stats.suppress(stats.crosstab(sub, "challenge_breadth", "stable_participation", percent="row",
                                             row_order=["1", "2", "3", "4+"], col_order=["ja", "nej"]), 3)
    ws = load_workbook(out)["T02"]
    lay = layouts["T02"]
    assert ws["A1"].value == f"Tabel 2 (T02): {tdef.title}"
    assert ws["A1"].font.b
    header = lay.header_rows[-1]
    headers = [ws.cell(row=header, column=c).value for c in range(2, 2 + len(expected.col_codes) + 1)]
    assert headers == [{"ja": "Ja", "nej": "Nej"}[c] for c in expected.col_codes] + ["N"]
    assert ws.cell(row=header, column=2).fill.fgColor.rgb.endswith("DCE6F1")
    assert ws.cell(row=header, column=2).border.top.style == "thin"
    assert expected.row_codes == ["1", "2", "3", "4+"]
    for i, code in enumerate(expected.row_codes):
        r = lay.first_data_row + i
        assert ws.cell(row=r, column=1).value == lab.value("challenge_breadth", code)
        for j in range(len(expected.col_codes)):
            cell = ws.cell(row=r, column=2 + j)
            if expected.suppressed[i][j]:
                assert cell.value == "x"
            else:
                assert cell.value == pytest.approx(expected.shares[i][j], abs=1e-12)
                assert cell.number_format == SHARE_FORMAT
                assert isinstance(cell.value, float) and 0 <= cell.value <= 1
            ja = expected.col_codes.index("ja")
            marked = j == ja and not expected.suppressed[i][j] and expected.shares[i][j] > 0.6
            assert (cell.fill.fgColor.rgb == PINK.fgColor.rgb) == marked
        n_cell = ws.cell(row=r, column=2 + len(expected.col_codes))
        assert n_cell.value == expected.n_rows[i] and isinstance(n_cell.value, int)
    note = ws.cell(row=lay.note_row, column=1).value
    assert note.startswith("Anm.: " + n_phrase(expected.n_rows) + ".")
    assert re.search(r"N=\d+, \d+, \d+ og \d+\.", note)
    assert ws.cell(row=lay.source_row, column=1).value == spec.source
    assert ws.freeze_panes == f"B{lay.first_data_row}"


def test_t01_weighted_frequency(annex, frame, spec):  # type: ignore[no-untyped-def]
    out, layouts = annex
    order = ["jobrettet", "rehabiliterende", "fritaget"]
    expected = stats.suppress(stats.frequency(frame, "direction", weighted=True, order=order), 3)
    unweighted = stats.frequency(frame, "direction")
    ws = load_workbook(out)["T01"]
    lay = layouts["T01"]
    assert ws.cell(row=lay.header_rows[-1], column=2).value == "Antal"
    assert ws.cell(row=lay.header_rows[-1], column=3).value == "Andel (vægtet)"
    for i, code in enumerate(expected.row_codes):
        r = lay.first_data_row + i
        assert ws.cell(row=r, column=2).value == expected.counts[i][0]
        assert ws.cell(row=r, column=2).number_format == "#,##0"
        assert ws.cell(row=r, column=3).value == pytest.approx(expected.shares[i][0])
    # the weights matter: weighted and unweighted shares differ
    assert expected.shares != unweighted.shares
    total = ws.cell(row=lay.last_data_row, column=2)
    assert ws.cell(row=lay.last_data_row, column=1).value == "I alt (N)" and total.value == len(frame)
    note = ws.cell(row=lay.note_row, column=1).value
    assert note.startswith("Anm.: N=375.") and "designvægte" in note


def test_t03_multiple_choice_rows(annex, frame, spec, instrument):  # type: ignore[no-untyped-def]
    out, layouts = annex
    lab = Labeller(spec, instrument)
    expected = stats.suppress(stats.crosstab(frame, "challenges", "stable_participation", percent="row",
                                             row_order=lab.order("challenges"), col_order=["ja", "nej"]), 3)
    ws = load_workbook(out)["T03"]
    rows = _sheet_values(ws, layouts["T03"])
    assert len(rows) == len(expected.row_codes)
    # a case counts in every row it has: the row N's add up to more than the cases
    assert sum(expected.n_rows) > len(frame)
    for i, code in enumerate(expected.row_codes):
        cells = rows[lab.value("challenges", code)][0]
        for j in range(len(expected.col_codes)):
            want = "x" if expected.suppressed[i][j] else pytest.approx(expected.shares[i][j])
            assert cells[j].value == want
        assert cells[len(expected.col_codes)].value == expected.n_rows[i]


def test_every_sheet_matches_its_grid_and_is_print_ready(annex, frame, spec, instrument):  # type: ignore[no-untyped-def]
    out, layouts = annex
    wb = load_workbook(out)
    grids = {g.definition.id: g for g in build_grids(frame, spec, instrument)}
    for tdef in spec.tables:
        ws, lay, grid = wb[tdef.id], layouts[tdef.id], grids[tdef.id]
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
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
                    assert cell.value == pytest.approx(grow.values[k]) and cell.number_format == SHARE_FORMAT
                    assert 0 <= cell.value <= 1
                elif kind == "mean":
                    assert cell.value == pytest.approx(grow.values[k]) and cell.number_format == "0.0"
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


def test_suppression_marks_small_cells_and_no_suppress_shows_them(frame, spec, tmp_path):  # type: ignore[no-untyped-def]
    small = frame.head(40)
    write_annex(small, spec, tmp_path / "s.xlsx")
    write_annex(small, spec, tmp_path / "u.xlsx", suppress=False)
    ws_s, ws_u = load_workbook(tmp_path / "s.xlsx")["T04"], load_workbook(tmp_path / "u.xlsx")["T04"]
    hidden = [(c.row, c.column) for row in ws_s.iter_rows() for c in row if c.value == "x"]
    assert hidden, "40 cases spread over 4 characteristics must leave small cells"
    note = next(c.value for c in ws_s["A"] if isinstance(c.value, str) and c.value.startswith("Anm.:"))
    assert "x: færre end 3 sager" in note
    for r, c in hidden:
        assert isinstance(ws_u.cell(row=r, column=c).value, (int, float))
    assert not any(c.value == "x" for row in ws_u.iter_rows() for c in row)
    assert "Uden diskretionsudeladelse" in load_workbook(tmp_path / "u.xlsx")[CONTENTS]["A3"].value


def test_matrix_and_indicators(annex, frame, spec):  # type: ignore[no-untyped-def]
    out, layouts = annex
    wb = load_workbook(out)
    ws, lay = wb["T16"], layouts["T16"]
    expected = stats.crosstab(frame, "age_band", "sex", percent="col", row_order=["<40", "40-49", "50-59", "60+"],
                              col_order=["mand", "kvinde"])
    header = [ws.cell(row=lay.header_rows[-1], column=c).value for c in range(1, ws.max_column + 1)]
    col_mand = header.index("Mand") + 1
    rows = {ws.cell(row=r, column=1).value: r for r in range(lay.first_data_row, lay.last_data_row + 1)}
    for i, code in enumerate(expected.row_codes):
        label = {"<40": "Under 40 år", "40-49": "40-49 år", "50-59": "50-59 år", "60+": "60+ år"}[code]
        cell = ws.cell(row=rows[label], column=col_mand)
        assert cell.value == ("x" if stats.suppress(expected, 3).suppressed[i][0] else pytest.approx(expected.shares[i][0]))
    # a characteristic against itself is 100 % on the diagonal
    assert ws.cell(row=rows["Mand"], column=col_mand).value == pytest.approx(1.0)
    ws, lay = wb["T17"], layouts["T17"]
    mean = stats.group_summary(frame, "sex", "interviews_count", value=None, by_order=["mand", "kvinde"])
    rows = {ws.cell(row=r, column=1).value: r for r in range(lay.first_data_row, lay.last_data_row + 1)}
    assert ws.cell(row=rows["Mand"], column=2).value == pytest.approx(mean.shares[mean.row_codes.index("mand")][0])
    assert ws.cell(row=rows["Mand"], column=2).number_format == "0.0"
    assert ws.cell(row=rows["I alt"], column=ws.max_column).value == len(frame)
