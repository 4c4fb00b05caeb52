"""The one door from exports to the statistics room.

Every count, share, mean and N in an annex comes through the four functions here:
`frequency`, `crosstab`, `group_summary` and `suppress`. They return the statistics
room's `Table` (audit.statistics.tables.Table) when that room provides them.

STAND-IN: until the `stats` branch lands its functions, the small implementations
below (`_Table`, `_frequency`, ...) follow the contract in docs/contracts.md (case
frame, "N of a share = the non-missing cells", multiple choice as tuples, design
weight column `weight`) so that the writers can be built and tested. They are
deliberately isolated here and are replaced by calls into audit.statistics when the
branch is merged; nothing else in audit/exports computes a share.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

SUPPRESSED = "x"


@dataclass
class _Table:
    """Result of one statistic: rows x columns of counts and shares with their N.

    counts[i][j]: unweighted number of cases; shares[i][j]: share (weighted when
    `weighted`), or a mean for kind 'mean'; n_rows[i]/n_cols[j]/n_total: the
    denominators; suppressed[i][j]: hidden in outputs that leave the agency."""

    row_var: str
    col_var: str | None
    row_codes: list[str]
    col_codes: list[str]
    counts: list[list[int]]
    shares: list[list[float | None]]
    n_rows: list[int]
    n_cols: list[int]
    n_total: int
    percent: str = "row"
    weighted: bool = False
    kind: str = "share"  # 'share' | 'mean'
    suppressed: list[list[bool]] = field(default_factory=list)
    suppression_rule: str | None = None

    def __post_init__(self) -> None:
        if not self.suppressed:
            self.suppressed = [[False] * len(self.col_codes) for _ in self.row_codes]


# --------------------------------------------------------------------------- stand-in
def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and np.isnan(v):
        return True
    return False


def _is_multi(series: pd.Series) -> bool:
    for v in series:
        if not _missing(v):
            return isinstance(v, (tuple, list, set, frozenset))
    return False


def _answered(series: pd.Series) -> np.ndarray:
    return series.notna().to_numpy(dtype=bool)


def _codes_of(series: pd.Series, order: Sequence[str] | None) -> list[str]:
    s = series[series.notna()]
    if _is_multi(s):
        s = s.explode().dropna()
    present = set(s.astype(str).unique())
    ordered = [str(c) for c in order] if order else []
    rest = sorted(present - set(ordered), key=lambda x: (len(x), x))
    return ordered + rest


def _indicators(series: pd.Series, codes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(cases x codes 0/1 matrix, answered mask), vectorised."""
    answered = _answered(series)
    mat = np.zeros((len(series), len(codes)), dtype=float)
    if _is_multi(series):
        exploded = series.reset_index(drop=True).explode()
        exploded = exploded[exploded.notna()]
        pos = exploded.index.to_numpy()
        vals = exploded.astype(str).to_numpy()
        for k, c in enumerate(codes):
            mat[pos[vals == c], k] = 1.0
    else:
        vals = series.astype(str).to_numpy()
        for k, c in enumerate(codes):
            mat[:, k] = (vals == c) & answered
    return mat, answered


def _weights(frame: pd.DataFrame, weighted: bool) -> np.ndarray:
    if weighted:
        return frame["weight"].astype(float).to_numpy()
    return np.ones(len(frame), dtype=float)


def _frequency(frame: pd.DataFrame, var: str, *, weighted: bool = False,
               order: Sequence[str] | None = None) -> _Table:
    codes = _codes_of(frame[var], order)
    mat, answered = _indicators(frame[var], codes)
    w = _weights(frame, weighted)
    counts = mat[answered].sum(axis=0)
    denom = w[answered].sum()
    wsum = (mat[answered] * w[answered, None]).sum(axis=0)
    n = int(answered.sum())
    shares = [[float(wsum[k] / denom) if denom else None] for k in range(len(codes))]
    return _Table(row_var=var, col_var=None, row_codes=codes, col_codes=["n"],
                  counts=[[int(c)] for c in counts], shares=shares, n_rows=[n] * len(codes),
                  n_cols=[n], n_total=n, percent="col", weighted=weighted)


