"""One way to answer a download: the bytes, their media type, and a Content-Disposition
that survives any audit or municipality name (ASCII fallback plus RFC 5987 UTF-8 name).
Every download carries personal data, so none may be stored by a browser or proxy."""
from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

from fastapi.responses import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
NO_STORE = "no-store"


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower() or "audit"


def attachment_headers(filename: str) -> dict[str, str]:
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode() or "download"
    ascii_name = re.sub(r'["\\\r\n]', "_", ascii_name)
    return {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": NO_STORE}


def download(body: bytes | str, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers=attachment_headers(filename))


def file_responses(*media_types: str, description: str = "The file as a download") -> dict[int | str, Any]:
    """`responses=` entry documenting a 200 that is a file, not JSON."""
    return {200: {"description": description,
                  "content": {m.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                              for m in media_types}}}
