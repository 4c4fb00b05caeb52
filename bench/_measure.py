"""Shared by the benchmarks: run one step in a child process and measure it from outside.

Seconds are wall clock of the child; memory is the child's resident set as the operating
system reports it (/proc/<pid>/status: VmRSS sampled while it runs, VmHWM its peak), never
tracemalloc. Each step gets its own process, so its peak is its own.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    label: str
    seconds: float
    peak_mb: float
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, RSS MB)
    output: str = ""

    def rss_at(self, fractions: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.95)) -> list[tuple[float, float]]:
        """RSS at these fractions of the run's duration (the sample nearest each)."""
        if not self.samples:
            return []
        out = []
        for f in fractions:
            t = f * self.seconds
            out.append(min(self.samples, key=lambda s: abs(s[0] - t)))
        return out


def _status(pid: int) -> dict[str, float]:
    values: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, val = line.split(":", 1)
                    values[key] = int(val.split()[0]) / 1024  # kB -> MB
    except (FileNotFoundError, ProcessLookupError):
        pass
    return values


def measure(label: str, cmd: list[str], env: dict[str, str] | None = None, interval: float = 0.2,
            cwd: Path | None = None) -> Run:
    """Run `cmd`, sampling its RSS every `interval` seconds; raise if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})}, cwd=str(cwd or ROOT))
    samples: list[tuple[float, float]] = []
    peak = 0.0
    import threading

    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read() if proc.stdout else ""))
    reader.start()
    while proc.poll() is None:
        st = _status(proc.pid)
        if "VmRSS" in st:
            samples.append((time.perf_counter() - t0, st["VmRSS"]))
            peak = max(peak, st.get("VmHWM", 0.0), st["VmRSS"])
        time.sleep(interval)
    seconds = time.perf_counter() - t0
    reader.join()
    output = "".join(chunks)
    if proc.returncode != 0:
        raise RuntimeError(f"{label} failed ({proc.returncode}):\n{output[-3000:]}")
    # the last VmHWM seen may be a little before the end: also ask the kernel via the wait status
    return Run(label, seconds, peak, samples, output)


def python(code_or_module: str, *args: str, module: bool = False) -> list[str]:
    """A command running the venv's Python on a snippet (or `-m module`)."""
    if module:
        return [sys.executable, "-m", code_or_module, *args]
    return [sys.executable, "-c", code_or_module, *args]


def line(label: str, run: Run, base: Run | None = None, target: str = "") -> str:
    ratio = ""
    if base is not None:
        ratio = f"{run.seconds / base.seconds:6.1f}x time {run.peak_mb / base.peak_mb:5.1f}x peak"
    return f"{label:<34} {run.seconds:8.2f} s {run.peak_mb:8.0f} MB   {ratio:<28} {target}"


def machine() -> str:
    load = os.getloadavg()
    return (f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load[0]:.1f} "
            f"(1 min) {load[1]:.1f} (5 min) at start")
