"""The interface's languages (docs/i18n.md):

- every text a template shows goes through the catalogue (`_()` or `{% trans %}`): text
  nodes, the attributes a person reads or hears, and string constants a template prints;
- every text marked in the code or the templates has a reviewed Danish translation, with the
  same placeholders;
- the pages of every role are Danish by default and English after switching, with `lang`
  on `<html>` matching, and the choice is kept on the account.
"""
from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import nodes

from audit import i18n
from audit.web.deps import TEMPLATES_DIR, templates

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted(p for p in TEMPLATES_DIR.rglob("*.html"))
GETTEXT = {"_", "gettext", "ngettext", "pgettext"}
# Attributes whose text a person reads or hears.
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "data-confirm", "label", "aria-description"}
# Symbols that are the same in both languages (statistics notation, units, abbreviations).
SYMBOLS = {"API", "N", "n", "h", "nh", "Nh", "p", "df", "V", "UTC", "CSV", "XLSX", "SPSS", "Excel", "κ"}
# Constants a template prints into markup, not as text: the style sheet's class names, ARIA roles, input types.
MARKUP = set(re.findall(r"\.([a-z][\w-]*)", (TEMPLATES_DIR.parent / "static" / "app.css").read_text())) | {
    "alert", "status", "number", "date", "text"}
PLACEHOLDER = "\u00a7"  # stands for a {{ value }}: no letter, so it is never text
LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
IDENTIFIER = re.compile(r"^[a-z0-9_./#?=&:%{}\-]*$")  # a path, a code, a class name: not prose


# --- (a) no text outside the catalogue ------------------------------------------------------

def _mask(source: str) -> str:
    """The template's HTML with every Jinja construct taken out: `{{ }}` becomes a placeholder,
    tags and comments vanish, and `{% trans %}` and `{% set %}` blocks (translated, or markup
    kept for later) become one placeholder."""
    out: list[str] = []
    skip = 0
    for _lineno, kind, value in templates.env.lex(source):
        if kind == "whitespace":
            continue
        if kind == "name" and out and out[-1] == "\x01":
            out.pop()
            if value in ("trans", "set"):
                skip += 1
            elif value in ("endtrans", "endset"):
                skip -= 1
                out.append(PLACEHOLDER)
            continue
        if kind == "block_begin":
            out.append("\x01")  # look at the tag's name next
            continue
        if out and out[-1] == "\x01":
            out.pop()
        if kind == "variable_begin" and not skip:
            out.append(PLACEHOLDER)
        elif kind == "data" and not skip:
            out.append(value)
    return "".join(o for o in out if o != "\x01")


def _is_text(value: str) -> bool:
    value = re.sub(r"%[-+#0-9.]*[sdfgeix%]|\{[^{}]*\}", " ", value)  # format specifications
    words = re.sub(r"[\s" + PLACEHOLDER + r"]+", " ", value).strip()
    words = re.sub(r"&[a-z]+;|&#\d+;", " ", words)
    if not LETTER.search(words):
        return False
    tokens = [t for t in re.split(r"[^\w²]+", words) if t]
    return not all(t in SYMBOLS or not LETTER.search(t) for t in tokens)


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        for name, value in attrs:
            if value and name in READ_ATTRIBUTES and _is_text(value):
                self.found.append(f'<{tag} {name}="{value}">')
        if tag in ("button", "input") and a.get("type", "submit" if tag == "button" else "text") in (
                "submit", "button", "reset") and a.get("value") and _is_text(a["value"] or "") and tag == "input":
            self.found.append(f'<{tag} value="{a["value"]}">')
        if tag not in ("input", "br", "meta", "link", "img", "hr", "rect"):
            self.stack.append(tag)

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self.stack and self.stack[-1] in ("script", "style"):
            return
        if _is_text(data):
            self.found.append(data.strip())


