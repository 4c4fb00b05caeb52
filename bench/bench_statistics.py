"""Benchmark: every frequency and breakdown table of an audit.

Synthetic case frames of 1,470 and 10,000 cases with ~190 item columns (yes/no,
single choice, multiple choice, integers, with missing cells where an item does
not apply). Times `audit.statistics.frequencies.breakdowns` (each item overall and
by the 7 breakdown variables: counts, N, percentages, total row) and, for
reference, a bare pandas groupby/value_counts computing the same counts.

Run: python bench/bench_statistics.py [--cases 1470 10000] [--items 190] [--repeat 3]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit.statistics.frequencies import breakdowns  # noqa: E402
from audit.statistics.variables import BREAKDOWNS, age_band  # noqa: E402

MUNIS = ["København", "Odense", "Aarhus", "Aalborg", "Esbjerg", "Slagelse", "Vejle", "Guldborgsund", "Brøndby",
         "Kolding", "Næstved", "Lolland", "Herning", "Høje-Taastrup", "Vordingborg", "Viborg", "Sønderborg",
         "Ballerup", "Norddjurs", "Faaborg-Midtfyn", "Vesthimmerland", "Thisted", "Fredensborg", "Nordfyn",
         "Middelfart"]
CHALLENGES = ["misbrug", "fysiske", "psykiske", "sociale", "sproglige", "laese_skrive_regne", "familie", "andet"]


def synthetic_frame(n: int, n_items: int = 190, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    obj = lambda xs: np.array(xs, dtype=object)  # noqa: E731
    f = pd.DataFrame({
        "case_id": np.arange(1, n + 1),
        "municipality": rng.choice(obj(MUNIS), n),
        "seniority_band": rng.choice(obj(["5-7", "7-10", "10+"]), n),
        "sex": rng.choice(obj(["mand", "kvinde"]), n),
        "age": rng.integers(25, 66, n),
        "origin": rng.choice(obj(["dansk", "ikke-vestlig", "vestlig"]), n, p=[.7, .28, .02]),
    })
    f["age_band"] = f["age"].map(age_band)
    f["stratum"] = f["municipality"] + "|" + f["seniority_band"]
    f["stratum_population"] = 300
    f["stratum_sample"] = f.groupby("stratum")["case_id"].transform("size")
    f["weight"] = f["stratum_population"] / f["stratum_sample"]
    f["direction"] = rng.choice(obj(["jobrettet", "rehabiliterende", "fritaget"]), n, p=[.55, .34, .11])
    f["challenges"] = [tuple(sorted(rng.choice(CHALLENGES, rng.integers(1, 5), replace=False)))
                       if rng.random() < .97 else None for _ in range(n)]
    cols = {}
    for i in range(n_items):
        kind = i % 10
        applies = rng.random(n) < rng.uniform(.3, 1.0)
        if kind < 6:  # yes/no
            v = rng.choice(obj(["ja", "nej"]), n)
        elif kind < 8:  # single choice with 4 codes
            v = rng.choice(obj(["a", "b", "c", "d"]), n)
        elif kind == 8:  # multiple choice
            codes = ["k1", "k2", "k3", "k4", "k5"]
            v = obj([tuple(sorted(rng.choice(codes, rng.integers(1, 3), replace=False))) for _ in range(n)])
        else:  # integer
            v = rng.integers(0, 30, n).astype(float)
            v[~applies] = np.nan
            cols[f"q{i:03d}"] = v
            continue
        v = v.copy()
        v[~applies] = None
        cols[f"q{i:03d}"] = v
    return pd.concat([f, pd.DataFrame(cols)], axis=1)


def bare_pandas(frame: pd.DataFrame, items: list[str], by: tuple[str, ...]) -> int:
    """The same counts with nothing but groupby/value_counts (no N, percentages, ordering or Table)."""
    n_out = 0
    by_long = {}
    for b in by:
        s = frame[b]
        by_long[b] = s.explode().dropna() if b == "challenges" else s.dropna()
    for it in items:
        s = frame[it]
        numeric = pd.api.types.is_numeric_dtype(s)
        multiple = not numeric and isinstance(s.dropna().iloc[0], tuple)
        v = s.explode().dropna() if multiple else s.dropna()
        if numeric:
            n_out += len(v.agg(["mean", "median", "count"]))
        else:
            n_out += len(v.value_counts())
        for b in by:
            if b == it:
                continue
            j = pd.DataFrame({"g": by_long[b]}).join(pd.DataFrame({"v": v}), how="inner")
            if numeric:
                n_out += len(j.groupby("g")["v"].agg(["mean", "median", "count"]))
            else:
                n_out += len(j.groupby(["g", "v"]).size())
    return n_out


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, nargs="+", default=[1470, 10000])
    ap.add_argument("--items", type=int, default=190)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"pandas {pd.__version__}, numpy {np.__version__}; best of {args.repeat} runs")
    for n in args.cases:
        frame = synthetic_frame(n, args.items)
        items = [c for c in frame.columns if c.startswith("q")] + ["direction", "challenges"]
        holder = {}
        t_ours = timed(lambda: holder.__setitem__("out", breakdowns(frame, items, BREAKDOWNS)), args.repeat)
        t_bare = timed(lambda: bare_pandas(frame, items, BREAKDOWNS), args.repeat)
        tables = len(holder["out"])
        print(f"{n:>6} cases, {len(items)} items x (overall + {len(BREAKDOWNS)} breakdowns) = {tables} tables: "
              f"audit.statistics {t_ours:.2f} s ({1000 * t_ours / tables:.2f} ms/table), "
              f"bare pandas groupby {t_bare:.2f} s, ratio {t_ours / t_bare:.1f}x")


if __name__ == "__main__":
    main()
