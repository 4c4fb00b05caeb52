"""The answers of an audit as one wide sheet (one row per case, one column per
item code; multiple choice as space-separated codes) for auditors who work
offline in Excel, and its import: every cell is checked against the instrument
first, and nothing is written unless every cell is valid (all-or-nothing)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from audit import csvio, workbook
from audit.instrument import Instrument
from audit.models import Answer, Audit, Case, User
from audit.permissions import can
from audit.review.answers import AnswerError, decode, ensure_unlocked, set_answer
from audit.review.instrument import ParseError, format_cell, instrument_for, parse

KEY_COLUMNS = ["case_id", "municipality", "seniority_band", "status", "version"]


@dataclass(frozen=True)
class CellError:
    file: str
    row: int | None      # spreadsheet row number (header = 1)
    column: str | None   # item code or key column
    value: Any
    why: str

    def __str__(self) -> str:
        where = self.file + (f", row {self.row}" if self.row else "") + (f", column {self.column}" if self.column else "")
        shown = "" if self.value in (None, "") else f" value {self.value!r}:"
        return f"{where}:{shown} {self.why}"


class SheetImportError(ValueError):
    def __init__(self, errors: list[CellError]) -> None:
        self.errors = errors
        lines = [str(e) for e in errors[:50]]
        if len(errors) > 50:
            lines.append(f"... and {len(errors) - 50} more")
        super().__init__(f"{len(errors)} problem(s); nothing was imported\n" + "\n".join(lines))


def item_columns(inst: Instrument) -> list[str]:
    return [i.name for i in inst.items_at("case") if not i.is_calculated]


def export_rows(session: Session, audit: Audit, pass_no: int = 1,
                municipality: str | None = None, *, actor: Any) -> tuple[list[str], list[list[Any]]]:
    """The wide sheet's header and rows; logged as a file of these cases for `actor` (audit.access)."""
    inst = instrument_for(audit)
    items = item_columns(inst)
    by_name = {i.name: i for i in inst.items}
    query = select(Case).where(Case.audit_id == audit.id, Case.active == True)  # noqa: E712
    if municipality:
        query = query.where(Case.municipality == municipality)
    cases = session.exec(query.order_by(Case.municipality, Case.seniority_band, Case.id)).all()
    if actor is not None:
        from audit import access

        access.record(session, actor, what=f"answer sheet (pass {pass_no})", nature=access.FILE,
                      cases=[c.id for c in cases], audit_id=audit.id)
    answers: dict[int, dict[str, Any]] = {c.id: {} for c in cases}
    if cases:
        for a in session.exec(select(Answer).join(Case, Case.id == Answer.case_id).where(
                Case.audit_id == audit.id, Answer.pass_no == pass_no)).all():
            if a.case_id in answers and a.value_json is not None:
                answers[a.case_id][a.item] = decode(a.value_json)
    header = KEY_COLUMNS + items
    rows = []
    for c in cases:
        vals = answers[c.id]
        rows.append([c.id, c.municipality, c.seniority_band, c.status, c.version]
                    + [format_cell(by_name[n], vals.get(n)) for n in items])
    return header, rows


def write_sheet(path: str | Path, header: list[str], rows: list[list[Any]]) -> None:
    """The sheet as .csv (csvio's PEOPLE dialect: an auditor opens it in Danish Excel) or
    .xlsx (the house style); answers are written as text, never as formulas."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        csvio.write(path, header, rows, csvio.PEOPLE)
        return
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "answers"
    for k, title in enumerate(header, start=1):
        workbook.put(ws, 1, k, title, font=workbook.BOLD, fill=workbook.HEADER_FILL)
    for r, values in enumerate(rows, start=2):
        for k, value in enumerate(values, start=1):
            workbook.put(ws, r, k, value)
    ws.freeze_panes = "F2"
    wb.save(path)


def export_sheet(session: Session, audit: Audit, path: str | Path, pass_no: int = 1, *, actor: Any) -> int:
    header, rows = export_rows(session, audit, pass_no, actor=actor)
    write_sheet(path, header, rows)
    return len(rows)


def read_sheet(path: str | Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """Header and (row number, cells) of the first sheet of an .xlsx or a .csv file."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        # encoding, delimiter and BOM detected as for every CSV the tool reads; the apostrophe
        # the export put before formula-like text is taken off again
        header, body = csvio.read_rows(path)
        return header, [(n, [csvio.unneutralize(c) for c in cells]) for n, cells in body]
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    data = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    if not data:
        return [], []
    header = [("" if h is None else str(h)).strip() for h in data[0]]
    rows = [(n, list(r)) for n, r in enumerate(data[1:], start=2)
            if any(v not in (None, "") for v in r)]
    return header, rows


