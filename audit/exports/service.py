"""What the CLI and the web need to export an audit: the audit, its frozen instrument
and its case frame, plus file production into bytes for downloads."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
import pandas as pd
from sqlmodel import Session

from audit import access, csvio, resources
from audit.audits import get_audit, instrument_for
from audit.exports import statsbridge
from audit.instrument import Instrument, load_instrument
from audit.models import Audit
from audit.sampling.representativeness import population_frame

INSTRUMENT_FILE = resources.questionnaire()


@dataclass
class AuditData:
    audit: Audit
    instrument: Instrument
    frame: pd.DataFrame            # the reviewed cases (docs/contracts.md)
    population: pd.DataFrame | None  # the register extract, for Table 12 (loaded for the annex)

    @property
    def name(self) -> str:
        return self.audit.name


def audit_instrument(audit: Audit) -> Instrument:
    """The instrument frozen on the audit (never today's file)."""
    return instrument_for(audit)


def default_instrument(path: Path | None = None) -> Instrument:
    """The repository's current instrument file (for definitions checks without an audit)."""
    return load_instrument(path or INSTRUMENT_FILE)


# File kinds whose content is derived from personal data (logged); the codebooks list variables only.
PERSONAL_KINDS = ("annex.xlsx", "data.xlsx", "data.csv", "data.sav")


def load_audit_data(session: Session, name_or_id: str | int, with_population: bool = False, *,
                    actor: Any, purpose: str) -> AuditData:
    """The audit, its instrument and case frame; the register population (for Table 12)
    only when asked, since the raw data and codebook do not need it. `purpose` is the file
    kind made from it (annex.xlsx, data.xlsx/csv/sav, codebook.csv/xlsx); for the kinds in
    PERSONAL_KINDS the use is logged for `actor`, with every case of the frame (audit.access)."""
    audit = get_audit(session, name_or_id)
    instrument = audit_instrument(audit)
    frame = statsbridge.load_case_frame(session, audit, instrument)
    population = population_frame(session, audit) if with_population else None
    if actor is not None and purpose in PERSONAL_KINDS:
        cases = frame["case_id"].tolist() if "case_id" in frame.columns else []
        access.record(session, actor, what=purpose, nature=access.FILE, cases=cases, audit_id=audit.id,
                      population=population is not None)
    session.expunge(audit)
    return AuditData(audit, instrument, frame, population)


def render_bytes(kind: str, data: AuditData, definitions: Path | None = None) -> tuple[bytes, str]:
    """The downloadable file as bytes and its media type. kind: annex.xlsx, data.xlsx,
    data.csv, data.sav, codebook.csv."""
    from audit.exports.annex import write_annex
    from audit.exports.definitions import load_definitions
    from audit.exports.raw import write_codebook_csv, write_raw

    media = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv; charset=utf-8", "sav": "application/x-spss-sav"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / kind
        if kind == "annex.xlsx":
            spec = load_definitions(definitions, instrument=data.instrument)
            write_annex(data.frame, spec, out, instrument=data.instrument, audit_name=data.name,
                        population=data.population)
        elif kind in ("data.xlsx", "data.csv", "data.sav"):
            write_raw(data.frame, out, data.instrument, dialect=csvio.PEOPLE)  # a download is for a person
        elif kind == "codebook.csv":
            write_codebook_csv(data.frame, out, data.instrument)
        else:
            raise KeyError(kind)
        return out.read_bytes(), media[kind.rsplit(".", 1)[1]]
