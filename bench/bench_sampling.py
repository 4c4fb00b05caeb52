"""Benchmark: importing a 1,000,000-row register extract and drawing the sample from it.

    python bench/bench_sampling.py [--rows 1000000] [--keep]

Writes a synthetic register (person_id;municipality;seniority_years;sex;age;origin,
semicolon-separated UTF-8 with BOM and a decimal comma, as Danish Excel writes it)
spread over all 98 municipalities with a skewed size distribution into a temporary
folder, then measures three steps, each in a fresh Python subprocess so that its
peak memory (ru_maxrss of the child) is its own:

  pandas read   a bare `pandas.read_csv` of the same file (the baseline)
  import        `import_population` into a fresh migrated SQLite database + commit
  draw          `draw_sample(per_stratum=5, seed=42, reserves=2)` on it + commit

Seconds cover the step only (not interpreter start, imports or the migration),
wall clock and CPU (the CPU figure is steadier when other work shares the machine);
"peak MiB" is the child's whole peak resident memory, "step MiB" its growth over
the resident memory just before the step. Ratios are to the pandas read.
`--keep` keeps the temporary folder (register file and database) and prints it.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REFERENCE_DATE = "2020-03-01"


# ------------------------------------------------------------------ the synthetic register

def write_register(path: Path, rows: int, seed: int = 1) -> None:
    """Valid rows only (every one passes validation), municipalities sized like a Zipf law."""
    import numpy as np
    import pandas as pd

    from audit.population.municipalities import municipality_names

    rng = np.random.default_rng(seed)
    names = np.array(municipality_names(), dtype=object)
    sizes = 1.0 / np.arange(1, len(names) + 1) ** 0.9  # a few large cities, a long tail of small ones
    probs = sizes / sizes.sum()
    order = rng.permutation(len(names))  # which municipality gets which size
    order = np.concatenate([[0], order[order != 0]])  # København the largest
    municipality = names[order][rng.choice(len(names), rows, p=probs)]
    seniority = np.minimum(5 + rng.exponential(4.0, rows), 30.0)  # most just above 5 years
    frame = pd.DataFrame({
        "person_id": np.char.add("P", np.char.zfill(rng.permutation(rows).astype(str), 8)),
        "municipality": municipality,
        "seniority_years": np.char.replace(np.round(seniority, 2).astype(str), ".", ","),
        "sex": rng.choice(np.array(["mand", "kvinde"], dtype=object), rows),
        "age": rng.integers(18, 81, rows),
        "origin": rng.choice(np.array(["dansk", "vestlig", "ikke-vestlig"], dtype=object), rows, p=[.7, .08, .22]),
    })
    frame.to_csv(path, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")


# ------------------------------------------------------------------ the steps (run in a child process)

def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Timer:
    """Wall-clock and CPU seconds of the step (CPU time is steadier on a busy machine);
    also notes the resident memory just before the step starts."""

    def __enter__(self) -> "Timer":
        self.before = _rss_mib()
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.c0


def step_read(register: Path, _db: Path) -> tuple[int, Timer, str]:
    import pandas as pd

    with Timer() as timer:
        frame = pd.read_csv(register, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    return len(frame), timer, "all columns as str"


def step_import(register: Path, db: Path) -> tuple[int, Timer, str]:
    from datetime import date

    from sqlmodel import Session

    from audit.audits import create_audit
    from audit.db import make_engine, upgrade
    from audit.population.importer import import_population

    url = f"sqlite:///{db}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        audit = create_audit(session, "bench", period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                             reference_date=date.fromisoformat(REFERENCE_DATE))
        session.commit()
        with Timer() as timer:
            result = import_population(session, audit, register)
            session.commit()
    engine.dispose()
    return result.rows, timer, f"{len(result.per_municipality)} municipalities"


def step_draw(_register: Path, db: Path) -> tuple[int, Timer, str]:
    from sqlalchemy import func, select
    from sqlmodel import Session

    from audit.audits import get_audit
    from audit.db import make_engine
    from audit.models import Person
    from audit.sampling.draw import draw_sample

    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        audit = get_audit(session, "bench")
        population = session.scalar(select(func.count()).select_from(Person).where(Person.audit_id == audit.id))
        with Timer() as timer:
            result = draw_sample(session, audit, per_stratum=5, seed=42, reserves=2)
            session.commit()
    engine.dispose()
    return population, timer, f"{result.sampled} cases + {result.reserve_cases} reserves in {len(result.strata)} strata"


STEPS = {"pandas read": step_read, "import": step_import, "draw": step_draw}


def child(step: str, register: Path, db: Path) -> None:
    rows, timer, note = STEPS[step](register, db)
    print(json.dumps({"rows": rows, "seconds": timer.seconds, "cpu": timer.cpu, "peak": _peak_mib(),
                      "before": timer.before, "note": note}))


def run_child(step: str, register: Path, db: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", step, str(register), str(db)],
                         check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the synthetic register")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    parser.add_argument("--child", nargs=3, metavar=("STEP", "REGISTER", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return

    import numpy as np
    import pandas as pd
    import sqlalchemy

    tmp = Path(tempfile.mkdtemp(prefix="bench_sampling_"))
    try:
        register = tmp / "register.csv"
        db = tmp / "audit.sqlite"
        t0 = time.perf_counter()
        write_register(register, args.rows)
        print(f"python {sys.version.split()[0]}, pandas {pd.__version__}, numpy {np.__version__}, "
              f"SQLAlchemy {sqlalchemy.__version__}, {os.cpu_count()} CPUs")
        print(f"register: {args.rows:,} rows, 98 municipalities, {register.stat().st_size / 2**20:.1f} MiB "
              f"(written in {time.perf_counter() - t0:.1f} s)")
        results = {step: run_child(step, register, db) for step in STEPS}
        base = results["pandas read"]
        print()
        print(f"{'step':<12} {'rows':>10} {'seconds':>8} {'cpu s':>6} {'rows/s':>10} {'peak MiB':>9} {'step MiB':>9} "
              f"{'time x read':>12} {'peak x read':>12}  note")
        for step, r in results.items():
            print(f"{step:<12} {r['rows']:>10,} {r['seconds']:>8.2f} {r['cpu']:>6.2f} {r['rows'] / r['seconds']:>10,.0f} "
                  f"{r['peak']:>9.0f} {r['peak'] - r['before']:>9.0f} "
                  f"{r['seconds'] / base['seconds']:>11.1f}x {r['peak'] / base['peak']:>11.1f}x  {r['note']}")
    finally:
        if args.keep:
            print(f"\nkept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
