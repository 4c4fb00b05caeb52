"""Background jobs for the exports page's slow files (docs/exports.md, "Background jobs").

A job is a row of `exportjob`: queued when an admin asks for a file, running while a
worker thread of the server process that queued it makes the file, then ready (its bytes
in `exportjobfile`) or failed (with the reason, in the requester's language). Everything
a page shows is read from the database, so with `audit serve --workers N` every worker
process sees every job and can hand out its file, whichever process made it.

- Made off the request: `queue` commits the row and hands its id to this process's
  thread pool (`AUDIT_EXPORT_JOB_THREADS`, default 1: the files are CPU-bound). The
  thread claims the row (`queued` -> `running` in one conditional UPDATE), makes the file
  with `service.make_file` (the same function the direct download uses, so the file is the
  same), and stores it with `ready` in one transaction.
- Alive or not: while a job of this process is queued or running, a heartbeat thread
  touches its `heartbeat_at` every `heartbeat_seconds()`. A job whose heartbeat is older
  than `stale_seconds()` (AUDIT_EXPORT_JOB_STALE_SECONDS, default 60) belongs to a server
  that died (or was restarted) and is marked failed by `reap` (called whenever jobs are
  read), so it is never left "running" for ever and can be started again.
- Tied to the data: a job remembers the audit's `data_version` read before the file was
  made; once the audit's version differs (an answer changed), the file is stale: it is no
  longer handed out, and a new job can be queued. When a job becomes ready, the files of
  older jobs of the same audit and kind are deleted.
- Access: this module logs nothing; the web route that hands out a ready file asks
  `permissions` and records the download (`service.record_export`) exactly as the direct
  download `/exports/{audit_id}/{kind}` does.
"""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from audit import i18n
from audit.i18n import _
from audit.models import Audit, ExportJob, ExportJobFile, User, utcnow

log = logging.getLogger(__name__)

# The exports page's files that take seconds: made as background jobs (the others are instant).
JOB_KINDS = ("annex.xlsx", "report.xlsx", "figures.zip", "data.xlsx")
IN_PROGRESS = ("queued", "running")

# host:pid:random, one per process: which process owns (runs) a job
WORKER = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_owned: dict[int, Engine] = {}   # job id -> engine, for the jobs this process has queued and not finished
_beating = threading.Event()     # set while the heartbeat thread runs


class JobError(ValueError):
    """A job cannot be queued or its file handed out; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class JobView:
    """What the page shows of the latest job of an audit's kind."""
    job: ExportJob | None
    stale: bool          # ready, but the audit's data changed since the file was made

    @property
    def state(self) -> str:
        """none, queued, running, ready, stale or failed."""
        if self.job is None:
            return "none"
        if self.job.status == "ready" and self.stale:
            return "stale"
        return self.job.status

    @property
    def polling(self) -> bool:
        return self.state in IN_PROGRESS


def _threads() -> int:
    from audit.config import get_settings

    return max(1, get_settings().export_job_threads)


def stale_seconds() -> float:
    """A job not beaten for this long belongs to a dead process (AUDIT_EXPORT_JOB_STALE_SECONDS)."""
    from audit.config import get_settings

    return max(1.0, float(get_settings().export_job_stale_seconds))


def heartbeat_seconds() -> float:
    """How often a process touches its unfinished jobs: a quarter of the stale time, at most 5 s."""
    return min(5.0, stale_seconds() / 4)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_threads(), thread_name_prefix="audit-export-job")
        return _pool


def reap(session: Session, now: datetime | None = None) -> int:
    """Mark failed the queued or running jobs whose process stopped beating (a server that
    died or was restarted mid-run); returns how many. Commits."""
    cutoff = (now or utcnow()) - timedelta(seconds=stale_seconds())
    table = ExportJob.__table__
    lost = (table.c.status.in_(IN_PROGRESS), table.c.heartbeat_at < cutoff)
    # a read first: the pages poll, and most polls find nothing to write
    if session.execute(select(table.c.id).where(*lost).limit(1)).first() is None:
        return 0
    reason = _("The server stopped while the file was being made. Start it again.")
    result = session.execute(update(table).where(*lost).values(status="failed", error=reason, finished_at=utcnow()))
    session.commit()
    return int(result.rowcount or 0)


