"""Benchmark: `/stats` and every download of the demo audit, through the HTTP routes of a real
server (`audit serve` on loopback), as an admin's browser asks for them.

    python bench/bench_web.py [--views 10] [--dir DIR]

Builds the demo audit (`audit demo`, SQLite) in a temporary data folder (or --dir), adds an
admin, starts `audit serve` on a free port and logs in through the login form. Then:

  baseline   GET /login: the server's floor for any page (median of the views)
  /stats     the first view (the case frame is built) and the median of --views more, across
             four crosstabs, one of them weighted
  downloads  each file of the exports page: the first request after the server started
             (the file is built from the database) and the second (kept for this data
             version: the figure a person clicking again, or the next person, waits for)
  old frame  for reference, the case frame built the way main built it (row by row through
             the skip-logic engine, tests/statistics/reference_frame.py) on the same data

Targets (issue 13): /stats < 200 ms per view, every demo download < 500 ms.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import machine  # noqa: E402

PASSWORD = "bench horse battery staple"
VIEWS = ["/stats", "/stats?row=sex&col=origin", "/stats?row=direction&col=seniority_band&weighted=true",
         "/stats?row=challenge_breadth&col=stable_participation&percent=col"]
DOWNLOADS = ["codebook.csv", "data.csv", "data.xlsx", "data.sav", "annex.xlsx"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.0f} ms"


def main() -> None:
    import httpx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=10)
    parser.add_argument("--dir", type=Path, default=None, help="data folder to use (and keep)")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench_web_"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "audit.sqlite"
    env = {**os.environ, "AUDIT_DATA_DIR": str(folder), "AUDIT_DATABASE_URL": f"sqlite:///{db}",
           "AUDIT_NEW_PASSWORD": PASSWORD}
    cli = [sys.executable, "-m", "audit"]
    print(machine())
    server = None
    try:
        if not db.exists():
            t0 = time.perf_counter()
            subprocess.run(cli + ["demo"], env=env, check=True, stdout=subprocess.DEVNULL)
            print(f"demo audit built in {time.perf_counter() - t0:.1f} s")
            subprocess.run(cli + ["users", "add", "benchadmin", "--role", "admin"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
        port = _free_port()
        server = subprocess.Popen(cli + ["serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        client = httpx.Client(base_url=base, headers={"accept": "text/html"}, timeout=300)
        for _ in range(300):
            try:
                if client.get("/login").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        resp = client.post("/login", data={"username": "benchadmin", "password": PASSWORD, "csrf_token": token})
        assert resp.status_code in (200, 303), resp.status_code
        exports = client.get("/exports").text
        audit_id = int(re.search(r'/exports/(\d+)/annex\.xlsx', exports).group(1))

        def timed(path: str) -> tuple[float, int, int]:
            t = time.perf_counter()
            r = client.get(path)
            return time.perf_counter() - t, r.status_code, len(r.content)

        login = [timed("/login")[0] for _ in range(args.views)]
        floor = statistics.median(login)
        first, status, size = timed(VIEWS[0])
        assert status == 200, status
        views = [timed(VIEWS[k % len(VIEWS)]) for k in range(args.views)]
        assert all(v[1] == 200 for v in views), [v[1] for v in views]
        warm = statistics.median(v[0] for v in views)
        print(f"\n{'route':<34} {'first':>11} {'then':>11} {'x /login':>9}  target")
        print(f"{'GET /login (baseline)':<34} {_ms(login[0])} {_ms(floor)} {1.0:>8.1f}x")
        print(f"{'GET /stats (4 crosstabs)':<34} {_ms(first)} {_ms(warm)} {warm / floor:>8.1f}x  "
              f"< 200 ms: {'met' if warm < 0.2 else 'NOT met'}")
        worst = 0.0
        for kind in DOWNLOADS:
            cold, status, size = timed(f"/exports/{audit_id}/{kind}")
            assert status == 200, (kind, status)
            again, status, _ = timed(f"/exports/{audit_id}/{kind}")
            worst = max(worst, again)
            print(f"{'GET ' + kind + f' ({size // 1024} KiB)':<34} {_ms(cold)} {_ms(again)} {again / floor:>8.1f}x  "
                  f"< 500 ms: {'met' if again < 0.5 else 'NOT met'} (first: {'met' if cold < 0.5 else 'not met'})")

        # the old way of building the frame, on the same data, for reference
        os.environ["AUDIT_DATABASE_URL"] = f"sqlite:///{db}"
        from sqlmodel import Session

        from audit.db import make_engine
        from audit.statistics import dataset
        from tests.statistics import reference_frame

        engine = make_engine(f"sqlite:///{db}")
        from audit.models import Audit

        with Session(engine) as s:
            audit = s.get(Audit, audit_id)
            t = time.perf_counter()
            old = reference_frame.load_case_frame(s, audit)
            t_old = time.perf_counter() - t
            dataset.clear_cache()
            t = time.perf_counter()
            new = dataset.load_case_frame(s, audit)
            t_new = time.perf_counter() - t
        print(f"\ncase frame of {len(new)} cases: old row-by-row build {t_old * 1000:.0f} ms, "
              f"columnar build {t_new * 1000:.0f} ms ({t_old / t_new:.0f}x), cached: served from memory")
        # the new frame also carries the register and derived variables, after the instrument's columns
        assert old.equals(new[list(old.columns)]), "the columnar frame differs from the row-by-row one"
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
