"""The annex opens in LibreOffice: a headless conversion to PDF succeeds, one page per sheet.

LibreOffice is part of the test environment (scripts/test.sh installs it): a missing
LibreOffice fails this test rather than skipping it."""
from __future__ import annotations

import os
import re
import shutil
import subprocess



def test_annex_converts_to_pdf(annex, spec, tmp_path):  # type: ignore[no-untyped-def]
    """The session's annex of the synthetic frame (tests/exports/conftest.py), converted."""
    assert shutil.which("libreoffice"), "LibreOffice is missing: run scripts/test.sh, which installs it"
    out = tmp_path / "annex.xlsx"
    shutil.copy(annex[0], out)
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    proc = subprocess.run(["libreoffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
                          capture_output=True, text=True, timeout=180, env=env)
    pdf = tmp_path / "annex.pdf"
    assert proc.returncode == 0, proc.stderr
    assert pdf.exists() and pdf.stat().st_size > 10_000
    assert pdf.read_bytes().startswith(b"%PDF")
    # contents + one page per table: a table's chart or note never spills onto a page of its own
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))
    assert pages == len(spec.tables) + 1
