"""The project's design-based statistics against R's survey package, run on the same data:
means, shares, standard errors, logit intervals, design effects, the Rao-Scott tests with
their degrees of freedom and p-values, lonely strata ("adjust" and "fail"), on R's own
apistrat example, on a synthetic frame with lonely strata and on the demo's Table 2."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from audit.statistics import crosstab, frequency
from audit.statistics.crosstabs import table2
from audit.statistics.weighting import DesignError, design_of, weighted_mean, weighted_share
from tests.statistics.conftest import random_frame
from tests.statistics.rsurvey import r_error, run_r

DIGITS = 1e-6  # "6+ digits": relative (or absolute for values near 0) agreement


def close(ours: float, theirs: float, tol: float = DIGITS) -> bool:
    return abs(ours - theirs) <= tol * max(1.0, abs(theirs))


DESIGN = 'des <- svydesign(ids = ~1, strata = ~stratum, fpc = ~stratum_population, data = d)\n'

ROWS = r"""
# for each row code r: shares of the column codes within the row (a domain: subset of the design)
for (r in sort(unique(na.omit(d[[ROW]])))) {
  s <- subset(des, d[[ROW]] == r & !is.na(d[[ROW]]) & !is.na(d[[COL]]))
  for (l in sort(unique(na.omit(d[[COL]])))) {
    s$variables$y_ <- as.numeric(s$variables[[COL]] == l)
    m <- svymean(~y_, s, deff = TRUE)
    key <- paste(r, l, sep = "|")
    out(paste0(PFX, "share|", key), coef(m))
    out(paste0(PFX, "se|", key), SE(m))
    out(paste0(PFX, "deff|", key), deff(m))
    p <- coef(m)
    if (p > 0 && p < 1) out(paste0(PFX, "logit|", key), confint(svyciprop(~I(y_ == 1), s, method = "logit", df = Inf)))
  }
}
both <- subset(des, !is.na(d[[ROW]]) & !is.na(d[[COL]]))
f <- as.formula(paste("~", ROW, "+", COL))
F2 <- svychisq(f, both, statistic = "F")
out(paste0(PFX, "F"), F2$statistic); out(paste0(PFX, "ndf"), F2$parameter[1])
out(paste0(PFX, "ddf"), F2$parameter[2]); out(paste0(PFX, "p"), F2$p.value)
F1 <- svychisq(f, both, statistic = "Chisq")
out(paste0(PFX, "X2"), F1$statistic); out(paste0(PFX, "p1"), F1$p.value); out(paste0(PFX, "df1"), F1$parameter[1])
out(paste0(PFX, "degf"), degf(both))
"""


def rows_script(row: str, col: str, prefix: str = "") -> str:
    return f'ROW <- "{row}"; COL <- "{col}"; PFX <- "{prefix}"\n' + ROWS


def prefixed(r: dict[str, list[float]], prefix: str) -> dict[str, list[float]]:
    return {k[len(prefix):]: v for k, v in r.items() if k.startswith(prefix)}


def check_crosstab(frame: pd.DataFrame, row: str, col: str, r: dict[str, list[float]], lonely: str = "adjust") -> int:
    """Every cell's weighted share, SE, design effect and logit interval and the table's
    Rao-Scott tests, as the project computes them, against R's output; returns checks made."""
    d = design_of(frame, lonely=lonely)
    t = crosstab(frame, row, col, weighted=True, design=d)
    w = t.weighted
    checked = 0
    for rc in t.counts.index:
        for cc in t.counts.columns:
            key = f"{rc}|{cc}"
            if f"share|{key}" not in r:
                continue
            assert close(w["share"].at[rc, cc] / 100, r[f"share|{key}"][0]), (key, "share")
            assert close(w["se"].at[rc, cc] / 100, r[f"se|{key}"][0]), (key, "se")
            assert close(w["deff"].at[rc, cc], r[f"deff|{key}"][0], 1e-5), (key, "deff")
            if f"logit|{key}" in r:
                lo, hi = r[f"logit|{key}"]
                assert close(w["logit_low"].at[rc, cc] / 100, lo), (key, "logit low")
                assert close(w["logit_high"].at[rc, cc] / 100, hi), (key, "logit high")
                checked += 2
            checked += 3
    test = t.test
    assert test["statistic"] == "F"
    assert close(test["f"], r["F"][0]) and close(test["ndf"], r["ndf"][0]) and close(test["ddf"], r["ddf"][0])
    assert close(test["p_value"], r["p"][0])
    assert close(test["chi2"], r["X2"][0]) and test["dof"] == r["df1"][0]
    assert close(test["rs1_p_value"], r["p1"][0])
    assert test["design_df"] == r["degf"][0]
    return checked + 8


