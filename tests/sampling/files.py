"""Register files and an audit for the sampling page tests (TestClient and browser)."""
from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session

MUNIS = {"Odense": (40, 30, 3), "Nordfyn": (12, 9, 20)}  # people per band 5-7, 7-10, 10+
PEOPLE = sum(sum(v) for v in MUNIS.values())
CASES = sum(min(5, n) for counts in MUNIS.values() for n in counts)          # 5 per stratum: 28
RESERVES = sum(min(2, n - min(5, n)) for counts in MUNIS.values() for n in counts)  # 2 per stratum: 10
EXPORT_HEADER = "case_id,person_id,municipality,seniority_band,weight,is_reserve,reserve_rank"

# one file, four problems: a person id twice (rows 2 and 4), a municipality that does
# not exist (row 3) and a seven-year-old (row 5); (row, column) as the page must show them
BAD_REGISTER = ("person_id,municipality,seniority_years,sex,age,origin\n"
                "p1,Odense,6,mand,40,dansk\n"
                "p2,Atlantis,6,kvinde,41,dansk\n"
                "p1,Nordfyn,8,mand,42,vestlig\n"
                "p3,Odense,6,mand,7,dansk\n").encode("utf-8")
BAD_ERRORS = {(2, "person_id"), (3, "municipality"), (4, "person_id"), (5, "age")}


def register_csv(munis: dict[str, tuple[int, int, int]] = MUNIS) -> bytes:
    """A valid extract as Danish Excel writes it: BOM, semicolons, decimal commas."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";")
    w.writerow(["person_id", "municipality", "seniority_years", "sex", "age", "origin"])
    i = 0
    for m, counts in munis.items():
        for (lo, hi), n in zip(((5, 7), (7, 10), (10, 20)), counts):
            for _ in range(n):
                i += 1
                w.writerow([f"p{i}", m, f"{lo + (hi - lo) * 0.5:.2f}".replace(".", ","),
                            "Kvinde" if i % 2 else "mand", str(30 + i % 30), "dansk"])
    return buf.getvalue().encode("utf-8-sig")


def make_audit(engine: Engine, name: str = "Fyn 2022") -> int:
    from audit.audits import create_audit

    with Session(engine) as s:
        audit = create_audit(s, name, period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                             reference_date=date(2020, 3, 1), municipalities=["Odense", "Nordfyn"])
        s.commit()
        return audit.id
