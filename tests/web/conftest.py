from __future__ import annotations

import pytest

from tests.hearing.world import use_instrument
from tests.web.world import WebWorld, make_web_world


@pytest.fixture
def web_world(engine, make_user, monkeypatch) -> WebWorld:  # type: ignore[no-untyped-def]
    w = make_web_world(engine, make_user)
    use_instrument(monkeypatch, w.hearing.instrument)
    return w
