"""Fixtures of the exports tests: a synthetic case frame and a DB-backed audit."""
from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from sqlmodel import Session

from audit.exports.synthetic import case_frame
from audit.exports.synthetic import population as synthetic_population


@pytest.fixture(scope="session")
def frame():  # type: ignore[no-untyped-def]
    return case_frame(375, seed=7)


@pytest.fixture(scope="session")
def population():  # type: ignore[no-untyped-def]
    """A register population (Table 12's other side)."""
    return synthetic_population(7)


@pytest.fixture(scope="session")
def instrument():  # type: ignore[no-untyped-def]
    from audit.exports.service import default_instrument

    return default_instrument()


@pytest.fixture(scope="session")
def spec(instrument):  # type: ignore[no-untyped-def]
    from audit.exports.definitions import load_definitions

    return load_definitions(instrument=instrument)


@pytest.fixture(scope="session")
def annex(frame, spec, instrument, population, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The synthetic frame's annex, suppressed, as `audit export annex` writes it: (file, layouts
    by sheet). Written once; tests read it and never write to it."""
    from audit.exports.annex import write_annex

    out = tmp_path_factory.mktemp("annex") / "annex.xlsx"
    layouts = write_annex(frame, spec, out, instrument=instrument, audit_name="Syntetisk 2022", population=population)
    return out, {lay.sheet: lay for lay in layouts}


def _plain(v):  # type: ignore[no-untyped-def]
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, tuple):
        return list(v)
    if isinstance(v, np.generic):
        return v.item()
    return v


REGISTER = {"case_id", "municipality", "seniority_band", "sex", "age", "age_band", "origin", "stratum",
            "stratum_population", "stratum_sample", "weight"}


@pytest.fixture
def db_audit(engine, built_once):  # type: ignore[no-untyped-def]
    """An audit with 60 reviewed cases (synthetic answers) and 3 not yet reviewed (stored once
    per session on SQLite, each test on its own copy: tests/conftest.py, built_once)."""
    from audit.models import Audit

    audit_id = built_once("exports_db_audit", lambda eng: store_audit(
        eng, case_frame(63, seed=11), "Eksporttest 2022", completed=60,
        municipalities=["København", "Odense"]).id)
    with Session(engine) as s:
        return s.get(Audit, audit_id)


def store_audit(engine, src, name: str, completed: int, municipalities: list[str]):  # type: ignore[no-untyped-def]
    """Store the cases of a synthetic case frame as an audit: its first `completed` rows
    reviewed (status completed), the rest in progress; every answer as the frame holds it."""
    from audit.models import Answer, Audit, Case, Person

    with Session(engine) as s:
        from audit.exports.service import default_instrument
        instrument_json = json.dumps(default_instrument().to_dict())
        audit = Audit(name=name, period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                      reference_date=date(2020, 3, 1), instrument_json=instrument_json,
                      municipalities_json=json.dumps(municipalities))
        s.add(audit)
        s.flush()
        for i, row in src.iterrows():
            person = Person(audit_id=audit.id, person_id=f"P{i:05d}", municipality=row.municipality,
                            seniority_years=7.5, seniority_band=row.seniority_band, sex=row.sex, age=int(row.age),
                            origin=row.origin)
            s.add(person)
            s.flush()
            case = Case(audit_id=audit.id, person_pk=person.id, municipality=row.municipality,
                        seniority_band=row.seniority_band, stratum_population=int(row.stratum_population),
                        stratum_sample=int(row.stratum_sample), inclusion_probability=1 / float(row.weight),
                        weight=float(row.weight), status="completed" if i < completed else "in_progress")
            s.add(case)
            s.flush()
            for item, value in row.items():
                if item in REGISTER or _plain(value) is None:
                    continue
                s.add(Answer(case_id=case.id, item=item, value_json=json.dumps(_plain(value))))
        s.commit()
        s.refresh(audit)
        return audit
