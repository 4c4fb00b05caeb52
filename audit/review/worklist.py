"""What the review pages and the work-list API read: the cases a user works on (with
filters), the second-review and theme-7 lists, the reviewers and municipalities to
filter by, and who is assigned per municipality. Plain functions with typed results;
the web layer renders them and never queries itself."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import case as sa_case, literal, tuple_
from sqlmodel import Session, select

from audit.models import CASE_STATUSES, Audit, Case, MunicipalityReview, User
from audit.review.assignment import Progress, progress


@dataclass(frozen=True)
class WorkRow:
    """One active case of the work list, with the name of its audit."""
    case: Case
    audit_name: str

    def __iter__(self):  # type: ignore[no-untyped-def]
        # `for case, audit_name in rows` in templates
        return iter((self.case, self.audit_name))

    # what the list is sorted by (`_sort_key`), shared with `_Key`
    @property
    def id(self) -> int:
        return self.case.id  # type: ignore[return-value]

    @property
    def municipality(self) -> str:
        return self.case.municipality

    @property
    def seniority_band(self) -> str:
        return self.case.seniority_band

    @property
    def status(self) -> str:
        return self.case.status


class _Key(NamedTuple):
    """What `next_case` needs of a work-list row: its sort fields and status, read as plain
    columns (an auditor may hold a thousand cases; the form asks for the next one on every view)."""
    id: int
    municipality: str
    seniority_band: str
    status: str
    audit_name: str


@dataclass(frozen=True)
class AssignmentRow:
    """Progress of one municipality and who its cases are assigned to."""
    p: Progress
    auditors: str


# The orders a work list can be sorted in (the page's "Sort by"); each ends in the case id so
# the order is total and "next case" is well defined. The status order is the workflow's.
SORTS = ("municipality", "band", "status", "case")
_STATUS_ORDER = {s: i for i, s in enumerate(CASE_STATUSES)}


def _sort_key(sort: str | None, band_rank: dict[str, int]):  # type: ignore[no-untyped-def]
    def band(r: WorkRow | _Key) -> int:
        return band_rank.get(r.seniority_band, len(band_rank))

    if sort == "case":
        return lambda r: (r.id,)
    if sort == "band":
        return lambda r: (r.audit_name, band(r), r.municipality, r.id)
    if sort == "status":
        return lambda r: (r.audit_name, _STATUS_ORDER.get(r.status, 99), r.municipality, band(r), r.id)
    return lambda r: (r.audit_name, r.municipality, band(r), r.id)


def _filtered(query, user: User, *, audit_id: int | None, municipality: str | None, auditor: int | None,  # type: ignore[no-untyped-def]
              status: str | None, band: str | None):
    query = query.join(Audit, Audit.id == Case.audit_id).where(Case.active == True)  # noqa: E712
    if user.role == "auditor":
        query = query.where(Case.assigned_to == user.id)
    elif auditor:
        query = query.where(Case.assigned_to == auditor)
    if audit_id:
        query = query.where(Case.audit_id == audit_id)
    if municipality:
        query = query.where(Case.municipality == municipality)
    if status:
        query = query.where(Case.status == status)
    if band:
        query = query.where(Case.seniority_band == band)
    return query


def work_list(session: Session, user: User, *, audit_id: int | None = None, municipality: str | None = None,
              auditor: int | None = None, status: str | None = None, band: str | None = None,
              sort: str | None = None) -> list[WorkRow]:
    """An auditor's own active cases; for an admin, all active cases; filtered by audit,
    municipality, status and seniority band (and, for an admin, auditor), in the order `sort`
    (one of SORTS; default: audit, municipality, band, case)."""
    query = _filtered(select(Case, Audit.name), user, audit_id=audit_id, municipality=municipality,
                      auditor=auditor, status=status, band=band)
    rows = [WorkRow(case, name) for case, name in session.exec(query).all()]
    rank = {b: i for i, b in enumerate(case_bands(session, audit_id))}
    return sorted(rows, key=_sort_key(sort, rank))


def next_case(session: Session, user: User, case: Case, filters: dict | None = None) -> Case | None:
    """The case to open after `case`: the next one still to review (not started or in
    progress) in the user's work list with the same filters and order, after `case`, wrapping
    round to the start; None when nothing else is left to review. Filters are those of
    `work_list` (as the work list page last showed them); the audit is `case`'s.

    The database finds it (the form asks on every view, and an auditor may hold a thousand
    cases): the list's order as SQL (`_order`, the same keys as `_sort_key`), the first open
    case after `case`'s own key, else the first open case of the list."""
    f = {k: v for k, v in (filters or {}).items() if k in ("municipality", "auditor", "status", "band", "sort") and v}
    f.pop("status", None)   # next means still to review, whatever status the list showed
    order = _order(session, f.pop("sort", None), case_bands(session, case.audit_id))

    def listed(*columns):  # type: ignore[no-untyped-def]
        return _filtered(select(*columns), user, audit_id=case.audit_id, municipality=f.get("municipality"),
                         auditor=f.get("auditor"), status=None, band=f.get("band"))

    def first_open(query):  # type: ignore[no-untyped-def]
        return session.exec(query.where(Case.id != case.id, Case.status.in_(("not_started", "in_progress")))
                            .order_by(*order).limit(1)).first()

    own = session.exec(listed(*order).where(Case.id == case.id)).first()   # its key, if it is in the list
    if own is not None and len(order) == 1:
        own = (own,)                        # one column comes back as a plain value
    found = first_open(listed(Case.id).where(tuple_(*order) > tuple_(*own))) if own is not None else None
    if found is None:
        found = first_open(listed(Case.id))
    return session.get(Case, found) if found is not None else None


