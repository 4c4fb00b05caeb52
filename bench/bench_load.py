"""Load benchmark: N auditors saving at once against the real server.

Starts `audit serve` on loopback in front of a 1,470-case audit (the real
instrument, most cases answered), logs in N auditors (default 30; each owns the
cases of a few municipalities, as assignment deals them), and lets every one of
them save answers through the case form's autosave route, back to back, for a
bounded time (`--think S`: with pauses of S seconds on average, a person's pace).
A probe opens /login four times a second meanwhile. Afterwards
every acknowledged save is read back from the database: the stored value is the
last one acknowledged, the case version moved once per acknowledged save, the
trail holds one entry per acknowledged save.

    python bench/bench_load.py                       # SQLite and PostgreSQL, 30 auditors, 20 s each
    python bench/bench_load.py --database sqlite --auditors 30 --seconds 20
    python bench/bench_load.py --database postgres --workers 1 2 4

PostgreSQL: AUDIT_BENCH_POSTGRES_URL (a server where a scratch database may be
created), else a throwaway cluster started here the way scripts/test.sh does.

Prints per run: saves, throughput, p50/p95/p99 of a save, errors, and the
baselines of the same run: one auditor alone on the same server (latency) and
/login idle; for PostgreSQL the throughput per number of workers against one
worker. Targets: SQLite, 30 auditors, zero errors and save p95 < 300 ms;
PostgreSQL, throughput rising with workers."""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from review_world import VERSION_RE, Server, build, free_port, login, pct  # noqa: E402

# Whole-number items that always apply, with their allowed ranges: every save changes a value.
ITEMS = {"interviews_count": (0, 150), "caseworker_count": (1, 30), "activation_weeks": (0, 104)}


# --- PostgreSQL ----------------------------------------------------------------------

