"""After the draw: replacing a case by its stratum's next reserve, the sample
export and the sampling protocol (frame and sample counts per stratum)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from sqlmodel import Session, select

from audit.i18n import _
from audit import access, csvio
from audit.auditlog import record
from audit.models import Audit, Case, Person, User
from audit.population.summary import stratum_counts
from audit.sampling.bands import audit_bands
from audit.sampling.draw import SamplingError, has_answers, order_strata

EXPORT_COLUMNS = ["case_id", "person_id", "municipality", "seniority_band", "weight", "is_reserve", "reserve_rank"]


def replace_case(session: Session, audit: Audit, case_id: int, reason: str, *, user: User | None = None,
                 force: bool = False) -> Case:
    """Mark a case as replaced (file missing, person moved ...) and activate the next
    unused reserve of the same stratum. The stratum's n_h is unchanged, so weights stay N_h / n_h."""
    if audit.locked_at is not None:
        raise SamplingError(_('audit {audit_name} is locked').format(audit_name=repr(audit.name)))
    if not reason.strip():
        raise SamplingError(_('a replacement needs a reason'))
    case = session.get(Case, case_id)
    if case is None or case.audit_id != audit.id:
        raise SamplingError(_('audit {audit_name} has no case {case_id}').format(
                                audit_name=repr(audit.name), case_id=case_id))
    if not case.active:
        raise SamplingError(_('case {case_id} is not an active case (already replaced or an unused reserve)').format(
                                case_id=case_id))
    if has_answers(session, case_ids=[case.id]) and not force:
        raise SamplingError(_('case {case_id} already has answers; choose to replace it anyway').format(
                                case_id=case_id))
    reserve = session.exec(select(Case).where(
        Case.audit_id == audit.id, Case.municipality == case.municipality,
        Case.seniority_band == case.seniority_band, Case.is_reserve == True,  # noqa: E712
        Case.active == False, Case.replaced_by_case_id == None,  # noqa: E711
        Case.replacement_reason == None).order_by(Case.reserve_rank)).first()  # noqa: E711
    if reserve is None:
        raise SamplingError(_('no reserve left in stratum {case_municipality} / {band}').format(
                                case_municipality=case.municipality, band=case.seniority_band))
    case.active = False
    case.replaced_by_case_id = reserve.id
    case.replacement_reason = reason.strip()
    reserve.active = True
    reserve.assigned_to = case.assigned_to
    session.add(case)
    session.add(reserve)
    record(session, user=user, audit_id=audit.id, entity="case", entity_id=case.id, field="replaced_by",
           old=None, new=reserve.id, reason=reason.strip())
    record(session, user=user, audit_id=audit.id, entity="case", entity_id=reserve.id, field="active",
           old=False, new=True, reason=f"reserve {reserve.reserve_rank} replaces case {case.id}: {reason.strip()}")
    return reserve


def sample_frame(session: Session, audit: Audit) -> pd.DataFrame:
    """Every drawn case and reserve with the export columns (plus status fields)."""
    rows = session.exec(select(Case, Person.person_id).join(Person, Person.id == Case.person_pk)
                        .where(Case.audit_id == audit.id).order_by(Case.municipality, Case.seniority_band,
                                                                   Case.draw_order)).all()
    return pd.DataFrame([{
        "case_id": c.id, "person_id": pid, "municipality": c.municipality, "seniority_band": c.seniority_band,
        "weight": c.weight, "is_reserve": c.is_reserve, "reserve_rank": c.reserve_rank,
        "active": c.active, "replaced_by_case_id": c.replaced_by_case_id,
        "replacement_reason": c.replacement_reason} for c, pid in rows],
        columns=EXPORT_COLUMNS + ["active", "replaced_by_case_id", "replacement_reason"])


