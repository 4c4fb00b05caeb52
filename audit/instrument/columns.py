"""The instrument's skip logic and calculated fields for many cases at once, column by column.

`Instrument.applicable` / `derive` walk one case's answers item by item through the
expression tree (`expressions.evaluate`). For a case frame of 10,000 cases that is
millions of tree walks. `ColumnEngine` compiles every relevance and calculation of an
instrument once (per instrument version, `engine_for`) into functions over whole
columns: numpy comparisons and boolean masks for the usual shapes (`${x} = 'ja'`,
`selected(${x}, 'code')`, `${n} > 0`, `and`/`or`/`not`, `if(...)`, arithmetic), and the
row engine's own primitives applied element by element for the rest.

The result is the row engine's, exactly: the same values of the same Python types
(a share `${weeks} / 104` is an int where the division is whole, a float otherwise),
missing values propagating the same way. Where a column would not be exact in float64
(a whole number beyond 2**53, a result that overflows), the item falls back to the row
engine itself, evaluated once per distinct combination of the values it refers to
(`fallbacks` counts them). A property test (tests/instrument/test_columns.py) compares
both engines on random expressions and values.

A column is a `Vec`: its kind says what its cells can hold
  bool   only True/False (comparisons, and/or/not, selected, answered)
  num    Python int/float (never bool or NaN) or None; kept as float64 + "is int" + missing
  str    str or None      (yes/no and choice codes, dates, text)
  multi  tuple or None    (multiple choice)
  null   only None        (the literal null, an item not answered yet)
  any    anything         (evaluated with the row engine's primitives)
"""
from __future__ import annotations

import operator
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from audit.instrument import expressions as ex
from audit.instrument.model import Instrument, Item, is_answered, type_problem

EXACT = 2.0 ** 53  # float64 holds every whole number up to this exactly

