"""The instrument's small expression language: relevance, constraints, calculations.

Authors write expressions such as ``${plan_job_goal} = 'ja'`` in the questionnaire
file. They are tokenised and parsed here by hand into a tiny AST and evaluated by
walking that tree. Nothing is ever handed to Python's ``eval``: a questionnaire is
data, and data must not be able to run code.

Grammar (lowest binding first)::

    expr       := or
    or         := and ('or' and)*
    and        := not ('and' not)*
    not        := 'not' not | comparison
    comparison := additive (('=' | '!=' | '<' | '<=' | '>' | '>=') additive)?
    additive   := term (('+' | '-') term)*
    term       := unary (('*' | '/') unary)*
    unary      := '-' unary | primary
    primary    := NUMBER | STRING | 'true' | 'false' | 'null' | '${' NAME '}' | '.'
                | NAME '(' [expr (',' expr)*] ')' | '(' expr ')'

Missing values (unanswered or not applicable, both ``None``) propagate: arithmetic
with a missing operand is missing, a comparison with a missing operand is false,
``x = null`` is true exactly when ``x`` is missing, and a missing value is false
in ``and``/``or``/``not``. Evaluation never raises on odd answer values; it
treats a value of the wrong shape like a missing one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Union

__all__ = [
    "ExpressionError", "Node", "Literal", "Ref", "This", "Unary", "Binary", "Call",
    "tokenize", "parse", "evaluate", "references", "to_words", "FUNCTIONS",
    "ValueType", "infer_type",
]


class ExpressionError(ValueError):
    """A syntax or type error in one expression, with the character position."""

    def __init__(self, message: str, expression: str = "", position: int | None = None) -> None:
        self.message = message
        self.expression = expression
        self.position = position
        super().__init__(self.describe())

    def describe(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} at position {self.position + 1} in {self.expression!r}"


# --------------------------------------------------------------------------- tokens

@dataclass(frozen=True)
class Token:
    kind: str      # NUMBER STRING REF NAME OP DOT LPAREN RPAREN COMMA END
    value: Any
    pos: int


_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_RE = re.compile(r"\d+(\.\d+)?")
_OPERATORS = ("<=", ">=", "!=", "=", "<", ">", "+", "-", "*", "/")


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens; the last token is always END."""
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if text.startswith("${", i):
            end = text.find("}", i + 2)
            if end < 0:
                raise ExpressionError("unclosed item reference '${'", text, i)
            name = text[i + 2:end].strip()
            if not _NAME_RE.fullmatch(name):
                raise ExpressionError(f"bad item name {name!r} in reference", text, i)
            tokens.append(Token("REF", name, i))
            i = end + 1
            continue
        if ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                raise ExpressionError("unterminated string", text, i)
            tokens.append(Token("STRING", text[i + 1:end], i))
            i = end + 1
            continue
        m = _NUMBER_RE.match(text, i)
        if m:
            raw = m.group(0)
            tokens.append(Token("NUMBER", float(raw) if "." in raw else int(raw), i))
            i = m.end()
            continue
        m = _NAME_RE.match(text, i)
        if m:
            tokens.append(Token("NAME", m.group(0), i))
            i = m.end()
            continue
        for op in _OPERATORS:
            if text.startswith(op, i):
                tokens.append(Token("OP", op, i))
                i += len(op)
                break
        else:
            simple = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA", ".": "DOT"}
            if ch in simple:
                tokens.append(Token(simple[ch], ch, i))
                i += 1
                continue
            raise ExpressionError(f"unexpected character {ch!r}", text, i)
    tokens.append(Token("END", None, n))
    return tokens


# --------------------------------------------------------------------------- AST

@dataclass(frozen=True)
class Literal:
    value: Any
    pos: int = 0


@dataclass(frozen=True)
class Ref:
    name: str
    pos: int = 0


@dataclass(frozen=True)
class This:
    """``.``: the value being checked, only meaningful in a constraint."""
    pos: int = 0