@pytest.fixture(scope="module")
def apistrat(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """R's own example data, written out by R."""
    tmp = tmp_path_factory.mktemp("api")
    run_r('data(api); write.csv(apistrat, "apistrat.csv", row.names = FALSE)\nout("n", nrow(apistrat))', tmp)
    f = pd.read_csv(tmp / "apistrat.csv")
    f["stratum"] = f["stype"]
    f["stratum_population"] = f["fpc"]
    return f


def test_apistrat_mean_shares_deff_and_chisq_equal_r(apistrat, tmp_path):
    f = apistrat[["stratum", "stratum_population", "api00", "sch.wide", "comp.imp", "awards", "stype"]].copy()
    r = run_r('d <- read("api.csv")\n' + DESIGN + r"""
m <- svymean(~api00, des, deff = TRUE); out("mean", coef(m)); out("mean_se", SE(m))
s <- svymean(~I(as.numeric(sch.wide == "Yes")), des, deff = TRUE)
out("yes", coef(s)); out("yes_se", SE(s)); out("yes_deff", deff(s))
out("yes_logit", confint(svyciprop(~I(sch.wide == "Yes"), des, method = "logit", df = Inf)))
""" + rows_script("sch.wide", "comp.imp", "a:") + rows_script("stype", "awards", "b:"), tmp_path, api=f)
    d = design_of(f)
    m = weighted_mean(f["api00"].to_numpy(float), None, d)
    assert close(m["mean"], r["mean"][0]) and close(m["se"], r["mean_se"][0])
    e = weighted_share((f["sch.wide"] == "Yes").to_numpy(float), None, d)
    assert close(e.share, r["yes"][0]) and close(e.se, r["yes_se"][0]) and close(e.deff, r["yes_deff"][0], 1e-5)
    assert close(e.logit_low, r["yes_logit"][0]) and close(e.logit_high, r["yes_logit"][1])
    fr = frequency(f, "sch.wide", weighted=True)
    assert close(fr.weighted["share"].at["I alt", "Yes"] / 100, r["yes"][0])
    assert close(fr.weighted["deff"].at["I alt", "Yes"], r["yes_deff"][0], 1e-5)
    assert check_crosstab(f, "sch.wide", "comp.imp", prefixed(r, "a:")) == 4 * 5 + 8
    # a 3 x 2 table: the stratum variable itself against awards
    assert check_crosstab(f, "stype", "awards", prefixed(r, "b:")) == 6 * 5 + 8


def lonely_frame() -> pd.DataFrame:
    """The synthetic frame with two strata cut down to one reviewed case each."""
    f = random_frame(320, seed=21)
    keep = np.ones(len(f), dtype=bool)
    for s in ("Nordfyn|10+", "Odense|5-7"):
        rows = np.flatnonzero(f["stratum"].to_numpy() == s)
        keep[rows[1:]] = False
    f = f[keep].reset_index(drop=True)
    f["stratum_sample"] = f.groupby("stratum")["case_id"].transform("size")
    return f


def test_lonely_strata_adjust_and_domains_equal_r(tmp_path):
    f = lonely_frame()
    d = design_of(f)
    assert sorted(d.lonely_strata) == ["Nordfyn|10+", "Odense|5-7"] and d.lonely == "adjust"
    cols = ["stratum", "stratum_population", "direction", "item_0", "sex", "interviews_count"]
    r = run_r('options(survey.lonely.psu = "adjust")\nd <- read("f.csv")\n' + DESIGN + rows_script("direction", "item_0")
              + r"""
for (g in c("kvinde", "mand")) {
  s <- subset(des, sex == g & !is.na(interviews_count))
  m <- svymean(~interviews_count, s); out(paste("mean", g, sep = "|"), c(coef(m), SE(m)))
}
""", tmp_path, f=f[cols])
    assert check_crosstab(f, "direction", "item_0", r) >= 30
    t = frequency(f, "interviews_count", "sex", weighted=True, design=d)
    for g in ("kvinde", "mand"):
        assert close(t.weighted["share"].at[g, "mean"], r[f"mean|{g}"][0])
        assert close(t.weighted["se"].at[g, "mean"], r[f"mean|{g}"][1])
    # the lonely strata are named in the table's note
    assert any("Nordfyn|10+" in n and "Odense|5-7" in n for n in crosstab(f, "direction", "item_0", weighted=True).notes)


def test_lonely_strata_fail_is_refused_like_r(tmp_path):
    f = lonely_frame()
    err = r_error('options(survey.lonely.psu = "fail")\nd <- read("f.csv")\n' + DESIGN
                  + 'print(svymean(~I(as.numeric(item_0 == "ja")), subset(des, !is.na(item_0))))\n',
                  tmp_path, f=f[["stratum", "stratum_population", "item_0"]])
    assert "has only one PSU" in err
    with pytest.raises(DesignError, match="only one reviewed case"):
        crosstab(f, "direction", "item_0", weighted=True, design=design_of(f, lonely="fail"))
    # R's "adjust" is what the project does by default: the estimate exists
    assert crosstab(f, "direction", "item_0", weighted=True).test["p_value"] is not None


def test_missing_stratum_size_is_an_error_not_a_census():
    f = random_frame(120, seed=2)
    f.loc[f["stratum"] == f["stratum"].iloc[0], "stratum_population"] = np.nan
    with pytest.raises(DesignError, match="missing for stratum"):
        design_of(f)
    with pytest.raises(DesignError):
        crosstab(f, "sex", "item_0", weighted=True)


def test_demo_table_2_rao_scott_equals_r(demo_frame, demo_cli, tmp_path):
    """The report's Table 2 weighted on the demo audit: F, its degrees of freedom and p equal
    R's svychisq on the same cases (breadth 1-4+, stable participation answered), in the
    statistics room and in `audit stats table2 --weighted` as JSON, CSV and text."""
    f = demo_frame
    cols = ["stratum", "stratum_population", "challenge_breadth", "stable_participation"]
    r = run_r('options(survey.lonely.psu = "adjust")\nd <- read("demo.csv")\n' + DESIGN + r"""
s <- subset(des, !is.na(challenge_breadth) & challenge_breadth != "0" & !is.na(stable_participation))
F2 <- svychisq(~challenge_breadth + stable_participation, s)
out("F", F2$statistic); out("ndf", F2$parameter[1]); out("ddf", F2$parameter[2]); out("p", F2$p.value)
F1 <- svychisq(~challenge_breadth + stable_participation, s, statistic = "Chisq")
out("p1", F1$p.value)
""", tmp_path, demo=f[cols])
    t = table2(f, weighted=True)
    test = t.test
    assert test["statistic"] == "F"
    for ours, theirs in ((test["f"], "F"), (test["ndf"], "ndf"), (test["ddf"], "ddf"), (test["p_value"], "p"),
                         (test["rs1_p_value"], "p1")):
        assert close(ours, r[theirs][0]), (theirs, ours, r[theirs][0])
    # and the page's old figure, Pearson on the unweighted counts, is far from it
    pearson = table2(f).test["p_value"]
    assert max(pearson, test["p_value"]) / min(pearson, test["p_value"]) > 2, (pearson, test["p_value"])
    # the command line, as an outside script reads it
    js = json.loads(demo_cli("stats", "table2", "--audit", "Demo 2022", "--weighted", "--format", "json"))["test"]
    for key, theirs in (("f", "F"), ("ndf", "ndf"), ("ddf", "ddf"), ("p_value", "p"), ("rs1_p_value", "p1")):
        assert close(js[key], r[theirs][0]), key
    csv = pd.read_csv(io.StringIO(demo_cli("stats", "table2", "--audit", "Demo 2022", "--weighted", "--format", "csv")))
    assert (csv["test_statistic"] == "F").all()
    assert close(float(csv["test_value"].iloc[0]), r["F"][0]) and close(float(csv["test_p_value"].iloc[0]), r["p"][0])
    assert close(float(csv["test_df2"].iloc[0]), r["ddf"][0])
    text = demo_cli("stats", "table2", "--audit", "Demo 2022", "--weighted")
    printed = f"Rao-Scott F={r['F'][0]:.3f}, df={r['ndf'][0]:.2f} and {r['ddf'][0]:.1f}, p={r['p'][0]:.4g}"
    assert printed in text
    # and in the annex note of the same table weighted
    from dataclasses import replace

    from openpyxl import load_workbook

    from audit.exports.annex import write_annex
    from audit.exports.definitions import load_definitions
    from audit.exports.service import default_instrument

    spec = load_definitions(instrument=default_instrument())
    tdef = replace(spec.table("T02"), weighting="design")
    lay = write_annex(f, replace(spec, tables=[tdef]), tmp_path / "t2.xlsx", instrument=default_instrument())[0]
    note = load_workbook(tmp_path / "t2.xlsx")["T02"].cell(row=lay.note_row, column=1).value
    # the annex is written in the report's language, Danish, whatever the command line's
    assert printed.replace(" and ", " og ") in note


def test_cli_lonely_psu_fail_is_a_clear_error_and_adjust_is_named(demo_cli):
    """The demo has a stratum with one reviewed case (Aarhus|10+): refused with --lonely-psu
    fail, named in the note with the default adjust."""
    from click.testing import CliRunner

    from audit.cli import main

    res = CliRunner().invoke(main, ["stats", "table2", "--audit", "Demo 2022", "--weighted", "--lonely-psu", "fail"])
    assert res.exit_code != 0 and "Aarhus|10+" in res.output and "only one reviewed case" in res.output
    assert "Aarhus|10+" in demo_cli("stats", "table2", "--audit", "Demo 2022", "--weighted")
