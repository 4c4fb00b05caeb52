"""The demo audit: a synthetic register population, a drawn sample, users of each
role and synthetic reviews whose answer shares follow the published report
(audit/data/demo.yaml). Everything goes through the same functions a real audit
uses (import, draw, instrument), so the demo also exercises them. Deterministic
for a given seed."""
from __future__ import annotations

import secrets
import tempfile
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
    people = pd.concat(frames, ignore_index=True)
    if spec.get("register_variables"):
        people = add_register_variables(people, spec["register_variables"], rng)
    return people


def _demo_snapshots(session: Any, audit: Any, snapshots: dict[str, dict[str, int]], municipalities: list[str],
                    seed: int, folder: Path) -> None:
    """Seed 000's group at two dates through the real snapshot import: exactly the published
    persons per benefit status, the group of the later date the earlier one's plus newcomers."""
    import datetime as dt

    from audit.population.snapshots import import_snapshot

    rng = np.random.default_rng(seed + 1)
    largest = max((sum(c.values()) for c in snapshots.values()), default=0)
    homes = rng.choice(np.array(municipalities, dtype=object), largest)  # a person keeps one municipality
    for day, counts in snapshots.items():
        status = np.repeat(np.array(list(counts), dtype=object), list(counts.values()))
        rng.shuffle(status)
        frame = pd.DataFrame({"person_id": [f"G{i + 1:06d}" for i in range(len(status))],
                              "municipality": homes[:len(status)],
                              "benefit_status": status})
        path = folder / f"snapshot_{day}.csv"
        csvio.write(path, *csvio.frame_rows(frame), csvio.SCRIPTS)
        import_snapshot(session, audit, path, as_of=dt.date.fromisoformat(str(day)))


def _banded(rng: np.random.Generator, bands: list[list[float]], size: int) -> np.ndarray:
    """Whole numbers drawn per band [share, lowest, highest], uniform within the band."""
    shares = np.array([b[0] for b in bands], dtype=float)
    which = rng.choice(len(bands), size=size, p=shares / shares.sum())
    lo = np.array([b[1] for b in bands])[which]
    hi = np.array([b[2] for b in bands])[which]
    return rng.integers(lo, hi + 1)


