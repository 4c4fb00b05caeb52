"""The one result shape of the statistics room.

Every table the report prints, whether shown on a page, printed by the CLI or
written to the Excel annex, is a `Table`. Consumers never recompute anything:
they read counts, percentages, the N behind each percentage, the test and the
notes from here, so a figure cannot differ between outputs.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from collections.abc import Callable

from audit import csvio

TOTAL = "I alt"
SOURCE = "Sagsgennemgang i kommunerne"
# Theme 7 (the municipality frame): the report's source line for Figures 10 and 66-68.
MUNICIPALITY_SOURCE = "Survey til ledelsen i de deltagende kommuner"
# weighted figures per cell: share, SE, 95 % normal (clipped) and logit intervals (0-100), design effect
WEIGHTED_KEYS = ("share", "se", "ci_low", "ci_high", "logit_low", "logit_high", "deff")


def _clean(value: Any) -> Any:
    """JSON/CSV-friendly scalar: NaN/NA -> None, numpy -> Python."""
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if math.isnan(v) else v
    if isinstance(value, (np.bool_,)):
        return bool(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _count(value: Any) -> Any:
    """A count or N as int (suppression stores counts as nullable floats)."""
    v = _clean(value)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def format_percent(value: Any) -> str:
    """Whole percent rounded half up, as the report prints it (43%)."""
    v = _clean(value)
    if v is None:
        return "-"
    return f"{math.floor(v + 0.5 + 1e-9):d}%"


# label(variable, code) -> the code's label; label(variable, None) -> the variable's
Labels = Callable[[str, Any], str]

@dataclass
class Table:
    """A computed table.

    kind:
      'crosstab'  counts of row x column codes (frequencies are crosstabs whose rows
                  are the breakdown groups, or the single row 'I alt');
      'numeric'   `counts` holds mean/median per row instead of counts;
      'indicator' `counts` holds one statistic per indicator column (Table 14).
    `percents` are 0-100 floats on `percent_base` ('row' or 'col'); `n_rows`/`n_cols`
    are the distinct cases behind each row/column (for a multiple-choice variable a
    case counts once in each of its codes, so counts may sum to more than N).
    `total_label` names a last row of `counts` that is a margin, not an interior cell.
    """

    title: str
    row_var: str | None
    col_var: str | None
    counts: pd.DataFrame
    percents: pd.DataFrame | None = None
    percent_base: str = "row"
    n_rows: pd.Series | None = None
    n_cols: pd.Series | None = None
    n_total: int | None = None
    kind: str = "crosstab"
    total_label: str | None = None
    test: dict[str, Any] | None = None
    weighted: dict[str, pd.DataFrame] | None = None  # share, se, ci_low, ci_high (0-100)
    suppressed: pd.DataFrame | None = None  # True where a cell is hidden
    notes: list[str] = field(default_factory=list)
    source: str = SOURCE
    unit: str = "case"  # what N counts: 'case' or 'municipality' (theme 7)

    def copy(self) -> "Table":
        def c(x: Any) -> Any:
            return None if x is None else x.copy()
        return replace(self, counts=self.counts.copy(), percents=c(self.percents), n_rows=c(self.n_rows),
                       n_cols=c(self.n_cols), test=None if self.test is None else dict(self.test),
                       weighted=None if self.weighted is None else {k: v.copy() for k, v in self.weighted.items()},
                       suppressed=c(self.suppressed), notes=list(self.notes))

    @property
    def is_suppressed(self) -> bool:
        return self.suppressed is not None

    def n_note(self) -> str:
        """The report's 'Anm.: N=99, 135, 90 og 44.' built from the N behind each percentage
        ('N=22 kommuner' when the unit is the municipality)."""
        note = self._n_note()
        return note + " kommuner" if self.unit == "municipality" and ";" not in note else note

    def _n_note(self) -> str:
        if self.kind != "crosstab":
            return f"N={self.n_total}; N for hver række står i kolonnen N"
        ns = self.n_rows if self.percent_base == "row" else self.n_cols
        if ns is None:
            return f"N={self.n_total}"
        if self.total_label is not None and self.total_label in ns.index:
            ns = ns.drop(self.total_label)
        vals = ["-" if _clean(v) is None else f"{int(v)}" for v in ns.tolist()]
        if len(vals) <= 1:
            return f"N={vals[0] if vals else self.n_total}"
        return "N=" + ", ".join(vals[:-1]) + " og " + vals[-1]

    def for_frame(self, frame: pd.DataFrame) -> "Table":
        """The table as computed from `frame`: for the municipality frame (theme 7) N counts
        municipalities, the source is the management survey, and a note says how many
        municipalities did not answer (they are not in N)."""
        if frame.attrs.get("unit") != "municipality" or self.unit == "municipality":
            return self
        self.unit = "municipality"
        self.source = MUNICIPALITY_SOURCE
        missing = frame.attrs.get("not_answered") or ()
        total = frame.attrs.get("municipalities")
        if missing:
            self.notes.append(f"{len(missing)} af {total} kommuner har ikke besvaret tema 7 og indgår ikke.")
        return self

    def all_notes(self) -> list[str]:
        return [self.n_note() + "."] + list(self.notes)

    # ------------------------------------------------------------------ records
    def to_records(self, label: Labels | None = None) -> list[dict[str, Any]]:
        """One dict per cell (long format): the shape for JSON, CSV and the annex writer. With
        `label` (label(variable, code) -> text), each code's label follows in `<variable>_label`
        (the last fields, so the columns scripts read keep their places)."""
        rv = self.row_var or "row"
        cv = self.col_var or "column"
        if cv == rv:  # e.g. a characteristic against itself: keep both keys
            rv, cv = f"{rv}_row", f"{cv}_column"
        out: list[dict[str, Any]] = []
        for r in self.counts.index:
            for c in self.counts.columns:
                rec: dict[str, Any] = {rv: _clean(r), cv: _clean(c)}
                if self.kind == "crosstab":
                    rec["count"] = _count(self.counts.at[r, c])
                    if self.percents is not None:
                        rec["percent"] = _clean(self.percents.at[r, c])
                    ns = self.n_rows if self.percent_base == "row" else self.n_cols
                    key = r if self.percent_base == "row" else c
                    rec["n"] = _count(ns.get(key)) if ns is not None else None
                else:
                    rec["value"] = _clean(self.counts.at[r, c])
                    rec["n"] = _count(self.n_rows.get(r)) if self.n_rows is not None else None
                if self.weighted is not None and r in self.weighted["share"].index \
                        and c in self.weighted["share"].columns:
                    for k in WEIGHTED_KEYS:
                        if k in self.weighted:
                            rec[f"weighted_{k}"] = _clean(self.weighted[k].at[r, c])
                if self.suppressed is not None:
                    rec["suppressed"] = bool(self.suppressed.at[r, c])
                if label is not None:  # last, so the columns scripts read keep their places
                    rec[f"{rv}_label"] = self._label(label, self.row_var, r)
                    rec[f"{cv}_label"] = self._label(label, self.col_var, c)
                out.append(rec)
        return out

    def _label(self, label: Labels, variable: str | None, code: Any) -> str | None:
        if _clean(code) is None:
            return None
        if variable is None or code == self.total_label or code == TOTAL:
            return str(code)
        return label(variable, code)

    def to_dict(self, label: Labels | None = None) -> dict[str, Any]:
        return {
            "title": self.title,
            **({"title_label": self.labelled_title(label)} if label is not None else {}),
            "row": self.row_var,
            **({"row_label": label(self.row_var, None)} if label is not None and self.row_var else {}),
            "column": self.col_var,
            **({"column_label": label(self.col_var, None)} if label is not None and self.col_var else {}),
            "kind": self.kind,
            "percent_base": self.percent_base,
            "n_total": _clean(self.n_total),
            "n_rows": None if self.n_rows is None else {str(k): _count(v) for k, v in self.n_rows.items()},
            "n_columns": None if self.n_cols is None else {str(k): _count(v) for k, v in self.n_cols.items()},
            "test": None if self.test is None else {k: _clean(v) for k, v in self.test.items()},
            "notes": self.all_notes(),
            "source": self.source,
            "records": self.to_records(label),
        }

    def to_json(self, **kwargs: Any) -> str:
        kwargs.setdefault("ensure_ascii", False)
        kwargs.setdefault("indent", 2)
        return json.dumps(self.to_dict(), **kwargs)

    def to_csv(self, dialect: csvio.Dialect = csvio.SCRIPTS, label: Labels | None = None) -> str:
        """The long records as CSV (audit.csvio; SCRIPTS by default: what `--format csv` prints),
        and when the table has a test its figures on every line (test_*); with `label`, a label
        column beside each code column."""
        df = pd.DataFrame.from_records(self.to_records(label))
        for k, v in self.test_columns().items():
            df[k] = v
        labels = [c for c in df.columns if label is not None and c.endswith("_label")]
        df = df[[c for c in df.columns if c not in labels] + labels]  # last: the columns scripts read keep their places
        return csvio.frame_to_text(df, dialect)

    def test_columns(self) -> dict[str, Any]:
        """The test as flat columns for CSV: method, statistic, its value, degrees of freedom,
        p, the first-order Rao-Scott figures and the expected-count check."""
        t = self.test
        if not t or t.get("p_value") is None:
            return {}
        rao = t.get("statistic") == "F"
        cols = {"test_method": t.get("method"), "test_statistic": "F" if rao else "chi2",
                "test_value": t.get("f") if rao else t.get("chi2"),
                "test_df1": t.get("ndf") if rao else t.get("dof"), "test_df2": t.get("ddf") if rao else None,
                "test_p_value": t.get("p_value"), "test_chi2": t.get("chi2")}
        if rao:
            cols.update({"test_rs1_chi2": t.get("rs1_chi2"), "test_rs1_df": t.get("dof"),
                         "test_rs1_p_value": t.get("rs1_p_value"), "test_design_df": t.get("design_df")})
        else:
            cols["test_cramers_v"] = t.get("cramers_v")
        cols.update({"test_min_expected": t.get("min_expected"), "test_small_expected": t.get("small_expected")})
        return {k: _clean(v) for k, v in cols.items()}

    # ------------------------------------------------------------------ display
    def labelled_title(self, label: Labels | None) -> str:
        """The title with the variables it names (a generated "item fordelt på by") by their labels."""
        if label is None:
            return self.title
        import re

        names = [v for v in (self.col_var, self.row_var) if v]
        if not names:
            return self.title
        pattern = re.compile(r"(?<![\w])(" + "|".join(re.escape(v) for v in names) + r")(?![\w])")
        return pattern.sub(lambda m: label(m.group(1), None), self.title)

    def labelled(self, label: Labels) -> "Table":
        """A copy for a person to read (`audit stats` in table format): codes of the row and
        column variables, the variables themselves and the title by their labels; "I alt"
        and the figures unchanged. label(variable, None) names a variable, label(variable,
        code) one of its codes."""
        out = self.copy()
        rmap = ({c: self._label(label, self.row_var, c) for c in self.counts.index}
                if self.row_var and not isinstance(self.counts.index, pd.MultiIndex) else {})
        cmap = ({c: self._label(label, self.col_var, c) for c in self.counts.columns}
                if self.col_var and not isinstance(self.counts.columns, pd.MultiIndex) else {})
        if len(set(rmap.values())) < len(rmap) or len(set(cmap.values())) < len(cmap):
            return self  # two codes share a label: codes stay, so no row is folded into another

        def frame(df: pd.DataFrame | None) -> pd.DataFrame | None:
            if df is None:
                return None
            df = df.rename(index=rmap, columns=cmap)
            if self.row_var and df.index.name == self.row_var:
                df.index.name = label(self.row_var, None)
            if self.col_var and df.columns.name == self.col_var:
                df.columns.name = label(self.col_var, None)
            return df

        out.counts, out.percents, out.suppressed = frame(out.counts), frame(out.percents), frame(out.suppressed)
        if out.weighted is not None:
            out.weighted = {k: frame(v) for k, v in out.weighted.items()}
        if out.n_rows is not None:
            out.n_rows = out.n_rows.rename(index=rmap)
        if out.n_cols is not None:
            out.n_cols = out.n_cols.rename(index=cmap)
        out.title = self.labelled_title(label)
        return out

    def display_frame(self) -> pd.DataFrame:
        """The table as the report prints it: percentages (or values) plus an N column."""
        if self.kind == "crosstab" and self.percents is not None:
            shown = self.percents.apply(lambda col: col.map(format_percent))
            if self.weighted is not None:
                w = self.weighted
                for c in list(shown.columns):
                    lo, hi = ("logit_low", "logit_high") if "logit_low" in w else ("ci_low", "ci_high")
                    shown[f"{c} (vægtet, 95% KI)"] = [
                        "-" if _clean(w["share"].at[r, c]) is None else
                        f"{format_percent(w['share'].at[r, c])} "
                        f"[{format_percent(w[lo].at[r, c])}; {format_percent(w[hi].at[r, c])}]"
                        for r in shown.index]
            if self.percent_base == "row" and self.n_rows is not None:
                shown["N"] = ["-" if _clean(v) is None else int(v) for v in self.n_rows.reindex(shown.index)]
            elif self.n_cols is not None:
                nrow = pd.DataFrame([["-" if _clean(self.n_cols.get(c)) is None else int(self.n_cols.get(c))
                                      for c in shown.columns]], columns=shown.columns, index=["N"])
                shown = pd.concat([shown, nrow])
            return shown
        shown = self.counts.copy().astype(object)
        for c in shown.columns:
            shown[c] = [("-" if _clean(v) is None else (f"{v:.1f}" if isinstance(_clean(v), float) else v))
                        for v in shown[c]]
        if self.n_rows is not None:
            shown["N"] = ["-" if _clean(v) is None else int(v) for v in self.n_rows.reindex(shown.index)]
        return shown

    def to_text(self) -> str:
        lines = [self.title, ""]
        lines.append(self.display_frame().to_string())
        lines.append("")
        lines.append(f"Kilde: {self.source}")
        lines.append("Anm.: " + " ".join(self.all_notes()))
        line = self.test_line()
        if line:
            lines.append(line)
        return "\n".join(lines)

    def test_line(self) -> str | None:
        """The test as printed under the table (Pearson, or Rao-Scott for a weighted table)."""
        from audit.statistics.designtests import describe

        return describe(self.test)
