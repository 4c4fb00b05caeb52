"""How well the sample mirrors the population: the report's Table 12.

The sample takes the same number of cases from every municipality x seniority band,
whatever its size, so it is not expected to match the population's composition;
Table 12 shows by how much it differs. For each characteristic (sex, age band,
origin) it gives the share of each code within each seniority band and in total,
for the population (the register extract) and for the sample side by side.

`representativeness` is pure (two frames in, a statistics `Table` out), so the CLI,
the sampling page and the Excel annex print the same numbers; `population_frame` and
`sample_frame_for_table` read the two frames from the database.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlmodel import Session, select

from audit.labels import vocabulary
from audit.models import Audit, Case, Person
from audit.population.age import age_band
from audit.sampling.bands import audit_band_labels
from audit.statistics.tables import TOTAL, Table

VARIABLES: tuple[str, ...] = ("sex", "age_band", "origin")
SIDES: tuple[tuple[str, str], ...] = (("population", "Population"), ("sample", "Stikprøve"))
TITLE = "Tabel 12: Karakteristika for population og stikprøve"


def _block(frame: pd.DataFrame, variable: str, bands: Sequence[str]) -> pd.DataFrame:
    """Persons per code (rows) and seniority band (+ I alt) (columns); a missing value is left out."""
    present = frame[frame[variable].notna() & frame["seniority_band"].notna()]
    unknown = set(present["seniority_band"]) - set(bands)
    if unknown:  # never drop persons silently: the bands asked for must be the data's
        raise ValueError(f"seniority band(s) {', '.join(sorted(map(str, unknown)))} are not among {', '.join(bands)}")
    counts = pd.crosstab(present[variable], present["seniority_band"])
    declared = vocabulary().codes(variable)  # the register definition's print order
    codes = list(declared) + sorted(set(counts.index) - set(declared))
    counts = counts.reindex(index=codes, columns=list(bands), fill_value=0)
    counts[TOTAL] = counts.sum(axis=1)
    return counts


def representativeness(population: pd.DataFrame, sample: pd.DataFrame, bands: Sequence[str],
                       variables: Sequence[str] = VARIABLES) -> Table:
    """Table 12: rows (variable, code), columns (side, band or 'I alt'); counts, column
    percentages within each variable, and the N of each column.

    Both frames need `seniority_band` and the variables (`age_band` is derived from
    `age` when absent)."""
    frames = {}
    for side, frame in (("population", population), ("sample", sample)):
        if "age_band" in variables and "age_band" not in frame.columns:
            frame = frame.assign(age_band=frame["age"].map(age_band))
        frames[side] = frame
    blocks = []
    for var in variables:
        block = pd.concat({side: _block(frames[side], var, bands) for side, _ in SIDES}, axis=1)
        block.index = pd.MultiIndex.from_product([[var], block.index], names=["variable", "code"])
        blocks.append(block)
    counts = pd.concat(blocks).fillna(0).astype(int)
    counts.columns.names = ["side", "seniority_band"]
    per_block = counts.groupby(level="variable", sort=False).transform("sum")
    percents = counts.div(per_block.where(per_block > 0)) * 100.0
    n_cols = counts.loc[variables[0]].sum(axis=0).astype(int)
    sizes = {side: int(n_cols[(side, TOTAL)]) for side, _ in SIDES}
    return Table(title=TITLE, row_var="characteristic", col_var="seniority_band", counts=counts,
                 percents=percents, percent_base="col", n_cols=n_cols,
                 n_total=sizes["sample"], source="Register (population) og stikprøven",
                 notes=["Andele inden for hver anciennitetsgruppe; N er personer i populationen "
                        "henholdsvis sager i stikprøven."])


def to_long(table: Table) -> pd.DataFrame:
    """One line per cell: variable, code, side, seniority_band, count, percent, n (for CSV/JSON)."""
    out = table.counts.stack(["side", "seniority_band"], future_stack=True).rename("count").reset_index()
    out["percent"] = table.percents.stack(["side", "seniority_band"], future_stack=True).to_numpy()
    out["n"] = [int(table.n_cols[(s, b)]) for s, b in zip(out["side"], out["seniority_band"])]
    return out[["variable", "code", "side", "seniority_band", "count", "percent", "n"]]


def display(table: Table, lang: str | None = None) -> dict:
    """The table as a page shows it, in one language (default: the current one): column groups,
    band headings ("5-7 år" ... "I alt"), and per variable its label and rows of (code label,
    whole percents) in column order, then the N of every column."""
    from audit import i18n
    from audit.statistics.tables import format_percent

    lang = lang or i18n.current()
    vocab = vocabulary()
    columns = list(table.counts.columns)
    blocks = []
    for var in dict.fromkeys(table.counts.index.get_level_values("variable")):
        rows = [(vocab.label(var, code, lang), [format_percent(table.percents.at[(var, code), c]) for c in columns])
                for code in table.counts.loc[var].index]
        blocks.append({"label": vocab.label(var, lang=lang), "rows": rows})
    with i18n.language(lang):
        sides = {"population": i18n.gettext("Population"), "sample": i18n.gettext("Sample")}
        total = i18n.gettext("Total")
    return {"groups": [(sides[side], sum(1 for s, _ in columns if s == side)) for side, _label in SIDES],
            "bands": [total if b == TOTAL else vocab.label("seniority_band", b, lang) for _, b in columns],
            "blocks": blocks, "n": [int(table.n_cols[c]) for c in columns]}


def population_frame(session: Session, audit: Audit) -> pd.DataFrame:
    """Everyone in the audit's register extract: the columns Table 12 needs."""
    query = select(Person.seniority_band, Person.sex, Person.age, Person.origin).where(Person.audit_id == audit.id)
    return pd.read_sql(query, session.connection())  # a register can hold a million persons: no ORM rows


def sample_frame_for_table(session: Session, audit: Audit) -> pd.DataFrame:
    """The drawn sample as it stands: active cases (a reserve that replaced a case counts,
    the replaced case and unused reserves do not)."""
    rows = session.exec(select(Case.seniority_band, Person.sex, Person.age, Person.origin)
                        .join(Person, Person.id == Case.person_pk)
                        .where(Case.audit_id == audit.id, Case.active == True)).all()  # noqa: E712
    return pd.DataFrame(rows, columns=["seniority_band", "sex", "age", "origin"])


def audit_table(session: Session, audit: Audit) -> Table:
    """Table 12 for an audit: its register population against its drawn sample."""
    return representativeness(population_frame(session, audit), sample_frame_for_table(session, audit),
                              audit_band_labels(audit))
