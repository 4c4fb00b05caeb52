"""Text someone typed is never markup where it lands: a free-text answer used as a row
or a column on /stats appears as text in the table and in the chart's SVG."""
from __future__ import annotations

from html.parser import HTMLParser

from sqlmodel import Session

from audit.models import Case
from audit.review.answers import set_answer

PAYLOADS = ("<img src=x onerror=alert(1)>", '"><svg onload=alert(2)>')


class Elements(HTMLParser):
    """Every element and attribute of a page, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.svg_texts: list[str] = []
        self._in_text = False

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append(tag)
        self.handlers += [(tag, name) for name, _ in attrs if name.startswith("on")]
        self._in_text = tag in ("text", "title")

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        self._in_text = False

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._in_text:
            self.svg_texts.append(data)


def _type_payloads(engine, world) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        for case_id, payload in zip(world.hearing.kbh, PAYLOADS):
            case = s.get(Case, case_id)
            set_answer(s, case=case, item="has_challenges", value="ja", user=None)
            set_answer(s, case=case, item="challenges", value=["andet"], user=None)
            set_answer(s, case=case, item="challenges_other_text", value=payload, user=None)
        s.commit()


def test_free_text_as_row_or_column_is_escaped_in_table_and_chart(engine, web_world, client_for):
    _type_payloads(engine, web_world)
    admin, _ = client_for(web_world.admin)
    for row, col in (("challenges_other_text", "stable_participation"),
                     ("stable_participation", "challenges_other_text")):
        page = admin.get(f"/stats?audit_id={web_world.audit_id}&row={row}&col={col}")
        assert page.status_code == 200, page.text
        assert '<svg role="img"' in page.text
        doc = Elements()
        doc.feed(page.text)
        assert "img" not in doc.tags and doc.tags.count("svg") == 1, (row, col)
        assert doc.handlers == [], doc.handlers
        for payload in PAYLOADS:
            # the typed text is shown, as text, in the chart (its label, legend or tooltip)
            assert any(payload in t for t in doc.svg_texts), (payload, doc.svg_texts)
        assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