def protocol(session: Session, audit: Audit) -> tuple[dict, pd.DataFrame]:
    """Header facts and one row per stratum: N_h, n_h asked and drawn, shortfall, reserves drawn and used."""
    frame = pd.DataFrame(stratum_counts(session, audit), columns=["municipality", "seniority_band", "N_h"])
    cases = sample_frame(session, audit)
    drawn = cases[~cases.is_reserve].groupby(["municipality", "seniority_band"]).size().rename("n_h")
    res = cases[cases.is_reserve].groupby(["municipality", "seniority_band"]).size().rename("reserves_drawn")
    used = cases[cases.is_reserve & cases.active].groupby(["municipality", "seniority_band"]).size() \
        .rename("reserves_used")
    outside = int(frame.loc[frame["seniority_band"].isna(), "N_h"].sum())
    frame = frame[frame["seniority_band"].notna()]
    # every stratum of the audit, empty ones too (a listed municipality with nobody in a band is a
    # shortfall of the whole stratum), municipalities in name order and bands in their order
    listed = json.loads(audit.municipalities_json or "[]")
    strata = order_strata(sorted(set(listed) | set(frame["municipality"])), audit_bands(audit))
    index = pd.MultiIndex.from_tuples(strata, names=["municipality", "seniority_band"])
    table = (frame.set_index(["municipality", "seniority_band"]).join([drawn, res, used])
             .reindex(index).fillna(0).astype(int))
    table["n_h_asked"] = audit.per_stratum or 0
    table["shortfall"] = (table["n_h_asked"] - table["n_h"]).clip(lower=0)
    table = table.reset_index()[["municipality", "seniority_band", "N_h", "n_h_asked", "n_h", "shortfall",
                                 "reserves_drawn", "reserves_used"]]
    replaced = cases[cases.replaced_by_case_id.notna()][["case_id", "replaced_by_case_id", "replacement_reason"]]
    header = {"audit": audit.name, "seed": audit.seed, "bands": list(audit_bands(audit)),
              "per_stratum": audit.per_stratum, "reserves": audit.reserves,
              "drawn_at": str(audit.sampled_at), "drawn_by": audit.sampled_by,
              "population": int(table["N_h"].sum()), "sample": int(table["n_h"].sum()),
              "below_first_band": outside,
              "replacements": replaced.to_dict("records")}
    return header, table


# Both files are for scripts (the agency's case-file lookup, R): csvio's SCRIPTS dialect,
# UTF-8, comma, decimal point; person ids and reasons written as text by csvio's rule.
DIALECT = csvio.SCRIPTS


def sample_csv(session: Session, audit: Audit, *, actor: Any) -> str:
    """The sample as CSV text with the export columns: what `audit sample export` writes
    and the admin page downloads, so both give the same file. Logged for `actor` (audit.access)."""
    frame = sample_frame(session, audit)[EXPORT_COLUMNS]
    rows = ([c, p, m, b, w, str(bool(r)),  # is_reserve as True/False, as it always was
             None if pd.isna(k) else int(k)]  # rank 1, not 1.0
            for c, p, m, b, w, r, k in frame.itertuples(index=False, name=None))
    if actor is not None:
        access.record(session, actor, what="sample.csv", nature=access.FILE, cases=frame["case_id"].tolist(),
                      audit_id=audit.id)
    return csvio.to_text(EXPORT_COLUMNS, rows, DIALECT)


def _comment_json(value: object) -> str:
    """JSON for a `# key: value` line whose strings carry no delimiter: a comma or semicolon
    inside a string (a replacement reason, the audit's name) is written as its JSON escape,
    so a spreadsheet splitting the line at the delimiter can never start a cell with text a
    person typed. Every cell after the first then starts with the space after a separator."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace(",", "\\u002c").replace(";", "\\u003b")
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict)):  # numpy scalars
        return _comment_json(value.item())
    if isinstance(value, float) and value != value:
        return "null"
    if value is None or isinstance(value, (bool, int, float)):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_comment_json(str(k))}: {_comment_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_comment_json(v) for v in value) + "]"
    return _comment_json(str(value))


def protocol_csv(session: Session, audit: Audit, *, actor: Any) -> str:
    """The sampling protocol as CSV text: header facts as `# key: value` lines (the value as
    JSON), then the strata. Logged for `actor` with the replaced cases and their reserves it
    names (audit.access)."""
    header, table = protocol(session, audit)
    if actor is not None:
        named = [int(v) for r in header.get("replacements", []) for v in (r["case_id"], r["replaced_by_case_id"])]
        access.record(session, actor, what="protocol.csv", nature=access.FILE, cases=named, audit_id=audit.id)
    lines = [f"# {key}: {_comment_json(value)}\r\n" for key, value in header.items()]
    return "".join(lines) + csvio.frame_to_text(table, DIALECT)


def export_sample(session: Session, audit: Audit, out: Path, *, actor: Any) -> Path:
    """The sample CSV (export columns) and the protocol next to it (FILE.protocol.csv)."""
    with out.open("w", encoding=DIALECT.encoding, newline="") as fh:
        fh.write(sample_csv(session, audit, actor=actor))
    proto = out.with_suffix(".protocol.csv")
    with proto.open("w", encoding=DIALECT.encoding, newline="") as fh:
        fh.write(protocol_csv(session, audit, actor=actor))
    return proto
