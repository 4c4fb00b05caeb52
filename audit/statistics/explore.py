"""Any crosstab of an audit's reviewed cases, as the /stats page and its API ask for it:
the variables one may choose, and the table (weighted and suppressed on request),
computed by the same functions the CLI and the annex use."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlmodel import Session

from audit.models import Audit
from audit.statistics.crosstabs import crosstab
from audit.statistics.dataset import load_case_frame, load_municipality_frame
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


class MixedFrames(UnknownVariable):
    """A theme-7 item (per municipality) against a case variable: no table counts both."""

    def __str__(self) -> str:
        return (f"{self.name} is a theme-7 item, answered once per municipality; cross it with another "
                f"theme-7 item (or municipality), not with a case variable")


@dataclass
class Frame:
    """The audit's reviewed cases (completed, in a comment round, or final), and theme 7:
    one row per municipality that answered (`municipality`), whose items are `theme7`."""
    frame: pd.DataFrame
    variables: list[str]
    municipality: pd.DataFrame | None = None
    theme7: list[str] = field(default_factory=list)

    @property
    def cases(self) -> int:
        return len(self.frame)


def case_frame(session: Session, audit: Audit) -> Frame:
    frame = load_case_frame(session, audit)
    variables = [c for c in frame.columns if c not in NOT_VARIABLES and not c.endswith("_label")]
    municipal = load_municipality_frame(session, audit)
    theme7 = [c for c in municipal.columns if c not in ("municipality_review_id", "municipality")]
    return Frame(frame, variables + theme7, municipal, theme7)


def frame_for(data: Frame, row: str, col: str) -> pd.DataFrame:
    """The frame a crosstab of `row` by `col` counts: theme-7 items are counted per
    municipality (N = municipalities that answered), everything else per case."""
    for name in (row, col):
        if name not in data.variables:
            raise UnknownVariable(name)
    theme7 = [n for n in (row, col) if n in data.theme7]
    if not theme7:
        return data.frame
    for name in (row, col):
        if name not in data.theme7 and name != "municipality":
            raise MixedFrames(theme7[0])
    assert data.municipality is not None
    return data.municipality


def audit_crosstab(data: Frame, row: str, col: str, *, percent: str = "row", weighted: bool = False,
                   suppress_below: int | None = None, lonely: str | None = None) -> Table:
    """The crosstab of `row` by `col` (weighted: the Rao-Scott test, lonely strata handled as
    `lonely` or the setting AUDIT_LONELY_PSU); `suppress_below` hides cells under that count
    and the counts that would reveal them, audited against the frame. UnknownVariable, or
    ValueError for a table that cannot be made (a numeric variable without banding, a missing
    N_h or a refused lonely stratum: weighting.DesignError)."""
    frame = frame_for(data, row, col)
    municipal = frame is not data.frame
    if weighted and municipal:
        raise ValueError("theme 7 counts every municipality that answered: it has no design weights")
    design = design_of(frame, lonely=lonely) if weighted else None
    table = crosstab(frame, row, col, percent=percent if percent in ("row", "col") else "row",
                     weighted=weighted, design=design)
    if suppress_below is not None and not municipal:  # theme 7 describes municipalities, not citizens
        table = suppress_table(table, suppress_below, frame=frame)
    return table