def add_register_variables(people: pd.DataFrame, spec: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
    """The register variables of the report's register exhibits (registers/kontanthjaelp_2022.yaml),
    drawn to the shares in demo.yaml, consistent with each other: company weeks only for persons
    with weeks in offers, whose offer weeks are at least their placement weeks, the offer types adding up to the offer weeks."""
    n = len(people)
    out = people.copy()
    out["status_before_spell"] = _pick(rng, spec["status_before_spell"], n)
    out["spell_transition"] = _pick(rng, spec["spell_transition"], n)
    out["interviews_period"] = _banded(rng, spec["interviews_period"], n)
    activation = _banded(rng, spec["activation_weeks_period"], n)
    company_bands = spec["company_weeks_period"]
    placed_share = 1 - company_bands[0][0]
    active = activation > 0
    placed = active & (rng.random(n) < placed_share / max(active.mean(), 1e-9))
    company = np.where(placed, _banded(rng, company_bands[1:], n), 0)
    activation = np.maximum(activation, company)  # a placement is an offer: never more weeks than in offers
    internship = np.round(company * spec["internship_share_of_company_weeks"]).astype(int)
    rest = activation - company
    other = {code: np.round(rest * share).astype(int) for code, share in spec["other_offer_shares"].items()}
    out["activation_weeks_period"] = activation
    out["company_weeks_period"] = company
    out["weeks_virksomhedspraktik"] = internship
    out["weeks_loentilskud"] = company - internship
    for code, weeks in other.items():
        out[code] = weeks
    out["weeks_vejledning_opkvalificering"] = rest - sum(other.values())
    hours = rng.random(n) < spec["ordinary_hours_share"]
    out["ordinary_hours_months"] = np.where(hours, rng.integers(1, 25, n), 0)
    return out


def _gumbel_top(rng: np.random.Generator, weights: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Per row, a boolean mask of k[row] columns drawn without replacement with probability
    proportional to `weights` (the Gumbel top-k trick: the same law as drawing one by one)."""
    n, m = len(k), len(weights)
    keys = np.log(weights)[None, :] + rng.gumbel(size=(n, m))
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    return rank < k[:, None]


class AnswerGenerator:
    """Synthetic answers for n cases (or municipalities) at once, item by item in instrument
    order, so relevance sees the answers it depends on: the instrument's compiled skip logic
    (`audit.instrument.columns`) says which cases an item applies to, the spec's shares give
    the answers, and an answer the item's constraint refuses is left out. Key items follow the
    report's shares (audit/data/demo.yaml)."""

    def __init__(self, instrument: Instrument, spec: dict[str, Any], rng: np.random.Generator) -> None:
        from audit.instrument.columns import engine_for

        self.instrument = instrument
        self.spec = spec
        self.rng = rng
        self.engine = engine_for(instrument)

    def _yes(self, name: str, values: dict[str, np.ndarray], n: int) -> np.ndarray:
        share = self.spec["yes_shares"].get(name, self.spec["default_yes_share"])
        if isinstance(share, dict):
            by = share["by_direction"]
            default = self.spec["default_yes_share"]
            direction = values.get("direction", np.full(n, None, dtype=object))
            share = np.array([by.get(d, default) for d in direction], dtype=float)
        return np.where(self.rng.random(n) < share, "ja", "nej").astype(object)

    def _challenges(self, codes: list[str], n: int) -> np.ndarray:
        breadth = np.array(_pick(self.rng, self.spec["challenge_breadth"], n), dtype=int)
        prevalence = self.spec["challenge_prevalence"]
        weights = np.array([prevalence.get(c, 0.0) for c in codes], dtype=float)
        usable = weights > 0
        mask = np.zeros((n, len(codes)), dtype=bool)
        mask[:, usable] = _gumbel_top(self.rng, weights[usable], np.minimum(breadth, int(usable.sum())))
        return _code_lists(codes, mask)

    def values(self, item: Item, values: dict[str, np.ndarray], n: int) -> np.ndarray:
        """Candidate answers for every one of the n rows (the caller keeps the applicable ones)."""
        name, kind = item.name, item.type
        rng = self.rng
        codes = [c.code for c in item.choices] if item.choices else []
        if name == "direction":
            return np.array(_pick(rng, self.spec["direction"], n), dtype=object)
        if name == "challenges":
            return self._challenges(codes, n)
        if name == "stable_participation":
            breadth = np.array([len(c) if isinstance(c, tuple) else 0 for c in
                                values.get("challenges", np.full(n, None, dtype=object))])
            table = self.spec["stable_participation_by_breadth"]
            share = np.array([table["4+" if b >= 4 else str(b)] for b in breadth], dtype=float)
            return np.where(rng.random(n) < share, "ja", "nej").astype(object)
        if kind == "yes_no":
            return self._yes(name, values, n)
        if kind == "yes_no_na":
            yes = self._yes(name, values, n)
            return np.where(rng.random(n) < 0.1, "ikke_relevant", yes).astype(object)
        if kind == "select_one":
            return np.array(codes, dtype=object)[rng.integers(0, len(codes), n)]
        if kind == "select_multiple":
            k = rng.integers(1, min(3, len(codes)) + 1, n)
            return _code_lists(codes, _gumbel_top(rng, np.ones(len(codes)), k))
        if kind == "integer":
            return rng.poisson(4, n).astype(object)
        if kind == "scale":
            return rng.integers(1, 6, n).astype(object)
        if kind == "date":
            days = rng.integers(0, 729, n)
            return (np.datetime64("2018-03-01") + days).astype(str).astype(object)
        if kind == "text":   # an auditor's short note (synthetic)
            return np.array(DEMO_TEXTS, dtype=object)[rng.integers(0, len(DEMO_TEXTS), n)]
        return np.full(n, None, dtype=object)

    def _again(self, item: Item, values: dict[str, np.ndarray], n: int, attempt: int) -> np.ndarray:
        """Another draw for rows whose value was refused: counts over a wider range (the last
        try 0), other items as at first."""
        if item.type == "integer":
            return (np.zeros(n, dtype=int) if attempt == RETRIES - 1 else self.rng.integers(0, 61, n)).astype(object)
        return self.values(item, values, n)

    def columns(self, n: int, level: str = "case") -> dict[str, np.ndarray]:
        """Answers of n cases (or municipalities, level 'municipality'), one object array per
        answered item (None: not answered; multiple choice as tuples)."""
        from audit.instrument.columns import clean, objects

        engine = self.engine

        def supply(item: Item, applies: np.ndarray, values: dict[str, np.ndarray]) -> np.ndarray | None:
            if item.level != level:
                return None
            raw = self.values(item, values, n)
            raw[~applies] = None
            # a value the item's constraint refuses is drawn again (a completed review has it
            # answered); what is still refused after that is left out (complete_answers)
            for attempt in range(RETRIES + 1):
                cleaned = objects([clean(item, v) for v in raw])
                refused = ~engine.constraint_holds(item, cleaned, values) & np.not_equal(cleaned, None)
                if attempt == RETRIES or not refused.any():
                    break
                raw[refused] = self._again(item, values, n, attempt)[refused]
            raw[refused] = None
            return raw

        result = engine.run({}, n, supply=supply, order=engine.generation_order())
        return {i.name: result.values[i.name] for i in self.instrument.items
                if not i.is_calculated and i.level == level}

    def fill(self, n: int, level: str = "case") -> list[dict[str, Any]]:
        """The same answers as one dict per row (multiple choice as lists, as stored)."""
        rows: list[dict[str, Any]] = [{} for _ in range(n)]
        for name, col in self.columns(n, level).items():
            for r in np.flatnonzero(np.not_equal(col, None)):
                v = col[r]
                rows[r][name] = list(v) if isinstance(v, tuple) else v
        return rows


# Plausible free text for the demo's text items (an auditor's short notes; synthetic).
DEMO_TEXTS = (
    "Fremgår af journalnotat fra seneste samtale.",
    "Borgeren har deltaget i virksomhedspraktik; forløbet blev afbrudt pga. helbred.",
    "Sagsbehandler beskriver behov for afklaring af arbejdsevne.",
    "Planen nævner mentorstøtte og et kursus i dansk.",
    "Der er indhentet lægeattest; udtalelse afventes.",
    "Borgeren ønsker job inden for lager og logistik.",
)
RETRIES = 8               # new draws for a value an item's constraint refuses
THEME7_NOT_ANSWERED = 3   # as in the report, 3 of the 25 municipalities did not answer theme 7


def _candidates(item: Item, rng: np.random.Generator) -> list[Any]:
    """Values to try, in a random order, for a required item the generator left unanswered."""
    codes = [c.code for c in item.choices] if item.choices else []
    kind = item.type
    if kind == "text":
        return [DEMO_TEXTS[int(i)] for i in rng.permutation(len(DEMO_TEXTS))]
    if kind == "select_multiple":
        return [[codes[int(i)]] for i in rng.permutation(len(codes))]
    if codes:
        return [codes[int(i)] for i in rng.permutation(len(codes))]
    if kind == "integer":
        return [int(v) for v in rng.permutation([0, 1, 2, 3, 4, 6, 8, 12])]
    if kind == "scale":
        return [int(v) for v in rng.permutation([1, 2, 3, 4, 5])]
    if kind == "date":
        return [str(np.datetime64("2018-03-01") + int(d)) for d in rng.integers(0, 729, 6)]
    return []


def complete_answers(inst: Instrument, answers: dict[str, Any], rng: np.random.Generator,
                     level: str = "case") -> dict[str, Any]:
    """`answers` with every applicable required item of `level` answered: what a completed
    review must be (`missing_for_case` empty). Items the generator left out (free text, a value
    its constraint refused) get the first candidate the instrument accepts; an answer can make
    further items apply, so this repeats until nothing is missing."""
    answers = dict(answers)
    for _ in range(20):
        missing = inst.missing_required(answers, level)
        if not missing:
            return answers
        for name in missing:
            item = inst.item(name)
            for value in _candidates(item, rng):
                if not inst.check_answer(name, value, answers):
                    answers[name] = value
                    break
            else:
                raise ValueError(f"demo: no acceptable value for required item {name}")
    raise ValueError(f"demo: required items still missing: {inst.missing_required(answers, level)}")


def _code_lists(codes: list[str], mask: np.ndarray) -> np.ndarray:
    """Per row the ticked codes in the instrument's order (None when none is ticked)."""
    out = np.empty(len(mask), dtype=object)
    for r, row in enumerate(mask):
        out[r] = tuple(c for c, on in zip(codes, row) if on) or None
    return out


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
    from audit.audits import bind_instrument, create_audit, instrument_for
    from audit.auth import add_user
    from audit.bulk import insert_rows
    from audit.dataversion import bump_data_version
    from audit.models import Answer, Case, User, utcnow
    from audit.review.workflow import MUNICIPALITY_NOT_ANSWERED
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
        _demo_snapshots(session, audit, spec.get("snapshots") or {}, municipalities, seed, Path(tmp))
    draw_sample(session, audit, per_stratum=a["per_stratum"], seed=seed, reserves=a["reserves"], by="demo")

    credentials = []
    for u in demo_users(municipalities):
        password = new_password()
        add_user(session, username=str(u["username"]), password=password, role=str(u["role"]),
                 municipality=u["municipality"])
        credentials.append({**u, "password": password})
    auditors = session.exec(select(User).where(User.role == "auditor").order_by(User.username)).all()
    assign_round_robin(session, audit, list(auditors), None)

    inst = instrument_for(audit)  # the frozen copy just bound (no second read of the YAML file)
    rng = np.random.default_rng(seed)
    cases = session.exec(select(Case).where(Case.audit_id == audit.id, Case.active == True)  # noqa: E712
                         .order_by(Case.id)).all()
    states = _pick(rng, spec["progress"], len(cases))
    now = utcnow()
    generated = AnswerGenerator(inst, spec, rng).fill(len(cases), "case")
    rows = []
    for case, state, answers in zip(cases, states, generated):
        if state == "not_started":
            continue
        if state == "in_progress":  # half-way through the instrument
            keep = [i.name for i in inst.items if i.name in answers][: max(1, len(answers) // 2)]
            answers = {k: answers[k] for k in keep}
        else:   # a completed review answers every applicable required item
            answers = complete_answers(inst, answers, rng)
        for item, value in answers.items():
            rows.append((case.id, None, item, 1, encode(value), "", now, case.assigned_to))
        case.status = str(state)
        case.version = len(answers)
        case.completed_at = now if state == "completed" else None
        session.add(case)
    in_round = [str(u["municipality"]) for u in demo_users(municipalities) if u["municipality"]]
    silent = set(rng.choice([m for m in municipalities if m not in in_round], THEME7_NOT_ANSWERED, replace=False))
    for m, answers in zip(municipalities, AnswerGenerator(inst, spec, rng).fill(len(municipalities),
                                                                                "municipality")):
        review = municipality_review(session, audit, m)
        session.flush()
        assert review.id is not None
        if m in silent:   # did not answer: no theme-7 answers, recorded as such (the report's "3 af 25")
            review.status = MUNICIPALITY_NOT_ANSWERED
            session.add(review)
            continue
        answers = complete_answers(inst, answers, rng, "municipality")
        for item, value in answers.items():
            rows.append((None, review.id, item, 1, encode(value), "", now, None))
        review.status = "completed"
        review.version = len(answers)
        session.add(review)
    session.flush()
    insert_rows(session, Answer.__table__, ("case_id", "municipality_review_id", "item", "pass_no", "value_json",
                                            "note", "updated_at", "updated_by"), rows)
    bump_data_version(session, audit.id)
    auditlog.record(session, user=None, audit_id=audit.id, entity="audit", entity_id=audit.id,
                    field="demo", new={"answers": len(rows), "cases": len(cases)},
                    reason="synthetic demo reviews generated")
    # A comment round open for the municipalities that have a demo login, so the municipality
    # role can be tried at once: their completed cases are in hearing for four weeks.
    from datetime import date, timedelta

    from audit.hearing.rounds import open_round

    admin = session.exec(select(User).where(User.username == "admin")).one()
    deadline = date.today() + timedelta(days=28)
    open_round(session, audit, in_round, deadline, admin)
    return {"audit": audit.name, "population": int(sum(spec["population"].values())),
            "cases": len(cases), "answers": len(rows), "users": credentials,
            "round": {"municipalities": in_round, "deadline": deadline.isoformat()}}


def _encoder() -> Any:
    """`encode` of an answer value, memoised per distinct value (answers repeat a few codes)."""
    from audit.review.answers import encode

    memo: dict[Any, str | None] = {}

    def enc(value: Any) -> str | None:
        key = (type(value), value)
        text = memo.get(key)
        if text is None:
            text = memo[key] = encode(list(value) if isinstance(value, tuple) else value)
        return text
    return enc


SYNTHETIC_STATUSES = {"completed": 0.80, "in_hearing": 0.05, "final": 0.03, "in_progress": 0.07,
                      "not_started": 0.05}


def build_synthetic_audit(session: Any, name: str, *, cases: int, seed: int = 1, chunk: int = 10_000,
                          progress: Any = None) -> dict[str, Any]:
    """A large synthetic audit for scale tests and benchmarks, in the caller's transaction:
    all 98 municipalities x 3 seniority bands, `ceil(cases / 294)` cases per stratum drawn
    (by the real import and draw) from a register twice that size, review states mixed
    (`SYNTHETIC_STATUSES`), and answers generated with the instrument's skip logic
    (`AnswerGenerator`), written with bulk inserts (`audit.bulk`). Deterministic per seed."""
    import math

    from sqlalchemy import select, update

    from audit.audits import bind_instrument, create_audit, instrument_for
    from audit.bulk import insert_rows
    from audit.dataversion import bump_data_version
    from audit.models import Answer, Case, utcnow
    from audit.population.importer import import_population
    from audit.population.municipalities import municipality_names
    from audit.sampling.draw import draw_sample

    spec = load_spec()
    rng = np.random.default_rng(seed)
    names = list(municipality_names())
    per_stratum = max(1, math.ceil(cases / (len(names) * 3)))
    audit = create_audit(session, name, period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                         reference_date=date(2020, 3, 1))
    bind_instrument(session, audit, INSTRUMENT_FILE)
    inst = instrument_for(audit)
    k = 2 * per_stratum
    municipality = np.repeat(np.array(names, dtype=object), 3 * k)
    low = np.tile(np.repeat([5.0, 7.0, 10.0], k), len(names))
    years = np.round(low + rng.uniform(0, 1.99, len(low)) * np.where(low == 10.0, 4, 1), 2)
    people = pd.DataFrame({"person_id": [f"S{i:08d}" for i in range(len(low))], "municipality": municipality,
                           "seniority_years": years, "sex": rng.choice(["mand", "kvinde"], len(low)),
                           "age": rng.integers(25, 67, len(low)),
                           "origin": rng.choice(["dansk", "vestlig", "ikke-vestlig"], len(low), p=[.6, .05, .35])})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "register.csv"
        csvio.write(path, *csvio.frame_rows(people), csvio.SCRIPTS)
        import_population(session, audit, path)
    draw_sample(session, audit, per_stratum=per_stratum, seed=seed, reserves=1, by="synthetic")
    c = Case.__table__.c
    ids = [r[0] for r in session.connection().execute(
        select(c.id).where(c.audit_id == audit.id, c.active.is_(True)).order_by(c.id))]
    states = np.array(_pick(rng, SYNTHETIC_STATUSES, len(ids)), dtype=object)
    conn = session.connection()
    for state in SYNTHETIC_STATUSES:
        chosen = [i for i, st in zip(ids, states) if st == state]
        for lo in range(0, len(chosen), 900):
            conn.execute(update(Case.__table__).where(c.id.in_(chosen[lo:lo + 900])).values(status=state))
    enc = _encoder()
    now = utcnow()
    generator = AnswerGenerator(inst, spec, rng)
    answered = [i for i, st in zip(ids, states) if st != "not_started"]
    written = 0
    for lo in range(0, len(answered), chunk):
        part = answered[lo:lo + chunk]
        cols = generator.columns(len(part), "case")

        def rows(part: list[int] = part, cols: dict[str, np.ndarray] = cols) -> Any:
            for name, col in cols.items():
                for r in np.flatnonzero(np.not_equal(col, None)).tolist():
                    yield (part[r], name, 1, enc(col[r]), "", now)
        written += insert_rows(session, Answer.__table__,
                               ("case_id", "item", "pass_no", "value_json", "note", "updated_at"), rows())
        if progress is not None:
            progress(len(part))
    bump_data_version(session, audit.id)
    return {"audit": audit.name, "audit_id": audit.id, "cases": len(ids), "answered_cases": len(answered),
            "answers": written, "per_stratum": per_stratum, "register": len(people)}