@dataclass(frozen=True)
class Unary:
    op: str          # 'not' or '-'
    operand: "Node"
    pos: int = 0


@dataclass(frozen=True)
class Binary:
    op: str          # or and = != < <= > >= + - * /
    left: "Node"
    right: "Node"
    pos: int = 0


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple["Node", ...]
    pos: int = 0


Node = Union[Literal, Ref, This, Unary, Binary, Call]

_COMPARISONS = {"=", "!=", "<", "<=", ">", ">="}
# function name -> (min args, max args or None)
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "selected": (2, 2),
    "count_selected": (1, 1),
    "if": (3, 3),
    "answered": (1, 1),
    "min": (1, None),
    "max": (1, None),
}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(self, message: str, tok: Token | None = None) -> ExpressionError:
        tok = tok or self.peek()
        return ExpressionError(message, self.text, tok.pos)

    def is_keyword(self, word: str) -> bool:
        tok = self.peek()
        return tok.kind == "NAME" and tok.value == word

    def parse(self) -> Node:
        if self.peek().kind == "END":
            raise self.error("empty expression")
        node = self.parse_or()
        if self.peek().kind != "END":
            raise self.error(f"unexpected {self.describe(self.peek())}")
        return node

    @staticmethod
    def describe(tok: Token) -> str:
        return "end of expression" if tok.kind == "END" else f"{tok.value!r}"

    def parse_or(self) -> Node:
        node = self.parse_and()
        while self.is_keyword("or"):
            tok = self.advance()
            node = Binary("or", node, self.parse_and(), tok.pos)
        return node

    def parse_and(self) -> Node:
        node = self.parse_not()
        while self.is_keyword("and"):
            tok = self.advance()
            node = Binary("and", node, self.parse_not(), tok.pos)
        return node

    def parse_not(self) -> Node:
        if self.is_keyword("not"):
            tok = self.advance()
            return Unary("not", self.parse_not(), tok.pos)
        return self.parse_comparison()

    def parse_comparison(self) -> Node:
        node = self.parse_additive()
        tok = self.peek()
        if tok.kind == "OP" and tok.value in _COMPARISONS:
            self.advance()
            node = Binary(tok.value, node, self.parse_additive(), tok.pos)
            nxt = self.peek()
            if nxt.kind == "OP" and nxt.value in _COMPARISONS:
                raise self.error("comparisons cannot be chained; use 'and'", nxt)
        return node

    def parse_additive(self) -> Node:
        node = self.parse_term()
        while self.peek().kind == "OP" and self.peek().value in ("+", "-"):
            tok = self.advance()
            node = Binary(tok.value, node, self.parse_term(), tok.pos)
        return node

    def parse_term(self) -> Node:
        node = self.parse_unary()
        while self.peek().kind == "OP" and self.peek().value in ("*", "/"):
            tok = self.advance()
            node = Binary(tok.value, node, self.parse_unary(), tok.pos)
        return node

    def parse_unary(self) -> Node:
        tok = self.peek()
        if tok.kind == "OP" and tok.value == "-":
            self.advance()
            return Unary("-", self.parse_unary(), tok.pos)
        return self.parse_primary()

    def parse_primary(self) -> Node:
        tok = self.advance()
        if tok.kind in ("NUMBER", "STRING"):
            return Literal(tok.value, tok.pos)
        if tok.kind == "REF":
            return Ref(tok.value, tok.pos)
        if tok.kind == "DOT":
            return This(tok.pos)
        if tok.kind == "LPAREN":
            node = self.parse_or()
            if self.peek().kind != "RPAREN":
                raise self.error(f"expected ')' but found {self.describe(self.peek())}")
            self.advance()
            return node
        if tok.kind == "NAME":
            if tok.value in ("true", "false"):
                return Literal(tok.value == "true", tok.pos)
            if tok.value == "null":
                return Literal(None, tok.pos)
            if tok.value in ("and", "or", "not"):
                raise self.error(f"'{tok.value}' needs an operand before it", tok)
            if self.peek().kind != "LPAREN":
                raise self.error(
                    f"unknown word {tok.value!r} (item references are written ${{name}}, text in quotes)", tok)
            if tok.value not in FUNCTIONS:
                raise self.error(f"unknown function {tok.value!r}", tok)
            self.advance()
            args: list[Node] = []
            if self.peek().kind != "RPAREN":
                args.append(self.parse_or())
                while self.peek().kind == "COMMA":
                    self.advance()
                    args.append(self.parse_or())
            if self.peek().kind != "RPAREN":
                raise self.error(f"expected ',' or ')' but found {self.describe(self.peek())}")
            self.advance()
            low, high = FUNCTIONS[tok.value]
            if len(args) < low or (high is not None and len(args) > high):
                want = str(low) if low == high else f"at least {low}"
                raise self.error(f"{tok.value}() takes {want} argument(s), got {len(args)}", tok)
            return Call(tok.value, tuple(args), tok.pos)
        raise self.error(f"unexpected {self.describe(tok)}", tok)


