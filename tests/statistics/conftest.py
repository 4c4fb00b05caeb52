"""Fixtures for the statistics room: a small real instrument (built by the instrument
room's own loader, so the case frame sees the typed `Item`s it sees in production) and
case frames with known counts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.instrument import Instrument
from audit.instrument.loader import validate
from tests.statistics.frames import as_case_frame

# A few real items with the skip logic that matters for N: challenges only when
# has_challenges = ja, job_goal_concrete only when job_goal = ja; challenge_breadth derived.
SMALL_QUESTIONNAIRE = {
    "settings": {"id": "small", "version": "1", "title": "Small",
                 "themes": [{"number": 1, "da": "Sagen", "en": "The case"},
                            {"number": 7, "da": "Ledelse", "en": "Management", "level": "municipality"}]},
    "choices": {
        "challenges": [{"code": c, "da": c.capitalize(), "en": c} for c in ("misbrug", "fysiske", "psykiske",
                                                                              "sociale")],
        "challenge_breadth": [{"code": c, "da": c, "en": c} for c in ("0", "1", "2", "3", "4+")],
    },
    "survey": [
        {"type": "yes_no", "name": "has_challenges", "theme": 1, "label_da": "Udfordringer?", "label_en": "?"},
        {"type": "select_multiple challenges", "name": "challenges", "theme": 1, "label_da": "Hvilke?",
         "label_en": "Which?", "relevant": "${has_challenges} = 'ja'"},
        {"type": "yes_no", "name": "stable_participation", "theme": 1, "label_da": "Stabil?", "label_en": "?"},
        {"type": "yes_no", "name": "job_goal", "theme": 1, "label_da": "Jobmål?", "label_en": "?"},
        {"type": "yes_no", "name": "job_goal_concrete", "theme": 1, "label_da": "Konkret?", "label_en": "?",
         "relevant": "${job_goal} = 'ja'"},
        {"type": "integer", "name": "interviews_count", "theme": 1, "label_da": "Samtaler", "label_en": "?"},
        {"type": "yes_no", "name": "supervision", "theme": 7, "label_da": "Tilsyn?", "label_en": "?"},
        {"type": "calculate", "name": "challenge_breadth", "theme": 1, "choices": "challenge_breadth",
         "label_da": "Antal", "label_en": "Number",
         "calculation": "if(not answered(${has_challenges}), null, if(count_selected(${challenges}) >= 4, '4+', "
                        "if(count_selected(${challenges}) = 3, '3', if(count_selected(${challenges}) = 2, '2', "
                        "if(count_selected(${challenges}) = 1, '1', '0')))))"},
    ],
}


def small_instrument() -> Instrument:
    result = validate(SMALL_QUESTIONNAIRE)
    assert result.instrument is not None, result.problems
    return result.instrument


@pytest.fixture
def instrument() -> Instrument:
    return small_instrument()


# Report Table 2: breadth -> (yes, no). 43/99=43 %, 63/135=47 %, 58/90=64 %, 36/44=82 %.
TABLE2_COUNTS = {"1": (43, 56), "2": (63, 72), "3": (58, 32), "4+": (36, 8)}


def table2_frame() -> pd.DataFrame:
    """Case-level rows whose counts are the report's Table 2, plus 4 cases without challenges."""
    rows = []
    for breadth, (yes, no) in TABLE2_COUNTS.items():
        rows += [{"challenge_breadth": breadth, "stable_participation": "ja"}] * yes
        rows += [{"challenge_breadth": breadth, "stable_participation": "nej"}] * no
    rows += [{"challenge_breadth": "0", "stable_participation": "nej"}] * 4
    rows += [{"challenge_breadth": "2", "stable_participation": None}] * 3  # unanswered: not in N
    f = pd.DataFrame(rows)
    f["municipality"] = "X"
    f["stratum"] = "X|5-7"
    f["stratum_population"] = 1000
    return f


@pytest.fixture
def t2_frame() -> pd.DataFrame:
    return table2_frame()


def random_frame(n: int, seed: int = 0, n_items: int = 5) -> pd.DataFrame:
    """A synthetic case frame with register variables, strata and a mix of item kinds."""
    rng = np.random.default_rng(seed)
    munis = np.array(["København", "Odense", "Middelfart", "Nordfyn"])
    pops = {"København": 4646, "Odense": 1590, "Middelfart": 163, "Nordfyn": 175}  # N_h >= n_h up to 400 cases
    f = pd.DataFrame({
        "case_id": np.arange(1, n + 1),
        "municipality": rng.choice(munis, n),
        "seniority_band": rng.choice(["5-7", "7-10", "10+"], n),
        "sex": rng.choice(["mand", "kvinde"], n),
        "age": rng.integers(25, 66, n),
        "origin": rng.choice(["dansk", "ikke-vestlig", "vestlig"], n, p=[.7, .27, .03]),
    })
    from audit.statistics.variables import age_band
    f["age_band"] = f["age"].map(age_band)
    f["stratum"] = f["municipality"] + "|" + f["seniority_band"]
    f["stratum_population"] = f["municipality"].map(pops) // 3
    f["stratum_sample"] = f.groupby("stratum")["case_id"].transform("size")
    f["weight"] = f["stratum_population"] / f["stratum_sample"]
    f["direction"] = rng.choice(np.array(["jobrettet", "rehabiliterende", "fritaget"], dtype=object), n)
    codes = ["misbrug", "fysiske", "psykiske", "sociale", "sproglige"]
    f["challenges"] = [tuple(sorted(rng.choice(codes, rng.integers(1, 4), replace=False)))
                       if rng.random() < .9 else None for _ in range(n)]
    f["stable_participation"] = rng.choice(np.array(["ja", "nej", None], dtype=object), n, p=[.5, .45, .05])
    for i in range(n_items):
        vals = rng.choice(np.array(["ja", "nej", None], dtype=object), n, p=[.4, .4, .2])
        f[f"item_{i}"] = vals
    f["interviews_count"] = rng.integers(0, 25, n).astype(float)
    f.loc[rng.random(n) < .1, "interviews_count"] = np.nan
    return as_case_frame(f)


@pytest.fixture
def frame() -> pd.DataFrame:
    return random_frame(300, seed=7)


@pytest.fixture
def make_frame():
    """Factory: make_frame(n, seed=0, n_items=5) -> synthetic case frame."""
    return random_frame


# ----------------------------------------------------------------------------- the demo audit
# demo_db: tests/conftest.py (built once per session)
@pytest.fixture(scope="session")
def demo_frame(demo_db: str) -> pd.DataFrame:
    from sqlmodel import Session

    from audit.db import make_engine
    from audit.statistics.dataset import load_case_frame

    engine = make_engine(demo_db)
    with Session(engine) as s:
        f = load_case_frame(s, "Demo 2022")
    engine.dispose()
    return f


@pytest.fixture
def demo_cli(demo_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path):  # type: ignore[no-untyped-def]
    """Runs `audit ...` against the demo database; returns the command's output."""
    import audit.config
    import audit.db
    from click.testing import CliRunner

    from audit.cli import main

    monkeypatch.setenv("AUDIT_DATABASE_URL", demo_db)
    monkeypatch.setenv("AUDIT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AUDIT_SECRET_KEY", "test-secret-key-not-for-production")
    audit.config.get_settings.cache_clear()
    audit.db.get_engine.cache_clear()

    def run(*args: str) -> str:
        res = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res.output

    yield run
    audit.config.get_settings.cache_clear()
    audit.db.get_engine.cache_clear()
