"""`audit stats`: the report's tables from the stored data, on the command line.

Thin: open the database, build the case frame, call the statistics room's pure
functions, print the one `Table` shape as a text table, JSON or CSV. Small cells
are suppressed by default, since a printout can leave the agency.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click
import pandas as pd

from audit import csvio
from audit.i18n import _
from audit.statistics import crosstabs
from audit.statistics.dataset import REPORT_STATUSES, load_case_frame, load_municipality_frame
from audit.statistics.frequencies import frequencies
from audit.statistics.suppression import suppress, suppress_together
from audit.statistics.tables import Table
from audit.statistics.weighting import LONELY_CHOICES, DesignError, Design, design_of

FORMATS = click.Choice(["table", "json", "csv"])
# --frame: what a row is. "case" is read as "sample" (one reviewed case per row either way).
FRAME_CHOICES = ("sample", "case", "population", "municipality")
FRAME_ALIASES = {"case": "sample"}


def _frame(audit_name: str, statuses: Sequence[str], unit: str = "sample", as_of: str | None = None,
           weighted: bool = False) -> pd.DataFrame:
    """The case frame (sample), the register population (a census, one row per person, at the
    sampling frame's date or at the snapshot `as_of`), or the theme-7 frame (municipality: one
    row per municipality that answered; --status does not apply to it)."""
    from audit.db import session_scope

    unit = FRAME_ALIASES.get(unit, unit)
    if unit != "population" and as_of:
        raise click.UsageError(_("--as-of needs --frame population"))
    if unit == "population" and weighted:
        raise click.UsageError(_("the population is a census: its tables are unweighted (drop --weighted)"))
    try:
        with session_scope() as session:
            if unit == "municipality":
                return load_municipality_frame(session, audit_name)
            if unit == "population":
                from audit.audits import get_audit
                from audit.population.snapshots import population_frame

                frame = population_frame(session, get_audit(session, audit_name), as_of)
                frame.attrs["unit"] = "population"
                return frame
            return load_case_frame(session, audit_name, statuses=list(statuses) or None)
    except (LookupError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


def _unknown(frame: pd.DataFrame, name: str) -> click.ClickException:
    """'unknown variable', saying which frame holds it when it is in the other one."""
    unit = frame.attrs.get("unit", "case")
    other = "case" if unit == "municipality" else "municipality"
    if other == "municipality" and name in _theme7_names():
        text = _("unknown variable {name} in the {frame} frame (a theme-7 item: use --frame municipality)")
    elif other == "case" and name not in frame.columns:
        text = _("unknown variable {name} in the {frame} frame (not a theme-7 item: the municipality frame holds "
                 "theme 7 only; use --frame sample)")
    else:
        text = _("unknown variable {name} in the {frame} frame")
    return click.ClickException(text.format(name=repr(name), frame=unit))


def _theme7_names() -> set[str]:
    from audit.exports.service import default_instrument

    try:
        return {i.name for i in default_instrument().items_at("municipality")}
    except Exception:  # noqa: BLE001 - only a hint
        return set()


def _weighted_unit(frame: pd.DataFrame, weighted: bool) -> None:
    if weighted and frame.attrs.get("unit") == "municipality":
        raise click.ClickException(_("--weighted: the municipality frame is a census of the municipalities, "
                                     "not a sample; it has no design weights"))


def _threshold(value: int | None) -> int:
    if value is not None:
        return value
    from audit.config import get_settings

    return get_settings().suppress_below


def _design(frame: pd.DataFrame, weighted: bool, lonely: str | None) -> Design | None:
    """The sampling design of a weighted table (None unweighted); a missing N_h or a refused
    lonely stratum is a clear error, not a crash."""
    if not weighted:
        return None
    try:
        return design_of(frame, lonely=lonely)
    except DesignError as exc:
        raise click.ClickException(str(exc)) from exc


def _labels(audit_name: str, frame: pd.DataFrame) -> Any:
    """label(variable, code): the audit's instrument, the register definition and the frame's
    derived variables (audit.labels), for what a person reads; CSV and JSON print it beside
    the codes."""
    from audit.audits import get_audit
    from audit.db import session_scope
    from audit.labels import frame_vocabulary
    from audit.statistics import dataset

    with session_scope() as session:  # the instrument the frame was read with
        instrument = dataset.instrument_for(get_audit(session, audit_name))
    from audit.i18n import current

    vocab = frame_vocabulary(instrument, frame.attrs)
    lang = current()  # the language the command speaks (AUDIT_LANGUAGE / the user's)
    return lambda variable, code=None: vocab.label(variable, code, lang)


def _emit(tables: list[Table], fmt: str, label: Any = None) -> None:
    """Table format: labels, not codes, for a person; JSON and CSV: the codes for scripts,
    each with its label beside it (`<variable>_label`) when `label` is given."""
    if fmt == "json":
        payload = [t.to_dict(label) for t in tables]
        click.echo(json.dumps(payload[0] if len(payload) == 1 else payload, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        if len(tables) == 1:
            click.echo(tables[0].to_csv(csvio.SCRIPTS, label), nl=False)
        else:
            # Several tables in one sheet: generic row/column headers, the variables named per line.
            frames = []
            for t in tables:
                df = pd.DataFrame.from_records(t.to_records(label))
                rv, cv = t.row_var or "row", t.col_var or "column"
                df = df.rename(columns={rv: "row", cv: "column", f"{rv}_label": "row_label",
                                        f"{cv}_label": "column_label"})
                df.insert(0, "column_variable", t.col_var)
                df.insert(0, "row_variable", t.row_var)
                df.insert(0, "table", t.title)
                frames.append(df)
            out = pd.concat(frames, ignore_index=True)
            labels = [c for c in ("row_label", "column_label") if c in out.columns]
            out = out[[c for c in out.columns if c not in labels] + labels]  # last: the others keep their places
            for c in ("count", "n"):
                if c in out.columns:
                    out[c] = pd.to_numeric(out[c]).round().astype("Int64")
            click.echo(csvio.frame_to_text(out, csvio.SCRIPTS), nl=False)
    else:
        click.echo("\n\n".join((t.labelled(label) if label is not None else t).to_text() for t in tables))


def _common(f):  # type: ignore[no-untyped-def]
    f = click.option("--status", "statuses", multiple=True, default=REPORT_STATUSES, show_default=True,
                     help="Case statuses to include (repeat the option).")(f)
    f = click.option("--threshold", type=int, default=None,
                     help="Suppress cells below this many cases (default: AUDIT_SUPPRESS_BELOW, 3).")(f)
    f = click.option("--suppress/--no-suppress", "do_suppress", default=True, show_default=True,
                     help="Hide small cells (for anything that leaves the agency).")(f)
    f = click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
                     help="table: labels for a person; json/csv: codes for scripts, each with its label last "
                          "(<variable>_label).")(f)
    f = click.option("--lonely-psu", "lonely", type=click.Choice(LONELY_CHOICES), default=None,
                     help="A stratum with one reviewed case in a weighted table: 'adjust' (centred at the "
                          "grand mean, as R's survey) or 'fail' (refuse). Default: AUDIT_LONELY_PSU, adjust.")(f)
    f = click.option("--weighted", is_flag=True,
                     help="Design-weighted shares with 95 % logit CIs and design effects, tested with the "
                          "Rao-Scott F (second order, design degrees of freedom).")(f)
    f = click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD",
                     help="With --frame population: the register snapshot at this date.")(f)
    f = click.option("--frame", "unit", type=click.Choice(FRAME_CHOICES), default="sample", show_default=True,
                     help="sample (or case): one row per reviewed case (themes 1-6, register variables beside "
                          "them); population: every person of the register extract (a census, unweighted, "
                          "with the same suppression); municipality: theme 7, one row per municipality that "
                          "answered (N = municipalities).")(f)
    f = click.option("--audit", "audit_name", required=True, help="Audit name.")(f)
    return f


@click.group("stats")
def stats() -> None:
    """Report tables: frequencies, breakdowns and crosstabs from the reviewed cases, or with
    --frame population from the register population (register variables join the case frame
    too, so a review item can be crossed with one)."""


@stats.command("crosstab")
@_common
@click.option("--row", required=True, help="Row variable (item, register or derived variable).")
@click.option("--col", required=True, help="Column variable.")
@click.option("--percent", type=click.Choice(["row", "col"]), default="row", show_default=True)
def crosstab_cmd(audit_name: str, unit: str, as_of: str | None, weighted: bool, lonely: str | None, fmt: str,
                 do_suppress: bool, threshold: int | None, statuses: Sequence[str], row: str, col: str,
                 percent: str) -> None:
    """Crosstab of two variables with N and the test of association: Pearson's chi-square
    and Cramér's V, or for a weighted table the Rao-Scott F. Expected counts under 5 are
    flagged; no test is printed under a table with suppressed cells."""
    frame = _frame(audit_name, statuses, unit, as_of, weighted)
    _weighted_unit(frame, weighted)
    for name in (row, col):
        if name not in frame.columns:
            raise _unknown(frame, name)
    design = _design(frame, weighted, lonely)
    try:
        t = crosstabs.crosstab(frame, row, col, percent=percent, weighted=weighted, design=design)
    except DesignError as exc:
        raise click.ClickException(str(exc)) from exc
    except (KeyError, ValueError) as exc:
        raise click.ClickException(str(exc.args[0] if exc.args else exc)) from exc
    _emit([suppress(t, _threshold(threshold), frame=frame) if do_suppress and frame.attrs.get("unit") != "municipality" else t], fmt,
          _labels(audit_name, frame))


@stats.command("frequencies")
@_common
@click.option("--item", "items", multiple=True, help="Item code (repeat; default: every item).")
@click.option("--by", default=None, help="Break down by this variable (e.g. direction, municipality).")
def frequencies_cmd(audit_name: str, unit: str, as_of: str | None, weighted: bool, lonely: str | None, fmt: str,
                    do_suppress: bool, threshold: int | None, statuses: Sequence[str], items: Sequence[str],
                    by: str | None) -> None:
    """Counts and shares of items, N = the cases where each item applies (with --frame
    population: the persons of the register; with --frame municipality: the municipalities
    that answered theme 7). The tables printed together are suppressed together (a group's
    N shows in each of them)."""
    frame = _frame(audit_name, statuses, unit, as_of, weighted)
    _weighted_unit(frame, weighted)
    for name in (*items, *([by] if by else [])):
        if name not in frame.columns:
            raise _unknown(frame, name)
    design = _design(frame, weighted, lonely)
    try:
        tables = frequencies(frame, list(items) or None, by=by, weighted=weighted, design=design)
    except DesignError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyError as exc:
        raise click.ClickException(_("unknown variable {name}").format(name=repr(exc.args[0]))) from exc
    if do_suppress and frame.attrs.get("unit") != "municipality":  # theme 7 describes municipalities, not citizens: nothing to hide
        tables = suppress_together([(t, frame) for t in tables], _threshold(threshold))
    _emit(tables, fmt, _labels(audit_name, frame))


@stats.command("table2")
@_common
def table2_cmd(audit_name: str, unit: str, as_of: str | None, weighted: bool, lonely: str | None, fmt: str,
               do_suppress: bool, threshold: int | None, statuses: Sequence[str]) -> None:
    """The report's Table 2: number of challenge types against stable participation, with
    Pearson's chi-square, or weighted the Rao-Scott F."""
    if FRAME_ALIASES.get(unit, unit) != "sample":
        raise click.ClickException(_("table2 is a table of reviewed cases: --frame sample"))
    frame = _frame(audit_name, statuses)
    design = _design(frame, weighted, lonely)
    try:
        t = crosstabs.table2(frame, weighted=weighted, design=design)
    except DesignError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    _emit([suppress(t, _threshold(threshold), frame=frame) if do_suppress else t], fmt, _labels(audit_name, frame))