def _crosstab(frame: pd.DataFrame, row: str, col: str, *, percent: str = "row", weighted: bool = False,
              row_order: Sequence[str] | None = None, col_order: Sequence[str] | None = None) -> _Table:
    rcodes = _codes_of(frame[row], row_order)
    ccodes = _codes_of(frame[col], col_order)
    R, ra = _indicators(frame[row], rcodes)
    C, ca = _indicators(frame[col], ccodes)
    both = ra & ca
    R, C = R[both], C[both]
    w = _weights(frame, weighted)[both]
    counts = R.T @ C
    wcounts = R.T @ (C * w[:, None])
    row_n = R.sum(axis=0)              # cases in row i with the column answered
    col_n = C.sum(axis=0)
    row_w = (R * w[:, None]).sum(axis=0)
    col_w = (C * w[:, None]).sum(axis=0)
    total_w = w.sum()
    shares: list[list[float | None]] = []
    for i in range(len(rcodes)):
        line: list[float | None] = []
        for j in range(len(ccodes)):
            d = {"row": row_w[i], "col": col_w[j], "total": total_w}[percent]
            line.append(float(wcounts[i, j] / d) if d else None)
        shares.append(line)
    return _Table(row_var=row, col_var=col, row_codes=rcodes, col_codes=ccodes,
                  counts=[[int(x) for x in r] for r in counts], shares=shares,
                  n_rows=[int(x) for x in row_n], n_cols=[int(x) for x in col_n], n_total=int(both.sum()),
                  percent=percent, weighted=weighted)


def _group_summary(frame: pd.DataFrame, by: str, item: str, *, value: str | None = "ja", weighted: bool = False,
                   by_order: Sequence[str] | None = None) -> _Table:
    """Per group of `by`: the share answering `value` (or the mean when value is None)."""
    codes = _codes_of(frame[by], by_order)
    G, ga = _indicators(frame[by], codes)
    items = frame[item]
    answered = _answered(items)
    keep = ga & answered
    w = _weights(frame, weighted)[keep]
    G = G[keep]
    if value is None:
        x = pd.to_numeric(items[keep], errors="coerce").to_numpy(dtype=float)
        kind = "mean"
        hit = x
    else:
        hit = (items[keep].astype(str).to_numpy() == value).astype(float)
        kind = "share"
    counts, shares, ns = [], [], []
    for k in range(len(codes)):
        m = G[:, k] > 0
        d = w[m].sum()
        ns.append(int(m.sum()))
        counts.append([int(hit[m].sum()) if kind == "share" else int(m.sum())])
        shares.append([float((hit[m] * w[m]).sum() / d) if d else None])
    n = int(keep.sum())
    return _Table(row_var=by, col_var=item, row_codes=codes, col_codes=[item], counts=counts, shares=shares,
                  n_rows=ns, n_cols=[n], n_total=n, percent="row", weighted=weighted, kind=kind)


def _suppress(table: _Table, min_cell: int = 3) -> _Table:
    """Primary suppression: a cell of 1..min_cell-1 cases, and every cell of a row or
    column whose N is below min_cell, is hidden (count and share)."""
    hidden = False
    for i in range(len(table.row_codes)):
        for j in range(len(table.col_codes)):
            c = table.counts[i][j]
            small_n = table.n_rows[i] < min_cell if table.percent == "row" else (
                table.n_cols[j] < min_cell if table.percent == "col" else False)
            if table.kind == "mean":
                small = table.n_rows[i] < min_cell
            else:
                small = 0 < c < min_cell or (small_n and table.n_rows[i] > 0 and table.n_cols[j] > 0)
            if small:
                table.suppressed[i][j] = True
                hidden = True
    if hidden:
        table.suppression_rule = (f"x: færre end {min_cell} sager; udeladt af diskretionshensyn.")
    return table


# --------------------------------------------------------------------------- the door
# Switch to the statistics room's functions once its branch is merged AND the
# cell-by-cell tests pass through `_adapt` (checked against its work in progress on
# 2026-11-22: its Banding of challenge_breadth dropped the instrument's "4+" code, so
# it stays off until that is settled rather than change annex numbers silently).
USE_STATISTICS_ROOM = False

def _stats_function(module: str, name: str):  # type: ignore[no-untyped-def]
    try:
        mod = __import__(f"audit.statistics.{module}", fromlist=[name])
    except ImportError:
        return None
    return getattr(mod, name, None)


def frequency(frame: pd.DataFrame, var: str, *, weighted: bool = False,
              order: Sequence[str] | None = None) -> _Table:
    return _frequency(frame, var, weighted=weighted, order=order)


