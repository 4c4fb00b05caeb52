"""What the CLI and the web need to export an audit: the audit, its frozen instrument
and its case frame, plus file production for downloads.

The annex needs the whole case frame (its statistics are over all cases; the frame is
cached per data version). The raw data never does: it is written chunk by chunk of cases
from the database (`raw_chunks`), so its memory does not grow with the audit, and the
CSV is streamed to the browser as it is written (`stream_raw_csv`)."""
from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlmodel import Session

from audit import access, csvio, resources
from audit.audits import get_audit, instrument_for
from audit.exports import statsbridge
from audit.instrument import Instrument, load_instrument
from audit.models import Audit, User
from audit.population.snapshots import population_frame  # every register variable (Table 12, frame: population)
from audit.statistics.dataset import CHUNK_CASES, iter_case_frames, load_municipality_frame

INSTRUMENT_FILE = resources.questionnaire()

if TYPE_CHECKING:
    from audit.exports.raw import Variable


@dataclass
class AuditData:
    audit: Audit
    instrument: Instrument
    frame: pd.DataFrame            # the reviewed cases (docs/contracts.md)
    population: pd.DataFrame | None  # the register extract, for Table 12 (loaded for the annex)
    municipalities: pd.DataFrame | None = None  # theme 7: one row per municipality that answered

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
PERSONAL_KINDS = ("annex.xlsx", "report.xlsx", "figures.zip", "data.xlsx", "data.csv", "data.sav")
# Files made whole from the whole case frame, however large the audit (the tables need every case).
WHOLE_KINDS = ("annex.xlsx", "report.xlsx", "figures.zip")


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
    municipalities = load_municipality_frame(session, audit, instrument=instrument)
    if actor is not None and purpose in PERSONAL_KINDS:
        cases = frame["case_id"].tolist() if "case_id" in frame.columns else []
        access.record(session, actor, what=purpose, nature=access.FILE, cases=cases, audit_id=audit.id,
                      population=population is not None)
    session.expunge(audit)
    return AuditData(audit, instrument, frame, population, municipalities)


MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "csv": "text/csv; charset=utf-8", "sav": "application/x-spss-sav", "zip": "application/zip"}


def media_type(kind: str) -> str:
    return MEDIA[kind.rsplit(".", 1)[1]]


def raw_chunks(session: Session, audit: Audit, instrument: Instrument | None = None,
               chunk_cases: int = CHUNK_CASES) -> Iterator[pd.DataFrame]:
    """The raw export's cases (the report's statuses, as the annex counts them) in chunks."""
    return iter_case_frames(session, audit, instrument=instrument or audit_instrument(audit),
                            chunk_cases=chunk_cases)


def export_columns(audit: Audit, instrument: Instrument | None = None) -> list[Variable]:
    """The raw export's variables (the codebook) without reading any answer: they follow from
    the instrument and the frame's register columns alone."""
    from audit.exports.raw import variables
    from audit.statistics.dataset import empty_case_frame

    inst = instrument or audit_instrument(audit)
    return variables(empty_case_frame(audit, inst), inst)


def record_export(session: Session, audit: Audit, kind: str, *, actor: User | access.Actor,
                  population: bool = False) -> None:
    """Log that `actor` is handed the file `kind` made from the audit's cases (every case the
    raw export and the annex hold), before a byte of it is written: a streamed file's cases
    are not known otherwise until the end."""
    from audit.statistics.dataset import case_ids

    if kind in PERSONAL_KINDS:
        access.record(session, actor, what=kind, nature=access.FILE, cases=case_ids(session, audit),
                      audit_id=audit.id, population=population)


def write_raw_file(session: Session, audit: Audit, out: Path, *, actor: User | access.Actor,
                   dialect: csvio.Dialect = csvio.PEOPLE, progress: Any = None) -> int:
    """`audit export raw`: the file written chunk by chunk; returns the number of cases."""
    from audit.exports.raw import write_raw

    inst = audit_instrument(audit)
    record_export(session, audit, "data" + out.suffix.lower(), actor=actor)
    return write_raw(raw_chunks(session, audit, inst), out, inst, dialect=dialect, progress=progress,
                     municipalities=load_municipality_frame(session, audit, instrument=inst))


def stream_raw_csv(engine: Any, audit_id: int, *, actor: User | access.Actor) -> Iterator[bytes]:
    """data.csv as it is written, for a streamed response (PEOPLE: a download is for a
    person). The use is logged now; the file is read in its own session as the response is
    sent, since that runs after the request's own session has been handed back."""
    with Session(engine) as session:
        record_export(session, get_audit(session, audit_id), "data.csv", actor=actor)
    return _csv_stream(engine, audit_id)


def _csv_stream(engine: Any, audit_id: int) -> Iterator[bytes]:
    from audit.exports.raw import iter_csv

    with Session(engine) as session:
        audit = get_audit(session, audit_id)
        inst = audit_instrument(audit)
        yield from iter_csv(raw_chunks(session, audit, inst), inst, csvio.PEOPLE)


def raw_file(engine: Any, audit_id: int, kind: str, directory: Path, *, actor: User | access.Actor) -> Path:
    """data.xlsx or data.sav written chunk by chunk into `directory` (a zip and a .sav are
    complete only at the end; the caller streams the finished file and removes it)."""
    from audit.exports.raw import write_raw

    with Session(engine) as session:
        audit = get_audit(session, audit_id)
        inst = audit_instrument(audit)
        record_export(session, audit, kind, actor=actor)
        out = directory / kind
        write_raw(raw_chunks(session, audit, inst), out, inst, dialect=csvio.PEOPLE,
                  municipalities=load_municipality_frame(session, audit, instrument=inst)
                  if kind == "data.xlsx" else None)
    return out


