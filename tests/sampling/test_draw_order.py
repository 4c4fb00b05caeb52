"""The draw's contract, recomputed independently: within a stratum the order is
sha256("seed:municipality:band:person_id") (docs/architecture.md), the first n_h are the
sample and the next ones the reserves in rank order; and the stored bands of the
population are rewritten only when the draw uses other band boundaries."""
from __future__ import annotations

import csv
import hashlib
from datetime import date
from pathlib import Path

from sqlalchemy import event
from sqlmodel import Session, select

from audit.audits import create_audit
from audit.models import Case, Person
from audit.population.importer import import_population
from audit.sampling.draw import draw_sample

# (municipality, seniority) -> number of people; non-ASCII names, ids of mixed shape
POPULATION = {("Ærø", "6"): 11, ("Ærø", "8,5"): 4, ("Odense", "6"): 7, ("Odense", "12"): 9, ("Høje-Taastrup", "9"): 6}
BANDS = {"6": "5-7", "8,5": "7-10", "9": "7-10", "12": "10+"}


def _register(path: Path) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["person_id", "municipality", "seniority_years", "sex", "age", "origin"])
        i = 0
        for (muni, sen), n in POPULATION.items():
            for _ in range(n):
                i += 1
                pid = f"{i:04d}" if i % 3 else f"K-{i}x"
                w.writerow([pid, muni, sen, "mand", "40", "dansk"])
    return path


def _audit_with_population(session: Session, tmp_path: Path):  # type: ignore[no-untyped-def]
    audit = create_audit(session, "T", period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                         reference_date=date(2020, 3, 1))
    import_population(session, audit, _register(tmp_path / "register.csv"))
    session.commit()
    return audit


def test_sample_and_reserves_follow_the_sha256_key_order(session, tmp_path):
    audit = _audit_with_population(session, tmp_path)
    draw_sample(session, audit, per_stratum=3, seed=42, reserves=2)
    session.commit()

    people = session.exec(select(Person)).all()
    cases = {c.person_pk: c for c in session.exec(select(Case)).all()}
    strata: dict[tuple[str, str], list[Person]] = {}
    for p in people:
        strata.setdefault((p.municipality, p.seniority_band), []).append(p)
    assert len(strata) == len(POPULATION)
    for (muni, band), members in strata.items():
        ranked = sorted(members, key=lambda p: hashlib.sha256(
            f"42:{muni}:{band}:{p.person_id}".encode("utf-8")).hexdigest())
        for rank, p in enumerate(ranked, start=1):
            case = cases.get(p.id)
            if rank <= 3:
                assert case is not None and not case.is_reserve and case.draw_order == rank, (muni, band, rank)
            elif rank <= 5:
                assert case is not None and case.is_reserve and case.reserve_rank == rank - 3, (muni, band, rank)
            else:
                assert case is None, (muni, band, rank)


