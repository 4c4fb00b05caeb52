"""`audit serve --workers` and response compression (issue 13)."""
from __future__ import annotations

from click.testing import CliRunner

from audit.cli import main


def test_workers_above_one_are_refused_on_sqlite(tmp_path, monkeypatch):
    import audit.config

    monkeypatch.setenv("AUDIT_DATABASE_URL", f"sqlite:///{tmp_path / 'a.sqlite'}")
    monkeypatch.setenv("AUDIT_DATA_DIR", str(tmp_path / "var"))
    audit.config.get_settings.cache_clear()
    r = CliRunner().invoke(main, ["serve", "--workers", "2"])
    audit.config.get_settings.cache_clear()
    assert r.exit_code == 2 and "--workers > 1 needs PostgreSQL" in r.output, r.output
    assert "--workers" in CliRunner().invoke(main, ["serve", "--help"]).output


def test_pages_are_compressed_and_xlsx_downloads_are_not(engine, make_user, client_for):
    from tests.review.conftest import fresh_instrument_cache, make_review_audit

    fresh_instrument_cache()
    world = make_review_audit(engine, make_user)
    c, _ = client_for(world.admin)
    page = c.get(f"/review/cases/{world.case_ids[0]}", headers={"accept-encoding": "gzip"})
    assert page.status_code == 200 and page.headers.get("content-encoding") == "gzip"
    assert page.num_bytes_downloaded < len(page.content) / 4          # the form shrinks a lot
    sheet = c.get(f"/api/review/audits/{world.audit_id}/sheet?format=xlsx", headers={"accept-encoding": "gzip"})
    assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
    assert "content-encoding" not in sheet.headers                    # a zip file already
