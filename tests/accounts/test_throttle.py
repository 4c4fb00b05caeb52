"""Throttling of failed log-ins per account name and per client address (issue 12:
"100 wrong passwords in a row, then the right one logs in")."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import update
from sqlmodel import Session, select

from audit import throttle
from audit.cli import main
from audit.models import AuditLog, LoginLock, utcnow
from audit.web.accounts.pages import PAUSED
from tests.accounts.conftest import PASSWORD, post_login


def test_100_wrong_passwords_then_the_right_one_is_refused_and_the_lockout_is_logged(engine, make_user, browser):
    make_user("ada", "admin")
    c = browser()
    statuses = [post_login(c, "ada", f"wrong-guess-{i:03d}").status_code for i in range(100)]
    assert statuses[:4] == [401] * 4 and set(statuses[5:]) == {429}
    right = post_login(c, "ada", PASSWORD)
    assert right.status_code == 429 and PAUSED in right.text
    assert int(right.headers["retry-after"]) > 0
    assert c.get("/api/me").status_code == 401
    with Session(engine) as s:
        locks = s.exec(select(AuditLog).where(AuditLog.entity == "login", AuditLog.field == "lockout")).all()
        assert [e.entity_id for e in locks] == ["ada"]  # one pause, logged once
        detail = json.loads(locks[0].new_value)
        assert detail["kind"] == "account" and detail["failures"] == 5 and detail["address"] == "testclient"
    # once the pause is over, the right password works again
    with Session(engine) as s:
        s.execute(update(LoginLock).values(until=utcnow() - timedelta(seconds=1)))
        s.commit()
    assert post_login(c, "ada", PASSWORD).status_code == 303


def test_the_pause_message_does_not_reveal_whether_the_user_exists(make_user, browser):
    make_user("ada", "admin")
    answers = {}
    for name in ("ada", "nobody-by-this-name"):
        c = browser()
        for i in range(5):
            first = post_login(c, name, f"wrong-guess-{i}")
            if i == 0:
                assert first.status_code == 401 and "Wrong username or password." in first.text
        paused = post_login(c, name, PASSWORD)
        page = re.sub(r'[A-Za-z0-9_-]{40,}', "TOKEN", paused.text.replace(name, "NAME"))  # CSRF tokens differ
        answers[name] = (paused.status_code, page)
    assert answers["ada"] == answers["nobody-by-this-name"]
    assert answers["ada"][0] == 429


def test_a_successful_log_in_clears_the_failures(engine, make_user, browser):
    make_user("ada", "admin")
    c = browser()
    for i in range(4):
        post_login(c, "ada", f"wrong-{i}-guess")
    assert post_login(c, "ada", PASSWORD).status_code == 303
    for i in range(4):  # four more do not pause: the count started again
        assert post_login(browser(), "ada", f"wrong-{i}-again").status_code == 401
    assert post_login(browser(), "ada", PASSWORD).status_code == 303


def test_one_address_trying_many_names_is_paused(make_user, browser):
    make_user("ada", "admin")
    spray = browser("10.1.2.3")
    for i in range(20):
        post_login(spray, f"user{i}", "Summer2024-password")
    assert post_login(spray, "ada", PASSWORD).status_code == 429  # the address is paused
    assert post_login(browser("10.9.9.9"), "ada", PASSWORD).status_code == 303  # elsewhere, ada is not


def test_each_further_pause_is_twice_as_long(session, make_user):
    limits = throttle.Limits(per_account=5, per_address=1000, window=timedelta(minutes=15),
                             lockout=timedelta(minutes=5), lockout_max=timedelta(minutes=30))
    now = utcnow()
    lengths = []
    for _round in range(4):
        until = None
        for i in range(5):
            assert throttle.locked_until(session, "ada", "a", now) is None
            until = throttle.record_failure(session, "ada", "a", now + timedelta(seconds=i), limits)
        assert until is not None
        lengths.append(round((until - (now + timedelta(seconds=4))).total_seconds() / 60))
        assert throttle.locked_until(session, "ada", "a", now + timedelta(seconds=5)) == until
        now = until + timedelta(seconds=1)
    session.commit()
    assert lengths == [5, 10, 20, 30]  # doubling, capped at lockout_max
    levels = [lock.level for lock in session.exec(select(LoginLock).order_by(LoginLock.id)).all()]
    assert levels == [1, 2, 3, 4]


def test_failures_spread_beyond_the_window_do_not_pause(session):
    limits = throttle.Limits(5, 1000, timedelta(minutes=15), timedelta(minutes=5), timedelta(hours=24))
    now = utcnow()
    for i in range(10):  # one failure every 4 minutes: never 5 within 15 minutes
        assert throttle.record_failure(session, "bo", "a", now + timedelta(minutes=4 * i), limits) is None


def test_an_admin_can_lift_a_pause_from_the_cli(engine, make_user, browser):
    make_user("ada", "admin")
    make_user("bo", "auditor")
    c = browser()
    for i in range(5):
        post_login(c, "bo", f"wrong-{i}-guess")
    assert post_login(c, "bo", PASSWORD).status_code == 429
    result = CliRunner().invoke(main, ["users", "unlock", "bo"])
    assert result.exit_code == 0 and "1 log-in pause(s) lifted" in result.output
    assert post_login(browser(), "bo", PASSWORD).status_code == 303
    with Session(engine) as s:
        assert s.exec(select(AuditLog).where(AuditLog.field == "unlock")).one().entity_id == "bo"


def test_the_admin_user_page_shows_and_lifts_a_pause(make_user, logged_in, browser):
    ada = make_user("ada", "admin")
    bo = make_user("bo", "auditor")
    c = browser()
    for i in range(5):
        post_login(c, "Bo ", f"wrong-{i}-guess")  # case and spaces do not make another name
    admin, token = logged_in(ada)
    assert "paused until" in admin.get(f"/admin/users/{bo.id}").text
    page = admin.post(f"/admin/users/{bo.id}/unlock", data={"csrf_token": token})
    assert "Log-in pause lifted for bo" in page.text and "not paused" in page.text
    assert post_login(browser(), "bo", PASSWORD).status_code == 303