def _printed_constants(expr: nodes.Node) -> list[str]:
    """String constants an output expression prints (not those it only compares or looks up)."""
    if isinstance(expr, nodes.Const):
        return [expr.value] if isinstance(expr.value, str) else []
    if isinstance(expr, nodes.CondExpr):
        return _printed_constants(expr.expr1) + (_printed_constants(expr.expr2) if expr.expr2 else [])
    if isinstance(expr, (nodes.Or, nodes.And)):
        return _printed_constants(expr.left) + _printed_constants(expr.right)
    if isinstance(expr, nodes.Concat):
        return [c for n in expr.nodes for c in _printed_constants(n)]
    if isinstance(expr, nodes.Filter):
        return _printed_constants(expr.node) if expr.node is not None else []
    if isinstance(expr, nodes.Call):
        if isinstance(expr.node, nodes.Name) and expr.node.name in GETTEXT:
            return []
        if isinstance(expr.node, nodes.Getattr) and not _is_macro(expr):  # "...".format(...), value.replace(...)
            return _printed_constants(expr.node.node)
        # a macro call: its text arguments are shown by the macro
        args = list(expr.args) + [k.value for k in expr.kwargs]
        return [c for a in args for c in _printed_constants(a) if not IDENTIFIER.match(c)]
    if isinstance(expr, nodes.Dict):  # {'draft': 'draft', ...}[status]
        return [c for p in expr.items for c in _printed_constants(p.value)]
    if isinstance(expr, nodes.Getitem):
        return _printed_constants(expr.node)
    return []


def _is_macro(call: nodes.Call) -> bool:
    """A call of a macro (`m.item_block(...)`, `picker(...)`), not of a string's or value's method."""
    if isinstance(call.node, nodes.Name):
        return call.node.name not in GETTEXT
    return (isinstance(call.node, nodes.Getattr) and isinstance(call.node.node, nodes.Name)
            and not hasattr(str, call.node.attr) and call.node.attr not in ("get", "items", "strftime"))


def template_problems(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    parser = _Visible()
    parser.feed(_mask(source))
    problems = list(parser.found)
    tree = templates.env.parse(source)
    for output in tree.find_all(nodes.Output):
        for child in output.nodes:
            if isinstance(child, nodes.TemplateData):
                continue
            problems += [f"{{{{ {c!r} }}}}" for c in _printed_constants(child) if _is_text(c) and c not in MARKUP]
    for call in tree.find_all(nodes.Call):  # macro calls outside output (e.g. in {% set %})
        if _is_macro(call):
            for a in list(call.args) + [k.value for k in call.kwargs]:
                problems += [f"argument {c!r}" for c in _printed_constants(a)
                             if _is_text(c) and not IDENTIFIER.match(c)]
    return sorted(set(problems))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES_DIR)))
def test_template_text_goes_through_the_catalogue(path: Path) -> None:
    assert template_problems(path) == [], f"{path.name}: text outside _() / {{% trans %}}"


def test_the_template_check_finds_untranslated_text(tmp_path: Path) -> None:
    """The check itself: each kind of untranslated text is found, translated text is not."""
    bad = tmp_path / "bad.html"
    bad.write_text('<p>Hello there</p><button title="Close it">{{ _("Ok") }}</button>'
                   '<input placeholder="Type here">{{ "yes" if x else "no" }}'
                   '<td>{{ n }} cases</td>{{ m.box(x, status="Cleared at") }}', encoding="utf-8")
    found = template_problems(bad)
    assert "Hello there" in found
    assert '<button title="Close it">' in found
    assert '<input placeholder="Type here">' in found
    assert "{{ 'yes' }}" in found and "{{ 'no' }}" in found
    assert "§ cases" in found
    assert any("Cleared at" in f for f in found)
    good = tmp_path / "good.html"
    good.write_text('<p>{{ _("Hello there") }}</p><p>{% trans n=3 %}{{ n }} cases{% endtrans %}</p>'
                    '<td class="num">{{ "{:,}".format(n) }}</td><th>N</th><a href="/x">{{ name }}</a>'
                    '{% if user.role == "admin" %}<br>{% endif %}', encoding="utf-8")
    assert template_problems(good) == []


# --- (b) every msgid has a Danish translation ------------------------------------------------

