"""Benchmark of the case form: server time to render the full form and to save
one answer, for a database holding a 1,470-case audit (98 municipalities x 15
cases) bound to the real instrument, answers filled for most cases.

    python bench/bench_review.py [--n 200] [--keep DIR]

Times are measured in-process with FastAPI's TestClient (no network), so they
are the server's time plus a small constant client overhead."""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-123"


def load_real_instrument():  # type: ignore[no-untyped-def]
    from audit.instrument import load_instrument

    return load_instrument(ROOT / "questionnaires" / "kontanthjaelp_2022.yaml")


def filled_answers(inst, rng: random.Random) -> dict:  # type: ignore[no-untyped-def]
    """A complete, valid set of answers (every applicable required item, plus some optional ones)."""
    from tests.review.fill import candidates_for

    answers: dict = {}
    for _ in range(500):
        todo = [n for n in inst.missing_required(answers) if inst.item(n).is_case_level]
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
        if item.name in answers or not app.get(item.name) or not item.is_case_level:
            continue
        if item.is_calculated or rng.random() < 0.3:
            continue
        for value in candidates_for(item):
            if not inst.check_answer(item.name, value, answers):
                answers[item.name] = value
                break
    return answers


def build(url: str, inst, rng: random.Random):  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from audit.auth import add_user
    from audit.db import make_engine, upgrade
    from audit.models import Answer, Audit, Case, Person
    from audit.population.municipalities import municipality_names
    from audit.review.answers import encode

    upgrade(url)
    engine = make_engine(url)
    names = municipality_names()[:98]
    assert len(names) == 98
    with Session(engine) as s:
        admin = add_user(s, username="ada", password=PASSWORD, role="admin")
        bo = add_user(s, username="bo", password=PASSWORD, role="auditor")
        audit = Audit(name="Bench 2022", period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                      reference_date=date(2020, 3, 1), municipalities_json=json.dumps(list(names)),
                      instrument_name="kontanthjaelp_2022.yaml", instrument_version=inst.version,
                      instrument_json=json.dumps(inst.to_dict(), ensure_ascii=False))
        s.add(audit)
        s.flush()
        persons = []
        for m in names:
            for k in range(15):
                persons.append(Person(audit_id=audit.id, person_id=f"{m}-{k}", municipality=m,
                                      seniority_years=5.5 + k % 3 * 2, seniority_band=("5-7", "7-10", "10+")[k % 3],
                                      sex=("mand", "kvinde")[k % 2], age=30 + k * 2, origin="dansk"))
        s.add_all(persons)
        s.flush()
        cases = [Case(audit_id=audit.id, person_pk=p.id, municipality=p.municipality, seniority_band=p.seniority_band,
                      stratum_population=50, stratum_sample=5, inclusion_probability=0.1, weight=10.0,
                      assigned_to=bo.id, status="in_progress") for p in persons]
        s.add_all(cases)
        s.flush()
        template = filled_answers(inst, rng)
        rows = []
        for c in cases:
            if rng.random() < 0.85:   # most cases answered
                c.status = "in_progress"
                for item, value in template.items():
                    rows.append(Answer(case_id=c.id, item=item, value_json=encode(value), updated_by=bo.id))
        s.add_all(rows)
        s.commit()
        ids = [c.id for c in cases]
        print(f"database: {len(names)} municipalities, {len(ids)} cases, {len(rows)} answers "
              f"({len(template)} per answered case), instrument {inst.version} with {len(inst.items)} items")
    return engine, ids


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(q * (len(values) - 1))))
    return values[k]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200, help="requests per measurement")
    ap.add_argument("--keep", help="directory to keep the database in")
    args = ap.parse_args()
    rng = random.Random(1470)
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="bench_review_"))
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "bench.sqlite"
    if db.exists():
        db.unlink()
    url = f"sqlite:///{db}"
    os.environ["AUDIT_DATABASE_URL"] = url
    os.environ.setdefault("AUDIT_SECRET_KEY", "bench-secret-key-not-for-production")
    os.environ.setdefault("AUDIT_DATA_DIR", str(workdir / "var"))
    inst = load_real_instrument()
    t0 = time.perf_counter()
    engine, ids = build(url, inst, rng)
    print(f"built in {time.perf_counter() - t0:.1f} s")

    from fastapi.testclient import TestClient

    from audit.web.app import create_app

    app = create_app(engine=engine)
    client = TestClient(app, headers={"accept": "text/html"})
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"username": "bo", "password": PASSWORD, "csrf_token": token})
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/review").text).group(1)

    for cid in ids[:5]:   # warm-up (templates compiled, instrument snapshot cached)
        client.get(f"/review/cases/{cid}")
    form_ms = []
    size = 0
    for k in range(args.n):
        cid = ids[rng.randrange(len(ids))]
        t = time.perf_counter()
        r = client.get(f"/review/cases/{cid}")
        form_ms.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.status_code
        size = max(size, len(r.content))

    save_ms = []
    cid = ids[0]
    version = int(re.search(r'id="form-version" name="version" value="(\d+)"',
                            client.get(f"/review/cases/{cid}").text).group(1))
    for k in range(args.n):
        value = "ja" if k % 2 == 0 else "nej"
        t = time.perf_counter()
        r = client.post(f"/review/cases/{cid}/answer", data={"item": "plan_job_goal", "value": value,
                                                             "version": str(version)},
                        headers={"X-CSRF-Token": token, "HX-Request": "true"})
        save_ms.append((time.perf_counter() - t) * 1000)
        assert "Saved" in r.text, r.text[:300]
        version = int(re.search(r'id="form-version" name="version" value="(\d+)"', r.text).group(1))

    print(f"GET  /review/cases/{{id}}  (full case form, {size / 1024:.0f} KiB)  n={args.n}  "
          f"median {statistics.median(form_ms):.1f} ms  p95 {pct(form_ms, 0.95):.1f} ms")
    print(f"POST /review/cases/{{id}}/answer (save one answer, skip logic flips)  n={args.n}  "
          f"median {statistics.median(save_ms):.1f} ms  p95 {pct(save_ms, 0.95):.1f} ms")


if __name__ == "__main__":
    main()
