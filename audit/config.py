"""One settings object, read from the environment (prefix AUDIT_) or a .env file."""
from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

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
    session_max_age: int = 8 * 3600
    # Statistics leaving the agency hide cells with fewer cases than this.
    suppress_below: int = 3

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
