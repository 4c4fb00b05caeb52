"""Benchmark: the suppression of the audit report (`audit report build`, exports/report_2022.yaml)
on the demo audit and on a small audit spread over many municipalities.

    python bench/bench_disclosure.py [--dir DIR]

Builds two SQLite databases first (kept and reused with --dir, a temporary folder otherwise):
  demo       `audit demo`'s audit: 375 cases in 25 municipalities (318 in the report's statuses)
  scattered  a synthetic audit (`audit.demo.build_synthetic_audit`, answers by the instrument's
             skip logic) with all but 60 reviewed cases in 23 municipalities set back to
             'not started': most municipality counts are 1-3, so a great deal is hidden
Then, for each, the real command in its own process, timed from outside (wall clock, interpreter
start included, as a user waits for it):
  report build      `audit report build --audit NAME --out DIR` (suppressed, with its protocol)
  baseline          the same command with --no-suppress: the same tables, workbook and data
                    loading, without the suppression
The suppression's time is the difference; the ratio is suppressed / baseline.
Target (issue 15 follow-up): each report, suppression included, in a few seconds.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import line, machine, measure  # noqa: E402

AUDIT_CLI = [sys.executable, "-m", "audit"]
SCATTERED_CASES, SCATTERED_MUNICIPALITIES = 60, 23


def _fresh(db: Path) -> str:
    for f in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        f.unlink(missing_ok=True)
    from audit.db import upgrade

    url = f"sqlite:///{db}"
    upgrade(url)
    return url


def build_demo(db: Path) -> dict:
    marker = db.with_suffix(".json")
    if db.exists() and marker.exists():
        return json.loads(marker.read_text())
    from sqlmodel import Session

    from audit.db import make_engine
    from audit.demo import build_demo as demo

    engine = make_engine(_fresh(db))
    with Session(engine) as s:
        demo(s, seed=None)
        s.commit()
    engine.dispose()
    info = {"audit": "Demo 2022"}
    marker.write_text(json.dumps(info))
    return info


def build_scattered(db: Path) -> dict:
    marker = db.with_suffix(".json")
    if db.exists() and marker.exists():
        return json.loads(marker.read_text())
    from sqlmodel import Session

    from audit.db import make_engine
    from audit.demo import build_synthetic_audit
    from tests.statistics.scattered import scatter

    engine = make_engine(_fresh(db))
    with Session(engine) as s:
        info = build_synthetic_audit(s, "Spredt", cases=294, seed=13)
        scatter(s, info["audit_id"], SCATTERED_CASES, SCATTERED_MUNICIPALITIES)
        s.commit()
    engine.dispose()
    out = {"audit": "Spredt"}
    marker.write_text(json.dumps(out))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="keep the built databases here and reuse them")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench_disclosure_"))
    folder.mkdir(parents=True, exist_ok=True)
    print(machine())
    try:
        for label, builder, db in (("demo", build_demo, folder / "demo.sqlite"),
                                   ("scattered", build_scattered, folder / "scattered.sqlite")):
            t0 = time.perf_counter()
            info = builder(db)
            print(f"{label}: audit {info['audit']!r} in {db} (ready in {time.perf_counter() - t0:.0f} s)")
            env = {"AUDIT_DATABASE_URL": f"sqlite:///{db}", "AUDIT_DATA_DIR": str(folder / "var")}
            cmd = AUDIT_CLI + ["report", "build", "--audit", info["audit"]]
            base = measure(f"{label}: --no-suppress", cmd + ["--out", str(folder / f"{label}_raw"), "--no-suppress"],
                           env=env)
            run = measure(f"{label}: report build", cmd + ["--out", str(folder / f"{label}_report")], env=env)
            print(line(f"baseline: {label} --no-suppress", base))
            print(line(f"{label}: report build (suppressed)", run, base, "target: a few seconds"))
            print(f"   suppression {run.seconds - base.seconds:.2f} s; " + run.output.strip().splitlines()[0])
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