def parse(text: str) -> Node:
    """Parse an expression into an AST or raise ExpressionError with the position."""
    if not isinstance(text, str):
        raise ExpressionError(f"expression must be text, not {type(text).__name__}")
    return _Parser(text).parse()


def references(node: Node) -> list[Ref]:
    """All item references in an expression, in reading order."""
    found: list[Ref] = []

    def walk(n: Node) -> None:
        if isinstance(n, Ref):
            found.append(n)
        elif isinstance(n, Unary):
            walk(n.operand)
        elif isinstance(n, Binary):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, Call):
            for a in n.args:
                walk(a)

    walk(node)
    return found


# --------------------------------------------------------------------------- evaluation

def _is_missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, (list, tuple)) and len(value) == 0)


def _truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    if isinstance(left, bool) or isinstance(right, bool):
        if not (isinstance(left, bool) and isinstance(right, bool)):
            return False
    elif _is_number(left) and _is_number(right):
        pass
    elif isinstance(left, str) and isinstance(right, str):
        pass
    else:
        return False
    try:
        if op == "=":
            return left == right
        if op == "!=":
            return left != right
        if op == "<":
            return left < right
        if op == "<=":
            return left <= right
        if op == ">":
            return left > right
        if op == ">=":
            return left >= right
    except TypeError:
        return False
    return False


def _arith(op: str, left: Any, right: Any) -> Any:
    if not (_is_number(left) and _is_number(right)):
        return None
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        if right == 0:
            return None
        result = left / right
        return int(result) if result == int(result) else result
    return None


