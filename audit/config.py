"""One settings object, read from the environment (prefix AUDIT_) or a .env file."""
from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUDIT_", env_file=".env", extra="ignore")

    # SQLite file under ./var by default; e.g. postgresql+psycopg://user:pw@localhost/audit
    database_url: str = ""
    # Folder for the SQLite file and the generated secret key.
    data_dir: Path = Path("var")
    # Signs the session cookie. When unset, a random key is generated once and
    # kept in data_dir/secret_key (never in the repository).
    secret_key: str = ""
    # Send the session cookie over HTTPS only. Turn on behind TLS in production.
    secure_cookies: bool = False
    # Sessions (audit.sessions): a session ends this long after login however active
    # (absolute time-out, seconds) and after this long without a request (idle time-out).
    session_max_age: int = 8 * 3600
    session_idle_timeout: int = 30 * 60
    # Failed log-ins (audit.throttle): this many failures for one username within the window
    # pause log-in for that name; the first pause lasts login_lockout seconds and each further
    # one twice as long as the one before (at most login_lockout_max). One client address
    # gets a higher bound, so a password spray over many names is paused too.
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_window: int = 15 * 60
    login_lockout: int = 5 * 60
    login_lockout_max: int = 24 * 3600
    # The interface language (audit.i18n) of the command line, and of the pages for a user who
    # has not chosen one on the account page: "da" (Danish) or "en" (English).
    language: str = "da"
    # Where a person reports an accessibility problem (the accessibility statement, /accessibility):
    # an e-mail address or a web address of the agency's support.
    accessibility_contact: str = ""
    # Statistics leaving the agency hide cells with fewer cases than this.
    suppress_below: int = 3
    # A stratum with one reviewed case in a weighted estimate: "adjust" (centred at the grand
    # mean, as R's survey.lonely.psu = "adjust") or "fail" (refuse the estimate).
    lonely_psu: Literal["adjust", "fail"] = "adjust"
    # Limits on what users and files may send (audit.limits reads them; each gives a clear error).
    max_upload_mb: int = 50            # one uploaded file or request body
    max_import_rows: int = 2_000_000   # rows of a register extract or review sheet
    max_cell_chars: int = 10_000       # one cell of an imported file
    max_text_chars: int = 20_000       # one free-text answer, note, remark or reply
    max_errors_listed: int = 500       # an import lists this many problems and counts the rest
    max_xlsx_uncompressed_mb: int = 500  # an .xlsx may expand to at most this much XML
    max_xlsx_ratio: int = 100          # ... and at most this many times its compressed size
    # Database concurrency (docs/review.md, "Pool and workers").
    # Seconds a request waits for a lock held by another writer (SQLite busy timeout,
    # PostgreSQL lock_timeout) before the user is told "the database is busy, try again".
    db_busy_timeout: float = 5.0
    # Connections per process: pool_size kept open, max_overflow more under load, and
    # pool_timeout seconds a request waits for a free one (then: busy, try again).
    # PostgreSQL: workers x (pool_size + max_overflow) must stay below max_connections.
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_pool_timeout: float = 10.0
    # Saves (autosave, API) run at most this many at a time per process; the others wait
    # their turn (up to db_busy_timeout). Fewer threads then compete for Python's GIL while
    # one of them holds a database lock, which halves the slowest saves under load. 0: no limit.
    save_concurrency: int = 4
    # Threads per process that make the exports page's background files (audit.exports.jobs);
    # the files are CPU-bound, so one leaves the other cores to the requests.
    export_job_threads: int = 1
    # A background job whose process has not beaten for this many seconds is taken for dead
    # (a crashed or restarted server) and marked failed; its process beats 4 times as often.
    export_job_stale_seconds: float = 60.0

    def resolved_database_url(self) -> str:
        if self.database_url:
            url = make_url(self.database_url)
            if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)  # a new file in a new folder
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'audit.sqlite').resolve()}"

    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
