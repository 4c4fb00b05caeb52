"""The audit's frozen instrument as the hearing room needs it: items by theme,
choice labels, and a proposed value parsed from a form field.

Loading and caching is the review room's (`audit.review.instrument`); the value
helpers below still overlap with it and should be folded into it.
"""
from __future__ import annotations

from datetime import date
from typing import Any

# One loader and cache of frozen instruments for the whole app (the review room's).
from audit.review.instrument import NoInstrument, clear_cache, instrument_for, load_snapshot  # noqa: F401


YES_NO = [("ja", "Ja"), ("nej", "Nej")]
YES_NO_NA = [("ja", "Ja"), ("nej", "Nej"), ("ikke_relevant", "Ikke relevant")]


def kind(item: Any) -> str:
    """yes_no, yes_no_na, single, multiple, integer, date, text or calculated."""
    if getattr(item, "calculation", None):
        return "calculated"
    t = str(getattr(item, "type", "text")).lower()
    if t in ("yes_no", "yesno", "ja_nej"):
        return "yes_no"
    if t in ("yes_no_na", "yes_no_not_relevant", "yesno_na", "ja_nej_ir"):
        return "yes_no_na"
    if "multiple" in t or t == "multi":
        return "multiple"
    if t in ("select_one", "single", "choice", "single_choice", "select"):
        return "single"
    if "scale" in t or t in ("integer", "int", "number", "count"):
        return "integer"
    if t == "date":
        return "date"
    if t in ("calculate", "calculated", "derived"):
        return "calculated"
    return "text"


def choices(item: Any) -> list[tuple[str, str]]:
    """(code, Danish label) pairs of a choice item, whatever shape they are stored in."""
    raw = getattr(item, "choices", None) or []
    if isinstance(raw, dict):
        raw = list(raw.items())
    out: list[tuple[str, str]] = []
    for c in raw:
        if isinstance(c, str):
            out.append((c, c))
        elif isinstance(c, (tuple, list)):
            label = c[1] if len(c) > 1 else c[0]
            if isinstance(label, dict):
                label = label.get("label_da") or label.get("label") or c[0]
            out.append((str(c[0]), str(label)))
        elif isinstance(c, dict):
            code = str(c.get("name") or c.get("code") or c.get("value"))
            out.append((code, str(c.get("label_da") or c.get("label") or code)))
        else:
            code = str(getattr(c, "name", None) or getattr(c, "code", None) or getattr(c, "value", c))
            out.append((code, str(getattr(c, "label_da", None) or getattr(c, "label", None) or code)))
    k = kind(item)
    if not out and k == "yes_no":
        return list(YES_NO)
    if not out and k == "yes_no_na":
        return list(YES_NO_NA)
    return out


def display(item: Any, value: Any) -> str:
    """An answer as a reader sees it: choice labels, never codes."""
    if value is None or value == "" or value == []:
        return ""
    labels = dict(choices(item)) if item is not None else {}
    if isinstance(value, (list, tuple)):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))


def parse(item: Any, raw: Any) -> Any:
    """A typed value from form input ('' -> None); raises ValueError with a readable message."""
    k = kind(item)
    if raw is None:
        return None
    if k == "multiple":
        codes = [str(c).strip() for c in raw] if isinstance(raw, (list, tuple)) else str(raw).replace(",", " ").split()
        codes = [c for c in codes if c]
        if not codes:
            return None
        known = [c for c, _ in choices(item)]
        unknown = [c for c in codes if known and c not in known]
        if unknown:
            raise ValueError(f"unknown choice {' '.join(unknown)}")
        return [c for c in known if c in codes] if known else codes
    raw = str(raw).strip()
    if raw == "":
        return None
    if k == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"expected a whole number, got {raw!r}") from None
    if k == "date":
        try:
            return date.fromisoformat(raw[:10]).isoformat()
        except ValueError:
            raise ValueError(f"expected a date YYYY-MM-DD, got {raw!r}") from None
    if k in ("yes_no", "yes_no_na", "single"):
        known = [c for c, _ in choices(item)]
        if known and raw not in known:
            raise ValueError(f"{raw!r} is not one of {', '.join(known)}")
    return raw


def item_or_none(inst: Any, name: str | None) -> Any:
    if inst is None or name is None:
        return None
    try:
        return inst.item(name)
    except KeyError:
        return None


def assessment(inst: Any, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's assessment by theme: applicable case-level items only, with labels.
    [{"number", "label", "items": [{"name", "label", "value", "display", "kind", "choices"}]}]"""
    applicable = inst.applicable(answers)
    values = dict(answers)
    try:
        values.update({k: v for k, v in inst.derive(answers).items() if v is not None})
    except Exception:  # a derivation problem must not hide the assessment
        pass
    labels = {t[0]: t[1] for t in getattr(inst, "themes", [])}
    themes: dict[int, dict[str, Any]] = {}
    for item in inst.items:
        if getattr(item, "level", "case") != "case" or not applicable.get(item.name, True):
            continue
        theme = themes.setdefault(item.theme, {"number": item.theme, "label": labels.get(item.theme, ""),
                                               "items": []})
        value = values.get(item.name)
        theme["items"].append({"name": item.name, "label": item.label_da, "value": value,
                               "display": display(item, value), "kind": kind(item),
                               "choices": choices(item)})
    return [themes[k] for k in sorted(themes)]
