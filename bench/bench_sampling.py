"""Benchmark: importing a 1,000,000-row register extract and drawing the sample from it.

    python bench/bench_sampling.py [--rows 1000000] [--database sqlite|postgres|both] [--keep]

Writes a synthetic register (person_id;municipality;seniority_years;sex;age;origin,
semicolon-separated UTF-8 with BOM and a decimal comma, as Danish Excel writes it)
spread over all 98 municipalities with a skewed size distribution into a temporary
folder, then runs each step in a fresh Python process:

  pandas read    a bare `pandas.read_csv` of the same file (the baseline)
  import         `import_population` into a fresh migrated database + commit
  draw           `draw_sample(per_stratum=5, seed=42, reserves=2)` on it + commit
                 (as `audit sample draw` does in its own process: it reads the persons back)
  import + draw  both in one process, as the web app does them one after the other

Databases: SQLite (a file in the temporary folder) and PostgreSQL (default: both). PostgreSQL is
a throwaway cluster on loopback, as bench_load.py starts one, or the server of
AUDIT_BENCH_POSTGRES_URL (a scratch database is created on it for each run and dropped after).

Seconds: the step itself, measured inside the child (not interpreter start, imports or
the migration), wall clock and CPU of the child (the database server's CPU is not in it). Memory: the child's peak resident set (VmHWM from
/proc, read from outside while it runs): the whole process, imports included.
Targets (issue 13): import + draw within 3x the read's time and 2x its memory.
"""
from __future__ import annotations

import argparse
import contextlib
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

from _measure import machine, measure  # noqa: E402
from bench_load import Cluster, scratch_database  # noqa: E402  (the throwaway PostgreSQL of the load bench)

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

class Timer:
    def __enter__(self) -> "Timer":
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.c0


def step_read(register: Path, _url: str) -> dict:
    import pandas as pd

    with Timer() as timer:
        frame = pd.read_csv(register, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    return {"rows": len(frame), "seconds": timer.seconds, "cpu": timer.cpu, "note": "all columns as str"}


def _fresh(url: str):  # type: ignore[no-untyped-def]
    """A migrated database with the empty audit (SQLite: the file made anew; PostgreSQL: the
    scratch database the parent created for this run is empty)."""
    from datetime import date

    from sqlmodel import Session

    import audit.population.importer  # noqa: F401  (imported before the timing, as the docstring says)
    import audit.sampling.draw  # noqa: F401
    from audit.audits import create_audit
    from audit.db import make_engine, upgrade

    if url.startswith("sqlite:///"):
        db = url.removeprefix("sqlite:///")
        for f in (db, f"{db}-wal", f"{db}-shm"):
            Path(f).unlink(missing_ok=True)
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        create_audit(session, "bench", period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                     reference_date=date.fromisoformat(REFERENCE_DATE))
        session.commit()
    return engine


def _import(engine, register: Path):  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from audit.audits import get_audit
    from audit.population.importer import import_population

    with Session(engine) as session:
        result = import_population(session, get_audit(session, "bench"), register)
        session.commit()
    return result


def _draw(engine):  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from audit.audits import get_audit
    from audit.sampling.draw import draw_sample

    with Session(engine) as session:
        result = draw_sample(session, get_audit(session, "bench"), per_stratum=5, seed=42, reserves=2)
        session.commit()
    return result


def step_import(register: Path, url: str) -> dict:
    engine = _fresh(url)
    with Timer() as timer:
        result = _import(engine, register)
    return {"rows": result.rows, "seconds": timer.seconds, "cpu": timer.cpu,
            "note": f"{len(result.per_municipality)} municipalities"}


def step_draw(register: Path, url: str) -> dict:
    from sqlalchemy import func, select
    from sqlmodel import Session

    import audit.sampling.draw  # noqa: F401  (imported before the timing)
    from audit.db import make_engine
    from audit.models import Person

    engine = make_engine(url)
    with Session(engine) as session:
        population = session.scalar(select(func.count()).select_from(Person))
    with Timer() as timer:
        result = _draw(engine)
    return {"rows": population, "seconds": timer.seconds, "cpu": timer.cpu,
            "note": f"{result.sampled} cases + {result.reserve_cases} reserves in {len(result.strata)} strata"}


def step_both(register: Path, url: str) -> dict:
    engine = _fresh(url)
    with Timer() as timer:
        result = _import(engine, register)
        drawn = _draw(engine)
    return {"rows": result.rows, "seconds": timer.seconds, "cpu": timer.cpu,
            "note": f"{drawn.sampled} cases + {drawn.reserve_cases} reserves"}


STEPS = {"pandas read": step_read, "import": step_import, "draw": step_draw, "import + draw": step_both}


def child(step: str, register: Path, url: str) -> None:
    print("RESULT " + json.dumps(STEPS[step](register, url)))


# ------------------------------------------------------------------ main

def run_steps(register: Path, urls: dict[str, str]) -> dict[str, dict]:
    """Each step in its own child process; `urls` names the database of the import (which the
    draw reads) and of import + draw."""
    results = {}
    for step in STEPS:
        url = urls["both" if step == "import + draw" else "import"]
        run = measure(step, [sys.executable, __file__, "--child", step, str(register), url])
        r = json.loads(run.output.split("RESULT ", 1)[1].splitlines()[0])
        r["peak"] = run.peak_mb
        results[step] = r
    return results


def report(database: str, results: dict[str, dict]) -> None:
    base = results["pandas read"]
    print(f"\n{database}")
    print(f"{'step':<14} {'rows':>10} {'seconds':>8} {'cpu s':>6} {'peak MiB':>9} "
          f"{'time x read':>12} {'peak x read':>12}  note")
    for step, r in results.items():
        print(f"{step:<14} {r['rows']:>10,} {r['seconds']:>8.2f} {r['cpu']:>6.2f} {r['peak']:>9.0f} "
              f"{r['seconds'] / base['seconds']:>11.1f}x {r['peak'] / base['peak']:>11.1f}x  {r['note']}")
    both = results["import + draw"]
    print(f"target ({database}): import + draw <= 3x the read's time ({both['seconds'] / base['seconds']:.1f}x) and "
          f"<= 2x its memory ({both['peak'] / base['peak']:.1f}x); separately (two commands): "
          f"{(results['import']['seconds'] + results['draw']['seconds']) / base['seconds']:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the synthetic register")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both",
                        help="where to import (default both)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    parser.add_argument("--child", nargs=3, metavar=("STEP", "REGISTER", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.child[2])
        return

    tmp = Path(tempfile.mkdtemp(prefix="bench_sampling_"))
    try:
        register = tmp / "register.csv"
        t0 = time.perf_counter()
        write_register(register, args.rows)
        print(machine())
        print(f"register: {args.rows:,} rows, 98 municipalities, {register.stat().st_size / 2**20:.1f} MiB "
              f"(written in {time.perf_counter() - t0:.1f} s)")
        if args.database in ("sqlite", "both"):
            report("SQLite", run_steps(register, {"import": f"sqlite:///{tmp / 'audit.sqlite'}",
                                                  "both": f"sqlite:///{tmp / 'both.sqlite'}"}))
        if args.database in ("postgres", "both"):
            with contextlib.ExitStack() as stack:
                server = os.environ.get("AUDIT_BENCH_POSTGRES_URL") or stack.enter_context(Cluster())
                urls = {}
                for key in ("import", "both"):
                    urls[key], drop = scratch_database(server)
                    stack.callback(drop)
                report("PostgreSQL", run_steps(register, urls))
    finally:
        if args.keep:
            print(f"\nkept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