def _codes(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def evaluate(node: Node, lookup: Callable[[str], Any], this: Any = None) -> Any:
    """Evaluate an AST. ``lookup(name)`` returns an item's value or None when missing."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        return lookup(node.name)
    if isinstance(node, This):
        return this
    if isinstance(node, Unary):
        value = evaluate(node.operand, lookup, this)
        if node.op == "not":
            return not _truthy(value)
        return -value if _is_number(value) else None
    if isinstance(node, Binary):
        if node.op == "and":
            return _truthy(evaluate(node.left, lookup, this)) and _truthy(evaluate(node.right, lookup, this))
        if node.op == "or":
            return _truthy(evaluate(node.left, lookup, this)) or _truthy(evaluate(node.right, lookup, this))
        left = evaluate(node.left, lookup, this)
        right = evaluate(node.right, lookup, this)
        if node.op in ("=", "!=") and (
                (isinstance(node.left, Literal) and node.left.value is None)
                or (isinstance(node.right, Literal) and node.right.value is None)):
            other = right if isinstance(node.left, Literal) and node.left.value is None else left
            return _is_missing(other) if node.op == "=" else not _is_missing(other)
        if node.op in _COMPARISONS:
            return _compare(node.op, left, right)
        return _arith(node.op, left, right)
    if isinstance(node, Call):
        return _call(node, lookup, this)
    raise TypeError(f"not an expression node: {node!r}")  # pragma: no cover - programming error


def _call(node: Call, lookup: Callable[[str], Any], this: Any) -> Any:
    name = node.name
    if name == "if":
        cond = evaluate(node.args[0], lookup, this)
        return evaluate(node.args[1] if _truthy(cond) else node.args[2], lookup, this)
    args = [evaluate(a, lookup, this) for a in node.args]
    if name == "selected":
        value, code = args
        if isinstance(value, str):
            return value == code
        return isinstance(code, str) and code in _codes(value)
    if name == "count_selected":
        return len(set(_codes(args[0])))
    if name == "answered":
        return not _is_missing(args[0])
    if name in ("min", "max"):
        numbers = [a for a in args if _is_number(a)]
        if not numbers:
            return None
        return min(numbers) if name == "min" else max(numbers)
    raise TypeError(f"unknown function {name}")  # pragma: no cover - parser rejects these


# --------------------------------------------------------------------------- static types

@dataclass(frozen=True)
class ValueType:
    """Static type of an expression: kind is bool, number, string, date, choice, multi, null or any.
    ``choices`` holds the allowed codes for choice and multi values."""
    kind: str
    choices: frozenset[str] | None = None
    list_name: str | None = None


ANY = ValueType("any")
BOOL = ValueType("bool")
NUMBER = ValueType("number")
STRING = ValueType("string")
NULL = ValueType("null")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def infer_type(node: Node, type_of: Callable[[str], ValueType], this_type: ValueType | None,
               text: str) -> ValueType:
    """Infer an expression's type, raising ExpressionError on a type error.

    ``type_of(name)`` gives an item's type; ``this_type`` is the type of ``.`` or None
    where ``.`` is not allowed (outside constraints)."""

    def err(message: str, at: Node) -> ExpressionError:
        return ExpressionError(message, text, at.pos)

    def infer(n: Node) -> ValueType:
        if isinstance(n, Literal):
            v = n.value
            if v is None:
                return NULL
            if isinstance(v, bool):
                return BOOL
            if isinstance(v, (int, float)):
                return NUMBER
            return STRING
        if isinstance(n, Ref):
            return type_of(n.name)
        if isinstance(n, This):
            if this_type is None:
                raise err("'.' (this value) is only allowed in a constraint", n)
            return this_type
        if isinstance(n, Unary):
            t = infer(n.operand)
            if n.op == "not":
                need_bool(t, n.operand, "'not'")
                return BOOL
            if t.kind not in ("number", "any"):
                raise err(f"'-' needs a number, not {describe(t)}", n)
            return NUMBER
        if isinstance(n, Binary):
            if n.op in ("and", "or"):
                need_bool(infer(n.left), n.left, f"'{n.op}'")
                need_bool(infer(n.right), n.right, f"'{n.op}'")
                return BOOL
            lt, rt = infer(n.left), infer(n.right)
            if n.op in _COMPARISONS:
                check_comparison(n, lt, rt)
                return BOOL
            for t, side in ((lt, n.left), (rt, n.right)):
                if t.kind not in ("number", "any"):
                    raise err(f"'{n.op}' needs numbers, not {describe(t)}", side)
            return NUMBER
        if isinstance(n, Call):
            return infer_call(n)
        raise TypeError(n)  # pragma: no cover

    def describe(t: ValueType) -> str:
        if t.kind == "choice":
            return f"a choice from list '{t.list_name}'"
        if t.kind == "multi":
            return f"a multiple choice from list '{t.list_name}'"
        return {"bool": "a true/false value", "number": "a number", "string": "text",
                "date": "a date", "null": "null", "any": "a value"}[t.kind]

    def need_bool(t: ValueType, at: Node, where: str) -> None:
        if t.kind in ("bool", "any"):
            return
        if t.kind == "choice" and t.choices is not None and "ja" in t.choices:
            raise err(f"{where} needs a condition; compare the yes/no item with 'ja'", at)
        raise err(f"{where} needs a condition, not {describe(t)}", at)

    def check_code(t: ValueType, lit: Node) -> None:
        if isinstance(lit, Literal) and isinstance(lit.value, str) and t.choices is not None:
            if lit.value not in t.choices:
                allowed = ", ".join(sorted(t.choices))
                raise err(f"unknown choice code {lit.value!r} for list '{t.list_name}' (allowed: {allowed})", lit)

    def check_comparison(n: Binary, lt: ValueType, rt: ValueType) -> None:
        if "null" in (lt.kind, rt.kind):
            if n.op not in ("=", "!="):
                raise err(f"null can only be compared with = or !=, not {n.op}", n)
            return
        if "any" in (lt.kind, rt.kind):
            return
        for t, side in ((lt, n.left), (rt, n.right)):
            if t.kind == "multi":
                raise err("a multiple-choice item cannot be compared directly; use selected() or count_selected()",
                          side)
        kinds = {lt.kind, rt.kind}
        ordering = n.op not in ("=", "!=")
        if lt.kind == "choice" or rt.kind == "choice":
            other = rt if lt.kind == "choice" else lt
            choice_t = lt if lt.kind == "choice" else rt
            if other.kind not in ("string", "choice"):
                raise err(f"cannot compare {describe(choice_t)} with {describe(other)}", n)
            if ordering:
                raise err(f"choices have no order; use = or != instead of {n.op}", n)
            check_code(choice_t, n.right if choice_t is lt else n.left)
            if other.kind == "choice" and other.list_name != choice_t.list_name:
                raise err(f"cannot compare choices from lists '{lt.list_name}' and '{rt.list_name}'", n)
            return
        if kinds == {"date", "string"}:
            lit = n.right if rt.kind == "string" else n.left
            if isinstance(lit, Literal) and not _DATE_RE.fullmatch(str(lit.value)):
                raise err(f"{lit.value!r} is not a date in the form YYYY-MM-DD", lit)
            return
        if len(kinds) == 1 and kinds <= {"number", "string", "date", "bool"}:
            if ordering and kinds == {"bool"}:
                raise err(f"true/false values have no order; use = or != instead of {n.op}", n)
            return
        raise err(f"cannot compare {describe(lt)} with {describe(rt)}", n)

    def infer_call(n: Call) -> ValueType:
        name = n.name
        if name == "selected":
            target, code = n.args
            t = infer(target)
            if t.kind == "any":
                return BOOL
            if t.kind != "multi":
                raise err(f"selected() needs a multiple-choice item, not {describe(t)}", target)
            if isinstance(code, Literal) and isinstance(code.value, str):
                check_code(t, code)
                return BOOL
            ct = infer(code)
            if ct.kind == "any" or (ct.kind == "choice" and ct.list_name == t.list_name):
                return BOOL
            raise err("selected() needs a choice code in quotes, or a single choice from list "
                      f"'{t.list_name}', as its second argument", code)
        if name == "count_selected":
            t = infer(n.args[0])
            if t.kind not in ("multi", "any"):
                raise err(f"count_selected() needs a multiple-choice item, not {describe(t)}", n.args[0])
            return NUMBER
        if name == "answered":
            if not isinstance(n.args[0], (Ref, This)):
                raise err("answered() takes an item reference such as ${name}", n.args[0])
            infer(n.args[0])
            return BOOL
        if name == "if":
            need_bool(infer(n.args[0]), n.args[0], "if()")
            a, b = infer(n.args[1]), infer(n.args[2])
            if a.kind == "null":
                return b
            if b.kind == "null" or a == b:
                return a
            if a.kind == b.kind and a.kind not in ("choice", "multi"):
                return a
            if "any" in (a.kind, b.kind):
                return ANY
            raise err(f"if() branches differ: {describe(a)} and {describe(b)}", n)
        if name in ("min", "max"):
            kinds = set()
            for a in n.args:
                t = infer(a)
                if t.kind not in ("number", "date", "any", "null"):
                    raise err(f"{name}() needs numbers or dates, not {describe(t)}", a)
                kinds.add(t.kind)
            kinds -= {"any", "null"}
            if len(kinds) > 1:
                raise err(f"{name}() cannot mix numbers and dates", n)
            return ValueType(kinds.pop()) if kinds else ANY
        raise err(f"unknown function {name!r}", n)  # pragma: no cover

    return infer(node)


# --------------------------------------------------------------------------- words

_WORDS = {
    "da": {"and": "og", "or": "eller", "not": "ikke", "selected": "omfatter", "answered": "er besvaret",
           "count": "antal valgt i", "if": "hvis", "then": "så", "else": "ellers", "missing": "ubesvaret",
           "not_answered": "er ikke besvaret", "this": "svaret", "true": "sand", "false": "falsk", "yes": "ja"},
    "en": {"and": "and", "or": "or", "not": "not", "selected": "includes", "answered": "is answered",
           "count": "number ticked in", "if": "if", "then": "then", "else": "else", "missing": "unanswered",
           "not_answered": "is not answered", "this": "the answer", "true": "true", "false": "false", "yes": "yes"},
}
_PRECEDENCE = {"or": 1, "and": 2, "=": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
               "+": 5, "-": 5, "*": 6, "/": 6}


def to_words(node: Node, lang: str = "en") -> str:
    """Render an expression back into readable words for the codebook ('da' or 'en').

    Items and choices appear as their codes: the codebook lists every code next to
    its label, and codes are what analysts see in the data."""
    w = _WORDS["da" if lang == "da" else "en"]

    def render(n: Node, parent: int = 0) -> str:
        if isinstance(n, Literal):
            if n.value is None:
                return w["missing"]
            if isinstance(n.value, bool):
                return w["true"] if n.value else w["false"]
            return str(n.value)
        if isinstance(n, Ref):
            return n.name
        if isinstance(n, This):
            return w["this"]
        if isinstance(n, Unary):
            if n.op == "-":
                return "-" + render(n.operand, 7)
            if isinstance(n.operand, Call) and n.operand.name == "answered":
                return f"{render(n.operand.args[0])} {w['not_answered']}"
            return f"{w['not']} ({render(n.operand)})"
        if isinstance(n, Binary):
            prec = _PRECEDENCE[n.op]
            op = w[n.op] if n.op in ("and", "or") else n.op
            if n.op in ("=", "!=") and isinstance(n.right, Literal) and n.right.value is None:
                text = f"{render(n.left, prec)} " + (w["missing"] if n.op == "=" else w["answered"])
            else:
                text = f"{render(n.left, prec)} {op} {render(n.right, prec + 1)}"
            return f"({text})" if prec < parent else text
        if isinstance(n, Call):
            if n.name == "selected":
                return f"{render(n.args[0])} {w['selected']} {render(n.args[1])}"
            if n.name == "answered":
                return f"{render(n.args[0])} {w['answered']}"
            if n.name == "count_selected":
                return f"{w['count']} {render(n.args[0])}"
            if n.name == "if":
                return (f"{w['if']} {render(n.args[0])} {w['then']} {render(n.args[1])} "
                        f"{w['else']} {render(n.args[2])}")
            return f"{n.name}({', '.join(render(a) for a in n.args)})"
        raise TypeError(n)  # pragma: no cover

    return render(node)


def lookup_from(values: Mapping[str, Any]) -> Callable[[str], Any]:
    """A lookup function over a plain mapping (missing keys are missing values)."""
    return lambda name: values.get(name)
