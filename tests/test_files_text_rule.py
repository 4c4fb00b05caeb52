"""The one text rule for files the tool writes (audit.csvio, audit.workbook): values a
person typed stay text when a spreadsheet opens the file."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from audit import csvio, workbook

HOSTILE = ["=HYPERLINK(\"http://evil\",\"klik\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\tx", "\rx",
           "=cmd|' /C calc'!A0"]


@pytest.mark.parametrize("text", HOSTILE)
def test_csv_cell_starting_like_a_formula_gets_an_apostrophe(text: str) -> None:
    out = csvio.to_text(["col"], [[text]], csvio.PEOPLE)
    value = next(iter(csv.reader(io.StringIO(out[out.index("\n") + 1:]), delimiter=";")))[0]
    assert value == "'" + text


def test_csv_numbers_are_not_prefixed_and_use_the_dialects_decimal() -> None:
    people = csvio.to_text(["a", "b", "c"], [[-1.5, -2, None]], csvio.PEOPLE).splitlines()[1]
    scripts = csvio.to_text(["a", "b", "c"], [[-1.5, -2, None]], csvio.SCRIPTS).splitlines()[1]
    assert people == "-1,5;-2;"
    assert scripts == "-1.5,-2,"


def test_csv_streamed_bytes_equal_the_written_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = [[i, f"tekst {i}", "=1+1" if i % 3 == 0 else "æøå"] for i in range(5000)]
    path = tmp_path / "x.csv"
    csvio.write(path, ["n", "t", "u"], rows, csvio.PEOPLE)
    streamed = b"".join(csvio.iter_bytes(["n", "t", "u"], rows, csvio.PEOPLE, chunk_rows=777))
    assert streamed == path.read_bytes()
    assert streamed.startswith(b"\xef\xbb\xbf")


def test_csv_reading_detects_encoding_and_delimiter() -> None:
    for text, enc in (("a;b\r\n1;æ\r\n", "utf-8-sig"), ("a\tb\n1\tæ\n", "utf-8"), ("a,b\n1,æ\n", "cp1252")):
        header, rows = csvio.read_rows(text.encode(enc))
        assert header == ["a", "b"]
        assert rows == [(2, ["1", "æ"])]


@pytest.mark.parametrize("write_only", [False, True])
def test_workbook_text_is_never_a_formula(tmp_path, write_only: bool) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "w.xlsx"
    values = HOSTILE + ["ctrl\x07char", 42]
    wb = Workbook(write_only=write_only)
    if write_only:
        ws = wb.create_sheet("s")
        ws.append(workbook.row(ws, values))
    else:
        ws = wb.active
        for k, v in enumerate(values, start=1):
            workbook.put(ws, 1, k, v)
    wb.save(path)
    cells = list(load_workbook(path).worksheets[0].iter_rows(min_row=1, max_row=1))[0]
    assert [c.data_type for c in cells] == ["s"] * (len(values) - 1) + ["n"]
    # The text is exact. (openpyxl's own XML writer, used without lxml, writes a bare carriage
    # return that reads back as a line feed; with lxml, a dependency of the package, it is kept.)
    from openpyxl.xml import LXML

    assert [c.value for c in cells[:len(HOSTILE)]] == (HOSTILE if LXML else [v.replace("\r", "\n") for v in HOSTILE])
    assert cells[len(HOSTILE)].value == "ctrl\ufffdchar"
    assert all(c.quotePrefix for c in cells[:4])


def test_xlsx_zip_bomb_is_refused_before_parsing(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    import audit.config
    from audit import limits

    monkeypatch.setenv("AUDIT_MAX_XLSX_UNCOMPRESSED_MB", "20")
    audit.config.get_settings.cache_clear()
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", "<c>" + "0" * (30 * 1024 * 1024) + "</c>")
    try:
        with pytest.raises(limits.LimitExceeded, match="bomb.xlsx: the workbook expands to 30.0 MB"):
            limits.check_xlsx_archive(path, "bomb.xlsx")
        small = tmp_path / "ok.xlsx"
        wb = Workbook()
        wb.active["A1"] = "x"
        wb.save(small)
        limits.check_xlsx_archive(small, "ok.xlsx")
    finally:
        audit.config.get_settings.cache_clear()