def test_bands_restamped_only_when_the_draw_changes_them(session, engine, tmp_path):
    audit = _audit_with_population(session, tmp_path)
    updates: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _watch(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE PERSON"):
            updates.append(statement)

    draw_sample(session, audit, per_stratum=2, seed=1, bands=[5, 7, 10])  # the bands of the import
    session.commit()
    assert updates == []  # nothing to rewrite

    draw_sample(session, audit, per_stratum=2, seed=1, bands=[5, 8, 12], force=True)
    session.commit()
    assert len(updates) == 1
    session.expire_all()
    got = {(p.municipality, p.seniority_years, p.seniority_band) for p in session.exec(select(Person)).all()}
    assert got == {("Ærø", 6.0, "5-8"), ("Ærø", 8.5, "8-12"), ("Odense", 6.0, "5-8"), ("Odense", 12.0, "12+"),
                   ("Høje-Taastrup", 9.0, "8-12")}
    assert {c.seniority_band for c in session.exec(select(Case)).all()} == {"5-8", "8-12", "12+"}
    event.remove(engine, "before_cursor_execute", _watch)


def test_draw_right_after_an_import_uses_the_imported_frame(engine, tmp_path, monkeypatch):
    """In one process (the web app) the draw takes the persons the import just wrote instead of
    reading them back, and draws exactly the cases a draw reading them from the database draws."""
    from audit.population import importer
    from audit.sampling import draw as draw_module

    def drawn(read_back: bool) -> list[tuple]:
        with Session(engine) as s:
            for case in s.exec(select(Case)).all():
                s.delete(case)
            s.commit()
        with Session(engine) as s:
            audit = s.exec(select(Audit)).one()
            if read_back:
                importer._IMPORTED.clear()
            draw_sample(s, audit, per_stratum=3, seed=7, reserves=2)
            s.commit()
            people = {p.id: p.person_id for p in s.exec(select(Person)).all()}
            return sorted((people[c.person_pk], c.draw_order, c.is_reserve, c.reserve_rank)
                          for c in s.exec(select(Case)).all())

    from audit.models import Audit

    with Session(engine) as s:
        _audit_with_population(s, tmp_path)
    assert importer._IMPORTED  # kept after the commit
    real_read = draw_module._read_population
    monkeypatch.setattr(draw_module, "_read_population",
                        lambda *a, **k: (_ for _ in ()).throw(AssertionError("persons read back")))
    from_import = drawn(read_back=False)
    monkeypatch.setattr(draw_module, "_read_population", real_read)
    assert from_import == drawn(read_back=True) and len(from_import) > 20


def test_an_import_rolled_back_leaves_nothing_for_the_draw(engine, tmp_path):
    from audit.population import importer

    with Session(engine) as s:
        audit = create_audit(s, "T", period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                             reference_date=date(2020, 3, 1))
        s.commit()
        import_population(s, audit, _register(tmp_path / "register.csv"))
        assert importer._IMPORTED
        s.rollback()
        assert importer.imported_population(s, audit.id) is None


def _expected_order(seed: int, rows: list[tuple[str, str, str]]) -> list[int]:
    """Strata by municipality then band as text, each by its sha256 hex key (written here from
    the contract, not the code's helpers)."""
    return sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][1], hashlib.sha256(
        f"{seed}:{rows[i][0]}:{rows[i][1]}:{rows[i][2]}".encode("utf-8")).hexdigest()))


ROWS = [(m, b, f"{m[:2]}-{k}{'æ' if k % 4 == 0 else ''}") for m in ("Ærø", "Odense", "Aabenraa")
        for b in ("5-7", "10+") for k in range(9)][::-1]


def test_stratum_order_in_slices_and_types(monkeypatch):
    """The keys are hashed in slices: the order does not depend on where a slice ends, nor on
    whether the columns come as lists, object arrays or Arrow strings."""
    import numpy as np
    import pandas as pd

    from audit.sampling import draw as draw_module

    expected = _expected_order(11, ROWS)
    m, b, p = (list(c) for c in zip(*ROWS))
    for rows_per_slice in (7, 1, 100_000):
        monkeypatch.setattr(draw_module, "HASH_ROWS", rows_per_slice)
        for wrap in (list, lambda v: np.array(v, dtype=object), lambda v: pd.Series(v, dtype="string[pyarrow]")):
            order, _stratum = draw_module.stratum_order(11, wrap(m), wrap(b), wrap(p))
            assert order.tolist() == expected, rows_per_slice


def test_stratum_order_breaks_ties_of_the_first_eight_bytes_by_the_whole_digest(monkeypatch):
    """A digest whose first 8 bytes equal another's (1 in 2^64 per pair) is ordered by the whole
    digest: here every digest starts with 8 zero bytes, then the real digest's first 24 bytes."""
    from audit.sampling import draw as draw_module

    class Tied:
        def __init__(self, data: bytes) -> None:
            self.data = data

        def digest(self) -> bytes:
            return bytes(8) + hashlib.sha256(self.data).digest()[:24]

    class FakeHashlib:
        sha256 = Tied

    monkeypatch.setattr(draw_module, "hashlib", FakeHashlib)
    m, b, p = (list(c) for c in zip(*ROWS))
    order, _stratum = draw_module.stratum_order(11, m, b, p)
    assert order.tolist() == _expected_order(11, ROWS)
