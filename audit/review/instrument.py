"""The instrument an audit is bound to, and how a raw cell or form field becomes
an answer value (and back). One parser for the case form, the JSON API and the
wide-sheet import, so a value means the same thing wherever it was typed."""
from __future__ import annotations

import json
import threading
from datetime import date
from typing import Any

from audit.models import Audit

_CACHE: dict[tuple[int, str | None], Any] = {}
_LOCK = threading.Lock()


class NoInstrument(LookupError):
    """The audit has no frozen instrument yet."""


def load_snapshot(instrument_json: str) -> Any:
    from audit.instrument import Instrument

    return Instrument.from_dict(json.loads(instrument_json))


def instrument_for(audit: Audit) -> Any:
    """The audit's frozen instrument (`Audit.instrument_json`), parsed once per
    audit id + instrument version and shared by every request."""
    if not audit.instrument_json:
        raise NoInstrument(f"audit {audit.name!r} is not bound to an instrument yet")
    key = (audit.id, audit.instrument_version)
    inst = _CACHE.get(key)
    if inst is None:
        with _LOCK:
            inst = _CACHE.get(key)
            if inst is None:
                inst = load_snapshot(audit.instrument_json)
                _CACHE[key] = inst
    return inst


def clear_cache() -> None:
    _CACHE.clear()


# --- item kinds -------------------------------------------------------------

def kind(item: Any) -> str:
    """One of: yes_no, yes_no_na, single, multiple, integer, scale, date, text, calculated."""
    if getattr(item, "calculation", None):
        return "calculated"
    t = str(getattr(item, "type", "text")).lower()
    if t in ("yes_no", "yesno", "ja_nej"):
        return "yes_no"
    if t in ("yes_no_na", "yes_no_not_relevant", "yesno_na", "ja_nej_ir"):
        return "yes_no_na"
    if "multiple" in t or t in ("select_multiple", "multi"):
        return "multiple"
    if t in ("select_one", "single", "choice", "single_choice", "select"):
        return "single"
    if "scale" in t or t == "likert":
        return "scale"
    if t in ("integer", "int", "number", "count"):
        return "integer"
    if t == "date":
        return "date"
    if t in ("calculate", "calculated", "derived"):
        return "calculated"
    return "text"


YES_NO = [("ja", "Ja"), ("nej", "Nej")]
YES_NO_NA = [("ja", "Ja"), ("nej", "Nej"), ("ikke_relevant", "Ikke relevant")]


def choices(item: Any) -> list[tuple[str, str]]:
    """(code, label) pairs of a choice item, whatever shape the instrument stores them in."""
    k = kind(item)
    raw = getattr(item, "choices", None) or []
    out: list[tuple[str, str]] = []
    if isinstance(raw, dict):
        raw = list(raw.items())
    for c in raw:
        if isinstance(c, str):
            out.append((c, c))
        elif isinstance(c, (tuple, list)):
            code = str(c[0])
            label = c[1] if len(c) > 1 else code
            if isinstance(label, dict):
                label = label.get("label_da") or label.get("label") or code
            out.append((code, str(label)))
        elif isinstance(c, dict):
            code = str(c.get("name") or c.get("code") or c.get("value"))
            out.append((code, str(c.get("label_da") or c.get("label") or code)))
        else:
            code = str(getattr(c, "name", None) or getattr(c, "code", None) or getattr(c, "value", c))
            out.append((code, str(getattr(c, "label_da", None) or getattr(c, "label", None) or code)))
    if not out and k == "yes_no":
        return list(YES_NO)
    if not out and k == "yes_no_na":
        return list(YES_NO_NA)
    if not out and k == "scale":
        return [(str(i), str(i)) for i in range(1, 6)]
    return out


class ParseError(ValueError):
    pass


def parse(item: Any, raw: Any) -> Any:
    """A typed answer value from text (form field, sheet cell, JSON). '' -> None.
    Lists are accepted for multiple choice; text is split on spaces or commas."""
    k = kind(item)
    if raw is None:
        return None
    if k == "multiple":
        if isinstance(raw, (list, tuple)):
            codes = [str(c).strip() for c in raw if str(c).strip()]
        else:
            codes = str(raw).replace(",", " ").split()
        if not codes:
            return None
        known = [c for c, _ in choices(item)]
        unknown = [c for c in codes if known and c not in known]
        if unknown:
            raise ParseError(f"unknown choice code(s) {' '.join(unknown)}; expected codes among {' '.join(known)}")
        # stored in the instrument's order, once each
        return [c for c in known if c in codes] if known else sorted(set(codes))
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "":
            return None
    if k in ("integer", "scale"):
        if isinstance(raw, bool):
            raise ParseError("expected a whole number")
        if isinstance(raw, float):
            if not raw.is_integer():
                raise ParseError(f"expected a whole number, got {raw}")
            return int(raw)
        if isinstance(raw, int):
            return raw
        try:
            return int(str(raw))
        except ValueError:
            try:
                f = float(str(raw).replace(",", "."))
            except ValueError:
                raise ParseError(f"expected a whole number, got {raw!r}") from None
            if not f.is_integer():
                raise ParseError(f"expected a whole number, got {raw!r}") from None
            return int(f)
    if k == "date":
        if isinstance(raw, date):
            return raw.isoformat()[:10]
        text = str(raw)[:10]
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ParseError(f"expected a date YYYY-MM-DD, got {raw!r}") from None
    if k in ("yes_no", "yes_no_na", "single"):
        code = str(raw)
        known = [c for c, _ in choices(item)]
        if known and code not in known:
            raise ParseError(f"{code!r} is not one of {' '.join(known)}")
        return code
    return str(raw)


def format_cell(item: Any, value: Any) -> Any:
    """The wide-sheet cell of a value: multiple choice as space-separated codes."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return value


def display(item: Any, value: Any) -> str:
    if value is None:
        return ""
    labels = dict(choices(item))
    if isinstance(value, (list, tuple)):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))