@stats.command("check-derived")
@click.argument("file", type=click.Path(exists=True, dir_okay=False), required=False)
def check_derived_cmd(file: str | None) -> None:
    """Check a derived-variables file (default: questionnaires/derived_2022.yaml): its keys,
    and that every source item and condition code exists in the instrument."""
    from audit.exports.service import default_instrument
    from audit.statistics.derived import DerivedError, load_derived

    try:
        spec = load_derived(file, instrument=default_instrument())
    except DerivedError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("{file}: {n} derived variables OK against the instrument").format(file=spec.path,
                                                                                 n=len(spec.variables)))


@stats.command("change")
@click.option("--audit", "audit_name", required=True, help="Audit name.")
@click.option("--variable", required=True, help="A category of the register definition (e.g. benefit_status).")
@click.option("--before", required=True, metavar="YYYY-MM-DD", help="The earlier snapshot (--as-of of its import).")
@click.option("--after", required=True, metavar="YYYY-MM-DD", help="The later snapshot.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
def change_cmd(audit_name: str, variable: str, before: str, after: str, fmt: str) -> None:
    """A category at two snapshots: persons and percent at each, and the difference in persons
    and percentage points (seed 000's Table 2). Not suppressed: a working table for the agency."""
    from audit.audits import get_audit
    from audit.db import session_scope
    from audit.population.snapshots import SnapshotError, snapshot_change

    from audit.population.binding import definition_for

    try:
        with session_scope() as session:
            audit = get_audit(session, audit_name)
            table = snapshot_change(session, audit, variable, before, after)
            var = definition_for(audit).variable(variable)
    except (LookupError, ValueError, SnapshotError) as exc:
        raise click.ClickException(str(exc.args[0] if exc.args else exc)) from exc
    out = table.reset_index()
    if fmt == "table":  # labels, not codes, for a person reading it
        out[variable] = [_("Total") if c == "total" else var.value_label(c) for c in out[variable]]
    if fmt == "json":
        click.echo(out.to_json(orient="records", force_ascii=False, indent=2))
    elif fmt == "csv":
        click.echo(csvio.frame_to_text(out, csvio.SCRIPTS), nl=False)
    else:
        click.echo(out.to_string(index=False, float_format=lambda v: f"{v:.1f}"))


COMMANDS: list[click.Command] = [stats]
