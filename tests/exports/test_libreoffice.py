"""The annex opens in LibreOffice: a headless conversion to PDF succeeds."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from audit.exports.annex import write_annex
from audit.exports.definitions import load_definitions


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice not installed")
def test_annex_converts_to_pdf(frame, population, tmp_path):  # type: ignore[no-untyped-def]
    out = tmp_path / "annex.xlsx"
    write_annex(frame, load_definitions(), out, audit_name="Syntetisk 2022", population=population)
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    proc = subprocess.run(["libreoffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
                          capture_output=True, text=True, timeout=180, env=env)
    pdf = tmp_path / "annex.pdf"
    assert proc.returncode == 0, proc.stderr
    assert pdf.exists() and pdf.stat().st_size > 10_000
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
        assert pages >= len(load_definitions().tables) + 1   # contents + one page per table at least
