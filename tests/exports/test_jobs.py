"""Background export jobs (audit.exports.jobs, the exports page's "Make in the background"):
a job runs to ready and its file holds what the direct download gives; a failure shows its
reason; only admins see jobs and files, each download logged like the direct one; a file is
stale once an answer changes; a job of a dead server does not stay running."""
from __future__ import annotations

import io
import re
import time
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from sqlmodel import Session, select

from audit.exports import jobs
from audit.models import AccessLog, Answer, Case, ExportJob, ExportJobFile, utcnow

HX = {"HX-Request": "true"}


@pytest.fixture
def report_audit(engine):  # type: ignore[no-untyped-def]
    """72 reviewed cases in five municipalities: enough for the report's exhibits to be suppressed safely."""
    from tests.exports.conftest import store_audit
    from tests.exports.test_figures import MUNICIPALITIES, REVIEWED, _source

    return store_audit(engine, _source(), "Jobtest 2022", completed=REVIEWED, municipalities=MUNICIPALITIES)


def _state(html: str) -> str:
    found = re.search(r'data-state="([a-z]+)"', html)
    assert found, html
    return found.group(1)


def _wait(client, audit_id: int, kind: str, timeout: float = 180.0) -> str:  # type: ignore[no-untyped-def]
    """Poll the job's fragment (as the page's htmx does) until the job has finished; its HTML."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = client.get(f"/exports/{audit_id}/{kind}/job", headers=HX)
        assert resp.status_code == 200, resp.text
        if _state(resp.text) not in ("queued", "running"):
            return resp.text
        assert 'hx-trigger="every 2s"' in resp.text  # the fragment polls itself while under way
        time.sleep(0.2)
    raise AssertionError(f"job {kind} did not finish in {timeout} s")


def _queue(client, token: str, audit_id: int, kind: str) -> str:  # type: ignore[no-untyped-def]
    resp = client.post(f"/exports/{audit_id}/{kind}/job", headers={**HX, "X-CSRF-Token": token})
    assert resp.status_code == 200, resp.text
    return resp.text


def _file_link(html: str, audit_id: int, kind: str) -> str:
    found = re.search(rf'href="(/exports/{audit_id}/{re.escape(kind)}/job/\d+)"', html)
    assert found, html
    return found.group(1)


def _cells(body: bytes) -> dict[str, list[list[object]]]:
    wb = load_workbook(io.BytesIO(body))
    return {name: [[c.value for c in row] for row in wb[name].iter_rows()] for name in wb.sheetnames}


def _downloads(engine, what: str) -> list[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return [(u.username, u.kind, u.n_cases) for u in
                s.exec(select(AccessLog).where(AccessLog.what == what).order_by(AccessLog.id)).all()]


@pytest.mark.danish
def test_report_job_runs_to_ready_and_its_file_is_the_direct_download(report_audit, make_user, client_for, engine):  # type: ignore[no-untyped-def]
    from tests.exports.test_figures import REVIEWED

    client, token = client_for(make_user("chef", "admin"))
    page = client.get("/exports")
    assert page.status_code == 200
    assert f'id="job-{report_audit.id}-report-xlsx"' in page.text and "Ikke lavet endnu." in page.text
    first = _queue(client, token, report_audit.id, "report.xlsx")
    assert _state(first) in ("queued", "running", "ready")
    # asking again while it is under way starts no second job
    _queue(client, token, report_audit.id, "report.xlsx")
    html = _wait(client, report_audit.id, "report.xlsx")
    assert _state(html) == "ready", html
    assert "Hent filen" in html and " kB)" in html
    with Session(engine) as s:
        made = s.exec(select(ExportJob).where(ExportJob.kind == "report.xlsx")).all()
    assert len(made) == 1 and made[0].status == "ready" and made[0].worker == jobs.WORKER
    link = _file_link(html, report_audit.id, "report.xlsx")
    assert _downloads(engine, "report.xlsx") == []  # making the file hands it to nobody
    from_job = client.get(link)
    assert from_job.status_code == 200, from_job.text
    assert from_job.headers["content-disposition"].startswith('attachment; filename="jobtest_2022_report.xlsx"')
    assert from_job.headers["cache-control"] == "no-store"
    assert len(from_job.content) == made[0].size
    # the download is logged for its user with every reviewed case, as the direct one
    assert _downloads(engine, "report.xlsx") == [("chef", "download", REVIEWED)]
    direct = client.get(f"/exports/{report_audit.id}/report.xlsx")
    assert direct.status_code == 200
    job_cells, direct_cells = _cells(from_job.content), _cells(direct.content)
    assert list(job_cells) == list(direct_cells) and "Figur 8" in job_cells
    assert len(job_cells) > 10
    for name in list(job_cells)[1:]:  # the contents sheet carries the time it was made
        assert job_cells[name] == direct_cells[name], name
    # the page, loaded again, shows the ready file and offers no new job
    page = client.get("/exports")
    assert link in page.text and f'data-testid="job-start-{report_audit.id}-report.xlsx"' not in page.text


def test_annex_and_raw_workbook_jobs_equal_the_direct_downloads(db_audit, make_user, client_for):  # type: ignore[no-untyped-def]
    client, token = client_for(make_user("chef", "admin"))
    for kind in ("annex.xlsx", "data.xlsx"):
        _queue(client, token, db_audit.id, kind)
    for kind in ("annex.xlsx", "data.xlsx"):
        html = _wait(client, db_audit.id, kind)
        assert _state(html) == "ready", html
        body = client.get(_file_link(html, db_audit.id, kind)).content
        direct = client.get(f"/exports/{db_audit.id}/{kind}").content
        job_cells, direct_cells = _cells(body), _cells(direct)
        assert list(job_cells) == list(direct_cells)
        skip = 1 if kind == "annex.xlsx" else 0  # the annex's contents sheet carries the time it was made
        for name in list(job_cells)[skip:]:
            assert job_cells[name] == direct_cells[name], (kind, name)
        if kind == "data.xlsx":  # one row per reviewed case under the header
            assert len(job_cells[list(job_cells)[0]]) == 61


@pytest.mark.danish
def test_a_failed_job_shows_the_reason_the_direct_download_gives(engine, make_user, client_for):  # type: ignore[no-untyped-def]
    """An audit not yet bound to an instrument has no annex: the direct download refuses (409)
    and the job fails with the same reason, in Danish, and can be started again."""
    import html as html_lib
    from datetime import date

    from audit.models import Audit

    with Session(engine) as s:
        audit = Audit(name="Uden instrument 2022", period_start=date(2018, 3, 1), period_end=date(2020, 2, 29),
                      reference_date=date(2020, 3, 1))
        s.add(audit)
        s.commit()
        s.refresh(audit)
    client, token = client_for(make_user("chef", "admin"))
    direct = client.get(f"/exports/{audit.id}/annex.xlsx", headers={"accept": "application/json"})
    assert direct.status_code == 409
    reason = direct.json()["detail"]
    assert "instrument" in reason and "Uden instrument 2022" in reason
    _queue(client, token, audit.id, "annex.xlsx")
    html = _wait(client, audit.id, "annex.xlsx")
    assert _state(html) == "failed"
    assert "Filen kunne ikke laves:" in html
    shown = re.search(rf'data-testid="job-reason-{audit.id}-annex.xlsx">(.*?)</span>', html, re.S)
    assert shown and html_lib.unescape(shown.group(1)).strip() == reason
    assert "Lav den igen" in html and 'hx-trigger="every' not in html  # started again by hand; no polling
    with Session(engine) as s:
        job = s.exec(select(ExportJob).where(ExportJob.audit_id == audit.id)).one()
        assert job.status == "failed" and job.finished_at is not None and s.get(ExportJobFile, job.id) is None
    assert client.get(f"/exports/{audit.id}/annex.xlsx/job/{job.id}",
                      headers={"accept": "application/json"}).status_code == 409
    again = _queue(client, token, audit.id, "annex.xlsx")  # a failed job does not block a new one
    assert _state(again) in ("queued", "running", "failed")
    _wait(client, audit.id, "annex.xlsx")
    with Session(engine) as s:
        assert len(s.exec(select(ExportJob).where(ExportJob.audit_id == audit.id)).all()) == 2


@pytest.fixture(autouse=True)
def _no_job_left_running():  # type: ignore[no-untyped-def]
    yield
    assert jobs.wait_idle(120)  # no job of this test runs on into the next one (or its database)


@pytest.mark.parametrize("role,municipality", [("auditor", None), ("municipality", "København")])
def test_only_admins_see_jobs_and_files(report_audit, make_user, client_for, engine, role, municipality):  # type: ignore[no-untyped-def]
    admin, token = client_for(make_user("chef", "admin"))
    _queue(admin, token, report_audit.id, "data.xlsx")
    html = _wait(admin, report_audit.id, "data.xlsx")
    link = _file_link(html, report_audit.id, "data.xlsx")
    other, other_token = client_for(make_user(f"u_{role}", role, municipality))
    before = _downloads(engine, "data.xlsx")
    for resp in (other.get(link), other.get(f"/exports/{report_audit.id}/data.xlsx/job"),
                 other.post(f"/exports/{report_audit.id}/data.xlsx/job", headers={"X-CSRF-Token": other_token}),
                 other.post(f"/exports/{report_audit.id}/report.xlsx/job", headers={"X-CSRF-Token": other_token})):
        assert resp.status_code in (403, 404), resp.status_code
        assert not resp.content.startswith(b"PK") and "job-state" not in resp.text
    assert _downloads(engine, "data.xlsx") == before  # nothing handed out, nothing logged
    with Session(engine) as s:  # the refused POSTs queued nothing
        assert [j.kind for j in s.exec(select(ExportJob)).all()] == ["data.xlsx"]
    # a job id of another audit or kind is not found; out of range ids too
    job_id = int(link.rsplit("/", 1)[1])
    assert admin.get(f"/exports/{report_audit.id}/report.xlsx/job/{job_id}").status_code == 404
    assert admin.get(f"/exports/{report_audit.id + 1}/data.xlsx/job/{job_id}").status_code == 404
    assert admin.get(f"/exports/{report_audit.id}/data.xlsx/job/{2 ** 63}").status_code == 404
    assert admin.get(f"/exports/{report_audit.id}/data.csv/job").status_code == 404  # instant kinds: no jobs
    # without htmx the button is a plain form: back to the page
    resp = admin.post(f"/exports/{report_audit.id}/annex.xlsx/job", data={"csrf_token": token}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/exports#job-{report_audit.id}-annex-xlsx"
    # and without the CSRF token nothing is queued
    assert admin.post(f"/exports/{report_audit.id}/figures.zip/job").status_code == 403


def test_an_answer_change_makes_the_file_stale_and_a_new_job_can_run(db_audit, make_user, client_for, engine):  # type: ignore[no-untyped-def]
    client, token = client_for(make_user("chef", "admin"))
    _queue(client, token, db_audit.id, "data.xlsx")
    html = _wait(client, db_audit.id, "data.xlsx")
    old_link = _file_link(html, db_audit.id, "data.xlsx")
    old = _cells(client.get(old_link).content)
    with Session(engine) as s:  # an answer changes (any ORM write bumps the audit's data version)
        case = s.exec(select(Case).where(Case.audit_id == db_audit.id, Case.status == "completed")
                      .order_by(Case.id)).first()
        answer = s.exec(select(Answer).where(Answer.case_id == case.id, Answer.value_json.in_(['"ja"', '"nej"']))
                        .order_by(Answer.item)).first()
        changed = (answer.item, "nej" if answer.value_json == '"ja"' else "ja")
        case_id = case.id
        answer.value_json = f'"{changed[1]}"'
        s.add(answer)
        s.commit()
    html = client.get(f"/exports/{db_audit.id}/data.xlsx/job", headers=HX).text
    assert _state(html) == "stale" and old_link not in html
    assert "Lav den igen" in html or "Make it again" in html
    refused = client.get(old_link, headers={"accept": "application/json"})
    assert refused.status_code == 409 and "out of date" in refused.json()["detail"]
    _queue(client, token, db_audit.id, "data.xlsx")
    html = _wait(client, db_audit.id, "data.xlsx")
    assert _state(html) == "ready"
    new_link = _file_link(html, db_audit.id, "data.xlsx")
    assert new_link != old_link
    new = _cells(client.get(new_link).content)
    header = old["data"][0]
    column, row = header.index(changed[0]), next(i for i, r in enumerate(old["data"]) if r[0] == case_id)
    assert old["data"][row][column] != new["data"][row][column]  # the new file holds the changed answer
    assert {(r, c) for r, (a, b) in enumerate(zip(old["data"], new["data"])) for c in range(len(a)) if a[c] != b[c]} \
        == {(row, column)}
    with Session(engine) as s:  # the stale file is gone from the database
        files = s.exec(select(ExportJobFile.job_id)).all()
    assert files == [int(new_link.rsplit("/", 1)[1])]


def test_a_job_of_a_dead_server_is_marked_failed_not_left_running(db_audit, make_user, client_for, engine):  # type: ignore[no-untyped-def]
    client, token = client_for(make_user("chef", "admin"))
    with Session(engine) as s:
        from audit.audits import get_audit
        from audit.models import User

        admin = s.exec(select(User).where(User.username == "chef")).one()
        audit = get_audit(s, db_audit.id)
        view = jobs.queue(engine, s, audit, "annex.xlsx", requester=admin, run=False)  # queued, never run here
        job_id = view.job.id
        # another worker claimed it and then died: running, its heartbeat a minute and more old
        s.execute(update(ExportJob.__table__).where(ExportJob.__table__.c.id == job_id).values(
            status="running", started_at=utcnow() - timedelta(minutes=5), worker="elsewhere:1:dead"))
        s.commit()
        jobs.beat({job_id: engine})  # a beat of a living worker keeps it alive...
    assert _state(client.get(f"/exports/{db_audit.id}/annex.xlsx/job", headers=HX).text) == "running"
    with Session(engine) as s:  # ...but no one beats any more
        s.execute(update(ExportJob.__table__).where(ExportJob.__table__.c.id == job_id).values(
            heartbeat_at=utcnow() - timedelta(seconds=jobs.stale_seconds() + 5)))
        s.commit()
    html = client.get(f"/exports/{db_audit.id}/annex.xlsx/job", headers=HX).text
    assert _state(html) == "failed" and "The server stopped while the file was being made" in html
    assert 'hx-trigger="every' not in html  # polling stops
    # the claimed job is not run a second time by a late thread, and a new one can be started
    assert jobs.run_job(engine, job_id) == "skipped"
    _queue(client, token, db_audit.id, "annex.xlsx")
    assert _state(_wait(client, db_audit.id, "annex.xlsx")) == "ready"



def test_a_file_made_by_another_build_is_stale(db_audit, make_user, client_for, monkeypatch):  # type: ignore[no-untyped-def]
    """Files outlive the process in the database: one made by another build (a deployment, an
    edited report definition, so possibly another suppression pattern of the same data) is
    not handed out as current."""
    client, token = client_for(make_user("chef", "admin"))
    _queue(client, token, db_audit.id, "data.xlsx")
    html = _wait(client, db_audit.id, "data.xlsx")
    assert _state(html) == "ready"
    link = _file_link(html, db_audit.id, "data.xlsx")
    assert client.get(link).status_code == 200
    monkeypatch.setattr(jobs, "build_fingerprint", lambda: "f" * 64)   # the server now runs another build
    html = client.get(f"/exports/{db_audit.id}/data.xlsx/job", headers=HX).text
    assert _state(html) == "stale" and link not in html
    assert client.get(link, headers={"accept": "application/json"}).status_code == 409
    _queue(client, token, db_audit.id, "data.xlsx")
    assert _state(_wait(client, db_audit.id, "data.xlsx")) == "ready"


def test_the_build_fingerprint_covers_the_shipped_definitions(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    import shutil

    from audit import resources

    jobs.build_fingerprint.cache_clear()
    try:
        before = jobs.build_fingerprint()
        copy = tmp_path / "exports"
        shutil.copytree(resources.shared("exports"), copy)
        (copy / "report_2022.yaml").write_text((copy / "report_2022.yaml").read_text(encoding="utf-8") + "\n# min_cell edited\n",
                                               encoding="utf-8")
        real = resources.shared
        monkeypatch.setattr(resources, "shared", lambda folder, *parts: copy.joinpath(*parts) if folder == "exports"
                            else real(folder, *parts))
        jobs.build_fingerprint.cache_clear()
        assert jobs.build_fingerprint() != before
    finally:
        jobs.build_fingerprint.cache_clear()
