"""A deterministic synthetic case frame in the contract's shape (docs/contracts.md),
for the exports tests and benchmark. Shares loosely follow the report; nothing here
is real case data."""
from __future__ import annotations

import numpy as np
import pandas as pd

from audit.population.age import AGE
from audit.sampling.bands import DEFAULT_BANDS, assign_bands, band_labels

MUNICIPALITIES = {"København": 4646, "Odense": 1590, "Aarhus": 1361, "Aalborg": 1220, "Esbjerg": 574,
                  "Slagelse": 558, "Vejle": 396, "Guldborgsund": 377, "Brøndby": 362, "Kolding": 338,
                  "Næstved": 316, "Lolland": 315, "Herning": 286, "Høje-Taastrup": 285, "Vordingborg": 223,
                  "Viborg": 222, "Sønderborg": 178, "Ballerup": 174, "Norddjurs": 154, "Faaborg-Midtfyn": 137,
                  "Vesthimmerland": 115, "Thisted": 109, "Fredensborg": 90, "Nordfyn": 75, "Middelfart": 63}
CHALLENGES = ("misbrug", "fysiske", "psykiske", "sociale", "sproglige", "laese_skrive_regne", "familie", "andet")
PREVALENCE = np.array([0.22, 0.70, 0.64, 0.20, 0.14, 0.07, 0.23, 0.04])
DEPARTMENTS = ("socialafdeling", "familieafdeling", "misbrugsafdeling", "sundhedsafdeling", "andre_offentlige",
               "laegekonsulent", "andet")
CERT_TYPES = ("lae105", "lae125", "lae145", "lae155", "lae265", "andet")
CERT_REASONS = ("helbredsaendring", "deltagelse_indsats", "raadighed", "visitation", "fritagelse",
                "afbud_samtaler", "afbud_tilbud", "generel_arbejdsevne")


