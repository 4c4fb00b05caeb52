"""An audit is bound to one instrument version: snapshots round-trip, and a changed
file is detected but never alters the stored snapshot."""
from __future__ import annotations

import json
import re

import pytest

from audit.instrument import Instrument, InstrumentError, bind_check, load_instrument
from conftest import REAL_FILE


def test_version_is_settings_version_plus_content_hash(real: Instrument):
    assert re.fullmatch(r"1\.0:[0-9a-f]{12}", real.version)


def test_snapshot_round_trip(real: Instrument):
    snap = json.loads(json.dumps(real.to_dict()))         # what the database stores
    again = Instrument.from_dict(snap)
    assert again.version == real.version
    assert [i.name for i in again.items] == [i.name for i in real.items]
    answers = {"has_challenges": "ja", "challenges": ["misbrug", "sociale"], "plan_exists": "ja", "plan_job_goal": "ja"}
    assert again.applicable(answers) == real.applicable(answers)
    assert again.derive(answers) == real.derive(answers)


def test_comments_and_layout_do_not_change_the_version(tmp_path):
    text = REAL_FILE.read_text(encoding="utf-8")
    copy = tmp_path / "copy.yaml"
    copy.write_text("# an extra comment\n" + text.replace("survey:\n", "survey:   \n", 1), encoding="utf-8")
    assert load_instrument(copy).version == load_instrument(REAL_FILE).version


def test_changed_file_detected_and_snapshot_unchanged(tmp_path, real: Instrument):
    snap = real.to_dict()
    frozen = json.dumps(snap, sort_keys=True)
    text = REAL_FILE.read_text(encoding="utf-8")
    edited = text.replace("label_da: Er jobmålet konkret?", "label_da: Er jobmålet konkret og realistisk?", 1)
    assert edited != text
    path = tmp_path / "edited.yaml"
    path.write_text(edited, encoding="utf-8")

    same = bind_check(snap, REAL_FILE)
    assert same.changed is False and same.bound_version == same.current_version == real.version

    result = bind_check(snap, path)
    assert result.changed is True
    assert result.bound_version == real.version and result.current_version != real.version
    assert result.modified == ("plan_job_goal_concrete",) and result.added == () and result.removed == ()
    assert "plan_job_goal_concrete" in result.describe()
    # the audit's snapshot still describes the original question
    assert json.dumps(snap, sort_keys=True) == frozen
    assert Instrument.from_dict(snap).item("plan_job_goal_concrete").label_da == "Er jobmålet konkret?"


def test_added_and_removed_items_are_listed(write, mini):
    base = load_instrument(write(mini))
    mini["survey"].pop(1)
    mini["survey"].append({"type": "integer", "name": "extra", "theme": 1, "label_da": "E", "label_en": "E"})
    result = bind_check(base.to_dict(), write(mini))
    assert result.added == ("extra",) and result.removed == ("q_yes",) and result.modified == ()


def test_tampered_snapshot_is_refused(real: Instrument):
    snap = real.to_dict()
    snap["content"]["survey"][0]["label_en"] = "Something else"
    with pytest.raises(InstrumentError, match="snapshot says"):
        Instrument.from_dict(snap)
    with pytest.raises(InstrumentError, match="not an instrument snapshot"):
        Instrument.from_dict({"version": "x"})
