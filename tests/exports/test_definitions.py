"""The annex definition file: the default loads, a bad file reports every problem with its table id."""
from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from audit.exports.definitions import DEFAULT_FILE, DefinitionError, load_definitions
from audit.exports.synthetic import case_frame

BAD = textwrap.dedent("""
    tables:
      - id: T01
        title: Retning
        kind: frequency
        row: direction
      - id: T02
        title: Ukendt kode
        kind: crosstab
        row: challenge_breadht
        col: stable_participation
        filter: {direction: [jobretet]}
      - id: T01
        title: Dobbelt id
        kind: pie
        row: direction
        colour: red
        percent: diagonal
      - id: "T/4"
        kind: crosstab
        row: direction
""")


def _known():  # type: ignore[no-untyped-def]
    return set(case_frame(5).columns)


def _problems(path, **where) -> str:  # type: ignore[no-untyped-def]
    """The problems check-annex finds in the file at `path`, one per line (it must find some)."""
    with pytest.raises(DefinitionError) as err:
        load_definitions(path, **where)
    return "\n".join(err.value.problems)



def test_default_file_loads_and_covers_the_report_tables():  # type: ignore[no-untyped-def]
    spec = load_definitions(DEFAULT_FILE, known=_known())
    kinds = {t.kind for t in spec.tables}
    assert kinds == {"frequency", "crosstab", "breakdown", "matrix", "indicators", "representativeness"}
    assert spec.table("T18").characteristics == ("sex", "age_band", "origin")
    assert len({t.id for t in spec.tables}) == len(spec.tables) >= 15
    t02 = spec.table("T02")
    assert (t02.rows, t02.cols, t02.percent) == (("challenge_breadth",), ("stable_participation",), "row")
    assert t02.filter == {"challenge_breadth": ("1", "2", "3", "4+")}
    assert all(t.source.startswith("Kilde:") and t.suppress for t in spec.tables)


def test_default_file_uses_only_codes_of_the_instrument():  # type: ignore[no-untyped-def]
    from audit.exports.service import default_instrument

    instrument = default_instrument()
    if instrument is None:
        pytest.skip("instrument room not merged")
    spec = load_definitions(DEFAULT_FILE, instrument=instrument)
    assert len(spec.tables) >= 15
    # and a code the instrument does not have is reported with the table id
    bad = DEFAULT_FILE.read_text(encoding="utf-8").replace("row: plan_job_goal_concrete", "row: plan_goal_konkret")
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "annex.yaml"
        f.write_text(bad, encoding="utf-8")
        with pytest.raises(DefinitionError) as err:
            load_definitions(f, instrument=instrument)
    assert err.value.problems == ["table T08: unknown variable `plan_goal_konkret` (not an item of the instrument "
                                  "nor a register or derived variable)"]