def case_frame(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    munis = list(MUNICIPALITIES)
    bands = band_labels(DEFAULT_BANDS)
    municipality = rng.choice(munis, n)
    band = rng.choice(bands, n, p=[0.33, 0.33, 0.34])
    age = rng.integers(25, 67, n)
    age_band = AGE.assign(pd.Series(age)).to_numpy()
    sex = rng.choice(["mand", "kvinde"], n, p=[0.47, 0.53])
    origin = rng.choice(["dansk", "ikke-vestlig", "vestlig"], n, p=[0.70, 0.28, 0.02])
    # design: each municipality x band stratum has its register count and sample size
    strata = pd.Series([f"{m}|{b}" for m, b in zip(municipality, band)])
    n_h = strata.map(strata.value_counts()).to_numpy()
    N_h = np.array([max(int(MUNICIPALITIES[m] / 3), k) for m, k in zip(municipality, n_h)])
    direction = rng.choice(["jobrettet", "rehabiliterende", "fritaget"], n, p=[0.55, 0.34, 0.11])
    challenges: list[tuple[str, ...] | None] = []
    for _ in range(n):
        breadth = int(rng.choice([0, 1, 2, 3, 4, 5], p=[0.01, 0.26, 0.36, 0.24, 0.10, 0.03]))
        chosen = rng.choice(len(CHALLENGES), size=breadth, replace=False, p=PREVALENCE / PREVALENCE.sum())
        challenges.append(tuple(CHALLENGES[k] for k in sorted(chosen)))
    breadth_arr = np.array([len(c) for c in challenges])
    has_challenges = np.where(breadth_arr > 0, "ja", "nej")
    breadth_code = np.array(["4+" if b >= 4 else str(b) for b in breadth_arr], dtype=object)
    p_stable = np.choose(np.minimum(breadth_arr, 4), [0.30, 0.43, 0.47, 0.64, 0.82])
    stable = np.where(rng.random(n) < p_stable, "ja", "nej")
    yes = lambda p: np.where(rng.random(n) < p, "ja", "nej")  # noqa: E731
    focus_p = np.select([direction == "jobrettet", direction == "rehabiliterende"], [0.75, 0.46], 0.37)
    plan_exists = yes(0.95)
    plan_job_goal = np.where(plan_exists == "ja", yes(0.55), None)
    concrete = np.where(plan_job_goal == "ja", yes(0.88), None)
    exempt_225 = yes(0.83)
    justification = np.where(exempt_225 == "ja", rng.choice(["konkret", "standard", "ingen"], n, p=[0.62, 0.35, 0.03]),
                             None)
    company_p = np.select([direction == "jobrettet", direction == "rehabiliterende"], [0.62, 0.45], 0.10)
    efforts = yes(0.35)
    departments = [tuple(sorted(rng.choice(DEPARTMENTS, size=int(rng.integers(1, 3)), replace=False)))
                   if e == "ja" else None for e in efforts]
    certs = rng.poisson(1.4, n)
    has_certs = np.where(certs > 0, "ja", "nej")
    latest = np.where(certs > 0, rng.choice(CERT_TYPES, n), None)
    reason = np.where(certs > 0, rng.choice(CERT_REASONS, n), None)
    frame = pd.DataFrame({
        "case_id": np.arange(1, n + 1), "municipality": municipality, "seniority_band": band, "sex": sex,
        "age": age, "age_band": age_band, "origin": origin, "stratum": strata.to_numpy(),
        "stratum_population": N_h, "stratum_sample": n_h, "weight": N_h / n_h,
        "direction": direction, "has_challenges": has_challenges,
        "challenges": pd.Series([c if c else None for c in challenges], dtype=object),
        "challenge_breadth": breadth_code, "stable_participation": stable,
        "job_resource_focus": np.where(rng.random(n) < focus_p, "ja", "nej"),
        "plan_exists": plan_exists, "plan_job_goal": plan_job_goal, "plan_job_goal_concrete": concrete,
        "exempt_225": exempt_225, "exempt_225_justification": justification,
        "company_placement": np.where(rng.random(n) < company_p, "ja", "nej"),
        "meetings_other_departments": yes(0.25), "efforts_other_departments": efforts,
        "efforts_departments": pd.Series(departments, dtype=object),
        "medical_certificates": has_certs,
        "medical_certificates_count": pd.Series([int(c) if c > 0 else None for c in certs], dtype=object),
        "latest_certificate_type": latest, "latest_certificate_reason": reason,
        "interviews_count": rng.poisson(6, n), "ordinary_hours": yes(0.15), "personal_job_broker": yes(0.65),
        "mentor": yes(0.40), "coordination_cross_disciplinary": yes(0.52), "roundtable": yes(0.23),
        "activation_weeks_share": np.round(rng.beta(2.0, 3.5, n), 3),  # report: 36 % of the weeks
    })
    for col in ("plan_job_goal", "plan_job_goal_concrete", "exempt_225_justification", "latest_certificate_type",
                "latest_certificate_reason"):
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    _describe(frame)
    return frame


def _describe(frame: pd.DataFrame) -> None:
    """What a real case frame carries in attrs (docs/contracts.md): each item's statistics
    kind and its codes in the instrument's order, from the repository's instrument."""
    from audit.demo import INSTRUMENT_FILE
    from audit.instrument import load_instrument

    inst = load_instrument(INSTRUMENT_FILE)
    items = [i for i in inst.items_at("case") if i.name in frame.columns]
    frame.attrs["kinds"] = {i.name: i.stats_kind for i in items if i.stats_kind is not None}
    frame.attrs["orders"] = {i.name: i.codes for i in items if i.codes}


def population(seed: int = 1) -> pd.DataFrame:
    """A synthetic register population for Table 12 (the demo's: Table 11 counts, Table 12
    compositions), with the seniority band the sampling room assigns."""
    from audit.demo import generate_population

    people = generate_population(seed)
    people["seniority_band"] = assign_bands(people["seniority_years"], DEFAULT_BANDS)
    return people
