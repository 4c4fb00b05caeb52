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


def run_r(script: str, tmp_path: Path, **frames: pd.DataFrame) -> dict[str, list[float]]:
    """Run `script` (after PRELUDE: `read(file)`, `out(name, x)`) with each frame written to
    <name>.csv in tmp_path; returns every `out` line as name -> list of numbers."""
    for name, frame in frames.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    path = tmp_path / "oracle.R"
    path.write_text(PRELUDE + script, encoding="utf-8")
    proc = subprocess.run([rscript(), "--vanilla", str(path)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"R failed:\n{proc.stderr[-3000:]}"
    values: dict[str, list[float]] = {}
    for line in proc.stdout.splitlines():
        if "\t" not in line:
            continue
        name, rest = line.split("\t", 1)
        values[name] = [float(v) for v in rest.split()]
    return values


def r_error(script: str, tmp_path: Path, **frames: pd.DataFrame) -> str:
    """Run a script that must fail in R; returns R's error output."""
    for name, frame in frames.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    path = tmp_path / "oracle_fail.R"
    path.write_text(PRELUDE + script, encoding="utf-8")
    proc = subprocess.run([rscript(), "--vanilla", str(path)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode != 0, "R was expected to refuse this"
    return proc.stderr
