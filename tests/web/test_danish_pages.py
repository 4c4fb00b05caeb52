"""No English through the Danish interface (docs/i18n.md): the pages of the main walk, as each
role meets them in the default language, contain none of a short list of common English
interface words, in the text a person reads or hears (text, and the attributes a screen
reader speaks or a browser shows). The catalogue test (tests/test_i18n.py) catches a marked
text without a Danish translation; this one catches text that was never marked, or that
comes from a Python constant, a status code printed as it is, or a statistics note.

The pages are those the accessibility run walks (tests/browser/test_accessibility.py), here
through the test client, so the check runs without a browser.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.browser.test_accessibility import _pages

pytestmark = pytest.mark.danish

# Common words of an English interface that are not also Danish words ("Status", "Note",
# "Type", "Admin" are both, and stay out). Matched as whole words, case-sensitively for the
# capitalised ones (buttons, headings), so a Danish sentence cannot match by accident.
ENGLISH = ["Save", "Cancel", "Submit", "Search", "Next", "Previous", "Download", "Log out", "Log in",
           "Password", "Loading", "Forbidden", "Not found", "Deadline", "Remarks", "Remark", "Assessment",
           "Answered", "Draft", "Completed", "In progress", "Not started", "Municipality", "Municipalities",
           "Cases", "Users", "Round", "Weighted", "Raw data", "Codebook", "Table annex", "Reviewer",
           "Question", "Answer", "Yes", "No answer", "Close", "Open", "Lock", "Settings", "Account",
           "not started", "in progress", "completed", "in hearing", "the", "and", "with", "is not",
           "cannot", "please"]
PATTERN = re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in ENGLISH) + r")(?![\w-])")
SPOKEN = ("title", "aria-label", "placeholder", "alt", "aria-description")
SKIP = {"script", "style", "code", "pre", "template"}
# The audit trail prints what was stored, verbatim (entity, field, old and new value, reason:
# data, not messages; docs/i18n.md): its rows are left out, its headings and controls are not.
DATA_ROWS = {"/admin/log": "tbody"}


class _Readable(HTMLParser):
    """The text a person reads or hears on a page: text nodes outside script/style/code, the
    spoken attributes, and the value of buttons."""

    def __init__(self, skip: set[str] = SKIP) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self.skip = skip

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.skip:
            self._skip += 1
        values = dict(attrs)
        self.parts += [v for k, v in values.items() if k in SPOKEN and v]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"] or "")
        if tag == "html":
            self.parts.append(f"<html lang={values.get('lang')}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.skip and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def english_words(html: str, data_rows: str | None = None) -> list[str]:
    """The English interface words in the readable text of `html`, each with its context."""
    parser = _Readable(SKIP | ({data_rows} if data_rows else set()))
    parser.feed(html)
    found = []
    for part in parser.parts:
        for m in PATTERN.finditer(part):
            found.append(f"{m.group(1)!r} in {part[max(0, m.start() - 40):m.end() + 40]!r}")
    return found


def test_the_check_finds_english_and_passes_danish() -> None:
    assert english_words('<html lang="da"><button>Save draft</button></html>') == ["'Save' in 'Save draft'"]
    assert english_words('<a aria-label="Next case" href="#">→</a>')
    assert english_words("<p>case 7 is completed; it cannot be changed here</p>")
    assert english_words('<p>Gem kladde</p><code>save_draft</code><script>var Save = 1;</script>') == []
    assert english_words("<p>Status: Afsluttet. Note: sagen er under behandling</p>") == []


@pytest.mark.parametrize("role", ["admin", "auditor", "municipality"])
def test_main_walk_in_danish_has_no_english_interface_words(web_world, client_for, role) -> None:  # type: ignore[no-untyped-def]
    user = {"admin": web_world.admin, "auditor": web_world.auditor, "municipality": web_world.municipality}[role]
    client, _ = client_for(user)
    leaks: dict[str, list[str]] = {}
    pages = _pages(web_world, role)
    for url in pages:
        page = client.get(url)
        assert page.status_code in (200, 403, 404), (url, page.status_code)
        assert '<html lang="da"' in page.text, url
        found = english_words(page.text, DATA_ROWS.get(url))
        if found:
            leaks[url] = found
    assert len(pages) >= 4
    assert leaks == {}, "English on Danish pages:\n" + "\n".join(f"{u}: {w}" for u, ws in leaks.items() for w in ws)


def test_login_page_in_danish(app) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    client = TestClient(app, headers={"accept": "text/html"})
    for url in ("/login", "/accessibility", "/no-such-page"):
        page = client.get(url)
        assert '<html lang="da"' in page.text
        assert english_words(page.text) == [], url
