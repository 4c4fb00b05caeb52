"""The case form's items rendered once per state, not once per view.

A case form shows 194 items; rendering each through the `item_block` macro
(web/templates/review/_macros.html) was most of the form's time. What a block shows
depends only on the item (its instrument, so its labels, hints and choices), the language,
whether the form is editable, the item's applicability, value and note, and the form's
address. The first three never change for an instrument version, and most items of most
cases are in one of a few states (unanswered, not applicable, one of a handful of codes),
so the block is rendered by the macro the first time a state is seen and kept
(`_KEPT`, at most `KEEP` blocks; it is emptied when full or when the template is reloaded).
A block with a note or a free text answer is one citizen's: it is rendered each time and
never kept, so the cache holds no personal text.
The form's address differs per case: it is rendered as a placeholder and filled in.

The macro stays the one description of an item's markup: a kept block is byte for byte
what the macro gives for that state (tests/review/test_form_items.py). Refusals, the
save's fragment (`oob`, a status text) and anything else call the macro directly.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

from audit import i18n
from audit.review.form import ItemView
from audit.web.deps import templates

KEEP = 20_000            # blocks kept (about 1.7 KiB each: some 35 MiB at most)
_ADDRESS = "\x00form-address\x00"   # never in a label, note or answer (text with NUL is refused)
_KEPT: dict[tuple[Any, ...], tuple[Any, str]] = {}
_LOCK = threading.Lock()
_TEMPLATE: list[Any] = [None]


def _frozen(value: Any) -> Any:
    """A hashable key of an answer that tells 1, 1.0, True and "1" apart."""
    if isinstance(value, list):
        return ("list", tuple(_frozen(v) for v in value))
    hash(value)                                  # TypeError for anything unhashable: not kept
    return (type(value).__name__, value)


def codes_of(it: ItemView) -> frozenset[str]:
    """The item's own codes: an answer that is one of them is a state shared by many cases."""
    return frozenset(code for code, _ in it.choices)


def item_renderer(post_url: str, editable: bool) -> Callable[[ItemView], Markup]:
    """For one form (`{% set item_html = item_renderer(post_url, editable) %}` in `sections`):
    a function giving an item's block, the kept one when its state was rendered before."""
    template = templates.env.get_template("review/_macros.html")
    with _LOCK:
        if _TEMPLATE[0] is not template:         # a reloaded template (development): start afresh
            _KEPT.clear()
            _TEMPLATE[0] = template
    macro = template.module.item_block  # type: ignore[attr-defined]
    lang = i18n.current()
    address = str(escape(post_url))
    editable = bool(editable)

    def item_html(it: ItemView) -> Markup:
        if it.note or isinstance(it.value, str) and it.value not in codes_of(it):
            # a note or a typed text is one citizen's: rendered for this view, never kept in memory
            return macro(it, post_url, editable)
        try:
            key = (id(it.source), lang, editable, it.name, it.applicable, _frozen(it.value), it.note)
        except TypeError:
            return macro(it, post_url, editable)
        kept = _KEPT.get(key)
        if kept is None or kept[0] is not it.source:
            html = str(macro(it, _ADDRESS, editable))
            if len(_KEPT) >= KEEP:
                _KEPT.clear()
            kept = _KEPT[key] = (it.source, html)
        return Markup(kept[1].replace(_ADDRESS, address))

    return item_html


templates.env.globals["item_renderer"] = item_renderer