# Downloads of a small audit are kept, per data version: the second click on a demo's
# data.xlsx is instant, and any change to the audit's data makes a new version.
SMALL_AUDIT_CASES = 5_000
_FILES: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_FILES_LOCK = threading.Lock()
FILES_KEPT = 16
FILE_BYTES_KEPT = 32 * 1024 * 1024


def small_download(engine: Any, audit_id: int, kind: str, *, actor: User | access.Actor) -> bytes | None:
    """The whole file of a small audit (at most SMALL_AUDIT_CASES reported cases), from the
    cache when this data version has made it before; None for a larger audit, which the
    caller streams chunk by chunk instead. Every file handed out is logged for `actor`,
    from the cache or not."""
    from audit.dataversion import data_version
    from audit.statistics.dataset import count_cases

    with Session(engine) as session:
        audit = get_audit(session, audit_id)
        if kind not in WHOLE_KINDS and count_cases(session, audit) > SMALL_AUDIT_CASES:
            return None
        record_export(session, audit, kind, actor=actor, population=kind in WHOLE_KINDS)
        key = (engine.url.render_as_string(hide_password=True), audit.id, data_version(session, audit.id),
               audit.instrument_version, kind)
        with _FILES_LOCK:
            body = _FILES.get(key)
            if body is not None:
                _FILES.move_to_end(key)
                return body
        body = make_file(session, audit, kind)  # the use was logged above, for this file whether made or kept
    if len(body) <= FILE_BYTES_KEPT:
        with _FILES_LOCK:
            _FILES[key] = body
            while len(_FILES) > FILES_KEPT:
                _FILES.popitem(last=False)
    return body


def make_file(session: Session, audit: Audit, kind: str) -> bytes:
    """The file `kind` of the audit as the exports page hands it out, made now; logs nothing
    (the caller records who is handed it: `small_download`, the background jobs' download).
    The whole kinds from the whole case frame, the raw ones chunk by chunk of cases."""
    if kind in WHOLE_KINDS:
        data = load_audit_data(session, audit.id, with_population=True, actor=None, purpose=kind)
        return render_bytes(kind, data)[0]
    from audit.exports.raw import write_raw

    with tempfile.TemporaryDirectory() as tmp:
        inst = audit_instrument(audit)
        out = Path(tmp) / kind
        # theme 7 rides along in the workbook, as in `raw_file` and `audit export raw`
        write_raw(raw_chunks(session, audit, inst), out, inst, dialect=csvio.PEOPLE,
                  municipalities=load_municipality_frame(session, audit, instrument=inst)
                  if kind == "data.xlsx" else None)
        return out.read_bytes()


def codebook_bytes(audit: Audit) -> bytes:
    """codebook.csv of the raw export."""
    from audit.exports.raw import codebook_csv_bytes

    return codebook_csv_bytes(export_columns(audit))


def render_bytes(kind: str, data: AuditData, definitions: Path | None = None) -> tuple[bytes, str]:
    """The downloadable file as bytes and its media type. kind: annex.xlsx, report.xlsx (the
    report definition's exhibits), figures.zip (its figures), data.xlsx, data.csv, data.sav,
    codebook.csv."""
    from audit.exports.annex import write_annex
    from audit.exports.definitions import load_definitions
    from audit.exports.raw import write_codebook_csv, write_raw

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / kind
        if kind == "figures.zip":
            return figure_book(data, definitions)[0], media_type(kind)
        if kind in ("annex.xlsx", "report.xlsx"):
            # report.xlsx: the report's exhibits (exports/report_2022.yaml), as `audit report build`
            from audit.exports.definitions import REPORT_FILE

            chosen = definitions or (REPORT_FILE if kind == "report.xlsx" else None)
            spec = load_definitions(chosen, instrument=data.instrument)
            write_annex(data.frame, spec, out, instrument=data.instrument, audit_name=data.name,
                        population=data.population, municipality_frame=data.municipalities)
        elif kind in ("data.xlsx", "data.csv", "data.sav"):
            # a download is for a person; theme 7 rides along in a workbook (one file per download)
            write_raw(data.frame, out, data.instrument, dialect=csvio.PEOPLE,
                      municipalities=data.municipalities if kind == "data.xlsx" else None)
        elif kind == "codebook.csv":
            write_codebook_csv(data.frame, out, data.instrument)
        else:
            raise KeyError(kind)
        return out.read_bytes(), media_type(kind)


def figure_book(data: AuditData, definitions: Path | None = None, *, suppress: bool = True,
                progress: Any = None) -> tuple[bytes, int]:
    """`audit export figures` and the exports page's figures.zip: every figure ("Figur N") of
    the report definition (default exports/report_2022.yaml) as PNG and SVG, zipped; returns
    the zip and the number of figures. The grids are the report workbook's: all exhibits of
    the definition are built as one publication (a count hidden in a table is hidden in the
    figure that shows it too), in the report's language (Danish), and only the figures drawn."""
    from audit import i18n
    from audit.exports.annex import ANNEX_LANGUAGE
    from audit.exports.compute import build_grids
    from audit.exports.definitions import REPORT_FILE, load_definitions
    from audit.exports.figures import is_figure, write_figures

    spec = load_definitions(definitions or REPORT_FILE, instrument=data.instrument)
    figures = [t for t in spec.tables if is_figure(t.id)]
    if not figures:
        raise ValueError(f"{definitions or REPORT_FILE}: no figure (an id starting with 'Figur') in the definition")
    with i18n.language(ANNEX_LANGUAGE):
        grids = build_grids(data.frame, spec, data.instrument, suppress, data.population,
                            municipality_frame=data.municipalities)
        return write_figures(grids, progress=progress), len(figures)