def _order(session: Session, sort: str | None, bands: list[str]) -> list:  # type: ignore[type-arg]
    """`_sort_key` as SQL for the cases of one audit (its name, the first key, is the same for all):
    the band and status ranks as CASE expressions, names compared by code point as Python does
    (PostgreSQL's "C" collation; SQLite compares text that way by default)."""
    band = sa_case({b: i for i, b in enumerate(bands)}, value=Case.seniority_band, else_=len(bands)) \
        if bands else literal(0)
    status = sa_case(_STATUS_ORDER, value=Case.status, else_=99)
    municipality = Case.municipality if session.get_bind().dialect.name == "sqlite" \
        else Case.municipality.collate("C")
    if sort == "case":
        return [Case.id]
    if sort == "band":
        return [band, municipality, Case.id]
    if sort == "status":
        return [status, municipality, band, Case.id]
    return [municipality, band, Case.id]


def second_reviews(session: Session, user: User) -> list[Case]:
    """The active cases the user reviews a second time, independently."""
    return list(session.exec(select(Case).where(Case.second_reviewer == user.id, Case.active == True)  # noqa: E712
                             .order_by(Case.municipality, Case.id)).all())


def theme7_reviews(session: Session, user: User, audit_id: int | None = None) -> list[MunicipalityReview]:
    """The municipalities' theme-7 reviews: an auditor's own, or (admin) all; of one audit if given."""
    query = select(MunicipalityReview)
    if user.role == "auditor":
        query = query.where(MunicipalityReview.assigned_to == user.id)
    if audit_id:
        query = query.where(MunicipalityReview.audit_id == audit_id)
    return list(session.exec(query.order_by(MunicipalityReview.municipality)).all())


def reviewers(session: Session, *, admins: bool = True, active_only: bool = False) -> list[User]:
    """Users who can be assigned cases (auditors, and admins unless `admins=False`), by name."""
    roles = ("auditor", "admin") if admins else ("auditor",)
    query = select(User).where(User.role.in_(roles))
    if active_only:
        query = query.where(User.is_active == True)  # noqa: E712
    return list(session.exec(query.order_by(User.username)).all())


def usernames(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u.username for u in session.exec(select(User).where(User.id.in_(ids))).all()}


def case_bands(session: Session, audit_id: int | None = None) -> list[str]:
    """The seniority bands of the sampled cases (of one audit if given), in each audit's band
    order (audit.bands: the audit's boundaries)."""
    from audit.bands import boundary_codes
    from audit.sampling.bands import audit_bands

    query = select(Case.audit_id, Case.seniority_band).distinct()
    if audit_id:
        query = query.where(Case.audit_id == audit_id)
    found = session.exec(query).all()
    ordered: list[str] = []
    for aid in sorted({a for a, _ in found}):
        codes = list(boundary_codes(audit_bands(session.get(Audit, aid))))
        present = {b for a, b in found if a == aid}
        for band in codes + sorted(present - set(codes)):
            if band in present and band not in ordered:
                ordered.append(band)
    return ordered


def case_municipalities(session: Session) -> list[str]:
    """Every municipality with a sampled case, in any audit."""
    return sorted(set(session.exec(select(Case.municipality).distinct()).all()))


def assignment_rows(session: Session, audit: Audit, names: dict[int, str]) -> list[AssignmentRow]:
    """Per municipality of the audit: progress and the auditors its active cases are assigned to."""
    rows = []
    for p in progress(session, audit_id=audit.id):
        assigned = set(session.exec(select(Case.assigned_to).where(
            Case.audit_id == audit.id, Case.municipality == p.municipality, Case.active == True)).all())  # noqa: E712
        rows.append(AssignmentRow(p, ", ".join(sorted(names.get(a, "–") if a else "unassigned"
                                                      for a in assigned))))
    return rows
