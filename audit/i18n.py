"""The interface language: the one place that translates text a person reads.

Msgids are English; the catalogues are reviewed .po files in the package
(`audit/locale/<language>/LC_MESSAGES/messages.po`), compiled in memory the first time a
language is used (babel's `read_po` + `write_mo`), so no binary .mo file is kept anywhere.
`docs/i18n.md` says how a string gets translated and how the catalogues are refreshed.

The current language lives in a context variable:
- the web app sets it per request (`audit.web.language.LanguageMiddleware`): the user's own
  choice (kept in the session), else the site default; JSON API routes (`/api/...`) are
  always English, for the scripts that read them;
- the command line and everything else take the setting `AUDIT_LANGUAGE` (default `da`);
- `with language("en"): ...` runs a block in another language (tests, a workbook for a
  reader of another language).

Use `_`/`gettext` and `ngettext` where a text is built (they translate at once, in the
current language), `lazy_gettext` for texts defined at import time (module constants,
labels in a dict): those translate each time they are turned into a string. A text with
values takes named placeholders, filled after translation: `_("Case {case} is locked").format(case=7)`,
so a translator can move the values.
"""
from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, Translations

LANGUAGES: dict[str, str] = {"da": "Dansk", "en": "English"}
"""The interface languages, each named in its own language (as a language switch shows them)."""
DEFAULT = "da"
DOMAIN = "messages"

_current: ContextVar[str | None] = ContextVar("audit_language", default=None)


def locale_dir() -> Path:
    return Path(str(files("audit").joinpath("locale")))


def catalogue_path(lang: str) -> Path:
    return locale_dir() / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def normalise(lang: str | None) -> str | None:
    """`lang` if it is an interface language ("da", "en"; "en-GB" and "EN" count), else None."""
    if not lang:
        return None
    code = str(lang).strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


_default: tuple[object, str] | None = None   # (the settings object, its language): asked once per text shown


def default_language() -> str:
    """The site's language for anyone who has not chosen one: `AUDIT_LANGUAGE`, default Danish."""
    global _default
    from audit.config import get_settings

    settings = get_settings()
    if _default is None or _default[0] is not settings:   # new settings (a test, a reload): read again
        _default = (settings, normalise(settings.language) or DEFAULT)
    return _default[1]


def current() -> str:
    """The language text is translated into right now."""
    return _current.get() or default_language()


def set_language(lang: str | None) -> Token:
    """Set the current language (an unknown one means the default); returns the token to reset it."""
    return _current.set(normalise(lang))


def reset_language(token: Token) -> None:
    _current.reset(token)


@contextmanager
def language(lang: str | None) -> Iterator[str]:
    """Run a block in `lang` (None: the default)."""
    token = set_language(lang)
    try:
        yield current()
    finally:
        _current.reset(token)


@lru_cache(maxsize=None)
def translations(lang: str) -> Translations:
    """The compiled catalogue of `lang`, read from its .po file once per process. Fuzzy
    entries (guesses of `pybabel update`) are not used until a translator has reviewed them."""
    with catalogue_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def gettext(message: str) -> str:
    """`message` (English) in the current language."""
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for the number `n`, in the current language."""
    return translations(current()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """`message` in a context (one English word with two Danish translations, e.g. "Case")."""
    return translations(current()).pgettext(context, message)


def lazy_gettext(message: str) -> LazyProxy:
    """A text translated each time it is used as a string (for constants defined at import)."""
    return LazyProxy(gettext, message, enable_cache=False)


def lazy_ngettext(singular: str, plural: str, n: int) -> LazyProxy:
    return LazyProxy(ngettext, singular, plural, n, enable_cache=False)


def lazy_pgettext(context: str, message: str) -> LazyProxy:
    return LazyProxy(pgettext, context, message, enable_cache=False)


_ = gettext


def N_(message: str) -> str:
    """Mark a text for the catalogue without translating it (a constant kept in English, translated
    with `_()` where it is shown)."""
    return message


def number(value: int | float | None, digits: int | None = None) -> str:
    """A number written the current language's way (Danish 14.164 and 2,5; English 14,164 and 2.5)."""
    from babel.numbers import format_decimal

    if value is None:
        return ""
    if digits is not None:
        return format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0", locale=current())
    return format_decimal(value, locale=current())


def text(value: object) -> str:
    """A possibly lazy text as a plain string, in the current language (None stays '')."""
    return "" if value is None else str(value)
