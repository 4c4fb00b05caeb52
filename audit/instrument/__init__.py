"""The review instrument: questionnaire files, skip logic, calculated fields, codebook.

Public API (see docs/contracts.md and docs/instrument.md)::

    inst = load_instrument(path)        # raises InstrumentError(problems)
    inst.applicable(answers); inst.derive(answers); inst.check_answer(name, value, answers)
    inst.missing_required(answers); inst.to_dict(); Instrument.from_dict(d)
    bind_check(snapshot, path)          # has the file changed since the audit was bound?
"""
from __future__ import annotations

from audit.instrument.expressions import ExpressionError
from audit.instrument.loader import (CheckResult, InstrumentError, Problem, bind_check, check_file,
                                     load_instrument)
from audit.instrument.model import BindCheck, Choice, Instrument, Item

__all__ = [
    "load_instrument", "check_file", "bind_check", "Instrument", "Item", "Choice", "BindCheck",
    "InstrumentError", "ExpressionError", "Problem", "CheckResult", "DEFAULT_INSTRUMENT",
]

#: The questionnaire of the 2022 audit of long-term cash-benefit recipients.
DEFAULT_INSTRUMENT = "questionnaires/kontanthjaelp_2022.yaml"
