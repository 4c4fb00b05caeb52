"""REFERENCE ONLY: the case frame as main built it before the columnar rewrite (kept
verbatim, apart from this note and the imports), so tests can prove the new
`audit.statistics.dataset` equals it cell by cell. Never import this from `audit/`.

The case frame: one row per reviewed case, register variables plus every item.

Built once from the stored answers through the instrument's own skip-logic
engine (`applicable`/`derive`), so a share's N is exactly the cases where the
item applies, as on the review pages. `case_frame` is pure; `load_case_frame`
is the one place the statistics room reads the database.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from audit.audits import instrument_for
from audit.statistics import variables as V

if TYPE_CHECKING:
    from sqlmodel import Session

    from audit.instrument import Instrument
    from audit.models import Audit

from audit.statistics.dataset import CASE_COLUMNS, REPORT_STATUSES  # noqa: E402,F401  (the same contract)


def _cell(value: Any) -> Any:
    """Lists become tuples (hashable, counted per code); empty answers become missing."""
    if isinstance(value, list):
        value = tuple(value)
    if value is None or value == "" or value == ():
        return None
    return value


def case_frame(cases: pd.DataFrame, answers: Mapping[int, Mapping[str, Any]],
               instrument: Instrument) -> pd.DataFrame:
    """Register columns + age_band + stratum, then one column per case-level item and calculated
    field (docs/contracts.md, "Case frame"). Non-applicable or unanswered cells are None.

    frame.attrs carries 'kinds' (categorical/multiple/numeric per item from its type) and
    'orders' (choice codes in the instrument's order) for the table functions."""
    missing = [c for c in CASE_COLUMNS if c not in cases.columns]
    if missing:
        raise ValueError(f"cases lacks column(s): {', '.join(missing)}")
    base = cases.loc[:, list(CASE_COLUMNS)].reset_index(drop=True).copy()
    base.insert(5, "age_band", base["age"].map(V.age_band))
    base.insert(7, "stratum", base["municipality"].astype(str) + "|" + base["seniority_band"].astype(str))

    items = list(instrument.items_at("case"))
    names = [i.name for i in items]
    rows: list[list[Any]] = []
    for case_id in base["case_id"].tolist():
        ans = dict(answers.get(case_id, {}) or {})
        applies = instrument.applicable(ans)
        derived = instrument.derive(ans)
        row = []
        for item in items:
            if not applies.get(item.name, True):
                row.append(None)
            elif item.name in derived:
                row.append(_cell(derived[item.name]))
            else:
                row.append(_cell(ans.get(item.name)))
        rows.append(row)
    item_frame = pd.DataFrame(rows, columns=names, dtype=object)
    frame = pd.concat([base, item_frame], axis=1)
    for name in names:  # integers and shares as numbers, so mean/median work
        item = next(i for i in items if i.name == name)
        if item.stats_kind == "numeric" or (item.is_calculated and not item.choices
                                            and _all_numbers(frame[name])):
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
    kinds: dict[str, str] = {}
    orders: dict[str, tuple[str, ...]] = {}
    for item in items:
        if item.stats_kind is not None:
            kinds[item.name] = item.stats_kind
        if item.codes:
            orders[item.name] = item.codes
    frame.attrs["kinds"] = kinds
    frame.attrs["orders"] = orders
    frame.attrs["labels"] = {i.name: i.label("da") for i in items}
    # Danish choice labels, for pages and the annex to print instead of codes.
    frame.attrs["choice_labels"] = {i.name: {code: i.choice_label(code) for code in i.codes}
                                    for i in items if i.choices}
    return frame


def _all_numbers(series: pd.Series) -> bool:
    vals = series.dropna()
    return bool(len(vals)) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)


def load_case_frame(session: Session, audit: Audit | str, statuses: Sequence[str] | None = REPORT_STATUSES,
                    instrument: Instrument | None = None) -> pd.DataFrame:
    """The case frame of an audit (an Audit row or its name) from the database.

    Takes the active cases (a replaced case and an unused reserve are inactive; a reserve
    that replaced a case is active and counts), with status in `statuses` (None: all),
    their register data, and the first-pass answers (pass 2 is quality assurance only)."""
    from sqlmodel import select

    from audit.models import Answer, Case, Person

    if isinstance(audit, str):
        from audit.audits import get_audit

        audit = get_audit(session, audit)
    inst = instrument if instrument is not None else instrument_for(audit)
    query = select(Case, Person).join(Person, Person.id == Case.person_pk).where(
        Case.audit_id == audit.id, Case.active == True)  # noqa: E712
    if statuses is not None:
        query = query.where(Case.status.in_(list(statuses)))
    records = []
    for case, person in session.exec(query.order_by(Case.id)).all():
        records.append({"case_id": case.id, "municipality": case.municipality,
                        "seniority_band": case.seniority_band, "sex": person.sex, "age": person.age,
                        "origin": person.origin, "stratum_population": case.stratum_population,
                        "stratum_sample": case.stratum_sample, "weight": case.weight})
    cases = pd.DataFrame.from_records(records, columns=list(CASE_COLUMNS))
    answers: dict[int, dict[str, Any]] = {int(r["case_id"]): {} for r in records}
    if answers:
        ids = list(answers)
        for chunk_start in range(0, len(ids), 900):  # stay under SQLite's parameter limit
            chunk = ids[chunk_start:chunk_start + 900]
            q = select(Answer).where(Answer.case_id.in_(chunk), Answer.pass_no == 1)
            for a in session.exec(q).all():
                answers[a.case_id][a.item] = None if a.value_json is None else json.loads(a.value_json)
    frame = case_frame(cases, answers, inst)
    # the audit's own seniority bands, in order, for every table by band (they may not be 5-7/7-10/10+)
    from audit.sampling.bands import audit_band_labels

    frame.attrs["orders"]["seniority_band"] = tuple(audit_band_labels(audit))
    return V.with_derived(frame)  # the report's derived variables (Table 4's profile) beside the items
