"""The admin sets up an audit and its users in the browser: the same room functions as the
CLI (audit.audits.new_audit / edit_audit, audit.auth.add_user / update_user), the same rules,
the same trail; a refused form keeps what was typed."""
from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from audit.models import Audit, AuditLog, Person, User
from tests.conftest import PASSWORD, login

NEW_PASSWORD = "Grøn-Kaffekande-17"


def _audit_form(**over):  # type: ignore[no-untyped-def]
    form = {"name": "Kontanthjælp 2026", "period_start": "2024-03-01", "period_end": "2026-02-28",
            "reference_date": "2026-03-01", "instrument": "kontanthjaelp_2022.yaml",
            "municipalities": ["Odense", "aarhus"]}
    form.update(over)
    return form


def test_admin_creates_an_audit_bound_to_the_instrument(app, engine, make_user, client_for):
    ada = make_user("ada", "admin")
    admin, token = client_for(ada)
    page = admin.get("/admin")
    assert 'action="/admin/audits"' in page.text and "audit users add" not in page.text
    resp = admin.post("/admin/audits", data={**_audit_form(), "csrf_token": token}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    with Session(engine) as s:
        audit = s.exec(select(Audit)).one()
        assert resp.headers["location"] == f"/sampling?audit_id={audit.id}"
        assert (audit.period_start, audit.period_end, audit.reference_date) == (
            date(2024, 3, 1), date(2026, 2, 28), date(2026, 3, 1))
        assert json.loads(audit.municipalities_json) == ["Odense", "Aarhus"]
        assert audit.instrument_version and audit.instrument_json
        trail = s.exec(select(AuditLog).where(AuditLog.entity == "audit", AuditLog.entity_id == audit.id)).all()
        assert {(e.field, e.user_id) for e in trail} == {("create", ada.id), ("instrument", ada.id)}
    assert "Audit Kontanthjælp 2026 created" in admin.get(resp.headers["location"]).text
    assert "Kontanthjælp 2026" in admin.get("/admin").text


def test_a_refused_audit_keeps_what_was_typed_and_writes_nothing(app, engine, make_user, client_for):
    admin, token = client_for(make_user("ada", "admin"))
    resp = admin.post("/admin/audits", data={**_audit_form(reference_date="2025-01-01", name="Typed <name>"),
                                             "csrf_token": token})
    assert resp.status_code == 422
    assert "reference date 2025-01-01 must be on or after" in resp.text
    assert 'value="Typed &lt;name&gt;"' in resp.text and 'value="2024-03-01"' in resp.text
    assert '<option value="Odense" selected>' in resp.text
    resp = admin.post("/admin/audits", data={**_audit_form(period_start="1st of March"), "csrf_token": token})
    assert resp.status_code == 422 and "must be a date" in resp.text
    resp = admin.post("/admin/audits", data={**_audit_form(instrument="../../etc/passwd"), "csrf_token": token})
    assert resp.status_code == 422 and "no instrument file named" in resp.text
    with Session(engine) as s:
        assert s.exec(select(Audit)).all() == []


def test_only_admins_create_audits(app, make_user, client_for):
    auditor, token = client_for(make_user("bo", "auditor"))
    assert auditor.post("/admin/audits", data={**_audit_form(), "csrf_token": token}).status_code == 403


def test_editing_an_audit_follows_its_state(app, engine, make_user, client_for):
    admin, token = client_for(make_user("ada", "admin"))
    admin.post("/admin/audits", data={**_audit_form(), "csrf_token": token})
    with Session(engine) as s:
        audit_id = s.exec(select(Audit)).one().id
    edit = {"name": "Renamed", "period_start": "2024-01-01", "period_end": "2026-02-28",
            "reference_date": "2026-03-01", "municipalities": ["Vejle"], "csrf_token": token}
    assert admin.post(f"/admin/audits/{audit_id}", data=edit, follow_redirects=False).status_code == 303
    with Session(engine) as s:
        audit = s.get(Audit, audit_id)
        assert (audit.name, audit.period_start, json.loads(audit.municipalities_json)) == (
            "Renamed", date(2024, 1, 1), ["Vejle"])
        s.add(Person(audit_id=audit_id, person_id="p1", municipality="Vejle", seniority_years=6.0,
                     seniority_band="5-7", sex="kvinde", age=45, origin="dansk"))
        s.commit()
    resp = admin.post(f"/admin/audits/{audit_id}", data={**edit, "reference_date": "2026-06-01"})
    assert resp.status_code == 422 and "cannot change once a register extract is imported" in resp.text
    assert 'value="2026-06-01"' in resp.text   # what was typed comes back
    assert admin.post(f"/admin/audits/{audit_id}", data={**edit, "name": "Final name"},
                      follow_redirects=False).status_code == 303
    with Session(engine) as s:
        audit = s.get(Audit, audit_id)
        assert (audit.name, audit.reference_date) == ("Final name", date(2026, 3, 1))


def test_admin_adds_and_edits_users_with_the_password_policy(app, engine, make_user, client_for):
    ada = make_user("ada", "admin")
    admin, token = client_for(ada)
    page = admin.get("/admin/users")
    assert 'action="/admin/users"' in page.text and "audit users" not in page.text
    form = {"username": "fyn1", "full_name": "Fie Fynbo", "role": "municipality", "municipality": "Odense",
            "password": "password1234", "confirm": "password1234", "csrf_token": token}
    weak = admin.post("/admin/users", data=form)
    assert weak.status_code == 422 and "common" in weak.text
    assert 'value="fyn1"' in weak.text and 'value="Fie Fynbo"' in weak.text
    assert '<option value="Odense" selected>' in weak.text and "password1234" not in weak.text
    unbound = admin.post("/admin/users", data={**form, "municipality": "", "password": NEW_PASSWORD,
                                               "confirm": NEW_PASSWORD})
    assert unbound.status_code == 422 and "must be bound to a municipality" in unbound.text
    resp = admin.post("/admin/users", data={**form, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                      follow_redirects=False)
    assert resp.status_code == 303
    with Session(engine) as s:
        fyn = s.exec(select(User).where(User.username == "fyn1")).one()
        assert (fyn.role, fyn.municipality, fyn.full_name) == ("municipality", "Odense", "Fie Fynbo")
        created = s.exec(select(AuditLog).where(AuditLog.entity == "user", AuditLog.entity_id == fyn.id)).one()
        assert created.user_id == ada.id
    with TestClient(app) as c:   # the new user logs in with the password the admin gave
        login(c, "fyn1", NEW_PASSWORD)
        assert c.get("/api/me").json()["municipality"] == "Odense"
    # edit: to an auditor (the municipality is dropped), then refused ways
    resp = admin.post(f"/admin/users/{fyn.id}/details", data={"role": "auditor", "municipality": "Odense",
                                                              "full_name": "Fie F.", "csrf_token": token},
                      follow_redirects=False)
    assert resp.status_code == 303
    with Session(engine) as s:
        fyn = s.get(User, fyn.id)
        assert (fyn.role, fyn.municipality, fyn.full_name) == ("auditor", None, "Fie F.")
        fields = {e.field for e in s.exec(select(AuditLog).where(AuditLog.entity == "user",
                                                                 AuditLog.entity_id == fyn.id))}
        assert {"role", "municipality", "full_name"} <= fields
    own = admin.post(f"/admin/users/{ada.id}/details", data={"role": "auditor", "municipality": "",
                                                             "full_name": "Ada", "csrf_token": token})
    assert own.status_code == 422 and "your own role" in own.text
    assert '<option value="auditor" selected>' in own.text   # what was chosen comes back


def test_the_cli_uses_the_same_functions(engine, make_user):
    from audit.cli import main

    make_user("ada", "admin")
    runner = CliRunner()
    result = runner.invoke(main, ["audits", "create", "CLI audit", "--period-start", "2024-03-01",
                                  "--period-end", "2026-02-28", "--reference-date", "2026-03-01",
                                  "--municipalities", "Odense"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["audits", "edit", "CLI audit", "--name", "CLI audit 2", "--as", "ada"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["users", "add", "bo", "--role", "auditor"], env={"AUDIT_NEW_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["users", "edit", "bo", "--role", "municipality", "--municipality", "vejle"])
    assert result.exit_code == 0, result.output
    refused = runner.invoke(main, ["users", "edit", "bo", "--municipality", "Atlantis"])
    assert refused.exit_code != 0 and "unknown municipality" in refused.output
    with Session(engine) as s:
        assert s.exec(select(Audit.name)).all() == ["CLI audit 2"]
        bo = s.exec(select(User).where(User.username == "bo")).one()
        assert (bo.role, bo.municipality) == ("municipality", "Vejle")