_CMP: dict[str, Callable[[Any, Any], Any]] = {"=": operator.eq, "!=": operator.ne, "<": operator.lt,
                                              "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class NotExact(Exception):
    """This column cannot be computed exactly column-wise; use the row engine for the item."""


class Vec:
    """One column of values for n cases (see the module docstring for the kinds)."""

    __slots__ = ("kind", "n", "b", "num", "isint", "miss", "_obj")

    def __init__(self, kind: str, n: int, *, b: np.ndarray | None = None, num: np.ndarray | None = None,
                 isint: np.ndarray | None = None, miss: np.ndarray | None = None,
                 obj: np.ndarray | None = None) -> None:
        self.kind, self.n = kind, n
        self.b, self.num, self.isint, self.miss, self._obj = b, num, isint, miss, obj

    # ------------------------------------------------------------ constructors
    @classmethod
    def null(cls, n: int) -> "Vec":
        return cls("null", n)

    @classmethod
    def boolean(cls, b: np.ndarray) -> "Vec":
        return cls("bool", len(b), b=np.asarray(b, dtype=bool))

    @classmethod
    def objects(cls, obj: np.ndarray, kind: str = "any") -> "Vec":
        """A column of Python values; `kind` str/multi/any (the caller vouches for str/multi)."""
        return cls(kind, len(obj), obj=obj)

    @classmethod
    def numbers(cls, obj: np.ndarray) -> "Vec":
        """Python ints/floats (not bool, not NaN) or None, as float64; NotExact beyond 2**53."""
        n = len(obj)
        miss = _is_none(obj)
        num = np.full(n, np.nan)
        isint = np.zeros(n, dtype=bool)
        present = ~miss
        if present.any():
            vals = obj[present]
            isint[present] = [type(v) is int for v in vals]
            try:
                num[present] = np.array(vals.tolist(), dtype=float)
            except OverflowError as exc:
                raise NotExact("number too large") from exc
            _check(num[present], isint[present])
        return cls("num", n, num=num, isint=isint, miss=miss)

    @classmethod
    def constant(cls, value: Any, n: int) -> "Vec":
        if value is None:
            return cls.null(n)
        if isinstance(value, bool):
            return cls.boolean(np.full(n, value))
        if isinstance(value, (int, float)) and value == value:
            try:
                num = np.full(n, float(value))
            except OverflowError as exc:
                raise NotExact("number too large") from exc
            _check(np.array([float(value)]), np.array([isinstance(value, int)]))
            return cls("num", n, num=num, isint=np.full(n, isinstance(value, int)), miss=np.zeros(n, dtype=bool))
        arr = np.empty(n, dtype=object)
        arr[:] = [value] * n
        return cls("str" if isinstance(value, str) else "any", n, obj=arr)

    # ------------------------------------------------------------ views
    @property
    def obj(self) -> np.ndarray:
        """The column as Python values, exactly as the row engine holds them."""
        if self._obj is None:
            out = np.empty(self.n, dtype=object)
            if self.kind == "bool":
                out[:] = self.b.tolist()
            elif self.kind == "num":
                out[:] = None
                ints = ~self.miss & self.isint
                floats = ~self.miss & ~self.isint
                out[ints] = [int(x) for x in self.num[ints].tolist()]
                out[floats] = self.num[floats].tolist()
            else:  # null
                out[:] = None
            self._obj = out
        return self._obj

    def missing(self) -> np.ndarray:
        """None cells (not the row engine's wider 'missing': see `is_missing`)."""
        if self.kind == "bool":
            return np.zeros(self.n, dtype=bool)
        if self.kind == "num":
            return self.miss
        if self.kind == "null":
            return np.ones(self.n, dtype=bool)
        return _is_none(self.obj)

    def where_applicable(self, ok: np.ndarray) -> "Vec":
        """The column with None where the item does not apply."""
        if ok.all():
            return self
        if self.kind == "num":
            return Vec("num", self.n, num=np.where(ok, self.num, np.nan), isint=self.isint & ok,
                       miss=self.miss | ~ok)
        if self.kind == "null":
            return self
        obj = self.obj.copy()
        obj[~ok] = None
        return Vec("any" if self.kind == "bool" else self.kind, self.n, obj=obj)


def objects(values: Sequence[Any]) -> np.ndarray:
    """A 1-d object array of these values (tuples stay cells, not rows)."""
    return np.fromiter(values, dtype=object, count=len(values))


def _is_none(obj: np.ndarray) -> np.ndarray:
    return np.equal(obj, None)


def _check(num: np.ndarray, isint: np.ndarray) -> None:
    if not np.isfinite(num).all():
        raise NotExact("not a finite number")
    if (np.abs(num[isint]) >= EXACT).any():
        raise NotExact("whole number beyond 2**53")


def _elementwise(fn: Callable[..., Any], *cols: Vec) -> np.ndarray:
    return np.frompyfunc(fn, len(cols), 1)(*(c.obj for c in cols)) if cols[0].n else np.empty(0, dtype=object)


def _as_bool(obj: np.ndarray) -> np.ndarray:
    return obj.astype(bool) if len(obj) else np.zeros(0, dtype=bool)


# ---------------------------------------------------------------- the row engine's rules, column-wise

def truthy(v: Vec) -> np.ndarray:
    if v.kind == "bool":
        return v.b
    if v.kind == "num":
        return ~v.miss & (v.num != 0)
    if v.kind in ("str", "multi", "null"):
        return np.zeros(v.n, dtype=bool)
    return _as_bool(_elementwise(ex._truthy, v))


def is_missing(v: Vec) -> np.ndarray:
    if v.kind == "bool":
        return np.zeros(v.n, dtype=bool)
    if v.kind == "num":
        return v.miss
    if v.kind == "null":
        return np.ones(v.n, dtype=bool)
    if v.kind == "str":
        return _is_none(v.obj) | np.equal(v.obj, "")
    return _as_bool(_elementwise(ex._is_missing, v))


def compare(op: str, left: Vec, right: Vec) -> np.ndarray:
    n = left.n
    kinds = {left.kind, right.kind}
    if "any" in kinds:
        return _as_bool(_elementwise(lambda a, b: ex._compare(op, a, b), left, right))
    if "null" in kinds or "multi" in kinds or len(kinds) > 1:
        # None never compares; a tuple is no number, text or bool; unlike kinds never compare
        return np.zeros(n, dtype=bool)
    if left.kind == "bool":
        return _CMP[op](left.b, right.b)
    if left.kind == "num":
        return ~left.miss & ~right.miss & _CMP[op](left.num, right.num)
    valid = ~_is_none(left.obj) & ~_is_none(right.obj)  # str
    out = np.zeros(n, dtype=bool)
    if valid.any():
        out[valid] = _CMP[op](left.obj[valid], right.obj[valid]).astype(bool)
    return out


def arith(op: str, left: Vec, right: Vec) -> Vec:
    n = left.n
    if "any" in (left.kind, right.kind):
        return Vec.objects(_elementwise(lambda a, b: ex._arith(op, a, b), left, right))
    if left.kind != "num" or right.kind != "num":
        return Vec.null(n)
    valid = ~left.miss & ~right.miss
    with np.errstate(all="ignore"):
        if op == "/":
            valid = valid & (right.num != 0)
            res = np.where(valid, left.num / np.where(valid, right.num, 1.0), np.nan)
            _check(res[valid], np.zeros(int(valid.sum()), dtype=bool))
            isint = valid & (res == np.trunc(res))
        else:
            for v in (left, right):  # a whole number from a division may lie beyond 2**53
                _check(v.num[valid], v.isint[valid])
            res = {"+": np.add, "-": np.subtract, "*": np.multiply}[op](left.num, right.num)
            res = np.where(valid, res, np.nan)
            isint = valid & left.isint & right.isint
            _check(res[valid], isint[valid])
    return Vec("num", n, num=res, isint=isint, miss=~valid)


def negate(v: Vec) -> Vec:
    if v.kind == "num":
        return Vec("num", v.n, num=-v.num, isint=v.isint, miss=v.miss)
    if v.kind == "any":
        return Vec.objects(_elementwise(lambda a: -a if ex._is_number(a) else None, v))
    return Vec.null(v.n)


def choose(cond: np.ndarray, a: Vec, b: Vec) -> Vec:
    """if(cond, a, b) column-wise."""
    n = a.n
    if a.kind == "null" and b.kind == "null":
        return a
    kinds = {a.kind, b.kind} - {"null"}
    kind = kinds.pop() if len(kinds) == 1 else "any"
    if kind == "num":
        a = a if a.kind == "num" else Vec("num", n, num=np.full(n, np.nan), isint=np.zeros(n, bool),
                                           miss=np.ones(n, bool))
        b = b if b.kind == "num" else Vec("num", n, num=np.full(n, np.nan), isint=np.zeros(n, bool),
                                           miss=np.ones(n, bool))
        return Vec("num", n, num=np.where(cond, a.num, b.num), isint=np.where(cond, a.isint, b.isint),
                   miss=np.where(cond, a.miss, b.miss))
    if kind == "bool" and a.kind == b.kind == "bool":
        return Vec.boolean(np.where(cond, a.b, b.b))
    if kind == "bool":
        kind = "any"  # True/False on one side, None on the other
    return Vec.objects(np.where(cond, a.obj, b.obj), kind)


# ---------------------------------------------------------------- compiling expressions

Env = Mapping[str, Vec]
Compiled = Callable[[Env, int], Vec]


def compile_expression(node: ex.Node) -> Compiled:
    """A function (columns by item name, n) -> Vec equal, cell by cell, to `ex.evaluate`
    with `this` missing (relevance and calculations never have a `.`)."""
    if isinstance(node, ex.Literal):
        value = node.value
        return lambda env, n: Vec.constant(value, n)
    if isinstance(node, ex.Ref):
        name = node.name
        return lambda env, n: env.get(name) or Vec.null(n)
    if isinstance(node, ex.This):  # '.' only means something in a constraint (`constraint_holds`)
        return lambda env, n: env.get(".") or Vec.null(n)
    if isinstance(node, ex.Unary):
        inner = compile_expression(node.operand)
        if node.op == "not":
            return lambda env, n: Vec.boolean(~truthy(inner(env, n)))
        return lambda env, n: negate(inner(env, n))
    if isinstance(node, ex.Binary):
        return _compile_binary(node)
    if isinstance(node, ex.Call):
        return _compile_call(node)
    raise TypeError(f"not an expression node: {node!r}")  # pragma: no cover


def _is_null_literal(node: ex.Node) -> bool:
    return isinstance(node, ex.Literal) and node.value is None


def _compile_binary(node: ex.Binary) -> Compiled:
    op = node.op
    left, right = compile_expression(node.left), compile_expression(node.right)
    if op == "and":
        return lambda env, n: Vec.boolean(truthy(left(env, n)) & truthy(right(env, n)))
    if op == "or":
        return lambda env, n: Vec.boolean(truthy(left(env, n)) | truthy(right(env, n)))
    if op in ("=", "!=") and (_is_null_literal(node.left) or _is_null_literal(node.right)):
        other = right if _is_null_literal(node.left) else left
        if op == "=":
            return lambda env, n: Vec.boolean(is_missing(other(env, n)))
        return lambda env, n: Vec.boolean(~is_missing(other(env, n)))
    if op in _CMP:
        return lambda env, n: Vec.boolean(compare(op, left(env, n), right(env, n)))
    return lambda env, n: arith(op, left(env, n), right(env, n))


def _compile_call(node: ex.Call) -> Compiled:
    name = node.name
    args = [compile_expression(a) for a in node.args]
    if name == "if":
        cond, then, other = args
        return lambda env, n: choose(truthy(cond(env, n)), then(env, n), other(env, n))
    if name == "answered":
        arg = args[0]
        return lambda env, n: Vec.boolean(~is_missing(arg(env, n)))
    if name == "count_selected":
        arg = args[0]

        def count(env: Env, n: int) -> Vec:
            v = arg(env, n)
            if v.kind in ("bool", "num", "str", "null"):  # no list of codes: none selected
                counts = np.zeros(n)
            else:
                counts = np.array([len(set(ex._codes(t))) for t in v.obj], dtype=float)
            return Vec("num", n, num=counts, isint=np.ones(n, bool), miss=np.zeros(n, bool))
        return count
    if name == "selected" and isinstance(node.args[1], ex.Literal) and isinstance(node.args[1].value, str):
        value, code = args[0], node.args[1].value

        def selected(env: Env, n: int) -> Vec:
            v = value(env, n)
            if v.kind == "str":
                return Vec.boolean(np.equal(v.obj, code))
            if v.kind in ("bool", "num", "null"):
                return Vec.boolean(np.zeros(n, dtype=bool))
            if v.kind == "multi":
                return Vec.boolean(np.array([t is not None and code in t for t in v.obj], dtype=bool))
            return Vec.boolean(_as_bool(_elementwise(lambda t: ex._call(
                ex.Call("selected", (ex.Literal(t), ex.Literal(code))), lambda _: None, None), v)))
        return selected

    def generic(env: Env, n: int) -> Vec:  # min, max, selected with a computed code
        cols = [a(env, n) for a in args]
        fn = lambda *vals: ex._call(ex.Call(name, tuple(ex.Literal(v) for v in vals)), lambda _: None, None)  # noqa: E731
        out = _elementwise(fn, *cols)
        return Vec.boolean(_as_bool(out)) if name == "selected" else Vec.objects(out)
    return generic


# ---------------------------------------------------------------- the whole instrument

def clean(item: Item, value: Any) -> Any:
    """The value the engine reasons with (the row engine's rule): a malformed answer is missing,
    multiple choice a tuple."""
    if not is_answered(value) or type_problem(item, value) is not None:
        return None
    if item.type == "select_multiple":
        return tuple(value)
    return value


_KIND = {"select_multiple": "multi", "integer": "num", "scale": "num"}


@dataclass
class Result:
    applicable: dict[str, np.ndarray]   # item -> bool per case
    values: dict[str, np.ndarray]       # item -> Python values per case (None: missing)


class ColumnEngine:
    """Relevance and calculations of one instrument, compiled once, run for n cases at a time."""

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.order: tuple[str, ...] = tuple(instrument._order)  # the engine's dependency order
        self.deps: dict[str, tuple[str, ...]] = dict(instrument._deps)
        self.items: dict[str, Item] = {i.name: i for i in instrument.items}
        self.relevant: dict[str, Compiled] = {}
        self.calculation: dict[str, Compiled] = {}
        for item in instrument.items:
            if item.relevant_ast is not None:
                self.relevant[item.name] = compile_expression(item.relevant_ast)
            if item.is_calculated and item.calculation_ast is not None:
                self.calculation[item.name] = compile_expression(item.calculation_ast)
        self.constraint: dict[str, Compiled] = {}
        self.fallbacks = 0  # items evaluated by the row engine because a column was not exact

    def run(self, answers: Mapping[str, np.ndarray], n: int, *,
            supply: Callable[[Item, np.ndarray, Mapping[str, np.ndarray]], np.ndarray | None] | None = None,
            order: Sequence[str] | None = None) -> Result:
        """`answers`: item -> cleaned values per case (`clean`); absent items are unanswered.

        `supply(item, applies, values so far)`, when given, is asked for the raw answers of
        every item not in `answers` as the walk reaches it (a generator of synthetic
        answers); `order` must then list every item after the items it depends on
        (`generation_order`)."""
        env: dict[str, Vec] = {}
        applicable: dict[str, np.ndarray] = {}
        values: dict[str, np.ndarray] = {}
        for name in order or self.order:
            item = self.items[name]
            ok = np.ones(n, dtype=bool)
            if item.relevant_ast is not None:
                for d in self.deps[name]:
                    ok &= applicable.get(d, np.zeros(n, dtype=bool))
                ok &= self._relevance(name, item, env, ok, n)
            applicable[name] = ok
            if item.is_calculated:
                vec = self._calculate(name, item, env, ok, n)
            else:
                column = answers.get(name)
                if column is None and supply is not None:
                    raw = supply(item, ok, values)
                    column = None if raw is None else objects([clean(item, v) for v in raw])
                vec = self._answers(item, column, n)
            vec = vec.where_applicable(ok)
            env[name] = vec
            values[name] = vec.obj
        return Result(applicable, values)

    def generation_order(self) -> list[str]:
        """Survey order, each item preceded by what its relevance or calculation refers to
        (a calculated field may sit after an item that depends on it)."""
        graph = {name: {r.name for node in (item.relevant_ast, item.calculation_ast) if node is not None
                        for r in ex.references(node) if r.name in self.items}
                 for name, item in self.items.items()}
        done: list[str] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen:
                return
            seen.add(name)
            for dep in sorted(graph[name], key=list(self.items).index):
                visit(dep)
            done.append(name)
        for name in self.items:
            visit(name)
        return done

    def constraint_holds(self, item: Item, candidate: np.ndarray, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Per case: does the candidate answer (cleaned) pass the item's constraint, given the
        other values? (`.` is the candidate; True where there is no constraint.)"""
        n = len(candidate)
        if item.constraint_ast is None:
            return np.ones(n, dtype=bool)
        compiled = self.constraint.get(item.name)
        if compiled is None:
            compiled = self.constraint[item.name] = compile_expression(item.constraint_ast)
        env = {k: Vec.objects(v) for k, v in values.items()}
        env["."] = Vec.objects(candidate)
        v = compiled(env, n)
        return v.b if v.kind == "bool" else np.array([x is True for x in v.obj], dtype=bool)

    def _answers(self, item: Item, column: np.ndarray | None, n: int) -> Vec:
        if column is None:
            return Vec.null(n)
        kind = _KIND.get(item.type, "str")
        if kind == "num":
            try:
                return Vec.numbers(column)
            except NotExact:
                return Vec.objects(column)
        return Vec.objects(column, kind)

    def _relevance(self, name: str, item: Item, env: Env, ok: np.ndarray, n: int) -> np.ndarray:
        try:
            v = self.relevant[name](env, n)
            if v.kind == "bool":
                return v.b
            return np.array([x is True for x in v.obj], dtype=bool)
        except NotExact:
            self.fallbacks += 1
            out = _row_engine(item.relevant_ast, env, ok, n)
            return np.array([x is True for x in out], dtype=bool)

    def _calculate(self, name: str, item: Item, env: Env, ok: np.ndarray, n: int) -> Vec:
        if name not in self.calculation:
            return Vec.null(n)
        try:
            return self.calculation[name](env, n)
        except NotExact:
            self.fallbacks += 1
            return Vec.objects(_row_engine(item.calculation_ast, env, ok, n))


def _row_engine(node: ex.Node, env: Env, rows: np.ndarray, n: int) -> np.ndarray:
    """`ex.evaluate` itself on the cases in `rows`, once per distinct combination of the values
    the expression refers to (keyed by type and value, so 1, 1.0 and True stay apart)."""
    names = list(dict.fromkeys(r.name for r in ex.references(node)))
    cols = [env[r].obj if r in env else np.full(n, None, dtype=object) for r in names]
    out = np.full(n, None, dtype=object)
    memo: dict[Any, Any] = {}
    for i in np.flatnonzero(rows):
        vals = [c[i] for c in cols]
        try:
            key: Any = tuple((type(v), v) for v in vals)
            hash(key)
        except TypeError:
            key = None
        if key is not None and key in memo:
            out[i] = memo[key]
            continue
        lookup = dict(zip(names, vals)).get
        result = ex.evaluate(node, lookup)
        if key is not None:
            memo[key] = result
        out[i] = result
    return out


_ENGINES: "weakref.WeakKeyDictionary[Instrument, ColumnEngine]" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def engine_for(instrument: Instrument) -> ColumnEngine:
    """The compiled engine of an instrument, built once per parsed instrument (the audit's
    frozen instrument is parsed once per version, so: once per instrument version)."""
    engine = _ENGINES.get(instrument)
    if engine is None:
        with _LOCK:
            engine = _ENGINES.get(instrument)
            if engine is None:
                engine = ColumnEngine(instrument)
                _ENGINES[instrument] = engine
    return engine


def applicable_and_values(instrument: Instrument, answers: Sequence[Mapping[str, Any]]) -> Result:
    """Convenience for tests and small callers: the engine over a list of answer dicts."""
    n = len(answers)
    engine = engine_for(instrument)
    columns: dict[str, np.ndarray] = {}
    for name, item in engine.items.items():
        if item.is_calculated:
            continue
        columns[name] = objects([clean(item, a.get(name)) if isinstance(a, Mapping) else None
                                 for a in answers])
    return engine.run(columns, n)