def test_bad_file_lists_every_problem_with_the_table_id(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        load_definitions(path, known=_known())
    problems = err.value.problems
    text = "\n".join(problems)
    assert "table T02: unknown variable `challenge_breadht`" in text
    assert "table T01: id used twice" in text
    assert "table T01: kind must be one of" in text and "'pie'" in text
    assert "table T01: unknown key `colour`" in text
    assert "table T01: percent must be row or col" in text
    assert "table T/4: id must be a valid sheet name" in text
    assert "table T/4: missing `title`" in text
    assert "table T/4: `col` is required for kind crosstab" in text


def test_filter_values_checked_against_choice_codes(tmp_path):  # type: ignore[no-untyped-def]
    from audit.exports.definitions import parse, validate

    problems: list[str] = []
    import yaml
    spec = parse(yaml.safe_load(BAD), problems)
    found = validate(spec, _known(), {"direction": {"jobrettet", "rehabiliterende", "fritaget"}}, [])
    assert any("filter value 'jobretet' is not a code of `direction`" in p for p in found)


def test_check_annex_command(tmp_path):  # type: ignore[no-untyped-def]
    from audit.cli import main

    runner = CliRunner()
    ok = runner.invoke(main, ["export", "check-annex", str(DEFAULT_FILE)])
    assert ok.exit_code == 0, ok.output
    assert "tables OK" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    res = runner.invoke(main, ["export", "check-annex", str(bad)])
    assert res.exit_code == 1
    assert "table T01: id used twice" in res.output


def test_expression_filter_uses_the_instrument_engine(tmp_path, frame):  # type: ignore[no-untyped-def]
    pytest.importorskip("audit.instrument.expressions")
    from audit.exports.compute import build_grid, prepare_frame

    path = tmp_path / "expr.yaml"
    path.write_text(textwrap.dedent("""
        tables:
          - id: X1
            title: Jobmål blandt jobrettede
            kind: frequency
            row: plan_job_goal
            filter: "${direction} = 'jobrettet'"
          - id: X2
            title: Fejl
            kind: frequency
            row: plan_job_goal
            filter: "${direction} = = 'jobrettet'"
    """), encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        load_definitions(path, known=_known())
    assert any(p.startswith("table X2: filter:") for p in err.value.problems)
    text = path.read_text(encoding="utf-8").split("  - id: X2")[0]
    path.write_text(text, encoding="utf-8")
    spec = load_definitions(path, known=_known())
    grid = build_grid(spec.table("X1"), prepare_frame(frame, spec), spec)
    assert grid.n_cases == int(((frame["direction"] == "jobrettet") & frame["plan_job_goal"].notna()).sum())


def test_representativeness_table_takes_register_variables_only(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "t12.yaml"
    path.write_text("tables:\n"
                    "  - {id: R1, title: T12, kind: representativeness, characteristics: [sex, direction],\n"
                    "     weighting: design, row: sex}\n", encoding="utf-8")
    text = _problems(path, known=_known())
    assert "table R1: a representativeness table takes no `row`" in text
    assert "register variables (sex, age_band, origin), not 'direction'" in text
    assert "table R1: a representativeness table compares unweighted compositions" in text
    path.write_text("tables:\n  - {id: R1, title: T12, kind: representativeness}\n", encoding="utf-8")
    assert load_definitions(path, known=_known()).table("R1").characteristics == ("sex", "age_band", "origin")


def test_a_label_is_written_once_and_indicators_say_how_they_print(tmp_path):  # type: ignore[no-untyped-def]
    """`labels:` may only name a variable nobody else labels; a derived variable names its own
    label; Table 14's indicators are item codes or {item, as: percent}."""
    from audit.exports.compute import Labeller
    from audit.exports.service import default_instrument

    instrument = default_instrument()
    path = tmp_path / "labels.yaml"
    path.write_text(textwrap.dedent("""
        labels:
          sex: {_: "Køn", mand: "Mænd"}
          direction: {_: "Retning"}
        derive:
          cert_band: {from: medical_certificates_count, label: "Lægeerklæringer", bins: [1, 3], labels: ["1-2", "3+"]}
        tables:
          - id: I1
            title: Indsatser
            kind: indicators
            characteristics: [sex, profile, cert_band]
            indicators: [interviews_count, {item: activation_weeks_share, as: percent}, {item: mentor, as: pie}]
          - {id: F1, title: Køn, kind: frequency, row: sex, filter: {sex: [mænd]}}
    """), encoding="utf-8")
    text = _problems(path, instrument=instrument)
    assert "labels: `sex` is labelled by the register definition" in text
    assert "labels: `direction` is labelled by the instrument" in text
    assert "indicator mentor: `as` must be percent, not 'pie'" in text
    assert "filter value 'mænd' is not a code of `sex` (kvinde, mand)" in text
    fixed = path.read_text(encoding="utf-8")
    fixed = fixed.split("tables:")[1].replace(", {item: mentor, as: pie}", "").replace(
        "  - {id: F1, title: Køn, kind: frequency, row: sex, filter: {sex: [mænd]}}\n", "")
    path.write_text("derive:\n  cert_band: {from: medical_certificates_count, label: \"Lægeerklæringer\", "
                    "bins: [1, 3], labels: [\"1-2\", \"3+\"]}\ntables:" + fixed, encoding="utf-8")
    spec = load_definitions(path, instrument=instrument)
    t = spec.table("I1")
    assert t.indicators == ("interviews_count", "activation_weeks_share") and t.indicator_as == {
        "activation_weeks_share": "percent"}
    lab = Labeller(spec, instrument)
    assert lab.variable("cert_band") == "Lægeerklæringer" and lab.order("cert_band") == ["1-2", "3+"]
    assert lab.value("sex", "mand") == "Mand" and lab.value("seniority_band", "10+") == "10+ år"


def test_items_tables_are_checked_with_the_table_named(tmp_path):  # type: ignore[no-untyped-def]
    """Kind items: an unknown item, a share_of that is not a code of an item, a missing list, a
    repeated item, `row` instead of `items`, two `col`s and a number item are each reported with the
    table id; a good one loads with its items, labels and default share_of."""
    from audit.exports.service import default_instrument

    instrument = default_instrument()
    path = tmp_path / "items.yaml"
    path.write_text(textwrap.dedent("""
        tables:
          - {id: I1, title: Fokus, kind: items, items: [focus_job_wishes, focus_job_wishs]}
          - {id: I2, title: CV, kind: items, items: [cv_jobnet, cv_matches_job_goal], share_of: ikke_relevant}
          - {id: I3, title: Tom, kind: items}
          - {id: I4, title: To gange, kind: items, items: [no_shows, no_shows], row: direction,
             col: [direction, sex]}
          - {id: I5, title: Tal, kind: items, items: [no_shows_count, {item: no_shows, colour: red}]}
          - {id: F1, title: Retning, kind: frequency, row: direction, items: [no_shows]}
    """), encoding="utf-8")
    text = _problems(path, instrument=instrument)
    assert "table I1: unknown variable `focus_job_wishs`" in text
    assert "table I2: share_of 'ikke_relevant' is not a code of `cv_jobnet` (ja, nej)" in text
    assert "`cv_matches_job_goal`" not in text  # a yes/no/not relevant item has the code
    assert "table I3: `items` is required for kind items" in text
    assert "table I4: item `no_shows` is listed twice" in text
    assert "table I4: an items table lists its rows under `items`, not `row`" in text
    assert "table I4: an items table takes at most one `col`" in text
    assert "table I5: `no_shows_count` is a number" in text
    assert "table I5: an entry of `items` is an item code or {item: code, label: text}" in text
    assert "table F1: `items` belongs to kinds items and composition" in text
    path.write_text(textwrap.dedent("""
        tables:
          - id: I1
            title: Udeblivelser
            kind: items
            col: direction
            items: [no_shows, {item: contact_attempted, label: "Forsøgt kontaktet"}]
    """), encoding="utf-8")
    t = load_definitions(path, instrument=instrument).table("I1")
    assert (t.items, t.cols, t.share_of) == (("no_shows", "contact_attempted"), ("direction",), "ja")
    assert t.item_labels == {"contact_attempted": "Forsøgt kontaktet"}


def test_a_means_table_needs_a_number(tmp_path):  # type: ignore[no-untyped-def]
    from audit.exports.definitions import DefinitionError, load_definitions
    from audit.exports.service import default_instrument

    bad = tmp_path / "bad.yaml"
    bad.write_text("tables:\n  - {id: M1, title: X, kind: means, row: direction, col: direction}\n"
                   "  - {id: M2, title: Y, kind: means, row: [direction, sex], col: interviews_count}\n",
                   encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        load_definitions(bad, instrument=default_instrument())
    text = str(err.value)
    assert "table M1: `direction` is not a number" in text and "table M2: a means table has one `col`" in text


def test_a_composition_is_checked_with_the_table_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """kind composition (Figure 36): two or more numbers under `items`, no row or col, and each
    item a number; check-annex names the table for each problem."""
    from audit.instrument import load_instrument
    from audit.resources import questionnaire

    inst = load_instrument(questionnaire("kontanthjaelp_2022_v1_1.yaml"))
    path = tmp_path / "c.yaml"
    path.write_text(
        "tables:\n"
        "- {id: C1, title: One, kind: composition, frame: population, items: [weeks_loentilskud]}\n"
        "- {id: C2, title: Row, kind: composition, row: sex, items: [weeks_loentilskud, weeks_nytteindsats]}\n"
        "- {id: C3, title: Codes, kind: composition, items: [direction, interviews_count]}\n"
        "- {id: C4, title: Fine, kind: composition, frame: population, items: [weeks_loentilskud, weeks_nytteindsats]}\n",
        encoding="utf-8")
    text = _problems(path, instrument=inst)
    assert "table C1: a composition lists two or more numbers under `items`" in text
    assert "table C2: a composition lists its rows under `items` and takes no `row` or `col`" in text
    assert "table C3: `direction` is not a number; a composition adds up numbers" in text
    assert "C4" not in text and "interviews_count` is not" not in text