def _adapt(t: Any, weighted: bool) -> _Table:
    """The statistics room's Table (pandas frames, percents 0-100) -> the grid's cells (shares 0-1)."""
    rows = [str(r) for r in t.counts.index if r != t.total_label]
    cols = [str(c) for c in t.counts.columns if c != t.total_label]
    src = t.weighted["share"] if weighted and t.weighted is not None else t.percents
    index = {str(r): r for r in t.counts.index}
    cindex = {str(c): c for c in t.counts.columns}

    def share(r: str, c: str) -> float | None:
        v = src.at[index[r], cindex[c]]
        return None if v is None or pd.isna(v) else float(v) / 100.0

    out = _Table(row_var=t.row_var, col_var=t.col_var, row_codes=rows, col_codes=cols,
                 counts=[[int(t.counts.at[index[r], cindex[c]]) for c in cols] for r in rows],
                 shares=[[share(r, c) for c in cols] for r in rows],
                 n_rows=[int(t.n_rows[index[r]]) for r in rows], n_cols=[int(t.n_cols[cindex[c]]) for c in cols],
                 n_total=int(t.n_total or 0), percent=t.percent_base, weighted=weighted)
    if t.suppressed is not None:
        out.suppressed = [[bool(t.suppressed.at[index[r], cindex[c]]) for c in cols] for r in rows]
    return out


def crosstab(frame: pd.DataFrame, row: str, col: str, *, percent: str = "row", weighted: bool = False,
             row_order: Sequence[str] | None = None, col_order: Sequence[str] | None = None) -> _Table:
    fn = _stats_function("crosstabs", "crosstab") if USE_STATISTICS_ROOM else None
    if fn is not None and percent in ("row", "col"):
        orders = {k: list(v) for k, v in ((row, row_order), (col, col_order)) if v}
        return _adapt(fn(frame, row, col, percent=percent, weighted=weighted, test=False, orders=orders or None),
                      weighted)
    return _crosstab(frame, row, col, percent=percent, weighted=weighted, row_order=row_order, col_order=col_order)


def group_summary(frame: pd.DataFrame, by: str, item: str, *, value: str | None = "ja", weighted: bool = False,
                  by_order: Sequence[str] | None = None) -> _Table:
    return _group_summary(frame, by, item, value=value, weighted=weighted, by_order=by_order)


def suppress(table: _Table, min_cell: int = 3) -> _Table:
    return _suppress(table, min_cell)


STANDIN = True  # set to False once the functions above delegate to audit.statistics


# --------------------------------------------------------------------------- case frame
REVIEWED = ("completed", "in_hearing", "final")


def load_case_frame(session: Any, audit: Any, instrument: Any = None) -> pd.DataFrame:
    """The audit's case frame (docs/contracts.md). Delegates to
    audit.statistics.dataset.load_case_frame when the statistics room has it."""
    fn = _stats_function("dataset", "load_case_frame") if USE_STATISTICS_ROOM else None
    if fn is not None:
        return fn(session, audit)
    return _load_case_frame(session, audit, instrument)


def _load_case_frame(session: Any, audit: Any, instrument: Any = None) -> pd.DataFrame:
    """Stand-in: reviewed, active, non-reserve cases with register variables, design
    variables, pass-1 answers and the instrument's calculated fields."""
    import json

    from sqlmodel import select

    from audit.models import Answer, Case, Person
    from audit.population.age import age_band

    cases = session.exec(select(Case, Person).join(Person, Person.id == Case.person_pk).where(
        Case.audit_id == audit.id, Case.active == True, Case.is_reserve == False,  # noqa: E712
        Case.status.in_(REVIEWED)).order_by(Case.id)).all()
    ids = [c.id for c, _ in cases]
    answers: dict[int, dict[str, Any]] = {i: {} for i in ids}
    if ids:
        for a in session.exec(select(Answer).where(Answer.case_id.in_(ids), Answer.pass_no == 1)):
            if a.value_json is not None:
                answers[a.case_id][a.item] = json.loads(a.value_json)
    items = [i for i in getattr(instrument, "items", []) if getattr(i, "level", "case") == "case"]
    records = []
    for case, person in cases:
        ans = answers[case.id]
        derived = instrument.derive(ans) if instrument is not None else {}
        applicable = instrument.applicable({**ans, **derived}) if instrument is not None else {}
        rec: dict[str, Any] = {
            "case_id": case.id, "municipality": case.municipality, "seniority_band": case.seniority_band,
            "sex": person.sex, "age": person.age, "age_band": age_band(person.age), "origin": person.origin,
            "stratum": f"{case.municipality}|{case.seniority_band}", "stratum_population": case.stratum_population,
            "stratum_sample": case.stratum_sample, "weight": case.weight}
        names = [i.name for i in items] if items else sorted(ans)
        for name in names:
            v = derived.get(name, ans.get(name))
            if instrument is not None and not applicable.get(name, True):
                v = None
            rec[name] = tuple(v) if isinstance(v, list) else v
        records.append(rec)
    columns = ["case_id", "municipality", "seniority_band", "sex", "age", "age_band", "origin", "stratum",
               "stratum_population", "stratum_sample", "weight"]
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame(columns=columns)
    return frame
