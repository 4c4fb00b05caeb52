"""Benchmark: the Excel annex of a 10,000-case audit and the raw CSV of a 100,000-case audit,
from the database through the real commands (`audit export annex`, `audit export raw`).

    python bench/bench_exports.py [--annex-cases 10000] [--raw-cases 100000] [--dir DIR] [--only annex|raw]

Builds the audits first (synthetic, all 98 municipalities, answers generated with the
instrument's skip logic, bulk-inserted: `audit.demo.build_synthetic_audit`), in SQLite
files under --dir (kept and reused when given; a temporary folder otherwise). Then each
step runs in its own process, timed from outside (wall clock, interpreter start included,
as a user waits for the command) with its resident memory read from /proc while it runs:

  annex       `audit export annex` of the 10,000-case audit
    baseline  a bare `pandas.read_sql` of that audit's answers (case_id, item, value_json)
  raw CSV     `audit export raw --out data.csv` of the 100,000-case audit (194 items)
    baseline  a plain streaming script over the same rows: answers in case order through a
              cursor, JSON decoded, one csv row per case, no skip logic and no labels

Targets (issue 13): annex < 10 s; raw CSV < 60 s with peak RSS < 500 MB and flat
(RSS printed at several points of the run).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import Run, line, machine, measure  # noqa: E402

AUDIT_CLI = [sys.executable, "-m", "audit"]


def build(db: Path, name: str, cases: int) -> dict:
    """The synthetic audit in `db` (built once; reused when the file is there)."""
    from sqlmodel import Session

    from audit.db import make_engine, upgrade

    marker = db.with_suffix(".json")
    if db.exists() and marker.exists():
        return json.loads(marker.read_text())
    for f in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        f.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    upgrade(url)
    engine = make_engine(url)
    from audit.demo import build_synthetic_audit

    t0 = time.perf_counter()
    with Session(engine) as session:
        info = build_synthetic_audit(session, name, cases=cases, seed=13)
        session.commit()
    engine.dispose()
    info["build_seconds"] = time.perf_counter() - t0
    marker.write_text(json.dumps(info))
    return info


# ------------------------------------------------------------------ baselines (child processes)

BARE_READ = """
import sys, time, pandas as pd, sqlalchemy as sa
engine = sa.create_engine("sqlite:///" + sys.argv[1])
t = time.perf_counter()
with engine.connect() as conn:
    df = pd.read_sql(sa.text("SELECT answer.case_id, answer.item, answer.value_json FROM answer "
                             "JOIN \\"case\\" ON \\"case\\".id = answer.case_id WHERE \\"case\\".audit_id = 1 "
                             "AND answer.pass_no = 1"), conn)
print(len(df), "answers read in", round(time.perf_counter() - t, 2), "s")
"""

PLAIN_STREAM = """
import csv, json, sqlite3, sys
from audit.exports.service import default_instrument
items = [i.name for i in default_instrument().items if i.level == "case"]
index = {n: k for k, n in enumerate(items)}
con = sqlite3.connect(sys.argv[1])
cur = con.cursor()
cur.execute("SELECT answer.case_id, answer.item, answer.value_json FROM answer JOIN \\"case\\" "
            "ON \\"case\\".id = answer.case_id WHERE \\"case\\".audit_id = 1 AND answer.pass_no = 1 "
            "ORDER BY answer.case_id")
with open(sys.argv[2], "w", encoding="utf-8-sig", newline="") as fh:
    w = csv.writer(fh, delimiter=";")
    w.writerow(["case_id"] + items)
    current, row, n = None, None, 0
    while True:
        batch = cur.fetchmany(10000)
        if not batch:
            break
        for case_id, item, text in batch:
            if case_id != current:
                if row is not None:
                    w.writerow(row); n += 1
                current, row = case_id, [case_id] + [""] * len(items)
            k = index.get(item)
            if k is not None and text is not None:
                v = json.loads(text)
                row[k + 1] = " ".join(v) if isinstance(v, list) else v
    if row is not None:
        w.writerow(row); n += 1
print(n, "cases written")
"""


def rss_line(run: Run) -> str:
    points = run.rss_at()
    return "   RSS " + ", ".join(f"{mb:.0f} MB at {t:.0f} s" for t, mb in points)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annex-cases", type=int, default=10_000)
    parser.add_argument("--raw-cases", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None, help="keep the built databases here and reuse them")
    parser.add_argument("--only", choices=["annex", "raw"], default=None)
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench_exports_"))
    folder.mkdir(parents=True, exist_ok=True)
    print(machine())
    try:
        if args.only in (None, "annex"):
            db = folder / f"annex_{args.annex_cases}.sqlite"
            info = build(db, "Bench annex", args.annex_cases)
            print(f"annex audit: {info['cases']:,} cases ({info['answers']:,} answers) in {db}"
                  + (f", built in {info['build_seconds']:.0f} s" if "build_seconds" in info else ""))
            env = {"AUDIT_DATABASE_URL": f"sqlite:///{db}", "AUDIT_DATA_DIR": str(folder / "var")}
            base = measure("bare read_sql of the answers", [sys.executable, "-c", BARE_READ, str(db)])
            annex = measure("audit export annex", AUDIT_CLI + ["export", "annex", "--audit", "Bench annex",
                                                               "--out", str(folder / "annex.xlsx")], env=env)
            print(line("baseline: bare read_sql", base))
            print(line("audit export annex", annex, base, "target < 10 s"))
            print("   " + annex.output.strip().splitlines()[-1])
        if args.only in (None, "raw"):
            db = folder / f"raw_{args.raw_cases}.sqlite"
            info = build(db, "Bench raw", args.raw_cases)
            print(f"raw audit: {info['cases']:,} cases ({info['answers']:,} answers) in {db}"
                  + (f", built in {info['build_seconds']:.0f} s" if "build_seconds" in info else ""))
            env = {"AUDIT_DATABASE_URL": f"sqlite:///{db}", "AUDIT_DATA_DIR": str(folder / "var")}
            base = measure("plain streaming script", [sys.executable, "-c", PLAIN_STREAM, str(db),
                                                      str(folder / "plain.csv")], interval=0.5)
            raw = measure("audit export raw (csv)", AUDIT_CLI + ["export", "raw", "--audit", "Bench raw",
                                                                 "--out", str(folder / "data.csv")],
                          env=env, interval=0.5)
            print(line("baseline: plain streaming script", base))
            print(rss_line(base))
            print(line("audit export raw (csv)", raw, base, "target < 60 s, peak < 500 MB, flat"))
            print(rss_line(raw))
            print("   " + raw.output.strip().splitlines()[-1]
                  + f", {(folder / 'data.csv').stat().st_size / 2**20:.0f} MiB")
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
