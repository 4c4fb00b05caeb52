"""Benchmark of the case form and of saving one answer, through the real HTTP route:
`audit serve` on loopback in front of a database holding a 1,470-case audit
(98 municipalities x 15 cases) bound to the real instrument, most cases answered.

    python bench/bench_review.py [--n 200] [--url DATABASE_URL] [--keep DIR]

Prints, each beside a baseline measured in the same run and the ratio:
  - save one answer (the htmx autosave, skip logic flipping items in and out)
    vs a bare SELECT + UPDATE + COMMIT of one answer through the same kind of engine
    (target: save p95 < 20 ms);
  - the full case form (GET, gzip as a browser asks) vs the smallest logged-in
    route of the same server, GET /api/me (target: form p95 < 50 ms)."""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from review_world import VERSION_RE, Server, build, login, pct  # noqa: E402


def timed(n: int, fn) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for k in range(n):
        t = time.perf_counter()
        fn(k)
        out.append((time.perf_counter() - t) * 1000)
    return out


def line(label: str, ms: list[float], baselines: list[tuple[str, list[float]]], target: float) -> None:
    p95 = pct(ms, 0.95)
    print(f"{label:<50} n={len(ms):<4} median {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms  "
          f"target p95 < {target:.0f} ms: " + ("met" if p95 < target else "NOT met"))
    for base_label, base in baselines:
        b95 = pct(base, 0.95)
        print(f"{'  baseline: ' + base_label:<50} n={len(base):<4} median {statistics.median(base):6.1f} ms  "
              f"p95 {b95:6.1f} ms  ratio p95 {p95 / b95:5.1f}x, median {statistics.median(ms) / statistics.median(base):5.1f}x")


def bare_sql(url: str, case_id: int, n: int) -> list[float]:
    """The floor: read one answer and write it back, one transaction, same engine settings."""
    from sqlalchemy import text

    from audit.db import make_engine

    engine = make_engine(url)
    try:
        def one(k: int) -> None:
            with engine.begin() as conn:
                conn.execute(text("SELECT value_json FROM answer WHERE case_id = :c AND item = 'plan_job_goal' "
                                  "AND pass_no = 1"), {"c": case_id}).first()
                conn.execute(text("UPDATE answer SET value_json = :v WHERE case_id = :c AND item = 'plan_job_goal' "
                                  "AND pass_no = 1"), {"v": '"ja"' if k % 2 else '"nej"', "c": case_id})
        timed(5, one)
        return timed(n, one)
    finally:
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200, help="requests per measurement")
    ap.add_argument("--url", help="database URL (default: a fresh SQLite file); the database must be empty")
    ap.add_argument("--keep", help="directory to keep the database and server log in")
    args = ap.parse_args()
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="bench_review_"))
    workdir.mkdir(parents=True, exist_ok=True)
    url = args.url
    if not url:
        db = workdir / "bench.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{db}"
    t0 = time.perf_counter()
    world = build(url, auditors=1)
    print(f"database: {len(world['case_ids'])} cases, {world['answers']:,} answers ({world['per_case']} per "
          f"answered case), instrument {world['instrument']} with {world['items']} items; "
          f"built in {time.perf_counter() - t0:.1f} s")
    rng = random.Random(1470)
    ids = world["case_ids"]
    with Server(url, workdir) as server:
        client, token = login(server.base, "a1")
        for cid in ids[:5]:                      # warm-up: templates compiled, instrument snapshot parsed
            client.get(f"/review/cases/{cid}")
        me = timed(args.n, lambda k: client.get("/api/me", headers={"accept": "application/json"}))
        sizes: list[tuple[int, int]] = []

        def form(k: int) -> None:
            r = client.get(f"/review/cases/{ids[rng.randrange(len(ids))]}")
            assert r.status_code == 200, r.status_code
            sizes.append((len(r.content), r.num_bytes_downloaded))
        form_ms = timed(args.n, form)

        cid = ids[0]
        version = int(VERSION_RE.search(client.get(f"/review/cases/{cid}").text).group(1))

        def save(k: int) -> None:
            nonlocal version
            r = client.post(f"/review/cases/{cid}/answer",
                            data={"item": "plan_job_goal", "value": "ja" if k % 2 == 0 else "nej",
                                  "version": str(version)},
                            headers={"X-CSRF-Token": token, "HX-Request": "true"})
            assert r.status_code == 200 and 'class="status ok"' in r.text, r.text[:300]
            version = int(VERSION_RE.search(r.text).group(1))
        timed(5, save)
        save_ms = timed(args.n, save)
        client.close()
    floor = bare_sql(url, ids[1], args.n)
    raw, wire = max(sizes)
    print()
    line("POST /review/cases/{id}/answer (save one answer)", save_ms,
         [("bare SELECT+UPDATE+COMMIT, same engine", floor), ("GET /api/me (smallest logged-in route)", me)], 20)
    line(f"GET  /review/cases/{{id}} (form, {raw / 1024:.0f} KiB, {wire / 1024:.0f} KiB gzipped)", form_ms,
         [("GET /api/me (smallest logged-in route)", me)], 50)


if __name__ == "__main__":
    main()
