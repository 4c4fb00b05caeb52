"""Server-side sessions: an old cookie stops working after logout, a password change and a
deactivation; idle and absolute time-outs; the cookie carries no user id (issue 12)."""
from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, select

from audit.cli import main
from audit.models import AuditLog, UserSession, utcnow
from tests.accounts.conftest import PASSWORD, cookie_payload, post_login

NEW_PASSWORD = "a-fresh-passphrase-2026"


def _replay(app, cookie: str) -> int:  # type: ignore[no-untyped-def]
    """Status of /api/me for a browser that presents a saved copy of the cookie."""
    with TestClient(app, cookies={"audit_session": cookie}) as c:
        return c.get("/api/me").status_code


def test_the_cookie_carries_a_random_session_id_not_the_user(engine, make_user, logged_in):
    ada = make_user("ada", "admin")
    c, _ = logged_in(ada)
    payload = cookie_payload(c)
    assert "user_id" not in payload and set(payload) <= {"sid", "csrf"}
    assert len(payload["sid"]) >= 40  # 32 random bytes, URL-safe
    with Session(engine) as s:
        row = s.exec(select(UserSession).where(UserSession.user_id == ada.id)).one()
        assert row.token_hash != payload["sid"] and len(row.token_hash) == 64  # only the hash is stored


def test_an_old_cookie_fails_after_logout(app, make_user, logged_in):
    ada = make_user("ada", "admin")
    c, token = logged_in(ada)
    saved = c.cookies["audit_session"]
    assert _replay(app, saved) == 200
    assert c.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert _replay(app, saved) == 401


def test_logout_ends_every_session_of_the_user(app, make_user, logged_in, engine):
    bo = make_user("bo", "auditor")
    first, token = logged_in(bo)
    second, _ = logged_in(bo)
    assert second.get("/api/me").status_code == 200
    first.post("/logout", data={"csrf_token": token})
    assert second.get("/api/me").status_code == 401
    with Session(engine) as s:
        reasons = {r.end_reason for r in s.exec(select(UserSession)).all()}
        assert reasons == {"logout"}
        assert s.exec(select(AuditLog).where(AuditLog.field == "logout")).one().username == "bo"


def test_an_old_cookie_fails_after_a_password_change_by_the_cli(app, make_user, logged_in):
    bo = make_user("bo", "auditor")
    c, _ = logged_in(bo)
    other, _ = logged_in(bo)
    saved = c.cookies["audit_session"]
    result = CliRunner().invoke(main, ["users", "set-password", "bo", "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert _replay(app, saved) == 401
    assert other.get("/api/me").status_code == 401
    assert post_login(other, "bo", NEW_PASSWORD).status_code == 303


def test_the_users_own_password_change_ends_every_session(app, make_user, logged_in, browser):
    bo = make_user("bo", "auditor")
    c, token = logged_in(bo)
    elsewhere, _ = logged_in(bo)
    saved = c.cookies["audit_session"]
    wrong = c.post("/account/password", data={"current": "not-my-password", "new": NEW_PASSWORD,
                                              "confirm": NEW_PASSWORD, "csrf_token": token})
    assert wrong.status_code == 422 and "current password is wrong" in wrong.text
    assert elsewhere.get("/api/me").status_code == 200  # a refused change ends nothing
    resp = c.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                             "csrf_token": token}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/login?changed=1"
    assert _replay(app, saved) == 401
    assert elsewhere.get("/api/me").status_code == 401
    assert post_login(browser(), "bo", PASSWORD).status_code == 401
    assert post_login(browser(), "bo", NEW_PASSWORD).status_code == 303


def test_an_admin_password_reset_ends_the_users_sessions(app, make_user, logged_in):
    ada = make_user("ada", "admin")
    bo = make_user("bo", "auditor")
    admin, token = logged_in(ada)
    c, _ = logged_in(bo)
    weak = admin.post(f"/admin/users/{bo.id}/password", data={"password": "aaaaaaaaaa", "confirm": "aaaaaaaaaa",
                                                               "csrf_token": token})
    assert weak.status_code == 200 and "at least 12 characters" in weak.text
    assert c.get("/api/me").status_code == 200
    page = admin.post(f"/admin/users/{bo.id}/password", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                                               "csrf_token": token})
    assert "New password set for bo" in page.text
    assert c.get("/api/me").status_code == 401
    assert admin.get("/api/me").status_code == 200  # the admin's own session goes on


