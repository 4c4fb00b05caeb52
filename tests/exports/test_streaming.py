"""Raw exports written chunk by chunk of cases from the database are the files the whole
frame gives (CSV byte for byte, XLSX cell for cell, SPSS value for value), text stays text,
the codebook needs no answers, and the web's data.csv is streamed."""
from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from audit.exports import raw
from audit.exports.service import audit_instrument, codebook_bytes, raw_chunks
from audit.models import Answer, Audit, Case
from audit.statistics.dataset import load_case_frame


def _frames(engine, audit_id, chunk):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        audit = s.get(Audit, audit_id)
        inst = audit_instrument(audit)
        whole = load_case_frame(s, audit, instrument=inst)
        chunks = list(raw_chunks(s, audit, inst, chunk_cases=chunk))
    return inst, whole, chunks


def _with_formula_text(engine, audit_id):  # type: ignore[no-untyped-def]
    """A free-text answer that a spreadsheet would run, on a case where the text item applies."""
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.audit_id == audit_id, Case.status == "completed")
                      .order_by(Case.id)).first()
        for item, value in (("has_challenges", "ja"), ("challenges", ["andet"]),
                            ("challenges_other_text", "=HYPERLINK(\"http://x\",\"klik\")")):
            row = s.exec(select(Answer).where(Answer.case_id == case.id, Answer.item == item)).first()
            if row is None:
                row = Answer(case_id=case.id, item=item)
            row.value_json = json.dumps(value)
            s.add(row)
        s.commit()
        return case.id


def test_chunked_csv_is_the_one_pass_csv_and_text_stays_text(db_audit, engine, tmp_path):
    case_id = _with_formula_text(engine, db_audit.id)
    inst, whole, chunks = _frames(engine, db_audit.id, chunk=7)
    assert len(chunks) == 9 and sum(len(c) for c in chunks) == len(whole) == 60
    one, many = tmp_path / "one.csv", tmp_path / "many.csv"
    assert raw.write_raw(whole, one, inst) == raw.write_raw(iter(chunks), many, inst) == 60
    assert one.read_bytes() == many.read_bytes()
    with many.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header = rows[0]
    data, _ = raw.wide_frame(whole, inst)
    assert header == list(data.columns)
    row = next(r for r in rows[1:] if r[0] == str(case_id))
    assert row[header.index("challenges_other_text")] == "'=HYPERLINK(\"http://x\",\"klik\")"
    # numbers are numbers: the weight in Danish decimal, never prefixed
    k = next(i for i, r in enumerate(rows[1:]) if "," in r[header.index("weight")])
    assert float(rows[k + 1][header.index("weight")].replace(",", ".")) == pytest.approx(whole.at[k, "weight"])


def test_csv_is_csvio_of_the_wide_table_cell_by_cell(db_audit, engine, frame):
    """The CSV writer works out each distinct value's text once; the file must be exactly
    csvio's file of the wide table (the plain composition), on the stored audit and on a
    synthetic frame with odd values mixed in."""
    from audit import csvio

    _with_formula_text(engine, db_audit.id)
    inst, whole, _ = _frames(engine, db_audit.id, chunk=100)
    odd = frame.copy()
    odd["direction"] = odd["direction"].astype(object)
    odd.loc[[1, 2, 3, 4], "direction"] = ["=1+1", "-3", None, "@x"]
    odd.loc[5, "weight"] = float("nan")
    for f, instrument in ((whole, inst), (odd, None)):
        data, vars_ = raw.wide_frame(f, instrument)
        expected = b"".join(csvio.iter_bytes([v.name for v in vars_], data.itertuples(index=False, name=None)))
        assert b"".join(raw.iter_csv(f, instrument)) == expected
        expected = b"".join(csvio.iter_bytes([v.name for v in vars_], data.itertuples(index=False, name=None),
                                             csvio.SCRIPTS))
        assert b"".join(raw.iter_csv(f, instrument, csvio.SCRIPTS)) == expected


