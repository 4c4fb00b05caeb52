"""Benchmark: `audit demo` on a fresh SQLite database (README command 1).

    python bench/bench_demo.py [--profile]

Runs, each in a fresh process with its own empty data folder, timed from outside with the
process's peak resident memory from /proc:

  baseline    `audit db upgrade`: interpreter start, the package's imports and the migrations,
              the floor of any command on a fresh database
  audit demo  the whole demo: 14,164 register rows imported, the draw, 375 cases, users
              (argon2 hashes), synthetic reviews (the instrument's skip logic), a comment round

`--profile` also prints the top of a cProfile of `build_demo` in this process.
Target (issue 13): `audit demo` < 30 s on a 2-core machine.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import line, machine, measure  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    print(machine())
    tmp = Path(tempfile.mkdtemp(prefix="bench_demo_"))
    try:
        runs = {}
        for name, cmd in (("baseline: audit db upgrade", ["db", "upgrade"]), ("audit demo", ["demo"])):
            folder = tmp / name.split(":")[0].replace(" ", "_")
            folder.mkdir()
            env = {"AUDIT_DATA_DIR": str(folder), "AUDIT_DATABASE_URL": f"sqlite:///{folder / 'audit.sqlite'}"}
            runs[name] = measure(name, [sys.executable, "-m", "audit", *cmd], env=env)
        base = runs["baseline: audit db upgrade"]
        demo = runs["audit demo"]
        print(line("baseline: audit db upgrade", base))
        print(line("audit demo", demo, base, f"target < 30 s: {'met' if demo.seconds < 30 else 'NOT met'}"))
        lines = demo.output.strip().splitlines()   # the summary line, in the interface's language
        print("   " + next((ln for ln in lines if ln.startswith(("demo audit", "demorevisionen"))), lines[-1] if lines else ""))
        if args.profile:
            import cProfile
            import pstats

            from sqlmodel import Session

            from audit.db import make_engine, upgrade
            from audit.demo import build_demo

            url = f"sqlite:///{tmp / 'profile.sqlite'}"
            upgrade(url)
            engine = make_engine(url)
            with Session(engine) as session:
                profiler = cProfile.Profile()
                profiler.enable()
                build_demo(session)
                session.commit()
                profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"audit/|argon2|yaml", 25)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
