"""Accounts, sessions, CSRF, role isolation and the audit trail."""
from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from audit.models import Audit, AuditLog, Case, Person
from tests.conftest import PASSWORD, login


def _case(session: Session, municipality: str, person_id: str) -> Case:
    audit = session.exec(select(Audit)).first()
    if audit is None:
        audit = Audit(name="A", period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                      reference_date=date(2020, 3, 1))
        session.add(audit)
        session.flush()
    person = Person(audit_id=audit.id, person_id=person_id, municipality=municipality, seniority_years=6.0,
                    seniority_band="5-7", sex="kvinde", age=45, origin="dansk")
    session.add(person)
    session.flush()
    case = Case(audit_id=audit.id, person_pk=person.id, municipality=municipality, seniority_band="5-7",
                stratum_population=10, stratum_sample=5, inclusion_probability=0.5, weight=2.0)
    session.add(case)
    session.commit()
    session.refresh(case)
    return case


def test_login_lands_each_role_on_its_start_page(app, make_user):
    make_user("ada", "admin")
    make_user("bo", "auditor")
    make_user("odense", "municipality", "odense")  # canonical spelling is stored
    for username, landing in (("ada", "/admin"), ("bo", "/review"), ("odense", "/hearing")):
        with TestClient(app) as c:
            login(c, username)
            resp = c.get("/", follow_redirects=False)
            assert resp.headers["location"] == landing
            assert c.get(landing).status_code == 200
            me = c.get("/api/me").json()
            assert me["username"] == username
    with TestClient(app) as c:
        login(c, "odense")
        assert c.get("/api/me").json()["municipality"] == "Odense"


def test_wrong_password_keeps_username_and_sets_no_session(app, make_user):
    make_user("ada", "admin")
    with TestClient(app) as c:
        page = c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        resp = c.post("/login", data={"username": "ada", "password": "nope-nope-nope", "csrf_token": token})
        assert resp.status_code == 401
        assert 'value="ada"' in resp.text and "Wrong username or password" in resp.text
        assert c.get("/api/me").status_code == 401


def test_login_without_csrf_token_is_refused(app, make_user):
    make_user("ada", "admin")
    with TestClient(app) as c:
        c.get("/login")
        resp = c.post("/login", data={"username": "ada", "password": PASSWORD})
        assert resp.status_code == 403
        assert c.get("/api/me").status_code == 401


def test_post_with_wrong_csrf_token_is_refused_and_logout_works(app, make_user):
    make_user("ada", "admin")
    with TestClient(app) as c:
        token = login(c, "ada")
        assert c.post("/logout", data={"csrf_token": "forged"}).status_code == 403
        assert c.get("/api/me").status_code == 200
        assert c.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
        assert c.get("/api/me").status_code == 401


def test_open_redirect_after_login_is_ignored(app, make_user):
    make_user("ada", "admin")
    with TestClient(app) as c:
        page = c.get("/login?next=//evil.example/")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        resp = c.post("/login", data={"username": "ada", "password": PASSWORD, "csrf_token": token,
                                      "next": "//evil.example/"}, follow_redirects=False)
        assert resp.headers["location"] == "/admin"


def test_anonymous_requests_are_sent_to_login_or_get_401(app):
    with TestClient(app) as c:
        resp = c.get("/admin", headers={"accept": "text/html"}, follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
        assert c.get("/api/cases/1").status_code == 401


@pytest.mark.parametrize("role,municipality,status", [("auditor", None, 403), ("municipality", "Odense", 403)])
def test_admin_pages_refuse_other_roles(app, make_user, client_for, role, municipality, status):
    user = make_user("u", role, municipality)
    c, _ = client_for(user)
    for path in ("/admin", "/admin/users", "/admin/log"):
        assert c.get(path).status_code == status, path


def test_municipality_user_sees_own_case_and_never_another_municipalitys(session, make_user, client_for):
    own = _case(session, "Odense", "p1")
    other = _case(session, "København", "p2")
    user = make_user("odense", "municipality", "Odense")
    c, _ = client_for(user)
    resp = c.get(f"/api/cases/{own.id}")
    assert resp.status_code == 200 and resp.json()["municipality"] == "Odense"
    # URL guessing: another municipality's case and a case that does not exist look the same
    assert c.get(f"/api/cases/{other.id}").status_code == 404
    assert c.get(f"/api/cases/{other.id + 1000}").status_code == 404
    assert "København" not in c.get(f"/api/cases/{other.id}").text


def test_auditor_and_admin_can_read_any_case(session, make_user, client_for):
    case = _case(session, "København", "p9")
    for user in (make_user("bo", "auditor"), make_user("ada", "admin")):
        c, _ = client_for(user)
        assert c.get(f"/api/cases/{case.id}").json()["seniority_band"] == "5-7"


def test_creating_a_user_is_logged_and_the_log_is_append_only(engine, make_user):
    make_user("bo", "auditor")
    with Session(engine) as s:
        entry = s.exec(select(AuditLog).where(AuditLog.entity == "user")).one()
        assert entry.field == "created" and '"auditor"' in entry.new_value
        assert entry.at is not None and entry.username == "system"
    with engine.connect() as conn:
        with pytest.raises(Exception, match="append-only"):
            conn.execute(text("UPDATE auditlog SET new_value = 'x'"))
    with engine.connect() as conn:
        with pytest.raises(Exception, match="append-only"):
            conn.execute(text("DELETE FROM auditlog"))


def test_municipality_user_requires_known_municipality(make_user):
    with pytest.raises(ValueError, match="unknown municipality"):
        make_user("x", "municipality", "Atlantis")
    from audit.auth import AccountError
    with pytest.raises(AccountError):
        make_user("y", "municipality", None)


def test_cli_users_add_list_and_set_password(engine):
    from click.testing import CliRunner

    from audit.auth import authenticate
    from audit.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["users", "add", "kim", "--role", "municipality", "--municipality", "aarhus",
                                  "--password", "a-long-password-1"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["users", "list"])
    assert "kim" in result.output and "Aarhus" in result.output
    result = runner.invoke(main, ["users", "set-password", "kim", "--password", "another-long-pass"])
    assert result.exit_code == 0, result.output
    with Session(engine) as s:
        assert authenticate(s, "kim", "another-long-pass") is not None
        assert authenticate(s, "kim", "a-long-password-1") is None
    result = runner.invoke(main, ["users", "add", "kim", "--role", "auditor", "--password", "a-long-password-1"])
    assert result.exit_code != 0 and "already exists" in result.output


def test_explicit_sqlite_url_in_a_new_folder_works(tmp_path):
    """AUDIT_DATABASE_URL may name a SQLite file in a folder that does not exist yet."""
    from audit.config import Settings

    target = tmp_path / "new" / "folder" / "audit.sqlite"
    url = Settings(database_url=f"sqlite:///{target}").resolved_database_url()
    assert url == f"sqlite:///{target}" and target.parent.is_dir()