def test_chunked_xlsx_and_sav_hold_what_the_whole_frame_gives(db_audit, engine, tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    case_id = _with_formula_text(engine, db_audit.id)
    inst, whole, chunks = _frames(engine, db_audit.id, chunk=11)
    one, many = tmp_path / "one.xlsx", tmp_path / "many.xlsx"
    raw.write_raw(whole, one, inst)
    raw.write_raw(iter(chunks), many, inst)
    a, b = load_workbook(one)["data"], load_workbook(many)["data"]
    values = [[c.value for c in r] for r in b.iter_rows()]
    assert [[c.value for c in r] for r in a.iter_rows()] == values and len(values) == 61
    header = values[0]
    cell = next(r for r in b.iter_rows(min_row=2) if r[0].value == case_id)[header.index("challenges_other_text")]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")  # text, not a formula
    one, many = tmp_path / "one.sav", tmp_path / "many.sav"
    raw.write_raw(whole, one, inst)
    raw.write_raw(iter(chunks), many, inst)
    df_a, meta_a = pyreadstat.read_sav(str(one))
    df_b, meta_b = pyreadstat.read_sav(str(many))
    pd.testing.assert_frame_equal(df_a, df_b)
    assert meta_a.variable_value_labels == meta_b.variable_value_labels
    assert meta_a.column_labels == meta_b.column_labels
    assert len(df_b) == 60 and list(df_b.columns) == header


def test_codebook_needs_no_answers(db_audit, engine, tmp_path):
    inst, whole, _ = _frames(engine, db_audit.id, chunk=100)
    out = tmp_path / "cb.csv"
    raw.write_codebook_csv(whole, out, inst)
    with Session(engine) as s:
        assert codebook_bytes(s.get(Audit, db_audit.id)) == out.read_bytes()


def test_web_data_csv_is_streamed_and_equals_the_cli_file(db_audit, engine, make_user, client_for, tmp_path,
                                                          monkeypatch):
    from click.testing import CliRunner

    from audit.cli import main
    from audit.exports import service

    admin = make_user("chef", "admin")
    client, _ = client_for(admin)
    small = client.get(f"/exports/{db_audit.id}/data.csv").content  # a small audit: whole, kept
    monkeypatch.setattr(service, "SMALL_AUDIT_CASES", 10)  # as if the audit were large
    with client.stream("GET", f"/exports/{db_audit.id}/data.csv") as resp:
        assert resp.status_code == 200
        assert "content-length" not in resp.headers  # a streamed body, not one built in advance
        body = b"".join(resp.iter_bytes())
    assert body == small
    for kind in ("data.xlsx", "data.sav"):  # written to a temporary file, streamed, removed
        with client.stream("GET", f"/exports/{db_audit.id}/{kind}") as resp:
            assert resp.status_code == 200 and "content-length" not in resp.headers
            assert len(b"".join(resp.iter_bytes())) > 1000
    from audit.models import AccessLog

    with Session(engine) as s:  # each file logged for the admin with its 60 cases, kept or streamed
        uses = s.exec(select(AccessLog).order_by(AccessLog.id)).all()
    assert [(u.username, u.kind, u.what, u.n_cases) for u in uses] == [
        ("chef", "download", kind, 60) for kind in ("data.csv", "data.csv", "data.xlsx", "data.sav")]
    res = CliRunner().invoke(main, ["export", "raw", "--audit", db_audit.name, "--out", str(tmp_path / "d.csv")])
    assert res.exit_code == 0, res.output
    assert body == (tmp_path / "d.csv").read_bytes()
    back = pd.read_csv(io.BytesIO(body), sep=";", encoding="utf-8-sig", dtype=str)
    assert len(back) == 60


def test_small_download_is_kept_until_the_data_changes(db_audit, engine):
    from audit import access
    from audit.exports import service
    from audit.models import AccessLog
    from audit.review.answers import set_answer

    ada = access.cli_actor("ada")
    first = service.small_download(engine, db_audit.id, "data.csv", actor=ada)
    assert service.small_download(engine, db_audit.id, "data.csv", actor=ada) is first  # kept
    with Session(engine) as s:  # a kept file handed out is a use of personal data all the same
        uses = s.exec(select(AccessLog).where(AccessLog.what == "data.csv")).all()
    assert [(u.username, u.n_cases) for u in uses] == [("cli:ada", 60), ("cli:ada", 60)]
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.audit_id == db_audit.id, Case.status == "completed")
                      .order_by(Case.id)).first()
        audit = s.get(Audit, db_audit.id)
        set_answer(s, case=case, item="interviews_count", value=77, user=None, instrument=audit_instrument(audit))
        s.commit()
    again = service.small_download(engine, db_audit.id, "data.csv", actor=ada)
    assert again is not first and again != first and b";77;" in again
