"""Any crosstab of an audit's reviewed cases, as the /stats page and its API ask for it:
the variables one may choose, and the table (weighted and suppressed on request),
computed by the same functions the CLI and the annex use."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session

from audit.models import Audit
from audit.statistics.crosstabs import crosstab
from audit.statistics.dataset import load_case_frame
from audit.statistics.suppression import suppress as suppress_table
from audit.statistics.tables import Table
from audit.statistics.weighting import design_of

# columns of the case frame that are design or identity, not variables to tabulate
NOT_VARIABLES = ("case_id", "stratum", "stratum_population", "stratum_sample", "weight", "age")


class UnknownVariable(KeyError):
    """A row or column that is not a variable of the audit's case frame."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown variable: {self.name}"


@dataclass
class Frame:
    """The audit's reviewed cases (completed, in a comment round, or final)."""
    frame: pd.DataFrame
    variables: list[str]

    @property
    def cases(self) -> int:
        return len(self.frame)


def case_frame(session: Session, audit: Audit) -> Frame:
    frame = load_case_frame(session, audit)
    variables = [c for c in frame.columns if c not in NOT_VARIABLES and not c.endswith("_label")]
    return Frame(frame, variables)


def audit_crosstab(data: Frame, row: str, col: str, *, percent: str = "row", weighted: bool = False,
                   suppress_below: int | None = None, lonely: str | None = None) -> Table:
    """The crosstab of `row` by `col` (weighted: the Rao-Scott test, lonely strata handled as
    `lonely` or the setting AUDIT_LONELY_PSU); `suppress_below` hides cells under that count
    and the counts that would reveal them, audited against the frame. UnknownVariable, or
    ValueError for a table that cannot be made (a numeric variable without banding, a missing
    N_h or a refused lonely stratum: weighting.DesignError)."""
    for name in (row, col):
        if name not in data.variables:
            raise UnknownVariable(name)
    design = design_of(data.frame, lonely=lonely) if weighted else None
    table = crosstab(data.frame, row, col, percent=percent if percent in ("row", "col") else "row",
                     weighted=weighted, design=design)
    if suppress_below is not None:
        table = suppress_table(table, suppress_below, frame=data.frame)
    return table
