"""Fixtures for the instrument room: the real questionnaire and small files built in tmp_path."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from audit.instrument import Instrument, load_instrument

ROOT = Path(__file__).resolve().parents[2]
REAL_FILE = ROOT / "questionnaires" / "kontanthjaelp_2022.yaml"
BAD_DIR = Path(__file__).resolve().parent / "bad"

MINIMAL: dict[str, Any] = {
    "settings": {
        "id": "mini", "version": "0.1", "title": "Mini", "required_default": True,
        "themes": [{"number": 1, "da": "Et", "en": "One"},
                   {"number": 7, "da": "Syv", "en": "Seven", "level": "municipality"}],
    },
    "choices": {
        "direction": [{"code": "jobrettet", "da": "Jobrettet", "en": "Job"},
                      {"code": "rehabiliterende", "da": "Rehab", "en": "Rehab"},
                      {"code": "fritaget", "da": "Fritaget", "en": "Exempt"}],
        "challenges": [{"code": c, "da": c, "en": c} for c in
                       ("misbrug", "fysiske", "psykiske", "sociale", "sproglige",
                        "laese_skrive_regne", "familie", "andet")],
    },
    "survey": [
        {"type": "select_one direction", "name": "direction", "theme": 1, "label_da": "Retning", "label_en": "Direction"},
        {"type": "yes_no", "name": "q_yes", "theme": 1, "label_da": "Ja?", "label_en": "Yes?"},
        {"type": "select_multiple challenges", "name": "challenges", "theme": 1,
         "label_da": "Udfordringer", "label_en": "Challenges"},
        {"type": "integer", "name": "n", "theme": 1, "label_da": "Antal", "label_en": "Count"},
        {"type": "date", "name": "d", "theme": 1, "label_da": "Dato", "label_en": "Date"},
        {"type": "text", "name": "t", "theme": 1, "label_da": "Tekst", "label_en": "Text", "required": False},
        {"type": "scale", "name": "s", "theme": 7, "label_da": "Skala", "label_en": "Scale"},
    ],
}


def minimal() -> dict[str, Any]:
    """A fresh deep copy of the minimal valid questionnaire (tests mutate it)."""
    return copy.deepcopy(MINIMAL)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    """Write a questionnaire dict as YAML and return the path."""
    counter = {"n": 0}

    def _write(data: dict[str, Any] | str) -> Path:
        counter["n"] += 1
        path = tmp_path / f"q{counter['n']}.yaml"
        text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture(scope="session")
def real() -> Instrument:
    return load_instrument(REAL_FILE)


@pytest.fixture
def mini() -> dict[str, Any]:
    """A fresh copy of the minimal valid questionnaire, for tests to break."""
    return minimal()
