"""The demo audit: a synthetic register population, a drawn sample, users of each
role and synthetic reviews whose answer shares follow the published report
(audit/data/demo.yaml). Everything goes through the same functions a real audit
uses (import, draw, instrument), so the demo also exercises them. Deterministic
for a given seed."""
from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from audit import csvio, resources
from audit.instrument import Instrument, Item
from audit.population.age import AGE

DEMO_FILE = resources.data_file("demo.yaml")
INSTRUMENT_FILE = resources.questionnaire()
YOUNGEST, OLDEST = 25, 66  # the demo's synthetic citizens are 25 to 66 years old


def _age_ranges() -> dict[str, tuple[int, int]]:
    """The ages drawn for each age band (the register definition's): its lower edge to the next one."""
    edges = [max(YOUNGEST, e) if e != float("-inf") else YOUNGEST for e in AGE.edges] + [OLDEST + 1]
    return {code: (int(lo), int(hi) - 1) for code, lo, hi in zip(AGE.codes, edges, edges[1:])}


AGE_RANGES = _age_ranges()


def load_spec() -> dict[str, Any]:
    with DEMO_FILE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _pick(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    codes = list(shares)
    p = np.array([shares[c] for c in codes], dtype=float)
    return rng.choice(codes, size=size, p=p / p.sum())


def generate_population(seed: int, spec: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per synthetic person: Table 11 counts per municipality, Table 12 compositions per band."""
    spec = spec or load_spec()
    rng = np.random.default_rng(seed)
    bands = spec["bands"]
    frames = []
    next_id = 1
    for municipality, count in spec["population"].items():
        band = _pick(rng, {b: v["share"] for b, v in bands.items()}, count)
        sex = np.empty(count, dtype=object)
        age = np.empty(count, dtype=int)
        origin = np.empty(count, dtype=object)
        years = np.empty(count, dtype=float)
        for b, v in bands.items():
            idx = np.flatnonzero(band == b)
            n = len(idx)
            sex[idx] = np.where(rng.random(n) < v["mand"], "mand", "kvinde")
            ab = _pick(rng, v["age"], n)
            lo = np.array([AGE_RANGES[a][0] for a in ab])
            hi = np.array([AGE_RANGES[a][1] for a in ab])
            age[idx] = rng.integers(lo, hi + 1)
            origin[idx] = _pick(rng, v["origin"], n)
            start, end = v["years"]
            if b.endswith("+"):  # long tail: most just over 10 years, a few up to 28
                yrs = start + np.minimum(rng.exponential(5.0, n), end - start - 0.01)
            else:
                yrs = rng.uniform(start, end - 0.01, n)
            years[idx] = np.round(yrs, 2)
        frames.append(pd.DataFrame({
            "person_id": [f"P{next_id + i:06d}" for i in range(count)],
            "municipality": municipality, "seniority_years": years,
            "sex": sex, "age": age, "origin": origin}))
        next_id += count
    return pd.concat(frames, ignore_index=True)


@dataclass
class AnswerGenerator:
    """Synthetic answers for one case, item by item in instrument order, so
    relevance sees the answers it depends on. Key items follow the report's shares."""

    instrument: Instrument
    spec: dict[str, Any]
    rng: np.random.Generator
    answers: dict[str, Any] = field(default_factory=dict)

    def _yes(self, item: str) -> str:
        share = self.spec["yes_shares"].get(item, self.spec["default_yes_share"])
        if isinstance(share, dict):
            share = share["by_direction"].get(self.answers.get("direction"), self.spec["default_yes_share"])
        return "ja" if self.rng.random() < share else "nej"

    def _challenges(self) -> list[str]:
        breadth = int(_pick(self.rng, self.spec["challenge_breadth"], 1)[0])
        prevalence = self.spec["challenge_prevalence"]
        codes = list(prevalence)
        p = np.array([prevalence[c] for c in codes])
        chosen = self.rng.choice(codes, size=min(breadth, len(codes)), replace=False, p=p / p.sum())
        return sorted(str(c) for c in chosen)

    def value(self, item: Item) -> Any:
        name, kind = item.name, item.type
        if name == "direction":
            return str(_pick(self.rng, self.spec["direction"], 1)[0])
        if name == "challenges":
            return self._challenges()
        if name == "stable_participation":
            n = len(self.answers.get("challenges") or [])
            key = "4+" if n >= 4 else str(n)
            share = self.spec["stable_participation_by_breadth"][key]
            return "ja" if self.rng.random() < share else "nej"
        if kind == "yes_no":
            return self._yes(name)
        if kind == "yes_no_na":
            return "ikke_relevant" if self.rng.random() < 0.1 else self._yes(name)
        codes = [c.code for c in item.choices] if item.choices else []
        if kind.startswith("select_one"):
            return str(self.rng.choice(codes))
        if kind.startswith("select_multiple"):
            k = int(self.rng.integers(1, min(3, len(codes)) + 1))
            return sorted(str(c) for c in self.rng.choice(codes, size=k, replace=False))
        if kind == "integer":
            return int(self.rng.poisson(4))
        if kind == "scale":
            return int(self.rng.integers(1, 6))
        if kind == "date":
            return str(date(2018, 3, 1) + pd.Timedelta(days=int(self.rng.integers(0, 729))))[:10]
        if kind == "text":
            return None  # free text is left to real auditors
        return None

    def fill(self, level: str = "case") -> dict[str, Any]:
        inst = self.instrument
        for item in inst.items:
            if item.is_calculated or item.level != level:
                continue
            if not inst.applicable(self.answers).get(item.name, False):
                continue
            value = self.value(item)
            if value is None or inst.check_answer(item.name, value, self.answers):
                continue  # an answer the item's constraint refuses is left out
            self.answers[item.name] = value
        applicable = inst.applicable(self.answers)
        return {k: v for k, v in self.answers.items() if applicable.get(k, False)}


def demo_users(municipalities: list[str]) -> list[dict[str, str | None]]:
    """An admin, three auditors and a municipality user for each of three municipalities."""
    users: list[dict[str, str | None]] = [{"username": "admin", "role": "admin", "municipality": None}]
    users += [{"username": f"revisor{i}", "role": "auditor", "municipality": None} for i in (1, 2, 3)]
    for m in municipalities[:3]:
        slug = m.lower().replace("ø", "oe").replace("æ", "ae").replace("å", "aa").replace("-", "")
        users.append({"username": slug, "role": "municipality", "municipality": m})
    return users


def new_password() -> str:
    return secrets.token_urlsafe(9)


def build_demo(session: Any, seed: int | None = None, progress: bool = False) -> dict[str, Any]:
    """Create the whole demo audit in the caller's transaction. Returns the users with
    their one-time passwords and a few counts."""
    from sqlmodel import select

    from audit import auditlog
    from audit.audits import bind_instrument, create_audit
    from audit.auth import add_user
    from audit.instrument import load_instrument
    from audit.models import Answer, Case, User, utcnow
    from audit.population.importer import import_population
    from audit.review.answers import encode
    from audit.review.assignment import assign_round_robin, municipality_review
    from audit.sampling.draw import draw_sample

    spec = load_spec()
    a = spec["audit"]
    seed = a["seed"] if seed is None else seed
    municipalities = list(spec["population"])
    audit = create_audit(session, a["name"], period_start=a["period_start"], period_end=a["period_end"],
                         reference_date=a["reference_date"], municipalities=municipalities)
    bind_instrument(session, audit, INSTRUMENT_FILE)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "register_demo.csv"
        csvio.write(path, *csvio.frame_rows(generate_population(seed, spec)), csvio.SCRIPTS)
        import_population(session, audit, path, progress=progress)
    draw_sample(session, audit, per_stratum=a["per_stratum"], seed=seed, reserves=a["reserves"], by="demo")

    credentials = []
    for u in demo_users(municipalities):
        password = new_password()
        add_user(session, username=str(u["username"]), password=password, role=str(u["role"]),
                 municipality=u["municipality"])
        credentials.append({**u, "password": password})
    auditors = session.exec(select(User).where(User.role == "auditor").order_by(User.username)).all()
    assign_round_robin(session, audit, list(auditors), None)

    inst = load_instrument(INSTRUMENT_FILE)
    rng = np.random.default_rng(seed)
    cases = session.exec(select(Case).where(Case.audit_id == audit.id, Case.active == True)  # noqa: E712
                         .order_by(Case.id)).all()
    states = _pick(rng, spec["progress"], len(cases))
    now = utcnow()
    rows = []
    for case, state in zip(cases, states):
        if state == "not_started":
            continue
        answers = AnswerGenerator(inst, spec, rng).fill("case")
        if state == "in_progress":  # half-way through the instrument
            keep = [i.name for i in inst.items if i.name in answers][: max(1, len(answers) // 2)]
            answers = {k: answers[k] for k in keep}
        for item, value in answers.items():
            rows.append({"case_id": case.id, "item": item, "pass_no": 1, "value_json": encode(value),
                         "note": "", "updated_at": now, "updated_by": case.assigned_to})
        case.status = str(state)
        case.version = len(answers)
        case.completed_at = now if state == "completed" else None
        session.add(case)
    for m in municipalities:
        review = municipality_review(session, audit, m)
        answers = AnswerGenerator(inst, spec, rng).fill("municipality")
        for item, value in answers.items():
            rows.append({"case_id": None, "municipality_review_id": review.id, "item": item, "pass_no": 1,
                         "value_json": encode(value), "note": "", "updated_at": now, "updated_by": None})
        review.status = "completed"
        session.add(review)
    session.flush()
    if rows:
        from sqlalchemy import insert
        for start in range(0, len(rows), 5000):
            session.connection().execute(insert(Answer.__table__), rows[start:start + 5000])
    auditlog.record(session, user=None, audit_id=audit.id, entity="audit", entity_id=audit.id,
                    field="demo", new={"answers": len(rows), "cases": len(cases)},
                    reason="synthetic demo reviews generated")
    # A comment round open for the municipalities that have a demo login, so the municipality
    # role can be tried at once: their completed cases are in hearing for four weeks.
    from datetime import date, timedelta

    from audit.hearing.rounds import open_round

    in_round = [str(u["municipality"]) for u in demo_users(municipalities) if u["municipality"]]
    admin = session.exec(select(User).where(User.username == "admin")).one()
    deadline = date.today() + timedelta(days=28)
    open_round(session, audit, in_round, deadline, admin)
    return {"audit": audit.name, "population": int(sum(spec["population"].values())),
            "cases": len(cases), "answers": len(rows), "users": credentials,
            "round": {"municipalities": in_round, "deadline": deadline.isoformat()}}
