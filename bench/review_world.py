"""Shared by bench_review.py and bench_load.py: a database holding a 1,470-case audit
(98 municipalities x 15 cases) bound to the real instrument, most cases answered
(the same complete, valid set of answers), auditors with logins, and a server
started the way a deployment starts it (`audit serve`)."""
from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-123"
MUNICIPALITIES = 98
PER_MUNICIPALITY = 15


def load_real_instrument():  # type: ignore[no-untyped-def]
    from audit.instrument import load_instrument

    return load_instrument(ROOT / "questionnaires" / "kontanthjaelp_2022.yaml")


def filled_answers(inst, rng: random.Random) -> dict:  # type: ignore[no-untyped-def]
    """A complete, valid set of answers (every applicable required item, plus some optional ones)."""
    from tests.review.fill import candidates_for

    answers: dict = {}
    for _ in range(500):
        todo = [n for n in inst.missing_required(answers) if getattr(inst.item(n), "level", "case") == "case"]
        if not todo:
            break
        name = todo[0]
        for value in candidates_for(inst.item(name)):
            if not inst.check_answer(name, value, answers):
                answers[name] = value
                break
        else:
            raise SystemExit(f"no valid value for {name}")
    app = inst.applicable(answers)
    for item in inst.items:
        if item.name in answers or not app.get(item.name) or getattr(item, "level", "case") != "case":
            continue
        if getattr(item, "calculation", None) or rng.random() < 0.3:
            continue
        for value in candidates_for(item):
            if not inst.check_answer(item.name, value, answers):
                answers[item.name] = value
                break
    return answers


def build(url: str, auditors: int = 1, seed: int = 1470) -> dict:
    """Create the audit in the (empty) database at `url`. Cases are dealt to `auditors`
    auditors (a1, a2, ...) municipality by municipality; "ada" is an admin.
    Returns {"case_ids": [...], "by_auditor": {username: [case ids]}, "answers": n}."""
    from sqlalchemy import insert, select
    from sqlmodel import Session

    from audit.auth import add_user
    from audit.db import make_engine, upgrade
    from audit.models import Answer, Audit, Case, MunicipalityReview, Person
    from audit.population.municipalities import municipality_names
    from audit.review.answers import encode

    rng = random.Random(seed)
    inst = load_real_instrument()
    upgrade(url)
    engine = make_engine(url)
    names = municipality_names()[:MUNICIPALITIES]
    assert len(names) == MUNICIPALITIES
    with Session(engine) as s:
        add_user(s, username="ada", password=PASSWORD, role="admin")
        users = [add_user(s, username=f"a{k + 1}", password=PASSWORD, role="auditor") for k in range(auditors)]
        s.flush()
        audit = Audit(name="Bench 2022", period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                      reference_date=date(2020, 3, 1), municipalities_json=json.dumps(list(names)),
                      instrument_name="kontanthjaelp_2022.yaml", instrument_version=inst.version,
                      instrument_json=json.dumps(inst.to_dict(), ensure_ascii=False))
        s.add(audit)
        s.flush()
        s.execute(insert(Person), [
            {"audit_id": audit.id, "person_id": f"{m}-{k}", "municipality": m, "seniority_years": 5.5 + k % 3 * 2,
             "seniority_band": ("5-7", "7-10", "10+")[k % 3], "sex": ("mand", "kvinde")[k % 2], "age": 30 + k * 2,
             "origin": "dansk"} for m in names for k in range(PER_MUNICIPALITY)])
        persons = s.execute(select(Person.id, Person.municipality, Person.seniority_band)
                            .where(Person.audit_id == audit.id).order_by(Person.id)).all()
        owner = {m: users[i % len(users)].id for i, m in enumerate(names)}
        s.execute(insert(Case), [
            {"audit_id": audit.id, "person_pk": pid, "municipality": m, "seniority_band": band,
             "stratum_population": 50, "stratum_sample": 5, "inclusion_probability": 0.1, "weight": 10.0,
             "assigned_to": owner[m], "status": "in_progress", "version": 0} for pid, m, band in persons])
        s.execute(insert(MunicipalityReview), [{"audit_id": audit.id, "municipality": m, "assigned_to": owner[m],
                                                "status": "not_started", "version": 0} for m in names])
        cases = s.execute(select(Case.id, Case.assigned_to).where(Case.audit_id == audit.id)
                          .order_by(Case.id)).all()
        template = {k: encode(v) for k, v in filled_answers(inst, rng).items()}
        rows = [{"case_id": cid, "item": item, "pass_no": 1, "value_json": value, "note": "",
                 "updated_by": users[0].id}
                for cid, _ in cases if rng.random() < 0.85 for item, value in template.items()]
        for start in range(0, len(rows), 20_000):
            s.execute(insert(Answer), rows[start:start + 20_000])
        s.commit()
        by_user = {u.username: [cid for cid, a in cases if a == u.id] for u in users}
    engine.dispose()
    return {"case_ids": [cid for cid, _ in cases], "by_auditor": by_user, "answers": len(rows),
            "per_case": len(template), "items": len(inst.items), "instrument": inst.version}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`audit serve` in a child process on loopback."""

    def __init__(self, url: str, workdir: Path, workers: int = 1, env: dict | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        audit_cmd = Path(sys.executable).parent / "audit"
        cmd = [str(audit_cmd)] if audit_cmd.exists() else [sys.executable, "-c", "from audit.cli import main; main()"]
        cmd += ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        full_env = {**os.environ, "AUDIT_DATABASE_URL": url, "AUDIT_DATA_DIR": str(workdir / "var"),
                    "AUDIT_SECRET_KEY": "bench-secret-key-not-for-production", **(env or {})}
        self.log = open(workdir / f"server-{self.port}.log", "w")
        self.proc = subprocess.Popen(cmd, env=full_env, stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir)

    def __enter__(self) -> "Server":
        import httpx

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"audit serve exited with {self.proc.returncode}; see {self.log.name}")
            try:
                if httpx.get(self.base + "/login", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit("audit serve did not start within 120 s")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def login(base: str, username: str, timeout: float = 60):  # type: ignore[no-untyped-def]
    """An httpx client logged in through the form (keep-alive, gzip accepted like a browser)."""
    import httpx

    c = httpx.Client(base_url=base, timeout=timeout, follow_redirects=True,
                     headers={"accept": "text/html", "accept-encoding": "gzip"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303, (username, r.status_code, r.text[:200])
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', c.get("/").text).group(1)
    return c, token


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, round(q * (len(values) - 1))))
    return values[k]


VERSION_RE = re.compile(r'id="form-version" name="version" value="(\d+)"')
