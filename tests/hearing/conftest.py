from __future__ import annotations

import pytest

from tests.hearing.world import HearingWorld, make_world, use_instrument


@pytest.fixture
def world(engine, make_user, monkeypatch) -> HearingWorld:  # type: ignore[no-untyped-def]
    w = make_world(engine, make_user)
    use_instrument(monkeypatch, w.instrument)
    return w
