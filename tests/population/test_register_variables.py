"""Every declared register column imported, typed; undeclared columns refused; snapshots at two
dates and the change table between them, each checked against pandas on the file itself."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from audit.cli import main
from audit.models import Audit, AuditLog, Person, SnapshotPerson

MUNIS = ["Odense", "Nordfyn", "Brøndby"]
STATUSES = ["foertidspension", "ressourceforloeb", "fleksjob_ledighedsydelse", "kontanthjaelp_mv", "andre_ydelser"]


def _run(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert (result.exit_code == 0) is ok, result.output
    return result


def _frame_file(tmp_path: Path, n: int = 120, seed: int = 1) -> tuple[Path, pd.DataFrame]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append({"person_id": f"p{i}", "municipality": rnd.choice(MUNIS),
                     "seniority_years": f"{rnd.uniform(5, 20):.2f}".replace(".", ","),
                     "sex": rnd.choice(["mand", "kvinde"]), "age": str(rnd.randint(25, 66)),
                     "origin": rnd.choice(["dansk", "vestlig", "ikke-vestlig"]),
                     "interviews_period": str(rnd.randint(0, 20)),
                     "status_before_spell": rnd.choice(["beskaeftigelse", "Dagpenge", "uddannelse", ""]),
                     "company_weeks_period": str(rnd.choice([0, 0, 5, 20, 40, 70]))})
    df = pd.DataFrame(rows)
    path = tmp_path / "register.csv"
    df.to_csv(path, index=False, sep=";")
    return path, df


def _create() -> None:
    _run("audits", "create", "T", "--period-start", "2018-03-01", "--period-end", "2020-02-29",
         "--reference-date", "2020-03-01")


def test_declared_columns_are_stored_typed_and_bound_to_the_definition(engine, tmp_path):
    _create()
    path, df = _frame_file(tmp_path)
    out = _run("population", "import", "--audit", "T", str(path)).output
    assert "imported 120 people" in out and "interviews_period" in out
    with Session(engine) as s:
        audit = s.exec(select(Audit)).one()
        assert audit.register_version.startswith("1.1:") and json.loads(audit.register_json)["variables"]
        stored = {p.person_id: json.loads(p.values_json or "{}") for p in s.exec(select(Person))}
    for row in df.itertuples():
        got = stored[row.person_id]
        assert got["interviews_period"] == int(row.interviews_period)  # an integer, not a text
        assert got.get("status_before_spell") == (row.status_before_spell.lower() or None)

    from audit.population.snapshots import population_frame

    with Session(engine) as s:
        pop = population_frame(s, s.exec(select(Audit)).one())
    # bands as the report prints them, recomputed here with pandas on the file
    expected = pd.cut(df["interviews_period"].astype(int), [-1, 7, 10, 10_000], labels=["<8", "8-10", ">10"])
    merged = pop.set_index("person_id")["interviews_band"].reindex(df["person_id"])
    assert list(merged) == list(expected.astype(str))
    placed = np.where(df["company_weeks_period"].astype(int) > 0, "ja", "nej")
    assert list(pop.set_index("person_id")["company_placement_period"].reindex(df["person_id"])) == list(placed)


def test_undeclared_and_badly_typed_columns_are_refused_whole(engine, tmp_path):
    _create()
    path, df = _frame_file(tmp_path, n=10)
    df["cpr_number"] = "0101701234"
    df.loc[3, "interviews_period"] = "many"
    df.loc[5, "interviews_period"] = "151"
    df.loc[6, "status_before_spell"] = "pension"
    df.to_csv(path, index=False, sep=";")
    result = _run("population", "import", "--audit", "T", str(path), ok=False)
    text = result.output
    assert "column 'cpr_number' is not declared" in text and "--ignore-extra" in text
    assert "row 5, column interviews_period: not a number (value 'many')" in text
    assert "row 7, column interviews_period: outside the allowed range 0-150 (value '151')" in text
    assert "row 8, column status_before_spell: not one of the codes" in text
    assert "nothing was imported" in text
    with Session(engine) as s:
        assert not s.exec(select(Person)).all()
    # the typed errors fixed, the extra column dropped on request (and not stored anywhere)
    df.loc[3, "interviews_period"] = "4"
    df.loc[5, "interviews_period"] = "150"
    df.loc[6, "status_before_spell"] = "revalidering"
    df.to_csv(path, index=False, sep=";")
    result = _run("population", "import", "--audit", "T", str(path), "--ignore-extra")
    assert "cpr_number" in result.output  # the warning names the dropped column
    with Session(engine) as s:
        assert len(s.exec(select(Person)).all()) == 10
        assert not any("0101701234" in (p.values_json or "") for p in s.exec(select(Person)))


def _snapshot_file(tmp_path: Path, name: str, ids: list[str], status: dict[str, str]) -> Path:
    path = tmp_path / name
    pd.DataFrame({"person_id": ids, "municipality": [MUNIS[int(i[1:]) % 3] for i in ids],
                  "benefit_status": [status[i] for i in ids]}).to_csv(path, index=False)
    return path


def test_two_snapshots_and_the_change_between_them(engine, tmp_path):
    _create()
    frame_path, _df = _frame_file(tmp_path, n=60)
    _run("population", "import", "--audit", "T", str(frame_path))
    rnd = random.Random(7)
    feb_ids = [f"p{i}" for i in range(50)]
    dec_ids = [f"p{i}" for i in range(5, 60)]  # the group changes: some leave, some join
    feb = {i: rnd.choices(STATUSES, [1, 2, 1, 6, 0.3])[0] for i in feb_ids}
    dec = {i: rnd.choices(STATUSES, [3, 4, 1, 3, 0.5])[0] for i in dec_ids}
    feb_file = _snapshot_file(tmp_path, "feb.csv", feb_ids, feb)
    dec_file = _snapshot_file(tmp_path, "dec.csv", dec_ids, dec)
    out = _run("population", "import", "--audit", "T", str(feb_file), "--as-of", "2018-02-28").output
    assert "snapshot 2018-02-28 of 50 people" in out and "50 linked" in out
    _run("population", "import", "--audit", "T", str(dec_file), "--as-of", "2018-12-31")
    again = _run("population", "import", "--audit", "T", str(dec_file), "--as-of", "2018-12-31", ok=False)
    assert "already has a snapshot" in again.output

    from audit.population.snapshots import snapshot_change, with_snapshot, population_frame

    with Session(engine) as s:
        audit = s.exec(select(Audit)).one()
        table = snapshot_change(s, audit, "benefit_status", "2018-02-28", "2018-12-31")
        joined = with_snapshot(population_frame(s, audit), s, audit, "benefit_status", "2018-02-28")
    a = pd.read_csv(feb_file)["benefit_status"].value_counts().reindex(STATUSES, fill_value=0)
    b = pd.read_csv(dec_file)["benefit_status"].value_counts().reindex(STATUSES, fill_value=0)
    assert table.loc[STATUSES, "n_before"].tolist() == a.tolist()
    assert table.loc[STATUSES, "n_after"].tolist() == b.tolist()
    assert table.loc[STATUSES, "diff_persons"].tolist() == (b - a).tolist()
    np.testing.assert_allclose(table.loc[STATUSES, "diff_pp"], 100 * b / b.sum() - 100 * a / a.sum())
    assert table.loc["total", "n_before"] == 50 and table.loc["total", "diff_persons"] == 5
    # a variable taken at a snapshot, joined to the frame by person id; p55..p59 are not in February
    col = joined.set_index("person_id")["benefit_status@2018-02-28"]
    assert col["p3"] == feb["p3"] and pd.isna(col["p55"])
    with Session(engine) as s:
        assert len(s.exec(select(SnapshotPerson)).all()) == 105
        assert any(e.field == "snapshot" for e in s.exec(select(AuditLog)))


def test_a_snapshot_with_a_bad_cell_is_refused_whole(engine, tmp_path):
    _create()
    path = tmp_path / "s.csv"
    path.write_text("person_id,municipality,benefit_status\np1,Odense,pension\np2,Atlantis,ressourceforloeb\n",
                    encoding="utf-8")
    out = _run("population", "import", "--audit", "T", str(path), "--as-of", "2018-02-28", ok=False).output
    assert "row 2, column benefit_status" in out and "row 3, column municipality" in out
    with Session(engine) as s:
        assert not s.exec(select(SnapshotPerson)).all()


def test_register_check_names_the_line(tmp_path):
    bad = tmp_path / "r.yaml"
    bad.write_text('settings: {id: x, version: "1", title: X}\nvariables:\n'
                   '  - code: weeks\n    type: integer\n    label_da: Uger\n    label_en: Weeks\n'
                   '    min: 10\n    max: 2\n    showable_to_municipality: true\n'
                   '  - code: status\n    type: categroy\n    label_da: S\n    label_en: S\n'
                   '    showable_to_municipality: yes please\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["register", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3: weeks: min 10.0 is above max 2.0" in result.output
    assert f"{bad}:10: status: type must be one of" in result.output
    assert f"{bad}:10: status: 'showable_to_municipality' must be true or false" in result.output
    good = CliRunner().invoke(main, ["register", "check", "registers/kontanthjaelp_2022.yaml"])
    assert good.exit_code == 0 and "no errors" in good.output and "interviews_period" in good.output


def _bound_audit_with_cases(engine, tmp_path, n=90):  # type: ignore[no-untyped-def]
    """An audit bound to a definition where one register variable is not showable, imported and
    drawn through the CLI."""
    from audit.population.binding import bind_register

    text = Path("registers/kontanthjaelp_2022.yaml").read_text(encoding="utf-8")
    marker = "  - code: status_before_spell\n"
    start = text.index(marker)
    end = text.index("showable_to_municipality: true", start)
    text = text[:end] + "showable_to_municipality: false" + text[end + len("showable_to_municipality: true"):]
    definition = tmp_path / "register.yaml"
    definition.write_text(text.replace('version: "1.1"', 'version: "1.1-test"'), encoding="utf-8")
    _create()
    with Session(engine) as s:
        bind_register(s, s.exec(select(Audit)).one(), definition)
        s.commit()
    path, df = _frame_file(tmp_path, n=n)
    _run("population", "import", "--audit", "T", str(path))
    _run("sample", "draw", "--audit", "T", "--per-stratum", "3", "--seed", "5")
    return df


def test_population_tables_equal_pandas_on_the_file_and_register_joins_the_case_frame(engine, tmp_path):
    from audit.population.snapshots import population_frame
    from audit.statistics import crosstabs
    from audit.statistics.frequencies import frequency

    _create()
    path, df = _frame_file(tmp_path, n=150)
    _run("population", "import", "--audit", "T", str(path))
    with Session(engine) as s:
        pop = population_frame(s, s.exec(select(Audit)).one())
    assert len(pop) == 150
    t = frequency(pop, "status_before_spell")
    status = df["status_before_spell"].str.lower().replace("", np.nan).dropna()
    expected = status.value_counts()
    got = {k: int(v) for k, v in t.counts.iloc[-1].items() if v}
    assert got == {k: int(v) for k, v in expected.items()}
    assert int(t.n_rows.iloc[-1]) == len(status)  # N = persons with the variable
    # a crosstab by municipality on the population, column shares as pandas computes them
    x = crosstabs.crosstab(pop, "interviews_band", "municipality", percent="col")
    bands = pd.cut(df["interviews_period"].astype(int), [-1, 7, 10, 10_000], labels=["<8", "8-10", ">10"])
    ref = pd.crosstab(bands, df["municipality"], normalize="columns") * 100
    for band in ["<8", "8-10", ">10"]:
        for m in MUNIS:
            assert abs(float(x.percents.loc[band, m]) - float(ref.loc[band, m])) < 1e-9
    # the CLI on the population frame, suppressed like the sample's tables
    out = _run("stats", "frequencies", "--audit", "T", "--frame", "population", "--item", "interviews_band",
               "--format", "csv", "--no-suppress").output
    n_over_10 = int((df["interviews_period"].astype(int) > 10).sum())
    assert f",>10,{n_over_10}," in out.replace('"', "")
    refused = _run("stats", "frequencies", "--audit", "T", "--frame", "population", "--weighted", ok=False)
    assert "census" in refused.output


def test_register_variables_join_the_case_frame_and_a_municipality_sees_only_showable_ones(
        engine, tmp_path, make_user, client_for):
    from audit.statistics import crosstabs
    from audit.statistics.dataset import load_case_frame

    df = _bound_audit_with_cases(engine, tmp_path)
    with Session(engine) as s:
        audit = s.exec(select(Audit)).one()
        assert audit.register_version.startswith("1.1-test:")
        from audit.models import Case

        cases = {c.id: (c.municipality, s.get(Person, c.person_pk).person_id)
                 for c in s.exec(select(Case).where(Case.active.is_(True)))}
        frame = load_case_frame(s, audit, statuses=None)
    by_person = df.set_index("person_id")
    # every case carries its person's register values, typed, and they can be crossed
    for row in frame.itertuples():
        pid = cases[row.case_id][1]
        assert row.interviews_period == int(by_person.loc[pid, "interviews_period"])
    x = crosstabs.crosstab(frame, "interviews_band", "seniority_band", test=False)
    persons = [cases[c][1] for c in frame["case_id"]]
    bands = pd.cut(by_person.loc[persons, "interviews_period"].astype(int), [-1, 7, 10, 10_000],
                   labels=["<8", "8-10", ">10"])
    ref = pd.crosstab(bands.to_numpy(), frame["seniority_band"].to_numpy())
    for b in ref.index:
        for c in ref.columns:
            assert int(x.counts.loc[b, c]) == int(ref.loc[b, c])

    own_case, (own_muni, own_pid) = next(iter(cases.items()))
    other_case = next(c for c, (m, _p) in cases.items() if m != own_muni)
    muni_user = make_user("kommune", "municipality", municipality=own_muni)
    auditor = make_user("revisor", "admin")
    client, _t = client_for(muni_user)
    facts = client.get(f"/api/cases/{own_case}", headers={"accept": "application/json"}).json()
    assert facts["register_variables"]["interviews_period"] == int(by_person.loc[own_pid, "interviews_period"])
    assert "status_before_spell" not in facts["register_variables"]  # not showable in this definition
    assert client.get(f"/api/cases/{other_case}", headers={"accept": "application/json"}).status_code == 404
    admin_client, _t = client_for(auditor)
    page = admin_client.get(f"/review/cases/{own_case}")
    assert page.status_code == 200 and 'data-testid="fact-interviews_period"' in page.text
    full = admin_client.get(f"/api/cases/{own_case}", headers={"accept": "application/json"}).json()
    wanted = by_person.loc[own_pid, "status_before_spell"].lower()
    assert full["register_variables"].get("status_before_spell") == (wanted or None)


def test_an_annex_table_on_the_population_frame_equals_pandas(engine, tmp_path):
    import openpyxl

    df = _bound_audit_with_cases(engine, tmp_path, n=90)
    definitions = tmp_path / "annex.yaml"
    definitions.write_text(
        "tables:\n"
        "  - {id: P1, title: Personer pr. kommune, kind: frequency, frame: population, row: municipality}\n"
        "  - {id: P2, title: Samtaler, kind: crosstab, frame: population, row: municipality, col: interviews_band,"
        " percent: row}\n", encoding="utf-8")
    out = tmp_path / "annex.xlsx"
    _run("export", "annex", "--audit", "T", "--out", str(out), "--definitions", str(definitions), "--no-suppress")
    wb = openpyxl.load_workbook(out, read_only=True)
    rows = [r for r in wb["P1"].iter_rows(values_only=True) if r and r[0] in MUNIS]
    counts = df["municipality"].value_counts()
    assert {r[0]: r[1] for r in rows} == {m: int(counts[m]) for m in MUNIS}  # every person, not the sample
    assert all(abs(r[2] - counts[r[0]] / len(df)) < 0.006 for r in rows)  # share of the total
    bands = pd.cut(df["interviews_period"].astype(int), [-1, 7, 10, 10_000], labels=["<8", "8-10", ">10"])
    ref = pd.crosstab(df["municipality"], bands, normalize="index")
    grid = {r[0]: r[1:] for r in wb["P2"].iter_rows(values_only=True) if r and r[0] in MUNIS}
    for m in MUNIS:
        shares = [v for v in grid[m] if isinstance(v, float)]
        np.testing.assert_allclose(shares[:3], ref.loc[m].to_numpy(), atol=0.006)
    refused = tmp_path / "bad.yaml"
    refused.write_text("tables:\n  - {id: P1, title: X, kind: frequency, frame: census, row: municipality}\n"
                       "  - {id: P2, title: Y, kind: frequency, frame: population, row: sex, weighting: design}\n",
                       encoding="utf-8")
    bad = _run("export", "check-annex", str(refused), ok=False).output
    assert "frame must be one of sample, population, municipality, not 'census'" in bad and "census: it takes no weighting" in bad


def test_the_default_annex_builds_on_an_extract_with_only_the_six_original_columns(engine, tmp_path):
    """An audit whose register extract predates the extra variables still gets its default
    annex: the population tables that need a missing variable print empty, with a note
    naming it; those it can compute equal pandas on the file."""
    import openpyxl

    _create()
    path, df = _frame_file(tmp_path, n=90)
    six = df[["person_id", "municipality", "seniority_years", "sex", "age", "origin"]]
    six.to_csv(path, index=False, sep=";")
    _run("population", "import", "--audit", "T", str(path))
    _run("sample", "draw", "--audit", "T", "--per-stratum", "3", "--seed", "5")
    out = tmp_path / "annex.xlsx"
    _run("export", "annex", "--audit", "T", "--out", str(out), "--no-suppress")
    wb = openpyxl.load_workbook(out, read_only=True)
    text = "\n".join(str(c) for r in wb["P03"].iter_rows(values_only=True) for c in r if c is not None)
    assert "indeholder ikke status_before_spell" in text and "N=0" in text
    assert not any(isinstance(c, (int, float)) for r in wb["P03"].iter_rows(min_row=4, values_only=True)
                   for c in r)
    # a population table on the six columns is still computed: persons per municipality
    definitions = tmp_path / "annex.yaml"
    definitions.write_text("tables:\n  - {id: P1, title: Personer, kind: frequency, frame: population,"
                           " row: municipality}\n", encoding="utf-8")
    _run("export", "annex", "--audit", "T", "--out", str(out), "--definitions", str(definitions), "--no-suppress")
    wb = openpyxl.load_workbook(out, read_only=True)
    rows = {r[0]: r[1] for r in wb["P1"].iter_rows(values_only=True) if r and r[0] in MUNIS}
    assert rows == {m: int(n) for m, n in six["municipality"].value_counts().items()}


def test_the_reports_register_exhibits_equal_pandas_on_the_imported_file(engine, tmp_path):
    """Figur 3, Figur 12, Tabel 1 and Tabel 11 as the shipped report definition declares them,
    built from an imported extract and checked cell by cell against pandas on the file."""
    import openpyxl
    import yaml

    _create()
    path, df = _frame_file(tmp_path, n=150, seed=7)
    _run("population", "import", "--audit", "T", str(path))
    _run("sample", "draw", "--audit", "T", "--per-stratum", "3", "--seed", "5")
    shipped = yaml.safe_load(Path("exports/report_2022.yaml").read_text(encoding="utf-8"))
    wanted = ["Tabel 1", "Figur 3", "Figur 12", "Tabel 11"]
    subset = {k: v for k, v in shipped.items() if k != "tables"}
    subset["tables"] = [t for t in shipped["tables"] if t["id"] in wanted]
    assert [t["id"] for t in subset["tables"]] == wanted and all(t["frame"] == "population"
                                                                  for t in subset["tables"])
    definitions = tmp_path / "report_register.yaml"
    definitions.write_text(yaml.safe_dump(subset, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "report.xlsx"
    _run("export", "annex", "--audit", "T", "--out", str(out), "--definitions", str(definitions), "--no-suppress")
    wb = openpyxl.load_workbook(out, read_only=True)

    def data_rows(sheet: str) -> dict:
        return {r[0]: r[1:] for r in wb[sheet].iter_rows(values_only=True) if r and r[0] in MUNIS}

    years = df["seniority_years"].str.replace(",", ".").astype(float)
    band = pd.cut(years, [5, 7, 10, 1000], right=False, labels=["5-7", "7-10", "10+"])
    fig3 = pd.crosstab(df["municipality"], band, normalize="index")
    for m, cells in data_rows("Figur 3").items():
        np.testing.assert_allclose([c for c in cells if isinstance(c, float)][:3], fig3.loc[m].to_numpy(), atol=0.0051)  # printed as whole percents
        assert cells[3] == int((df["municipality"] == m).sum())  # N of the row
    means = df.groupby("municipality")["interviews_period"].apply(lambda s: s.astype(int).mean())
    for m, cells in data_rows("Figur 12").items():
        assert abs(cells[0] - means[m]) <= 0.051 and cells[1] == int((df["municipality"] == m).sum())
    total = [r for r in wb["Figur 12"].iter_rows(values_only=True) if r and r[0] == "I alt"]
    assert total and abs(total[0][1] - df["interviews_period"].astype(int).mean()) <= 0.051
    counts = df["municipality"].value_counts()
    for m, cells in data_rows("Tabel 11").items():
        assert cells[0] == int(counts[m]) and abs(cells[1] - counts[m] / len(df)) <= 0.0051
    # Tabel 1: column shares within each sex, and the N of each sex once in the note
    t1 = list(wb["Tabel 1"].iter_rows(values_only=True))
    header = next(r for r in t1 if r and r[0] is None and r[1] in ("Kvinde", "Mand"))
    origin = pd.crosstab(df["origin"], df["sex"], normalize="columns")
    label = {"dansk": "Dansk", "vestlig": "Vestlig", "ikke-vestlig": "Ikke-vestlig"}
    for code, name in label.items():
        row = next(r for r in t1 if r and isinstance(r[0], str) and r[0].lower() == name.lower())
        for k, sex_label in enumerate(header[1:3]):
            assert abs(row[1 + k] - origin.loc[code, sex_label.lower()]) <= 0.0051
    note = next(r[0] for r in t1 if r and isinstance(r[0], str) and r[0].startswith("Anm.:"))
    sexes = df["sex"].value_counts()
    assert note.startswith(f"Anm.: N={sexes[header[1].lower()]} og {sexes[header[2].lower()]}.")
