"""The figure book (`audit export figures`, /exports/{id}/figures.zip): every figure of the report
definition as PNG and SVG, readable at print size, bars as long as the shares pandas computes
from the answers the test stored, hidden cells without a bar, text never executable."""
from __future__ import annotations

import io
import re
import zipfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from audit.cli import main
from audit.exports.synthetic import case_frame

REPORT = Path(__file__).resolve().parents[2] / "exports" / "report_2022.yaml"
SVG = "{http://www.w3.org/2000/svg}"


def _figure_ids() -> list[str]:
    import yaml

    return [t["id"] for t in yaml.safe_load(REPORT.read_text(encoding="utf-8"))["tables"]
            if str(t["id"]).startswith("Figur")]


MUNICIPALITIES = ["København", "Odense", "Aarhus", "Aalborg", "Esbjerg"]
REVIEWED = 72


def _source() -> pd.DataFrame:
    """75 synthetic cases, 15 in each of five municipalities (the design's 15 per municipality)."""
    src = case_frame(75, seed=11)
    src["municipality"] = [MUNICIPALITIES[i // 15] for i in range(len(src))]
    return src


def _stored() -> pd.DataFrame:
    """The reviewed cases of the test audit: pandas counts these."""
    return _source().head(REVIEWED)


@pytest.fixture
def figure_audit(engine):  # type: ignore[no-untyped-def]
    """The test audit: 72 reviewed cases, 3 in progress (not counted)."""
    from tests.exports.conftest import store_audit

    return store_audit(engine, _source(), "Figurtest 2022", completed=REVIEWED, municipalities=MUNICIPALITIES)


def _book(figure_audit, tmp_path: Path, *extra: str) -> zipfile.ZipFile:  # type: ignore[no-untyped-def]
    out = tmp_path / "figures.zip"
    res = CliRunner().invoke(main, ["export", "figures", "--audit", figure_audit.name, "--out", str(out), *extra])
    assert res.exit_code == 0, res.output
    assert f"wrote {out}" in res.output
    return zipfile.ZipFile(out)


def _text(svg: bytes) -> str:
    """Every text of the SVG, one space between lines (a wrapped title reads as one line)."""
    root = ET.fromstring(svg)
    return " ".join(" ".join(t.itertext()) for t in root.iter(f"{SVG}text"))


def _bars(svg: bytes) -> dict[str, float]:
    """Bar id -> bar length in SVG units (the path's extent along x)."""
    out = {}
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        gid = g.get("id", "")
        if gid.startswith("bar|"):
            path = g.find(f"{SVG}path")
            assert path is not None, gid
            xs = [float(x) for x in re.findall(r"[ML]\s*([-\d.]+)\s+[-\d.]+", path.get("d", ""))]
            out[gid] = max(xs) - min(xs)
    return out


def _x_marks(svg: bytes) -> set[str]:
    return {g.get("id", "")[2:] for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("id", "").startswith("x|")}


def _assert_proportional(lengths: dict[str, float], shares: dict[str, float]) -> None:
    """Bar lengths proportional to the shares, to the whole percent the report prints."""
    assert lengths and set(lengths) <= set(shares), (set(lengths) - set(shares))
    scale = max(lengths.values()) / shares[max(lengths, key=lengths.get)]  # type: ignore[arg-type]
    for gid, length in lengths.items():
        assert abs(length / scale - shares[gid]) <= 0.0051, (gid, length / scale, shares[gid])


def test_every_figure_as_png_and_svg_at_print_size_with_title_note_and_source(figure_audit, tmp_path):  # type: ignore[no-untyped-def]
    book = _book(figure_audit, tmp_path)
    names = set(book.namelist())
    ids = _figure_ids()
    assert len(ids) >= 40
    for fid in ids:
        assert {f"{fid}.png", f"{fid}.svg"} <= names, fid
    assert len(names) == 2 * len(ids)  # figures only: no table of the report
    for fid in ("Figur 8", "Figur 9", "Figur 66"):
        png = Image.open(io.BytesIO(book.read(f"{fid}.png")))
        dpi = png.info["dpi"][0]
        assert dpi >= 199.9 and png.width / dpi * 2.54 >= 16.0, (png.width, dpi)
    src = _stored()
    n_direction = int(src["direction"].notna().sum())
    text = _text(book.read("Figur 8.svg"))
    assert "Figur 8: Hvordan arbejdes der med målgruppen?" in text
    assert f"Anm.: N={n_direction}." in text and "Kilde: Sagsgennemgang i kommunerne" in text
    assert "Jobrettet indsats mod det ordinære arbejdsmarked" in text  # labels, not codes
    # Figure 9: one N per seniority band, as pandas counts them
    per_band = src.dropna(subset=["direction"]).groupby("seniority_band").size()
    text9 = _text(book.read("Figur 9.svg"))
    ns = [int(per_band[b]) for b in ("5-7", "7-10", "10+")]
    assert f"Anm.: N={ns[0]}, {ns[1]} og {ns[2]}." in text9
    # an exhibit whose register variable this audit's extract lacks: title and note, no bar
    empty = book.read("Figur 4.svg")
    assert "Figur 4: Populationens status før start på kontanthjælpsforløb" in _text(empty)
    assert "Anm.: N=0." in _text(empty) and "tabellen er derfor tom" in _text(empty) and not _bars(empty)


def test_bars_are_the_shares_pandas_computes_and_hidden_cells_have_none(figure_audit, tmp_path):  # type: ignore[no-untyped-def]
    src = _stored()
    book = _book(figure_audit, tmp_path)
    # Figure 8, a frequency: one bar per code, share of the cases answering
    freq = src["direction"].value_counts(normalize=True)
    lengths = _bars(book.read("Figur 8.svg"))
    assert set(lengths) == {f"bar|{c}|share" for c in freq.index}
    _assert_proportional(lengths, {f"bar|{c}|share": float(v) for c, v in freq.items()})
    # Figure 9, a crosstab with row percentages: seniority band x direction
    counts = pd.crosstab(src["seniority_band"], src["direction"])
    shares = counts.div(counts.sum(axis=1), axis=0)
    expected = {f"bar|{b}|direction:{d}": float(shares.at[b, d]) for b in shares.index for d in shares.columns}
    svg9 = book.read("Figur 9.svg")
    lengths9 = _bars(svg9)
    _assert_proportional(lengths9, expected)
    # cells of 1-2 cases are hidden: no bar, an x; their complements are hidden too, so each
    # band has a bar or an x for every direction
    small = {f"{b}|direction:{d}" for b in counts.index for d in counts.columns if 0 < counts.at[b, d] < 3}
    assert small, "the stored answers should hold a small cell"
    marks = _x_marks(svg9)
    assert small <= marks
    assert not {f"bar|{k}" for k in marks} & set(lengths9)
    assert {g[4:] for g in lengths9} | marks == {k[4:] for k in expected}
    # without suppression (internal use) the same cells are drawn, as long as pandas says
    open_svg = _book(figure_audit, tmp_path, "--no-suppress").read("Figur 9.svg")
    assert not _x_marks(open_svg)
    _assert_proportional(_bars(open_svg), expected)
    assert {f"bar|{k}" for k in small} <= set(_bars(open_svg))
    assert "NOT suppressed" in CliRunner().invoke(
        main, ["export", "figures", "--audit", figure_audit.name, "--out", str(tmp_path / "o.zip"), "--no-suppress"]).output


def test_text_from_a_definition_is_never_executable_nor_mathtext(figure_audit, tmp_path):  # type: ignore[no-untyped-def]
    hostile = "<script>alert(1)</script> & $x^2$ \"quoted\""
    definitions = tmp_path / "hostile.yaml"
    definitions.write_text(
        "source: 'Kilde: <b onload=alert(2)>DREAM</b> & co'\n"
        "tables:\n"
        f"  - {{id: Figur 1, title: '{hostile}', kind: frequency, row: direction, note: 'Note & <i>x</i>'}}\n"
        "  - {id: Tabel 1, title: Ikke en figur, kind: frequency, row: direction}\n", encoding="utf-8")
    book = _book(figure_audit, tmp_path, "--definitions", str(definitions))
    assert sorted(book.namelist()) == ["Figur 1.png", "Figur 1.svg"]  # only the figures
    raw = book.read("Figur 1.svg")
    root = ET.fromstring(raw)  # well-formed
    assert not [e for e in root.iter() if e.tag.split("}")[-1].lower() in ("script", "b", "i", "foreignobject")]
    assert not [k for e in root.iter() for k in e.attrib if k.lower().startswith("on")]
    assert b"<script" not in raw and b"&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in raw
    text = _text(raw)
    assert f"Figur 1: {hostile}" in text  # the dollars kept as typed: no mathtext
    assert "Kilde: <b onload=alert(2)>DREAM</b> & co" in text and "Note & <i>x</i>." in text


def test_help_names_the_command_and_its_flags():  # type: ignore[no-untyped-def]
    res = CliRunner().invoke(main, ["export", "figures", "--help"])
    assert res.exit_code == 0
    for flag in ("--audit", "--out", "--definitions", "--no-suppress", "report_2022.yaml"):
        assert flag in res.output
    assert "figures" in CliRunner().invoke(main, ["export", "--help"]).output
    res = CliRunner().invoke(main, ["export", "figures", "--audit", "x", "--out", "figures.pdf"])
    assert res.exit_code != 0 and ".zip" in res.output


@pytest.mark.danish
def test_web_download_for_admins_logged_and_refused_to_others(figure_audit, make_user, client_for, engine):  # type: ignore[no-untyped-def]
    from sqlmodel import Session, select

    from audit.models import AccessLog

    client, _ = client_for(make_user("chef", "admin"))
    page = client.get("/exports")
    assert page.status_code == 200
    assert f'action="/exports/{figure_audit.id}/figures.zip"' in page.text and "Figurbog (PNG og SVG)" in page.text
    resp = client.get(f"/exports/{figure_audit.id}/figures.zip")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/zip"
    assert "attachment" in resp.headers["content-disposition"]
    book = zipfile.ZipFile(io.BytesIO(resp.content))
    assert {f"{f}.{ext}" for f in _figure_ids() for ext in ("png", "svg")} == set(book.namelist())
    assert "Figur 8: Hvordan arbejdes der med målgruppen?" in _text(book.read("Figur 8.svg"))
    with Session(engine) as s:
        uses = s.exec(select(AccessLog).where(AccessLog.what == "figures.zip")).all()
    assert [(u.username, u.kind, u.n_cases) for u in uses] == [("chef", "download", REVIEWED)]
    for role, municipality in (("municipality", "København"), ("auditor", None)):
        other, _ = client_for(make_user(f"u_{role}", role, municipality))
        refused = other.get(f"/exports/{figure_audit.id}/figures.zip")
        assert refused.status_code in (403, 404) and not refused.content.startswith(b"PK")
    with Session(engine) as s:  # a refused request hands out nothing and logs nothing
        assert len(s.exec(select(AccessLog).where(AccessLog.what == "figures.zip")).all()) == 1


def test_a_comparison_draws_the_all_cases_line(tmp_path):  # type: ignore[no-untyped-def]
    """Figur 16 (kind comparison): a bar per municipality and one line at the share of all
    cases, at the published value, named in the SVG."""
    import re
    import zipfile
    from dataclasses import replace

    from audit.exports.compute import build_grids
    from audit.exports.definitions import load_definitions
    from audit.exports.figures import write_figures
    from audit.exports.service import default_instrument
    from audit.resources import export_definition
    from tests.exports.test_report_definition import _comparison_frame

    inst, frame, raw = _comparison_frame()
    spec = load_definitions(export_definition("report_2022.yaml"), instrument=inst)
    grids = build_grids(frame, replace(spec, tables=[spec.table("Figur 16")]), inst, suppress=False)
    body = write_figures(grids)
    svg = zipfile.ZipFile(__import__("io").BytesIO(body)).read("Figur 16.svg").decode()
    share = round(100 * (raw["focus"] == "ja").mean())
    assert f"Alle sager: {share} %" in svg
    assert 'id="reference"' in svg
    assert len(re.findall(r'id="bar\|K\d\d\|share"', svg)) == raw["municipality"].nunique()


def test_the_report_workbook_downloads_from_the_exports_page(figure_audit, make_user, client_for, engine, tmp_path):  # type: ignore[no-untyped-def]
    """report.xlsx: the same workbook as `audit report build` (every exhibit of the report
    definition, one sheet each), for admins only, logged as a use of the cases."""
    from click.testing import CliRunner
    from openpyxl import load_workbook
    from sqlmodel import Session, select

    from audit.cli import main
    from audit.models import AccessLog

    client, _ = client_for(make_user("chef", "admin"))
    page = client.get("/exports")
    assert f'action="/exports/{figure_audit.id}/report.xlsx"' in page.text
    resp = client.get(f"/exports/{figure_audit.id}/report.xlsx")
    assert resp.status_code == 200 and "attachment" in resp.headers["content-disposition"]
    web = load_workbook(io.BytesIO(resp.content))
    res = CliRunner().invoke(main, ["report", "build", "--audit", figure_audit.name, "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    cli = load_workbook(tmp_path / "report_2022.xlsx")
    assert web.sheetnames == cli.sheetnames and "Figur 8" in web.sheetnames and "Tabel 4" in web.sheetnames
    for name in web.sheetnames[1:]:  # the same cells (the contents sheet carries the date)
        assert [[c.value for c in r] for r in web[name].iter_rows()] == \
            [[c.value for c in r] for r in cli[name].iter_rows()], name
    with Session(engine) as s:
        uses = s.exec(select(AccessLog).where(AccessLog.what == "report.xlsx")).all()
    assert [(u.username, u.kind, u.n_cases) for u in uses] == [("chef", "download", REVIEWED)]
    other, _ = client_for(make_user("kommune", "municipality", "København"))
    assert other.get(f"/exports/{figure_audit.id}/report.xlsx").status_code in (403, 404)
