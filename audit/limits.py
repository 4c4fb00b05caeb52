"""The limits on what a person or a file may send, in one place.

The numbers are settings (`AUDIT_MAX_…`, see README "Configuration"); every reader of
user input asks here, so an upload, an import and a form field refuse the same way:
with `LimitExceeded`, a ValueError whose message names the file or field, the limit and
what was sent. Nothing is parsed before the cheap checks have passed.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from audit.i18n import _
from audit.config import get_settings

MAX_DB_INTEGER = 2**63 - 1  # ids above this cannot exist in SQLite or PostgreSQL (BIGINT)


class LimitExceeded(ValueError):
    """Input larger than the tool accepts; the message says what and by how much."""


@dataclass(frozen=True)
class Limits:
    upload_bytes: int
    import_rows: int
    cell_chars: int
    text_chars: int
    errors_listed: int
    xlsx_uncompressed_bytes: int
    xlsx_ratio: int


def current() -> Limits:
    s = get_settings()
    return Limits(upload_bytes=s.max_upload_mb * 1024 * 1024, import_rows=s.max_import_rows,
                  cell_chars=s.max_cell_chars, text_chars=s.max_text_chars,
                  errors_listed=s.max_errors_listed,
                  xlsx_uncompressed_bytes=s.max_xlsx_uncompressed_mb * 1024 * 1024,
                  xlsx_ratio=s.max_xlsx_ratio)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def check_upload_size(size: int, what: str) -> None:
    limit = current().upload_bytes
    if size > limit:
        raise LimitExceeded(_('{what}: {mb_size} is more than the {mb_limit} a file may be').format(
                                what=what, mb_size=_mb(size), mb_limit=_mb(limit)))


def check_text(text: str | None, field: str) -> None:
    limit = current().text_chars
    if text is not None and len(text) > limit:
        raise LimitExceeded(_('{field}: {len_text:,} characters is more than the {limit:,} allowed').format(
                                field=field, len_text=len(text), limit=limit))


def check_rows(n: int, what: str) -> None:
    limit = current().import_rows
    if n > limit:
        raise LimitExceeded(_('{what}: {n:,} rows is more than the {limit:,} an import may have').format(
                                what=what, n=n, limit=limit))


def check_xlsx_archive(source: bytes | str | Path, what: str) -> None:
    """Refuse an .xlsx whose XML would expand beyond the limits (a 'zip bomb'),
    reading only the archive's directory, before any XML is parsed."""
    lim = current()
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise ValueError(_('{what}: not a valid .xlsx file ({exc})').format(what=what, exc=exc)) from exc
    packed = sum(i.compress_size for i in infos) or 1
    unpacked = sum(i.file_size for i in infos)
    if unpacked > lim.xlsx_uncompressed_bytes:
        raise LimitExceeded(_('{what}: the workbook expands to {mb_unpacked}, more than the {bytes} allowed').format(
                                what=what, mb_unpacked=_mb(unpacked), bytes=_mb(lim.xlsx_uncompressed_bytes)))
    if unpacked / packed > lim.xlsx_ratio and unpacked > 10 * 1024 * 1024:
        raise LimitExceeded(_('{what}: the workbook expands {unpacked_packed:.0f} times (to {mb_unpacked}); at most {lim_xlsx_ratio} times is accepted').format(
                                what=what, unpacked_packed=unpacked / packed, mb_unpacked=_mb(unpacked), lim_xlsx_ratio=lim.xlsx_ratio))


def valid_id(value: int) -> bool:
    """An id a database row can have (ids beyond the integer range simply do not exist)."""
    return 0 < value <= MAX_DB_INTEGER
