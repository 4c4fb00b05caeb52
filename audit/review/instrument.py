"""How a raw cell or form field becomes an answer value (and back). One parser for the
case form, the JSON API and the wide-sheet import, so a value means the same thing
wherever it was typed.

The item is the instrument's typed `Item` (`audit.instrument`): its `type`, `kind`,
`codes` and `choice_label` are the only description of an item; nothing here guesses.
The audit's frozen instrument is `audit.audits.instrument_for` (re-exported for the
review room's callers).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from audit.i18n import _
from audit.audits import NoInstrument, clear_instrument_cache, instrument_for
from audit.instrument import Item

__all__ = ["NoInstrument", "ParseError", "clear_cache", "format_cell", "instrument_for", "parse"]

clear_cache = clear_instrument_cache


class ParseError(ValueError):
    pass


def _whole_number(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ParseError(_('expected a whole number'))
    if isinstance(raw, float):
        if not raw.is_integer():
            raise ParseError(_('expected a whole number, got {raw}').format(raw=raw))
        return int(raw)
    if isinstance(raw, int):
        return raw
    try:
        return int(str(raw))
    except ValueError:
        try:
            f = float(str(raw).replace(",", "."))
        except ValueError:
            raise ParseError(_('expected a whole number, got {raw}').format(raw=repr(raw))) from None
        if not f.is_integer():
            raise ParseError(_('expected a whole number, got {raw}').format(raw=repr(raw))) from None
        return int(f)


def parse(item: Item, raw: Any) -> Any:
    """A typed answer value from text (form field, sheet cell, JSON). '' -> None.
    Lists are accepted for multiple choice; text is split on spaces or commas."""
    if raw is None:
        return None
    if item.type == "select_multiple":
        if isinstance(raw, (list, tuple)):
            codes = [str(c).strip() for c in raw if str(c).strip()]
        else:
            codes = str(raw).replace(",", " ").split()
        if not codes:
            return None
        known = item.codes
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise ParseError(_('unknown choice code(s) {join_unknown}; expected codes among {join_known}').format(
                                 join_unknown=' '.join(unknown), join_known=' '.join(known)))
        return [c for c in known if c in codes]  # stored in the instrument's order, once each
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "":
            return None
    if item.type in ("integer", "scale"):
        return _whole_number(raw)
    if item.type == "date":
        if isinstance(raw, date):
            return raw.isoformat()[:10]
        text = str(raw)[:10]
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ParseError(_('expected a date YYYY-MM-DD, got {raw}').format(raw=repr(raw))) from None
    if item.type in ("yes_no", "yes_no_na", "select_one"):
        code = str(raw)
        if code not in item.codes:
            raise ParseError(_('{code} is not one of {join_item_codes}').format(
                                 code=repr(code), join_item_codes=' '.join(item.codes)))
        return code
    return str(raw)


def format_cell(item: Item, value: Any) -> Any:
    """The wide-sheet cell of a value: multiple choice as space-separated codes."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return value
