"""Raw data export: columns, values, CSV dialect, codebook and SPSS round trip."""
from __future__ import annotations

import csv

import pandas as pd
import pytest
from openpyxl import load_workbook

from audit.exports import raw


def test_wide_frame_columns_and_dummies(frame):  # type: ignore[no-untyped-def]
    data, vars_ = raw.wide_frame(frame)
    cols = list(data.columns)
    assert cols[:11] == list(raw.REGISTER)
    assert "challenges" in cols and "challenges__misbrug" in cols and "weight" in cols
    assert cols.index("challenges__misbrug") > cols.index("challenges")
    for i in (0, 5, 17):
        chosen = frame.at[i, "challenges"]
        assert data.at[i, "challenges"] == " ".join(chosen)
        assert data.at[i, "challenges__misbrug"] == int("misbrug" in chosen)
    # not applicable stays empty, also in dummies
    i = int(frame.index[frame["efforts_departments"].isna()][0])
    assert pd.isna(data.at[i, "efforts_departments"]) and pd.isna(data.at[i, "efforts_departments__sundhedsafdeling"])
    assert len(data) == len(frame)


def test_xlsx_has_data_and_codebook(frame, tmp_path):  # type: ignore[no-untyped-def]
    out = tmp_path / "data.xlsx"
    assert raw.write_raw(frame, out) == len(frame)
    wb = load_workbook(out)
    assert wb.sheetnames == ["data", "codebook"]
    ws = wb["data"]
    header = [c.value for c in ws[1]]
    data, vars_ = raw.wide_frame(frame)
    assert header == list(data.columns)
    assert ws.freeze_panes == "B2"
    assert ws.max_row == len(frame) + 1
    for r in (2, 50, len(frame) + 1):
        i = r - 2
        assert ws.cell(row=r, column=1).value == frame.at[i, "case_id"]
        assert ws.cell(row=r, column=header.index("weight") + 1).value == pytest.approx(frame.at[i, "weight"])
        assert ws.cell(row=r, column=header.index("direction") + 1).value == frame.at[i, "direction"]
        assert ws.cell(row=r, column=header.index("challenges") + 1).value == " ".join(frame.at[i, "challenges"]) or None
    cb = wb["codebook"]
    assert [c.value for c in cb[1]] == ["variabel", "label", "type", "værdier", "relevant når"]
    names = [c.value for c in cb["A"]][1:]
    assert names == header
    sex = next(r for r in cb.iter_rows(values_only=True) if r[0] == "sex")
    assert sex[1] == "Køn" and "mand=Mand" in sex[3]


def test_csv_danish_dialect_and_comma_option(frame, tmp_path):  # type: ignore[no-untyped-def]
    out = tmp_path / "data.csv"
    raw.write_raw(frame, out)
    body = out.read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header = rows[0]
    assert len(rows) == len(frame) + 1
    w = rows[1][header.index("weight")]
    assert float(w.replace(",", ".")) == pytest.approx(frame.at[0, "weight"])
    k = int(frame.index[frame["weight"] % 1 != 0][0])  # a whole weight is written as 5 (csvio.cell)
    w = rows[k + 1][header.index("weight")]
    assert "," in w and float(w.replace(",", ".")) == pytest.approx(frame.at[k, "weight"])
    assert rows[1][header.index("municipality")] == frame.at[0, "municipality"]
    out2 = tmp_path / "data_comma.csv"
    raw.write_raw(frame, out2, sep=",")
    back = pd.read_csv(out2, encoding="utf-8-sig")
    assert list(back.columns) == header
    assert back["weight"].tolist() == pytest.approx(frame["weight"].tolist())


def test_sav_round_trip_with_labels(frame, tmp_path):  # type: ignore[no-untyped-def]
    pyreadstat = pytest.importorskip("pyreadstat")
    out = tmp_path / "data.sav"
    raw.write_raw(frame, out)
    df, meta = pyreadstat.read_sav(str(out))
    assert len(df) == len(frame)
    assert meta.column_names[:11] == list(raw.REGISTER)
    labels = dict(zip(meta.column_names, meta.column_labels))
    assert labels["sex"] == "Køn" and labels["weight"] == "Designvægt (N_h/n_h)"
    assert labels["challenges__misbrug"].endswith("misbrug") or "Misbrug" in labels["challenges__misbrug"]
    sex_labels = meta.variable_value_labels["sex"]
    assert set(sex_labels.values()) == {"Mand", "Kvinde"}
    decoded = df["sex"].map(sex_labels)
    assert decoded.map({"Mand": "mand", "Kvinde": "kvinde"}).tolist() == frame["sex"].tolist()
    assert meta.variable_value_labels["challenges__misbrug"] == {0.0: "Nej", 1.0: "Ja"}
    assert df["weight"].tolist() == pytest.approx(frame["weight"].tolist())
    assert df["challenges"].tolist()[:3] == [" ".join(v) for v in frame["challenges"][:3]]
