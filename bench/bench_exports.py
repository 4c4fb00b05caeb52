"""Benchmark: the default annex (and the raw XLSX) for synthetic 1,470- and 10,000-case audits.

    python bench/bench_exports.py [--sizes 1470,10000]

Prints seconds and peak Python memory (tracemalloc) per step, and the ratio between
the sizes. The case frame is built outside the measurement.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit.exports.annex import write_annex  # noqa: E402
from audit.exports.definitions import load_definitions  # noqa: E402
from audit.exports.raw import write_raw  # noqa: E402
from audit.exports.service import default_instrument  # noqa: E402
from audit.exports.synthetic import case_frame, population  # noqa: E402


def measure(fn):  # type: ignore[no-untyped-def]
    """Seconds of a plain run, then peak memory of a second run under tracemalloc
    (tracing slows Python down several times, so it is kept out of the timing)."""
    t0 = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1470,10000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    instrument = default_instrument()  # labels, code order and validation, when the instrument is installed
    spec = load_definitions(instrument=instrument)
    results = {}
    print(f"{'cases':>7} {'step':<12} {'seconds':>8} {'peak MiB':>9} {'file KiB':>9}")
    people = population(1)  # the register side of Table 12 (14,164 synthetic persons)
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            frame = case_frame(n, seed=1)
            annex = Path(tmp) / f"annex_{n}.xlsx"
            data = Path(tmp) / f"data_{n}.xlsx"
            steps = {"annex": (lambda: write_annex(frame, spec, annex, instrument=instrument, audit_name=f"bench {n}",
                                                  population=people), annex),
                     "raw xlsx": (lambda: write_raw(frame, data, instrument), data)}
            for step, (fn, path) in steps.items():
                seconds, peak = measure(fn)
                results[(n, step)] = (seconds, peak)
                print(f"{n:>7} {step:<12} {seconds:>8.2f} {peak:>9.1f} {path.stat().st_size / 1024:>9.0f}")
    if len(sizes) == 2:
        a, b = sizes
        for step in ("annex", "raw xlsx"):
            ts = results[(b, step)][0] / results[(a, step)][0]
            ms = results[(b, step)][1] / results[(a, step)][1]
            print(f"ratio {b}/{a} cases ({b / a:.1f}x) {step}: time {ts:.1f}x, peak memory {ms:.1f}x")


if __name__ == "__main__":
    main()
