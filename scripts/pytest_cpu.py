"""A pytest plugin that writes, per test, its outcome, CPU seconds (the process's user+system
time plus that of the children it waited for: R, LibreOffice, CLI subprocesses) and wall
seconds, setup and teardown included, as tab-separated lines to the file named by
$PYTEST_CPU_OUT. Used to measure the suite (docs/performance.md, "Test suite"):

    PYTHONPATH=scripts PYTEST_CPU_OUT=tests.tsv .venv/bin/python -m pytest -p pytest_cpu tests/...
"""
from __future__ import annotations

import os
import time

_rows: list[tuple[str, str, float, float]] = []
_start: dict[str, tuple[float, float]] = {}
_outcome: dict[str, str] = {}


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def pytest_runtest_logstart(nodeid, location):  # type: ignore[no-untyped-def]
    _start[nodeid] = (_cpu(), time.perf_counter())


def pytest_runtest_logreport(report):  # type: ignore[no-untyped-def]
    if report.outcome != "passed" and report.nodeid not in _outcome:  # the first phase that did not pass
        _outcome[report.nodeid] = report.outcome


def pytest_runtest_logfinish(nodeid, location):  # type: ignore[no-untyped-def]
    cpu, wall = _start.pop(nodeid)
    _rows.append((nodeid, _outcome.pop(nodeid, "passed"), _cpu() - cpu, time.perf_counter() - wall))


def pytest_sessionfinish(session):  # type: ignore[no-untyped-def]
    out = os.environ.get("PYTEST_CPU_OUT")
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.writelines(f"{n}\t{o}\t{c:.3f}\t{w:.3f}\n" for n, o, c, w in _rows)