def latest(session: Session, audit: Audit, kind: str) -> JobView:
    """The newest job of the audit's file `kind` and whether its file is stale."""
    reap(session)
    job = session.execute(select(ExportJob).where(ExportJob.audit_id == audit.id, ExportJob.kind == kind)
                          .order_by(ExportJob.id.desc()).limit(1)).scalars().first()  # type: ignore[union-attr]
    return JobView(job, _is_stale(session, job))


def _is_stale(session: Session, job: ExportJob | None) -> bool:
    if job is None or job.status != "ready":
        return False
    from audit.dataversion import data_version

    return data_version(session, job.audit_id) != job.data_version or job.built_with != build_fingerprint()


@lru_cache(maxsize=1)
def build_fingerprint() -> str:
    """What a file is made with besides the audit's data: the tool's code, its catalogues and
    the shipped definitions (annex, report, derived variables, instruments, register
    definitions). A file kept from another build (a deployment, an edited definition: another
    suppression pattern of the same data) is stale like one made before an answer changed.
    The same for every worker of one installation; read once per process."""
    from audit.resources import _package_dir, shared

    package = _package_dir()
    named = sorted((str(p.relative_to(package)), p) for p in package.rglob("*")
                   if p.suffix in (".py", ".po") and p.relative_to(package).parts[0] != "share")
    for folder in ("exports", "questionnaires", "registers"):
        root = shared(folder)
        named += sorted((f"{folder}/{p.relative_to(root)}", p) for p in root.rglob("*")
                        if p.is_file() and p.suffix in (".yaml", ".yml", ".csv"))
    digest = hashlib.sha256()
    for name, path in named:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def get_job(session: Session, audit: Audit, job_id: int) -> JobView:
    """The job `job_id` of the audit (JobError 404 when it is not one of this audit's)."""
    reap(session)
    job = session.get(ExportJob, job_id)
    if job is None or job.audit_id != audit.id:
        raise JobError(_("not found"), 404)
    return JobView(job, _is_stale(session, job))


def queue(engine: Engine, session: Session, audit: Audit, kind: str, *, requester: User,
          run: bool = True) -> JobView:
    """Queue the making of `kind` for the audit, unless a job for it is already queued or
    running, or its file is ready and current (then that job is the answer). `run` False
    leaves the job queued (tests of a server that died)."""
    if kind not in JOB_KINDS:
        raise JobError(_("not found"), 404)
    view = latest(session, audit, kind)
    if view.state in ("queued", "running", "ready"):
        return view
    now = utcnow()
    job = ExportJob(audit_id=audit.id, kind=kind, status="queued", requested_by=requester.id,
                    language=i18n.current(), created_at=now, heartbeat_at=now, worker=WORKER)
    session.add(job)
    session.commit()
    session.refresh(job)
    if run:
        submit(engine, job.id)  # type: ignore[arg-type]
    return JobView(job, False)


def submit(engine: Engine, job_id: int) -> None:
    """Hand a queued job to this process's thread pool (and keep its heartbeat going)."""
    with _lock:
        _owned[job_id] = engine
    _start_heartbeat()
    _executor().submit(_run_safely, engine, job_id)


def _run_safely(engine: Engine, job_id: int) -> None:
    try:
        run_job(engine, job_id)
    except Exception:  # noqa: BLE001 - run_job records failures; this only keeps the pool alive
        log.exception("export job %s", job_id)
    finally:
        with _lock:
            _owned.pop(job_id, None)