class Cluster:
    """A throwaway PostgreSQL on loopback (as scripts/test.sh starts one), removed on exit."""

    def __enter__(self) -> str:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: [int(x) for x in p.parent.name.split(".")
                                                                             if x.isdigit()])
        if not bins:
            raise SystemExit("PostgreSQL is not installed (Debian package postgresql); "
                             "or set AUDIT_BENCH_POSTGRES_URL")
        self.bin = bins[-1]
        self.dir = Path(tempfile.mkdtemp(prefix="bench-pg-"))
        self.runas: list[str] = []
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.runas = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        subprocess.run(self.runas + [str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8"], check=True, stdout=subprocess.DEVNULL)
        try:
            subprocess.run(self.runas + [str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-l",
                                         str(self.dir / "log"), "-w", "-o",
                                         f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c max_connections=200",
                                         "start"], check=True, stdout=subprocess.DEVNULL)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def __exit__(self, *exc: object) -> None:
        subprocess.run(self.runas + [str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
                                     "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


def scratch_database(server_url: str) -> tuple[str, object]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"audit_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False), drop


# --- the load ------------------------------------------------------------------------

def snapshot(url: str, case_ids: list[int]) -> tuple[dict[int, int], dict[tuple[int, str], int | None], int]:
    """Versions, the ITEMS' stored values and the number of answer log entries, read from the database."""
    import json

    from sqlalchemy import func, select
    from sqlmodel import Session

    from audit.db import make_engine
    from audit.models import Answer, AuditLog, Case

    engine = make_engine(url)
    with Session(engine) as s:
        versions = dict(s.exec(select(Case.id, Case.version)).all())
        values = {(cid, item): None for cid in case_ids for item in ITEMS}
        for cid, item, v in s.exec(select(Answer.case_id, Answer.item, Answer.value_json)
                                   .where(Answer.item.in_(list(ITEMS)), Answer.pass_no == 1)).all():
            values[(cid, item)] = None if v is None else json.loads(v)
        log = s.exec(select(func.count()).select_from(AuditLog).where(AuditLog.entity == "answer")).one()[0]
    engine.dispose()
    return versions, values, log


class Auditor(threading.Thread):
    def __init__(self, base: str, username: str, cases: list[int], versions: dict[int, int],
                 values: dict[tuple[int, str], int | None], start: threading.Event, stop_at: list[float],
                 seed: int, think: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.client, self.token = login(base, username)
        self.cases, self.versions, self.values = cases, versions, values
        self.start_event, self.stop_at = start, stop_at
        self.rng = random.Random(seed)
        self.think = think
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.acked: list[tuple[int, str, int]] = []

    def run(self) -> None:
        self.start_event.wait()
        while time.monotonic() < self.stop_at[0]:
            cid = self.rng.choice(self.cases)
            item = self.rng.choice(list(ITEMS))
            low, high = ITEMS[item]
            old = self.values.get((cid, item))
            value = low + ((old if isinstance(old, int) else low) - low + 1 + self.rng.randrange(5)) % (high - low + 1)
            t = time.perf_counter()
            try:
                r = self.client.post(f"/review/cases/{cid}/answer",
                                     data={"item": item, "value": str(value), "version": str(self.versions[cid])},
                                     headers={"X-CSRF-Token": self.token, "HX-Request": "true"})
            except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops the run
                self.errors[type(exc).__name__] += 1
                continue
            ms = (time.perf_counter() - t) * 1000
            match = VERSION_RE.search(r.text) if r.status_code == 200 else None
            if match is None or 'class="status ok"' not in r.text:
                self.errors[f"HTTP {r.status_code}" + ("" if r.status_code != 200 else " not saved")] += 1
                continue
            self.latencies.append(ms)
            self.versions[cid] = int(match.group(1))
            self.values[(cid, item)] = value
            self.acked.append((cid, item, value))
            if self.think:                 # a person's pace: the next field takes a while
                time.sleep(min(self.rng.expovariate(1 / self.think), 10 * self.think))
        self.client.close()


def probe(base: str, stop: threading.Event, out: list[float]) -> None:
    import httpx

    with httpx.Client(base_url=base, timeout=60) as c:
        while not stop.is_set():
            t = time.perf_counter()
            c.get("/login")
            out.append((time.perf_counter() - t) * 1000)
            stop.wait(0.25)


def run_load(base: str, url: str, world: dict, auditors: int, seconds: float, seed: int,
             think: float = 0.0) -> dict:
    case_ids = world["case_ids"]
    versions0, values0, log0 = snapshot(url, case_ids)
    names = [f"a{k + 1}" for k in range(auditors)]
    start, stop_at = threading.Event(), [0.0]
    threads = [Auditor(base, n, world["by_auditor"][n], dict(versions0), dict(values0), start, stop_at, seed + k,
                       think) for k, n in enumerate(names)]
    probes: list[float] = []
    stop_probe = threading.Event()
    prober = threading.Thread(target=probe, args=(base, stop_probe, probes), daemon=True)
    for t in threads:
        t.start()
    prober.start()
    t0 = time.monotonic()
    stop_at[0] = t0 + seconds
    start.set()
    for t in threads:
        t.join(seconds + 120)
    elapsed = time.monotonic() - t0
    stop_probe.set()
    prober.join(10)
    latencies = [ms for t in threads for ms in t.latencies]
    errors = sum((t.errors for t in threads), Counter())
    acked = [a for t in threads for a in t.acked]
    # every acknowledged save is stored
    versions1, values1, log1 = snapshot(url, case_ids)
    last: dict[tuple[int, str], int] = {}
    per_case: Counter[int] = Counter()
    for cid, item, value in acked:          # one writer per case, so each thread's order is the case's order
        last[(cid, item)] = value
        per_case[cid] += 1
    lost = [(k, v, values1.get(k)) for k, v in last.items() if values1.get(k) != v]
    moved = [(cid, n, versions1[cid] - versions0[cid]) for cid, n in per_case.items()
             if versions1[cid] - versions0[cid] != n]
    return {"auditors": auditors, "seconds": elapsed, "saves": len(acked), "latencies": latencies,
            "errors": errors, "probes": probes, "lost": lost, "versions_off": moved,
            "log_entries": log1 - log0}


def report(label: str, res: dict, alone: dict | None, login_idle: list[float]) -> None:
    lat = res["latencies"]
    tput = res["saves"] / res["seconds"]
    errors = sum(res["errors"].values())
    print(f"\n{label}: {res['auditors']} auditors for {res['seconds']:.1f} s")
    print(f"  saves acknowledged {res['saves']:>7}   throughput {tput:7.1f} saves/s   errors {errors}"
          + (f" ({dict(res['errors'])})" if errors else ""))
    print(f"  save latency        p50 {pct(lat, .5):7.1f} ms   p95 {pct(lat, .95):7.1f} ms   p99 {pct(lat, .99):7.1f} ms")
    if alone is not None:
        a = alone["latencies"]
        print(f"  baseline: 1 auditor alone, same server: p50 {pct(a, .5):6.1f} ms  p95 {pct(a, .95):6.1f} ms  "
              f"({alone['saves'] / alone['seconds']:.1f} saves/s);  ratio p95 {pct(lat, .95) / pct(a, .95):.1f}x")
    print(f"  /login during the load p95 {pct(res['probes'], .95):7.1f} ms   baseline idle p95 "
          f"{pct(login_idle, .95):6.1f} ms   ratio {pct(res['probes'], .95) / pct(login_idle, .95):.1f}x")
    ok = not res["lost"] and not res["versions_off"] and res["log_entries"] == res["saves"]
    print(f"  read back: {res['saves']} acknowledged saves, {len(res['lost'])} lost, "
          f"{len(res['versions_off'])} case versions off, {res['log_entries']} log entries "
          f"-> {'every acknowledged save is stored' if ok else 'NOT all stored'}")
    if not ok:
        print(f"    lost (key, acked, stored): {res['lost'][:5]}  versions off: {res['versions_off'][:5]}")


def bench_database(kind: str, url: str, workdir: Path, args: argparse.Namespace) -> dict[int, float]:
    t0 = time.perf_counter()
    world = build(url, auditors=args.auditors)
    print(f"\n=== {kind}: {len(world['case_ids'])} cases, {world['answers']:,} answers, {args.auditors} auditors "
          f"(built in {time.perf_counter() - t0:.1f} s)")
    throughput: dict[int, float] = {}
    for workers in (args.workers if kind == "PostgreSQL" else [1]):
        with Server(url, workdir, workers=workers) as server:
            import httpx

            with httpx.Client(base_url=server.base) as c:
                for _ in range(5):
                    c.get("/login")
                idle = []
                for _ in range(40):
                    t = time.perf_counter()
                    c.get("/login")
                    idle.append((time.perf_counter() - t) * 1000)
            alone = run_load(server.base, url, {**world, "by_auditor": world["by_auditor"]}, 1,
                             min(5.0, args.seconds), seed=7)
            res = run_load(server.base, url, world, args.auditors, args.seconds, seed=11, think=args.think)
        pace = "back to back" if not args.think else f"each pausing {args.think:g} s on average between saves"
        report(f"{kind}, {workers} worker{'s' if workers > 1 else ''}, {pace}", res, alone, idle)
        throughput[workers] = res["saves"] / res["seconds"]
        if kind == "SQLite":
            lat = res["latencies"]
            errors = sum(res["errors"].values())
            met = errors == 0 and pct(lat, .95) < 300
            print(f"  target (SQLite, {args.auditors} auditors: zero errors, p95 < 300 ms): {'met' if met else 'NOT met'}")
    if kind == "PostgreSQL" and len(throughput) > 1:
        base = throughput[min(throughput)]
        print("\n  throughput by workers (baseline: %d worker):" % min(throughput))
        for w, tp in throughput.items():
            print(f"    {w} worker{'s' if w > 1 else ' '}  {tp:7.1f} saves/s   ratio {tp / base:.2f}x")
        rising = all(throughput[b] > throughput[a] for a, b in zip(sorted(throughput), sorted(throughput)[1:]))
        print(f"  target (throughput rising with workers): {'met' if rising else 'NOT met'}")
    return throughput


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--auditors", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each load run")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4],
                    help="PostgreSQL: numbers of `audit serve --workers` to compare")
    ap.add_argument("--think", type=float, default=0.0,
                    help="mean seconds an auditor pauses between saves (default 0: back to back, the stress case)")
    ap.add_argument("--keep", help="directory for the databases and server logs")
    args = ap.parse_args()
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="bench_load_"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} CPUs; server: audit serve on 127.0.0.1; pool per worker "
          f"{os.environ.get('AUDIT_DB_POOL_SIZE', '10')} + {os.environ.get('AUDIT_DB_MAX_OVERFLOW', '10')}")
    if args.database in ("sqlite", "both"):
        db = workdir / "load.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        bench_database("SQLite", f"sqlite:///{db}", workdir, args)
    if args.database in ("postgres", "both"):
        server_url = os.environ.get("AUDIT_BENCH_POSTGRES_URL")
        if server_url:
            url, drop = scratch_database(server_url)
            try:
                bench_database("PostgreSQL", url, workdir, args)
            finally:
                drop()  # type: ignore[operator]
        else:
            with Cluster() as cluster_url:
                url, drop = scratch_database(cluster_url)
                bench_database("PostgreSQL", url, workdir, args)
                drop()  # type: ignore[operator]


if __name__ == "__main__":
    main()