@dataclass
class ImportResult:
    cases: int
    changed: int


def import_sheet(session: Session, audit: Audit, path: str | Path, user: User | None,
                 pass_no: int = 1, file_label: str | None = None) -> ImportResult:
    """Validate every cell, then write all answers through `set_answer` in the
    caller's transaction. Any problem raises `SheetImportError` and writes nothing.
    An empty cell means "no answer" (an existing answer is cleared). A `version`
    column, when present, must equal the case's current version: the sheet was
    exported before someone changed the case otherwise."""
    name = file_label or Path(path).name
    errors: list[CellError] = []
    try:
        ensure_unlocked(audit)
    except AnswerError as exc:
        raise SheetImportError([CellError(name, None, None, None, str(exc))]) from None
    inst = instrument_for(audit)
    try:
        header, rows = read_sheet(path)
    except Exception as exc:  # unreadable file: one clear message
        raise SheetImportError([CellError(name, None, None, None, f"cannot read the file: {exc}")]) from None
    if "case_id" not in header:
        raise SheetImportError([CellError(name, 1, "case_id", None, "the header row has no case_id column")])
    items = {i.name: i for i in inst.items}
    allowed = set(item_columns(inst))
    columns: list[tuple[int, str]] = []
    seen_cols: set[str] = set()
    for idx, col in enumerate(header):
        if col in KEY_COLUMNS or col == "":
            continue
        if col in seen_cols:
            errors.append(CellError(name, 1, col, None, "column appears twice"))
        elif col not in items:
            errors.append(CellError(name, 1, col, None, "not an item code of the instrument"))
        elif col not in allowed:
            errors.append(CellError(name, 1, col, None, "a calculated or municipality-level item cannot be imported per case"))
        else:
            columns.append((idx, col))
        seen_cols.add(col)
    ci = header.index("case_id")
    vi = header.index("version") if "version" in header else None
    cases = {c.id: c for c in session.exec(select(Case).where(Case.audit_id == audit.id)).all()}
    plan: list[tuple[Case, dict[str, Any]]] = []
    seen_cases: dict[int, int] = {}
    for rownum, cells in rows:
        cells = cells + [None] * (len(header) - len(cells))
        raw_id = cells[ci]
        try:
            case_id = int(float(str(raw_id).strip()))
        except (TypeError, ValueError):
            errors.append(CellError(name, rownum, "case_id", raw_id, "not a case number"))
            continue
        case = cases.get(case_id)
        if case is None:
            errors.append(CellError(name, rownum, "case_id", raw_id, f"no case {case_id} in audit {audit.name!r}"))
            continue
        if case_id in seen_cases:
            errors.append(CellError(name, rownum, "case_id", raw_id, f"case also on row {seen_cases[case_id]}"))
            continue
        seen_cases[case_id] = rownum
        if user is not None and not can(user, "case.edit", case):
            errors.append(CellError(name, rownum, "case_id", raw_id, f"{user.username} may not edit this case"))
            continue
        if pass_no == 1 and case.status not in ("not_started", "in_progress"):
            errors.append(CellError(name, rownum, "case_id", raw_id,
                                    f"case is {case.status.replace('_', ' ')}; only open cases can be changed"))
            continue
        if vi is not None and cells[vi] not in (None, ""):
            try:
                sheet_version = int(float(str(cells[vi])))
            except ValueError:
                errors.append(CellError(name, rownum, "version", cells[vi], "not a number"))
                continue
            if sheet_version != case.version:
                errors.append(CellError(name, rownum, "version", cells[vi],
                                        f"case {case_id} was changed after this sheet was exported "
                                        f"(now version {case.version}); export again"))
                continue
        values: dict[str, Any] = {}
        row_ok = True
        for idx, col in columns:
            raw = cells[idx]
            try:
                values[col] = parse(items[col], raw)
            except ParseError as exc:
                errors.append(CellError(name, rownum, col, raw, str(exc)))
                row_ok = False
        if not row_ok:
            continue
        answers = {k: v for k, v in values.items() if v is not None}
        for col, value in values.items():
            if value is None:
                continue
            for problem in inst.check_answer(col, value, answers):
                errors.append(CellError(name, rownum, col, format_cell(items[col], value), problem))
                row_ok = False
        if row_ok:
            plan.append((case, values))
    if errors:
        raise SheetImportError(errors)
    changed = 0
    for case, values in plan:
        for col, value in values.items():
            before = case.version
            set_answer(session, case=case, item=col, value=value, user=user, pass_no=pass_no,
                       reason=f"imported from {name}")
            changed += case.version != before
    session.flush()
    return ImportResult(cases=len(plan), changed=changed)