def test_a_deactivated_users_open_session_ends_from_the_admin_page(app, engine, make_user, logged_in):
    ada = make_user("ada", "admin")
    bo = make_user("bo", "auditor")
    admin, token = logged_in(ada)
    c, _ = logged_in(bo)
    assert c.get("/review").status_code == 200
    resp = admin.post(f"/admin/users/{bo.id}/deactivate", data={"reason": "left the agency", "csrf_token": token})
    assert resp.status_code == 200 and "bo is deactivated" in resp.text
    assert c.get("/api/me").status_code == 401
    page = c.get("/review", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert post_login(c, "bo", PASSWORD).status_code == 401  # and no new log-in
    with Session(engine) as s:
        entry = s.exec(select(AuditLog).where(AuditLog.field == "is_active")).one()
        assert entry.username == "ada" and entry.new_value == "false" and "left the agency" in entry.reason
    # reactivated: can log in again; the old session stays ended
    admin.post(f"/admin/users/{bo.id}/reactivate", data={"csrf_token": token})
    assert c.get("/api/me").status_code == 401
    assert post_login(c, "bo", PASSWORD).status_code == 303


def test_cli_deactivate_ends_the_session_and_reactivate_restores_log_in(app, make_user, logged_in, browser):
    make_user("ada", "admin")
    kim = make_user("kim", "municipality", "Odense")
    c, _ = logged_in(kim)
    runner = CliRunner()
    result = runner.invoke(main, ["users", "deactivate", "kim", "--reason", "job change"])
    assert result.exit_code == 0, result.output
    assert "deactivated" in result.output
    assert c.get("/api/me").status_code == 401
    assert "kim " in runner.invoke(main, ["users", "list"]).output
    assert runner.invoke(main, ["users", "deactivate", "kim"]).exit_code != 0  # already
    result = runner.invoke(main, ["users", "reactivate", "kim"])
    assert result.exit_code == 0, result.output
    assert post_login(browser(), "kim", PASSWORD).status_code == 303


def test_deactivation_refuses_oneself_and_the_last_admin(make_user, logged_in):
    ada = make_user("ada", "admin")
    admin, token = logged_in(ada)
    page = admin.post(f"/admin/users/{ada.id}/deactivate", data={"csrf_token": token})
    assert "cannot deactivate your own account" in page.text
    result = CliRunner().invoke(main, ["users", "deactivate", "ada"])
    assert result.exit_code != 0 and "last active admin" in result.output
    assert admin.get("/api/me").status_code == 200


def test_other_roles_cannot_use_the_admin_user_actions(make_user, logged_in):
    make_user("ada", "admin")
    bo = make_user("bo", "auditor")
    c, token = logged_in(bo)
    assert c.post(f"/admin/users/{bo.id}/deactivate", data={"csrf_token": token}).status_code == 403
    assert c.get(f"/admin/users/{bo.id}").status_code == 403


def test_idle_time_out_ends_the_session(app, engine, make_user, logged_in):
    bo = make_user("bo", "auditor")
    c, _ = logged_in(bo)
    with Session(engine) as s:  # 31 minutes without a request
        s.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
        s.commit()
    assert c.get("/api/me").status_code == 401
    with Session(engine) as s:
        assert s.exec(select(UserSession)).one().end_reason == "idle"


def test_activity_keeps_a_session_within_the_idle_time_out(app, engine, make_user, logged_in):
    bo = make_user("bo", "auditor")
    c, _ = logged_in(bo)
    with Session(engine) as s:  # 29 minutes idle: still fine, and the request counts as activity
        s.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=29)))
        s.commit()
    assert c.get("/api/me").status_code == 200
    with Session(engine) as s:
        seen = s.exec(select(UserSession)).one().last_seen_at
    from audit.sessions import _utc
    assert utcnow() - _utc(seen) < timedelta(minutes=1)


def test_absolute_time_out_ends_an_active_session(app, engine, make_user, logged_in):
    bo = make_user("bo", "auditor")
    c, _ = logged_in(bo)
    with Session(engine) as s:  # logged in 8 h 1 min ago, active a minute ago
        s.execute(update(UserSession).values(created_at=utcnow() - timedelta(hours=8, minutes=1),
                                             last_seen_at=utcnow() - timedelta(minutes=1)))
        s.commit()
    assert c.get("/api/me").status_code == 401
    with Session(engine) as s:
        assert s.exec(select(UserSession)).one().end_reason == "expired"


def test_time_outs_come_from_the_settings(app, engine, make_user, logged_in, monkeypatch):
    import audit.config

    monkeypatch.setenv("AUDIT_SESSION_IDLE_TIMEOUT", "120")
    audit.config.get_settings.cache_clear()
    bo = make_user("bo", "auditor")
    c, _ = logged_in(bo)
    with Session(engine) as s:
        s.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=3)))
        s.commit()
    assert c.get("/api/me").status_code == 401
