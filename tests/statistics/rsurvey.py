"""R's survey package (Lumley) as the independent oracle: the test writes the data it gave
the project as CSV, runs an R script on it with Rscript and reads back the numbers R
printed. R (Debian r-base-core, r-cran-survey) is installed by scripts/test.sh; a missing
R fails the test, it never skips it."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd

PRELUDE = r"""
suppressPackageStartupMessages(library(survey))
out <- function(name, x) cat(name, paste(format(as.numeric(x), digits = 17), collapse = " "), "\n", sep = "\t")
read <- function(file) read.csv(file, stringsAsFactors = FALSE, na.strings = "", check.names = FALSE)
"""


def rscript() -> str:
    path = shutil.which("Rscript")
    assert path, "R is missing: run scripts/test.sh, which installs Debian's r-base-core and r-cran-survey"
    return path


def _run(script: str, tmp_path: Path, frames: dict[str, pd.DataFrame], name: str) -> subprocess.CompletedProcess:
    for key, frame in frames.items():
        frame.to_csv(tmp_path / f"{key}.csv", index=False)
    path = tmp_path / name
    path.write_text(PRELUDE + script, encoding="utf-8")
    return subprocess.run([rscript(), "--vanilla", str(path)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)


def run_r(script: str, tmp_path: Path, **frames: pd.DataFrame) -> dict[str, list[float]]:
    """Run `script` (after PRELUDE: `read(file)`, `out(name, x)`) with each frame written to
    <name>.csv in tmp_path; returns every `out` line as name -> list of numbers."""
    proc = _run(script, tmp_path, frames, "oracle.R")
    assert proc.returncode == 0, f"R failed:\n{proc.stderr[-3000:]}"
    values: dict[str, list[float]] = {}
    for line in proc.stdout.splitlines():
        if "\t" not in line:
            continue
        key, rest = line.split("\t", 1)
        values[key] = [float(v) for v in rest.split()]
    return values


def r_error(script: str, tmp_path: Path, **frames: pd.DataFrame) -> str:
    """Run a script that must fail in R; returns R's error output."""
    proc = _run(script, tmp_path, frames, "oracle_fail.R")
    assert proc.returncode != 0, "R was expected to refuse this"
    return proc.stderr
