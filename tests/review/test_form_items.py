"""The case form's items are kept per state (audit/web/review/itemhtml.py): what a kept block
shows must be exactly what the `item_block` macro renders for that item, whatever the case, its
address, the language, the answers (a value of another type with the same text, a note with
markup) and whether the form is editable."""
from __future__ import annotations

from sqlmodel import Session

from audit import i18n
from audit.models import Case
from audit.review.answers import set_answer
from audit.review.form import case_form
from audit.web.deps import templates
from audit.web.review import itemhtml
from tests.review.fill import fill_required


def _macro_html(it, post_url, editable):  # type: ignore[no-untyped-def]
    return str(templates.env.get_template("review/_macros.html").module.item_block(it, post_url, editable))


def test_kept_item_blocks_are_what_the_macro_renders(world, engine):
    first, second = world.case_ids[0], world.case_ids[1]
    with Session(engine) as s:
        filled = s.get(Case, first)
        fill_required(s, filled)
        set_answer(s, case=filled, item="interviews_count", value=3, user=world.admin,
                   note='<b>"Note"</b> & <script>x</script>')
        s.commit()
        forms = {cid: case_form(s, s.get(Case, cid), 1, world.instrument, actor=None) for cid in (first, second)}
    itemhtml._KEPT.clear()
    compared = kept = 0
    for lang in ("da", "en"):
        with i18n.language(lang):
            for editable in (True, False):
                for rounds in range(2):               # the first round renders, the second finds them kept
                    for cid, view in forms.items():
                        url = f"/review/cases/{cid}/answer?pass_no=1&x=<{lang}>"
                        render = itemhtml.item_renderer(url, editable)
                        for it in view.items:
                            assert str(render(it)) == _macro_html(it, url, editable), (lang, editable, cid, it.name)
                            compared += 1
                    kept = len(itemhtml._KEPT)
    assert compared == 2 * 2 * 2 * sum(len(v.items) for v in forms.values())
    assert 0 < kept < compared / 2          # the unanswered and not applicable items are shared
    # the kept text of the answered item carries its note escaped, and never the placeholder
    with i18n.language("da"):
        html = str(itemhtml.item_renderer("/a", True)(forms[first].item("interviews_count")))
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html and "\x00" not in html
    assert 'hx-post="/a"' in html


def test_values_with_the_same_text_are_kept_apart(world, engine):
    with Session(engine) as s:
        view = case_form(s, s.get(Case, world.case_ids[0]), 1, world.instrument, actor=None)
    it = view.item("interviews_count")
    itemhtml._KEPT.clear()
    render = itemhtml.item_renderer("/u", True)
    outputs = {}
    for value in (1, 1.0, True, "1", ["1"], None):
        it.value = value
        it.__dict__.pop("selected", None)
        outputs[repr(value)] = str(render(it))
        assert outputs[repr(value)] == _macro_html(it, "/u", True), value
    assert len(itemhtml._KEPT) == 5   # "1" is a typed text here (the item has no codes): rendered, not kept


def test_a_note_or_typed_text_is_rendered_but_never_kept(world, engine):
    """A note or a free text is one citizen's: the block is the macro's, and nothing of it stays
    in the process's memory after the view."""
    with Session(engine) as s:
        view = case_form(s, s.get(Case, world.case_ids[0]), 1, world.instrument, actor=None)
    itemhtml._KEPT.clear()
    render = itemhtml.item_renderer("/u", True)
    it = view.item("interviews_count")
    it.value, it.note = 3, "Borgeren <b>oplyser</b> noget personligt"
    assert str(render(it)) == _macro_html(it, "/u", True)
    text = next(i for i in view.items if i.kind == "text")
    text.value, text.note = "Fri tekst om borgeren", ""
    assert str(render(text)) == _macro_html(text, "/u", True)
    assert itemhtml._KEPT == {}
    it.note = ""
    render(it)
    assert len(itemhtml._KEPT) == 1   # the same item without a note is a shared state: kept
