"""One source per fact (issue 18): the checks a reviewer would grep for, kept as a test so a
second copy of a label, a band or an untyped item cannot come back unnoticed. The source is
read with `ast`, so docstrings and comments (which may quote a label) do not count."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for p in (ROOT / "audit").rglob("*.py") if "migrations" not in p.parts)


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _constants() -> list[tuple[str, int, object]]:
    """(file, line, value) of every string and number-tuple literal that is not a docstring."""
    out: list[tuple[str, int, object]] = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                out.append((str(path.relative_to(ROOT)), node.lineno, node.value))
            elif isinstance(node, ast.Tuple) and node.elts and all(
                    isinstance(e, ast.Constant) and isinstance(e.value, (int, float)) for e in node.elts):
                out.append((str(path.relative_to(ROOT)), node.lineno, tuple(e.value for e in node.elts)))
    return out


CONSTANTS = _constants()


@pytest.mark.parametrize("values,allowed", [
    # yes/no labels: the instrument loader's built-in lists, nowhere else
    ({"Ja", "Nej", "Ikke relevant"}, {"audit/instrument/loader.py"}),
    # register value labels: only in registers/*.yaml, read through audit.labels
    ({"Kvinde", "Mand", "Vestlig", "Ikke-vestlig", "Under 40 år", "40-49 år", "60+ år", "5-7 år"}, set()),
    # the default seniority bands: only in the register definition file
    ({"5-7", "7-10", "10+", (5, 7, 10)}, set()),
])
def test_one_definition_of_labels_and_bands(values, allowed):  # type: ignore[no-untyped-def]
    found = [(f, n, v) for f, n, v in CONSTANTS if v in values and f not in allowed]
    assert not found, found


def _lines(pattern: str) -> list[str]:
    rx = re.compile(pattern)
    return [f"{p.relative_to(ROOT)}:{n}" for p in SOURCES
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
            if rx.search(line.split("#", 1)[0])]


def test_one_banding_implementation():
    assert {w.rsplit(":", 1)[0] for w in _lines(r"searchsorted|np\.digitize|pd\.cut\(")} <= {"audit/bands.py"}


def test_items_are_typed_and_instrument_for_is_one():
    assert not _lines(r"getattr\((item|i|it|c), |\b(instrument|item|inst|it): Any\b")
    assert [w.rsplit(":", 1)[0] for w in _lines(r"^def instrument_for\(")] == ["audit/audits.py"]
