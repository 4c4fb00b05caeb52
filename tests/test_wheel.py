"""The built wheel works outside a checkout: build it, install it into a fresh virtual
environment in a temporary folder, and from there (working directory outside the checkout,
no PYTHONPATH) run the migrations, `audit demo` and `audit serve`, then log in over HTTP and
fetch what needs the templates, the static files, the questionnaire and the annex definitions.

The fresh environment gets the wheel only; the wheel's dependencies (FastAPI, pandas, ...)
are borrowed read-only from the test environment through a .pth line added after the
install, so the test does not download them again. That line adds packages, not the checkout,
and the test asserts that `audit` and its files are imported from the fresh environment.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import sysconfig
import time
import uuid
import zipfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL

pytestmark = pytest.mark.wheel

CHECKOUT = Path(__file__).resolve().parents[1]


def _env(venv: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AUDIT_", "PYTHON", "VIRTUAL_ENV", "PYTEST"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the fresh venv, a working folder outside the checkout) with the wheel installed."""
    root = tmp_path_factory.mktemp("wheel")
    assert not root.resolve().is_relative_to(CHECKOUT)
    dist = root / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
          str(CHECKOUT)], cwd=root, env=dict(os.environ))
    [wheel] = dist.glob("audit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("audit/share/web/templates/login.html", "audit/share/web/static/app.css",
                   "audit/share/questionnaires/kontanthjaelp_2022.yaml", "audit/share/exports/annex_default.yaml",
                   "audit/share/exports/feedback_items.yaml", "audit/share/registers/kontanthjaelp_2022.yaml", "audit/migrations/versions/0001_initial_schema.py",
                   "audit/data/demo.yaml"):
        assert needed in names, needed
    assert not any(n.startswith(("tests/", "web/", "questionnaires/", "exports/")) for n in names)

    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
         cwd=root, env=dict(os.environ))
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=root, env=_env(venv)).strip())
    (site / "zz_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = root / "work"
    work.mkdir()
    return venv, work


def test_the_wheel_imports_itself_and_its_files_from_the_venv(installed: tuple[Path, Path]) -> None:
    venv, work = installed
    out = _run([str(venv / "bin" / "python"), "-c",
                "import sys, audit, audit.resources as r\n"
                "print(audit.__file__); print(r.static_dir()); print(r.templates_dir()); print(r.questionnaire())\n"
                "print(r.export_definition('annex_default.yaml')); print(r.migrations_dir())\n"
                "print('\\n'.join(sys.path))"], cwd=work, env=_env(venv))
    lines = out.splitlines()
    for line in lines[:6]:
        assert Path(line).resolve().is_relative_to(venv.resolve()), line
        assert not Path(line).resolve().is_relative_to(CHECKOUT), line
    assert str(CHECKOUT) not in lines[6:]


def test_migrations_run_from_the_wheel_on_postgresql(installed: tuple[Path, Path]) -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL run only (AUDIT_TEST_POSTGRES_URL)")
    venv, work = installed
    name = f"audit_wheel_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        out = _run([str(venv / "bin" / "audit"), "db", "upgrade"], cwd=work, env=_env(venv, AUDIT_DATABASE_URL=url))
        assert "databasen er opdateret" in out  # Danish by default: the wheel carries the catalogue too
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            assert conn.execute(text('SELECT count(*) FROM "user"')).scalar() == 0
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_and_a_login_against_the_installed_wheel(installed: tuple[Path, Path]) -> None:
    venv, work = installed
    # the suite's cheap password hashes here too: this test is about files, not argon2
    env = _env(venv, AUDIT_DATABASE_URL=f"sqlite:///{work / 'var' / 'demo.sqlite'}", AUDIT_TEST_CHEAP_HASHES="1")
    audit_cmd = str(venv / "bin" / "audit")
    out = _run([audit_cmd, "demo"], cwd=work, env=env, timeout=900)
    admin = re.search(r"^\s+admin\s+(\S+)\s+\(admin\)", out, re.M)
    assert admin, out
    assert not (CHECKOUT / "var" / "demo.sqlite").exists()

    port = _free_port()
    server = subprocess.Popen([audit_cmd, "serve", "--port", str(port)], cwd=work, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else "server ended"
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "audit serve did not answer within 120 s"
            time.sleep(0.5)
        with httpx.Client(base_url=base, timeout=120, headers={"accept": "text/html"}) as client:
            css = client.get("/static/app.css")
            assert css.status_code == 200 and "text/css" in css.headers["content-type"] and len(css.text) > 100
            page = client.get("/login")
            assert page.status_code == 200 and "<form" in page.text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            resp = client.post("/login", data={"username": "admin", "password": admin.group(1), "csrf_token": token},
                               follow_redirects=False)
            assert resp.status_code == 303, resp.text
            exports = client.get("/exports")
            assert exports.status_code == 200
            annex_link = re.search(r'(?:href|action)="(/exports/\d+/annex\.xlsx)"', exports.text).group(1)  # a download form
            annex = client.get(annex_link)  # the annex definitions and the frozen instrument at work
            assert annex.status_code == 200 and annex.content.startswith(b"PK")
            from openpyxl import load_workbook
            import io
            wb = load_workbook(io.BytesIO(annex.content))
            assert wb.sheetnames[0] == "Indhold" and len(wb.sheetnames) > 10
            review = client.get("/admin")
            assert review.status_code == 200
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