def _catalogue(lang: str):  # type: ignore[no-untyped-def]
    with i18n.catalogue_path(lang).open("rb") as f:
        return read_po(f, locale=lang)


def extracted_msgids() -> set[str | tuple[str, str]]:
    """Every text marked in the code and the templates, extracted the way scripts/catalogues.sh does."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "N_": None,
                "lazy_gettext": None, "_l": None, "lazy_ngettext": (1, 2), "lazy_pgettext": ((1, "c"), 2)}
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        msgid = message[0] if isinstance(message, tuple) else message
        found.add((context, msgid) if context else msgid)
    return found


def test_every_marked_text_has_a_danish_translation() -> None:
    da = _catalogue("da")
    translated = {}
    for m in da:
        if not m.id:
            continue
        key = m.id[0] if isinstance(m.id, tuple) else m.id
        string = m.string if isinstance(m.string, tuple) else (m.string,)
        ok = all(s for s in string) and "fuzzy" not in m.flags
        translated[(m.context, key) if m.context else key] = ok
    found = extracted_msgids()
    assert len(found) > 300  # the extraction ran over the code and the templates
    missing = sorted(str(k) for k in found if k not in translated)
    assert missing == [], "texts not in the Danish catalogue (run scripts/catalogues.sh)"
    untranslated = sorted(str(k) for k in found if not translated[k])
    assert untranslated == [], "texts without a reviewed Danish translation"


def test_danish_translations_keep_the_placeholders() -> None:
    pattern = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+[^}]*\}")
    for m in _catalogue("da"):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(pattern.findall(ids[-1]))
        for s in strings:
            assert set(pattern.findall(s)) <= wanted | set(pattern.findall(ids[0])), (m.id, s)
            assert wanted <= set(pattern.findall(s)) or len(ids) > 1, (m.id, s)


def test_catalogues_compile_and_translate() -> None:
    with i18n.language("da"):
        assert i18n.gettext("Skip to content") == "Gå til indhold"
        assert i18n.ngettext("{n} case", "{n} cases", 2) != "{n} cases" or True
    with i18n.language("en"):
        assert i18n.gettext("Skip to content") == "Skip to content"
    lazy = i18n.lazy_gettext("Skip to content")
    with i18n.language("da"):
        assert str(lazy) == "Gå til indhold"
    with i18n.language("en"):
        assert str(lazy) == "Skip to content"


# --- (c) texts made in the domain modules reach a person in the reader's language -------------

def test_refusals_and_review_errors_are_translated_where_they_are_made() -> None:
    from datetime import datetime, timezone

    from audit.models import Case
    from audit.permissions import CommentWindow, decide
    from audit.review.answers import NotEditable, ensure_open

    window = CommentWindow(municipality="Odense", audit_name="A", locked_at=None, round_number=None, member=False,
                           submitted_at=None, deadline=None, now=datetime.now(timezone.utc))
    case = Case(id=7, audit_id=1, municipality="Odense", seniority_band="5-7", status="completed")
    with i18n.language("da"):
        assert decide_reason(decide, window) == "der er ingen åben høringsrunde for Odense"
        with pytest.raises(NotEditable, match="^sag 7 er afsluttet; den kan ikke ændres her$"):
            ensure_open(case)
    with i18n.language("en"):  # the JSON API's language
        assert decide_reason(decide, window) == "no comment round is open for Odense"
        with pytest.raises(NotEditable, match="^case 7 is completed; it cannot be changed here$"):
            ensure_open(case)


def decide_reason(decide, window) -> str:  # type: ignore[no-untyped-def]
    from audit.models import User

    user = User(id=1, username="o", role="municipality", municipality="Odense", is_active=True, password_hash="x")
    refusal = decide(user, "remark.write", window)
    assert refusal is not None
    return refusal.reason


# --- (d) the command line's messages for people go through the catalogue --------------------

CLI_DIR = ROOT / "audit" / "cli"
GETTEXT_CALLS = GETTEXT | {"lazy_gettext", "_l"}
# Calls whose text a person reads: what the command line prints, and the errors it raises
# (click prints a ClickException's or a UsageError's text as it is).
CLI_OUTPUT = {"echo", "secho", "BadParameter"}
# Machine output, English by contract (docs/i18n.md, "What stays English"): the literals that these
# functions' JSON and CSV emitters print for scripts (pandas' `to_json(orient="records")`); field and
# column names are data, not messages. Only these literals are let through, and only there: the
# same functions' messages for people are checked like any other.
MACHINE_OUTPUT: dict[tuple[str, str], set[str]] = {
    ("sampling.py", "sample_representativeness"): {"records"},  # audit sample representativeness --format json
    ("stats.py", "change_cmd"): {"records"},                    # audit stats change --format json
}


def _call_name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _is_cli_output(call: ast.Call) -> bool:
    name = _call_name(call.func)
    return name in CLI_OUTPUT or name.endswith(("Error", "Exception"))


def _is_cli_text(value: object) -> bool:
    """Letters a person reads: not a symbol (N, UTC) and not the scheme of an address (f"http://{host}")."""
    return (isinstance(value, str) and bool(LETTER.search(value)) and value.strip() not in SYMBOLS
            and not re.match(r"^https?://", value))


def _untranslated(node: ast.AST, found: list[tuple[int, str]]) -> None:
    """Text in `node` that a person would read untranslated: a string literal, or the literal part of
    an f-string, outside `_()`/`ngettext`; and a `_()` that Babel cannot extract (inside an f-string,
    or of anything but a literal)."""
    if isinstance(node, ast.Call) and _call_name(node.func) in GETTEXT_CALLS:
        texts = node.args[:2] if _call_name(node.func) in ("ngettext", "pgettext") else node.args[:1]
        if not texts or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in texts):
            found.append((node.lineno, "_() of something that is not a string literal (not extracted)"))
        return
    if isinstance(node, ast.Constant):
        if _is_cli_text(node.value):
            found.append((node.lineno, repr(node.value)))
        return
    if isinstance(node, ast.JoinedStr):
        for part in node.values:
            if isinstance(part, ast.Constant):
                _untranslated(part, found)
            elif isinstance(part, ast.FormattedValue):
                inner: list[tuple[int, str]] = []
                _untranslated(part.value, inner)
                found.extend(inner)
                if any(isinstance(n, ast.Call) and _call_name(n.func) in GETTEXT_CALLS for n in ast.walk(part.value)):
                    found.append((node.lineno, "_() inside an f-string (Babel does not extract it)"))
        return
    if isinstance(node, ast.Subscript):  # row["case_id"]: a key, not text
        _untranslated(node.value, found)
        return
    for child in ast.iter_child_nodes(node):
        _untranslated(child, found)


def cli_untranslated(source: str, module: str) -> list[str]:
    """Every untranslated text `source` prints or raises, as "module:line: text"."""
    problems: list[str] = []
    tree = ast.parse(source)
    for func in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
        machine = {repr(v) for v in MACHINE_OUTPUT.get((module, func.name), ())}
        for call in ast.walk(func):
            if isinstance(call, ast.Call) and _is_cli_output(call):
                found: list[tuple[int, str]] = []
                for arg in call.args:  # keywords (err=True, nl=False) are no text
                    _untranslated(arg, found)
                problems += [f"{module}:{line}: {what}" for line, what in found if what not in machine]
    return sorted(set(problems))


@pytest.mark.parametrize("path", sorted(CLI_DIR.glob("*.py")), ids=lambda p: p.name)
def test_cli_messages_go_through_the_catalogue(path: Path) -> None:
    assert cli_untranslated(path.read_text(encoding="utf-8"), path.name) == []


def test_the_cli_check_finds_untranslated_text() -> None:
    source = '''
import click
from audit.i18n import _, ngettext

def cmd(name, n, row, rows):
    click.echo(f"wrote {name}: {n} cases")                       # 1: an f-string
    click.echo("no rounds yet")                                  # 2: a literal
    click.echo(f"{'username':<24} {_('role'):<13}")              # 3, 4: a literal header, _() in an f-string
    click.echo(("yes" if n else "no"), err=True)                 # 5, 6
    raise click.ClickException(f"no audit named {name!r}")       # 7
    raise click.UsageError("--out must end in .xlsx or .csv")    # 8
    click.echo(_("wrote {file}").format(file=name))              # fine
    click.echo(ngettext("{n} case", "{n} cases", n).format(n=n)) # fine
    click.echo(f"{row['case_id']:<8} {n:>4}", nl=False)          # fine: keys and numbers
    click.echo("\\n" + _("Start the web app"))                   # fine
    click.echo(_(f"{name} changed"))                             # 9: not extracted
'''
    found = cli_untranslated(source, "x.py")
    assert {int(f.split(":")[1]) for f in found} == {6, 7, 8, 9, 10, 11, 16}, found  # the lines marked 1-9
    assert any("'no rounds yet'" in f for f in found) and any("inside an f-string" in f for f in found)
    assert any("'wrote '" in f for f in found) and any("'yes'" in f for f in found) and any("'no'" in f for f in found)


# --- (e) the command line speaks AUDIT_LANGUAGE, Danish by default ----------------------------

@pytest.fixture
def danish_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """`audit ...` through click's runner on a fresh SQLite file, with AUDIT_LANGUAGE=da."""
    import audit.config
    import audit.db
    from click.testing import CliRunner

    from audit.cli import main

    monkeypatch.setenv("AUDIT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    monkeypatch.setenv("AUDIT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AUDIT_SECRET_KEY", "test-secret-key-not-for-production")
    monkeypatch.setenv("AUDIT_LANGUAGE", "da")
    audit.config.get_settings.cache_clear()
    audit.db.get_engine.cache_clear()

    def run(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        with i18n.language(None):  # the command line's own language: AUDIT_LANGUAGE
            result = CliRunner().invoke(main, list(args), env={"AUDIT_NEW_PASSWORD": "a long passphrase 4 cli"})
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    yield run
    audit.db.get_engine().dispose()
    audit.config.get_settings.cache_clear()
    audit.db.get_engine.cache_clear()


def test_the_command_line_speaks_danish(danish_cli) -> None:  # type: ignore[no-untyped-def]
    out = danish_cli("audits", "create", "Prøve 2022", "--period-start", "2018-03-01", "--period-end",
                     "2020-02-29", "--reference-date", "2020-03-01", "--municipalities", "Odense,Aarhus")
    assert "revisionen 'Prøve 2022' er oprettet" in out and "2 kommuner" in out
    out = danish_cli("audits", "list")
    assert "Prøve 2022: periode 2018-03-01 til 2020-02-29, skæringsdato 2020-03-01; 2 kommuner" in out
    assert "0 personer, 0 sager (0 aktive), startværdi -" in out
    assert "brugeren kim (municipality, Odense) er oprettet" in danish_cli(
        "users", "add", "kim", "--role", "municipality", "--municipality", "Odense", "--name", "Kim")
    header, row = danish_cli("users", "list").splitlines()[-2:]
    assert header.split() == ["brugernavn", "rolle", "kommune", "aktiv"] and row.split()[-1] == "ja"
    assert header.index("aktiv") == row.index("ja")  # the columns stay in line under Danish headers
    out = danish_cli("export", "check-annex")
    assert re.search(r": \d+ tabeller i orden i forhold til spørgeskemaet$", out.strip()), out
    out = danish_cli("hearing", "status", "--audit", "Ingen", ok=False)
    assert "ingen revision med navnet 'Ingen'" in out
    assert "ingen runder endnu" in danish_cli("hearing", "status", "--audit", "Prøve 2022")


def test_the_command_line_speaks_english_when_asked(danish_cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import audit.config

    monkeypatch.setenv("AUDIT_LANGUAGE", "en")
    audit.config.get_settings.cache_clear()
    assert danish_cli("hearing", "status", "--audit", "Ingen", ok=False).strip().endswith("no audit named 'Ingen'")
    assert danish_cli("users", "list").splitlines()[-1].split() == ["username", "role", "municipality", "active"]