def run_job(engine: Engine, job_id: int) -> str:
    """Claim the queued job, make its file and store it; returns the job's final status.
    A job already claimed (or reaped) is left alone."""
    from audit.audits import get_audit
    from audit.dataversion import data_version
    from audit.exports.service import make_file

    table = ExportJob.__table__
    with Session(engine) as session:
        claimed = session.execute(update(table).where(table.c.id == job_id, table.c.status == "queued")
                                  .values(status="running", started_at=utcnow(), heartbeat_at=utcnow(),
                                          worker=WORKER))
        session.commit()
        if not claimed.rowcount:
            return "skipped"
        job = session.get(ExportJob, job_id)
        assert job is not None
        language = job.language
    with i18n.language(language):
        try:
            with Session(engine) as session:
                audit = get_audit(session, job.audit_id)
                version = data_version(session, audit.id)
                body = make_file(session, audit, job.kind)
        except Exception as exc:  # noqa: BLE001 - every failure is the job's readable reason
            log.warning("export job %s (%s) failed: %s", job_id, job.kind, exc)
            return _finish_failed(engine, job_id, _reason(exc))
    with Session(engine) as session:
        done = session.execute(update(table).where(table.c.id == job_id, table.c.status == "running")
                               .values(status="ready", finished_at=utcnow(), data_version=version,
                                       built_with=build_fingerprint(),
                                       size=len(body), sha256=hashlib.sha256(body).hexdigest()))
        if not done.rowcount:  # reaped meanwhile (thought dead): its state stays as it is
            session.rollback()
            return "failed"
        session.add(ExportJobFile(job_id=job_id, body=body))
        older = select(table.c.id).where(table.c.audit_id == job.audit_id, table.c.kind == job.kind,
                                         table.c.id < job_id)
        session.execute(delete(ExportJobFile.__table__).where(ExportJobFile.__table__.c.job_id.in_(older)))
        session.commit()
    return "ready"


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text or _("The file could not be made ({error}).").format(error=type(exc).__name__)


def _finish_failed(engine: Engine, job_id: int, reason: str) -> str:
    table = ExportJob.__table__
    with Session(engine) as session:
        session.execute(update(table).where(table.c.id == job_id, table.c.status == "running")
                        .values(status="failed", finished_at=utcnow(), error=reason[:4000]))
        session.commit()
    return "failed"


def file_of(session: Session, view: JobView) -> bytes:
    """The finished file of a ready, current job (JobError 409 otherwise)."""
    if view.state == "stale":
        raise JobError(_("The file is out of date: the audit's data changed after it was made. Make it again."))
    if view.state != "ready" or view.job is None:
        raise JobError(_("The file is not ready."))
    stored = session.get(ExportJobFile, view.job.id)
    if stored is None:
        raise JobError(_("The file is not ready."))
    return bytes(stored.body)


def _start_heartbeat() -> None:
    with _lock:
        if _beating.is_set():
            return
        _beating.set()
    threading.Thread(target=_heartbeat, name="audit-export-heartbeat", daemon=True).start()


def _heartbeat() -> None:
    """Touch this process's unfinished jobs every `heartbeat_seconds()`; stops when there are none."""
    stop = threading.Event()
    while True:
        with _lock:
            owned = dict(_owned)
            if not owned:
                _beating.clear()
                return
        beat(owned)
        stop.wait(heartbeat_seconds())


def beat(owned: dict[int, Any]) -> None:
    """One heartbeat for the given jobs (id -> engine)."""
    table = ExportJob.__table__
    by_engine: dict[int, tuple[Engine, list[int]]] = {}
    for job_id, engine in owned.items():
        by_engine.setdefault(id(engine), (engine, []))[1].append(job_id)
    for engine, ids in by_engine.values():
        try:
            with Session(engine) as session:
                session.execute(update(table).where(table.c.id.in_(ids), table.c.status.in_(IN_PROGRESS))
                                .values(heartbeat_at=utcnow()))
                session.commit()
        except Exception:  # noqa: BLE001 - a busy database: the next beat tries again
            log.warning("export job heartbeat failed", exc_info=True)


def wait_idle(timeout: float = 120.0) -> bool:
    """Block until this process has no unfinished job (tests, a graceful stop)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _lock:
            if not _owned:
                return True
        time.sleep(0.05)
    return False
