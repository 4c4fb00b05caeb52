"""The case frame: one row per reviewed case, register variables plus every item.

Built column-wise: the answers are read as plain rows (case id, item, JSON text; no ORM
objects), each distinct JSON text is decoded once per item, the cells are placed into
one column per item with numpy, and the skip logic and calculated fields are evaluated
once for all cases together by the instrument's compiled column engine
(`audit.instrument.columns`), which gives exactly what the row engine
(`applicable`/`derive`) gives case by case. So a share's N is exactly the cases where
the item applies, as on the review pages.

`case_frame` is pure; `load_case_frame` is the one place the statistics room reads the
database, and caches the frame per audit, keyed by `Audit.data_version`, which every
change to what the frame shows replaces (audit/dataversion.py). `iter_case_frames`
gives the same frame in chunks of cases, for exports whose memory must not grow with
the audit.
"""
from __future__ import annotations

import json
import queue
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from audit.audits import instrument_for
from audit.statistics import variables as V

if TYPE_CHECKING:
    from sqlmodel import Session

    from audit.instrument import Instrument, Item
    from audit.models import Audit

# Cases whose review is done enough to count (review completed, in the comment round, final).
REPORT_STATUSES = ("completed", "in_hearing", "final")

CASE_COLUMNS = ("case_id", "municipality", "seniority_band", "sex", "age", "origin",
                "stratum_population", "stratum_sample", "weight")

# Cases per chunk in `iter_case_frames` (and per answers query).
CHUNK_CASES = 2000
# The cache holds this many frames, and no frame larger than this many cells
# (about 40 MB of pointers; bigger audits are read again, or streamed in chunks).
CACHE_FRAMES = 8
CACHE_CELLS = 5_000_000


class FrozenDict(dict):  # type: ignore[type-arg]
    """A read-only dict that deep-copies as itself.

    pandas deep-copies `frame.attrs` into every column and slice it hands out (`frame[col]`,
    `frame.loc[...]`); the case frame's attrs (kinds, orders, labels, choice labels of 200
    items) took 20 ms to copy, on every column access of every table. Frozen, they are
    shared instead, and nobody can change one frame's labels through another's."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("the case frame's attrs are read-only; build a new dict instead")

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = _refuse  # type: ignore[assignment]

    def __deepcopy__(self, memo: dict[int, Any]) -> "FrozenDict":
        return self

    def __copy__(self) -> "FrozenDict":
        return self

    def __reduce__(self) -> Any:
        return (FrozenDict, (dict(self),))


def _cell(value: Any) -> Any:
    """Lists become tuples (hashable, counted per code); empty answers become missing."""
    if isinstance(value, list):
        value = tuple(value)
    if value is None or value == "" or value == ():
        return None
    return value


def _base(cases: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in CASE_COLUMNS if c not in cases.columns]
    if missing:
        raise ValueError(f"cases lacks column(s): {', '.join(missing)}")
    base = cases.loc[:, list(CASE_COLUMNS)].reset_index(drop=True).copy()
    ages = base["age"]
    base.insert(5, "age_band", ages.map({a: V.age_band(a) for a in pd.unique(ages)}) if len(ages)
                else ages.map(V.age_band))
    base.insert(7, "stratum", base["municipality"].astype(str) + "|" + base["seniority_band"].astype(str))
    if "values_json" in cases.columns:  # the person's declared register variables, expanded by _for_audit
        base["_register_json"] = cases["values_json"].to_numpy()
    return base



def _case_items(instrument: Instrument, level: str = "case") -> list[Item]:
    return list(instrument.items_at(level))


def _finish(base: pd.DataFrame, columns: dict[str, np.ndarray], instrument: Instrument,
            level: str = "case") -> pd.DataFrame:
    """Register part + item columns, numbers typed, the attrs the table functions read."""
    items = _case_items(instrument, level)
    names = [i.name for i in items]
    item_frame = pd.DataFrame({n: columns[n] for n in names}, columns=names, dtype=object,
                              index=base.index)
    frame = pd.concat([base, item_frame], axis=1)
    for item in items:  # integers and shares as numbers, so mean/median work
        name = item.name
        if item.stats_kind == "numeric" or (item.is_calculated and not item.choices
                                            and _all_numbers(frame[name])):
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
    kinds: dict[str, str] = {}
    orders: dict[str, tuple[str, ...]] = {}
    for item in items:
        if item.stats_kind is not None:
            kinds[item.name] = item.stats_kind
        if item.codes:
            orders[item.name] = item.codes
    frame.attrs["kinds"] = FrozenDict(kinds)
    frame.attrs["orders"] = FrozenDict(orders)
    frame.attrs["labels"] = FrozenDict({i.name: i.label("da") for i in items})
    # Danish choice labels, for pages and the annex to print instead of codes.
    frame.attrs["choice_labels"] = FrozenDict({
        i.name: FrozenDict({code: i.choice_label(code) for code in i.codes})
        for i in items if i.choices})
    return frame


def _all_numbers(series: pd.Series) -> bool:
    vals = series.dropna()
    return bool(len(vals)) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)


def _columns(instrument: Instrument, n: int, rows: np.ndarray, item_idx: np.ndarray, raw: np.ndarray,
             clean: np.ndarray, level: str = "case") -> dict[str, np.ndarray]:
    """Item columns of the frame from long-form answers (row of the case, item index into
    `instrument.items`, the cell as stored, the value the engine reasons with)."""
    from audit.instrument.columns import engine_for

    all_items = list(instrument.items)
    raw_mat = np.full((len(all_items), n), None, dtype=object)
    clean_mat = np.full((len(all_items), n), None, dtype=object)
    if len(rows):
        raw_mat[item_idx, rows] = raw
        clean_mat[item_idx, rows] = clean
    answered = set(np.unique(item_idx).tolist()) if len(item_idx) else set()
    engine = engine_for(instrument)
    result = engine.run({i.name: clean_mat[k] for k, i in enumerate(all_items)
                         if k in answered and not i.is_calculated}, n)
    out: dict[str, np.ndarray] = {}
    for k, item in enumerate(all_items):
        if item.level != level:
            continue
        ok = result.applicable[item.name]
        if item.is_calculated:
            col = np.frompyfunc(_cell, 1, 1)(result.values[item.name]) if n else np.empty(0, dtype=object)
        else:
            col = raw_mat[k]
        if not ok.all():
            col = col.copy()
            col[~ok] = None
        out[item.name] = col
    return out


def case_frame(cases: pd.DataFrame, answers: Mapping[int, Mapping[str, Any]],
               instrument: Instrument) -> pd.DataFrame:
    """Register columns + age_band + stratum, then one column per case-level item and calculated
    field (docs/contracts.md, "Case frame"). Non-applicable or unanswered cells are None.

    frame.attrs carries 'kinds' (categorical/multiple/numeric per item from its type) and
    'orders' (choice codes in the instrument's order) for the table functions."""
    base = _base(cases)
    cols = _columns(instrument, len(base), *_answer_arrays(instrument, base["case_id"].tolist(), answers))
    return _finish(base, cols, instrument)


def _answer_arrays(instrument: Instrument, keys: Sequence[Any], answers: Mapping[Any, Mapping[str, Any]],
                   level: str | None = None) -> tuple[np.ndarray, np.ndarray, Any, Any]:
    """The answers of each row's key (a case or a municipality review) as parallel arrays for
    `_columns`: row position, item index, stored value and cleaned value; answers to items
    not in the instrument (or, with `level`, not at that level) are left out."""
    from audit.instrument.columns import clean, objects

    index = {i.name: k for k, i in enumerate(instrument.items)}
    rows, item_idx, raw, cleaned = [], [], [], []
    for pos, key in enumerate(keys):
        for name, value in (answers.get(key, {}) or {}).items():
            k = index.get(name)
            if k is None or (level is not None and instrument.items[k].level != level):
                continue
            rows.append(pos)
            item_idx.append(k)
            raw.append(_cell(value))
            cleaned.append(clean(instrument.items[k], value))
    return np.array(rows, dtype=np.int64), np.array(item_idx, dtype=np.int64), objects(raw), objects(cleaned)


# ---------------------------------------------------------------- from the database

def _filters(audit_id: int, statuses: Sequence[str] | None) -> list[Any]:
    from audit.models import Case

    where = [Case.__table__.c.audit_id == audit_id, Case.__table__.c.active.is_(True)]
    if statuses is not None:
        where.append(Case.__table__.c.status.in_(list(statuses)))
    return where


def _read_cases(conn: Any, audit_id: int, statuses: Sequence[str] | None, after: int | None = None,
                limit: int | None = None) -> pd.DataFrame:
    from sqlalchemy import select

    from audit.models import Case, Person

    c, p = Case.__table__.c, Person.__table__.c
    q = (select(c.id.label("case_id"), c.municipality, c.seniority_band, p.sex, p.age, p.origin,
                c.stratum_population, c.stratum_sample, c.weight, p.values_json)
         .join_from(Case.__table__, Person.__table__, p.id == c.person_pk)
         .where(*_filters(audit_id, statuses)).order_by(c.id))
    if after is not None:
        q = q.where(c.id > after)
    if limit is not None:
        q = q.limit(limit)
    return pd.DataFrame.from_records([tuple(r) for r in conn.execute(q)], columns=[*CASE_COLUMNS, "values_json"])


def _read_answers(conn: Any, audit_id: int, statuses: Sequence[str] | None,
                  first: int | None = None, last: int | None = None) -> tuple[tuple, tuple, tuple]:
    """(case ids, items, JSON texts) of the first-pass answers of the selected cases, as plain tuples."""
    from sqlalchemy import select

    from audit.models import Answer, Case

    a, c = Answer.__table__.c, Case.__table__.c
    q = (select(a.case_id, a.item, a.value_json).join_from(Answer.__table__, Case.__table__, c.id == a.case_id)
         .where(a.pass_no == 1, *_filters(audit_id, statuses)))
    if first is not None:
        q = q.where(a.case_id >= first, a.case_id <= last)
    rows = _driver_rows(conn, q)
    # three list comprehensions: zip(*rows) over a million tuples takes five times as long
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]  # type: ignore[return-value]


def _driver_rows(conn: Any, query: Any) -> list[tuple]:
    """The rows of a SELECT as the database driver's own tuples (no SQLAlchemy row objects,
    a third of the time for a million answers). Parameters are bound as literals: they are
    ids and status codes of our own, never user text."""
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def _decode(instrument: Instrument, items: Sequence[str], texts: Sequence[str | None]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(keep mask, item index, cell, engine value) per answer row; each distinct
    (item, JSON text) is decoded and checked once."""
    from audit.instrument.columns import clean

    index = {i.name: k for k, i in enumerate(instrument.items)}
    item_codes, item_names = pd.factorize(pd.Series(items, dtype=object))
    text_codes, text_values = pd.factorize(pd.Series(texts, dtype=object), use_na_sentinel=True)
    width = len(text_values) + 1
    pair_codes, pairs = pd.factorize(item_codes.astype(np.int64) * width + (text_codes + 1))
    cells = np.empty(len(pairs), dtype=object)
    values = np.empty(len(pairs), dtype=object)
    known = np.zeros(len(pairs), dtype=bool)
    where = np.full(len(pairs), -1, dtype=np.int64)
    for k, pair in enumerate(pairs.tolist()):
        name = item_names[pair // width]
        t = pair % width
        decoded = None if t == 0 else json.loads(text_values[t - 1])
        cells[k] = _cell(decoded)
        j = index.get(name)
        if j is not None:
            known[k] = True
            where[k] = j
            values[k] = clean(instrument.items[j], decoded)
    keep = known[pair_codes]
    return keep, where[pair_codes], cells[pair_codes], values[pair_codes]


def _frame_from_rows(cases: pd.DataFrame, answer_rows: tuple[tuple, tuple, tuple],
                     instrument: Instrument) -> pd.DataFrame:
    return _frame_from_pieces(cases, [answer_rows], instrument)


def _frame_from_pieces(cases: pd.DataFrame, pieces: Iterable[tuple[tuple, tuple, tuple]],
                       instrument: Instrument) -> pd.DataFrame:
    """The frame of `cases` from their answers given in pieces (each a part of the rows, as
    `_read_answers` returns them): each piece is decoded as it arrives (while the next one is
    read), and the item columns are built once from all of them, as from one piece."""
    base = _base(cases)
    n = len(base)
    index = pd.Index(base["case_id"].to_numpy(dtype=np.int64))
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for case_ids, items, texts in pieces:
        if not len(case_ids) or not n:
            continue
        rows = index.get_indexer(np.asarray(case_ids, dtype=np.int64))
        keep, item_idx, cells, values = _decode(instrument, items, texts)
        del case_ids, items, texts
        keep &= rows >= 0
        parts.append((rows[keep], item_idx[keep], cells[keep], values[keep]))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return _finish(base, _columns(instrument, n, empty, empty, np.empty(0, object), np.empty(0, object)),
                       instrument)
    if len(parts) == 1:
        rows, item_idx, cells, values = parts[0]
    else:
        rows, item_idx, cells, values = (np.concatenate([p[k] for p in parts]) for k in range(4))
    del parts
    return _finish(base, _columns(instrument, n, rows, item_idx, cells, values), instrument)


# ---------------------------------------------------------------- reading ahead
#
# Reading the answers out of the database is about half of building a frame, and the
# database's own part of it (SQLite stepping through pages, PostgreSQL sending rows) runs
# without Python's lock. So the next piece is read by a thread of its own, on a connection of
# its own, while this one decodes the piece before: an export of 100,000 cases and the annex
# use both cores. Only where a second connection sees exactly what the session sees: a
# database file or server (not an in-memory SQLite, which is one per connection), a session
# on an engine (not one bound to a connection whose transaction the test or caller holds),
# and no change of the session's own to the audit waiting for its commit.

READ_AHEAD = True
# Cases per answers query when the whole frame is read (the annex): pieces to decode while
# the next one is read.
PIECE_CASES = 2500


def _reader_engine(session: Session, audit_id: int) -> Any:
    """The engine a reading thread may open its own connection on, or None to read here."""
    from sqlalchemy.engine import Engine

    from audit.dataversion import has_pending

    if not READ_AHEAD:
        return None
    bind = session.get_bind()
    if not isinstance(bind, Engine):
        return None
    url = bind.url
    if url.get_backend_name() == "sqlite" and (url.database in (None, "", ":memory:")
                                               or url.query.get("mode") == "memory"
                                               or str(url.database).startswith("file::memory:")):
        return None  # an in-memory database: another connection would see another (empty) one
    if session.new or session.dirty or session.deleted or has_pending(session, audit_id):
        return None
    if url.get_backend_name() == "sqlite" and session.connection().connection.driver_connection.in_transaction:
        return None  # a write of this session's not yet committed (SQLite begins one only to write)
    return bind


_DONE = object()


def _ahead(reads: Iterator[Any]) -> Iterator[Any]:
    """The items of `reads`, each produced by a worker thread one item ahead of the consumer
    (at most one waiting, so memory is two items). The generator `reads` runs and is closed
    in the worker (its connection opened and closed there); an error in it is raised here; a
    consumer that stops early stops the worker."""
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in reads:
                if not put((True, item)):
                    return
            put((True, _DONE))
        except BaseException as exc:  # handed to the consumer, raised there
            put((False, exc))
        finally:
            reads.close()

    worker = threading.Thread(target=work, name="case-frame-reader", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = box.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        worker.join()


def _on_connection(engine: Any, read: Any, *args: Any) -> Iterator[Any]:
    """`read(conn, *args)`'s items on a connection of its own, opened and closed where this runs."""
    with engine.connect() as conn:
        yield from read(conn, *args)



def _answer_pieces(conn: Any, audit_id: int, statuses: Sequence[str] | None,
                   bounds: Sequence[tuple[int, int]]) -> Iterator[tuple[tuple, tuple, tuple]]:
    for lo, hi in bounds:
        yield _read_answers(conn, audit_id, statuses, lo, hi)


def _chunk_reads(conn: Any, audit_id: int, statuses: Sequence[str] | None,
                 chunk_cases: int) -> Iterator[tuple[pd.DataFrame, tuple[tuple, tuple, tuple]]]:
    """(cases, their answers) for chunks of at most `chunk_cases` cases in case id order; the
    first chunk even when empty."""
    after: int | None = None
    while True:
        cases = _read_cases(conn, audit_id, statuses, after=after, limit=chunk_cases)
        if cases.empty and after is not None:
            return
        lo = int(cases["case_id"].iloc[0]) if len(cases) else None
        hi = int(cases["case_id"].iloc[-1]) if len(cases) else None
        rows = _read_answers(conn, audit_id, statuses, lo, hi) if len(cases) else ((), (), ())
        yield cases, rows
        if len(cases) < chunk_cases:
            return
        after = hi


def _read_frame(session: Session, audit: Audit, statuses: Sequence[str] | None, inst: Instrument) -> pd.DataFrame:
    """The whole case frame from the database: the cases in one query, their answers in
    pieces of PIECE_CASES cases, read ahead when a second connection may (`_reader_engine`)."""
    conn = session.connection()
    cases = _read_cases(conn, audit.id, statuses)
    ids = cases["case_id"].to_numpy(dtype=np.int64)
    engine = _reader_engine(session, audit.id)
    if engine is None or len(ids) <= PIECE_CASES:
        return _frame_from_rows(cases, _read_answers(conn, audit.id, statuses), inst)
    bounds = [(int(ids[k]), int(ids[min(k + PIECE_CASES, len(ids)) - 1])) for k in range(0, len(ids), PIECE_CASES)]
    pieces = _ahead(_on_connection(engine, _answer_pieces, audit.id, statuses, bounds))
    try:
        return _frame_from_pieces(cases, pieces, inst)
    finally:
        pieces.close()  # an error while decoding stops the reader now, not when the traceback is freed


def _resolve(session: Session, audit: Audit | str | int) -> Audit:
    if isinstance(audit, (str, int)):
        from audit.audits import get_audit

        return get_audit(session, audit)
    return audit


def _for_audit(frame: pd.DataFrame, audit: Audit) -> pd.DataFrame:
    """The frame as the audit's tables read it: the audit's own seniority bands, in order, for
    every table by band (they may not be the default ones), and the report's derived
    variables (Table 4's profile) beside the items."""
    from audit.sampling.bands import audit_band_labels

    from audit.statistics.derived import apply_derived

    frame.attrs["orders"] = FrozenDict({**frame.attrs["orders"], "seniority_band": tuple(audit_band_labels(audit))})
    if "_register_json" in frame.columns:  # register variables beside the items, so an item can be crossed
        from audit.population.snapshots import register_columns

        raw = frame.pop("_register_json").tolist()
        frame = register_columns(frame, raw, audit)
    return apply_derived(V.with_derived(frame))


_CACHE: OrderedDict[tuple[Any, ...], pd.DataFrame] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def _cache_key(session: Session, audit: Audit, statuses: Sequence[str] | None,
               inst: Instrument) -> tuple[Any, ...] | None:
    """None when this session has uncommitted changes to the audit (read fresh, do not keep)."""
    from audit.dataversion import data_version, has_pending

    if has_pending(session, audit.id):
        return None
    bind = session.get_bind()
    return (bind.url.render_as_string(hide_password=True), audit.id, data_version(session, audit.id),
            None if statuses is None else tuple(statuses), inst.version, audit.bands_json)


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def load_case_frame(session: Session, audit: Audit | str, statuses: Sequence[str] | None = REPORT_STATUSES,
                    instrument: Instrument | None = None) -> pd.DataFrame:
    """The case frame of an audit (an Audit row or its name) from the database.

    Takes the active cases (a replaced case and an unused reserve are inactive; a reserve
    that replaced a case is active and counts), with status in `statuses` (None: all),
    their register data, and the first-pass answers (pass 2 is quality assurance only).
    Two queries (cases, answers), whatever the size; the frame is cached until the
    audit's data version changes, and each caller gets its own copy."""
    audit = _resolve(session, audit)
    inst = instrument if instrument is not None else instrument_for(audit)
    session.flush()  # the caller's own pending changes are part of what it reads
    key = _cache_key(session, audit, statuses, inst)
    if key is not None:
        with _CACHE_LOCK:
            cached = _CACHE.get(key)
            if cached is not None:
                _CACHE.move_to_end(key)
        if cached is not None:
            return cached.copy(deep=False)
    frame = _for_audit(_read_frame(session, audit, statuses, inst), audit)
    if key is not None and frame.size <= CACHE_CELLS:
        with _CACHE_LOCK:
            _CACHE[key] = frame
            while len(_CACHE) > CACHE_FRAMES:
                _CACHE.popitem(last=False)
        return frame.copy(deep=False)
    return frame


def cached_case_frame(session: Session, audit: Audit | str, statuses: Sequence[str] | None = REPORT_STATUSES,
                      instrument: Instrument | None = None) -> pd.DataFrame | None:
    """The cached frame when there is one for the audit's current data version, else None."""
    audit = _resolve(session, audit)
    inst = instrument if instrument is not None else instrument_for(audit)
    session.flush()
    key = _cache_key(session, audit, statuses, inst)
    if key is None:
        return None
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    return None if cached is None else cached.copy(deep=False)


def iter_case_frames(session: Session, audit: Audit | str, statuses: Sequence[str] | None = REPORT_STATUSES,
                     instrument: Instrument | None = None, chunk_cases: int = CHUNK_CASES
                     ) -> Iterator[pd.DataFrame]:
    """The case frame in chunks of at most `chunk_cases` cases, in case id order: slices of the
    cached frame when there is one, else two queries per chunk (cases after the last one
    seen, their answers; the next chunk read ahead while this one is built, `_ahead`), so
    memory depends on the chunk, not on the audit."""
    audit = _resolve(session, audit)
    inst = instrument if instrument is not None else instrument_for(audit)
    cached = cached_case_frame(session, audit, statuses, inst)
    if cached is None and count_cases(session, audit, statuses) <= chunk_cases:
        cached = load_case_frame(session, audit, statuses, inst)  # one chunk: read it the cached way
    if cached is not None:
        for lo in range(0, len(cached), chunk_cases):
            yield cached.iloc[lo:lo + chunk_cases].reset_index(drop=True)
        if not len(cached):
            yield cached
        return
    engine = _reader_engine(session, audit.id)
    reads = (_chunk_reads(session.connection(), audit.id, statuses, chunk_cases) if engine is None
             else _ahead(_on_connection(engine, _chunk_reads, audit.id, statuses, chunk_cases)))
    try:
        for cases, rows in reads:
            yield _for_audit(_frame_from_rows(cases, rows, inst), audit)
    finally:
        reads.close()  # a consumer that stops or fails (a client gone mid-download) stops the reader


def empty_case_frame(audit: Audit, instrument: Instrument) -> pd.DataFrame:
    """A frame with the case frame's columns and attrs and no rows (for a codebook)."""
    cases = pd.DataFrame({c: pd.Series([], dtype=object) for c in CASE_COLUMNS})
    return _for_audit(case_frame(cases, {}, instrument), audit)


def count_cases(session: Session, audit: Audit | str, statuses: Sequence[str] | None = REPORT_STATUSES) -> int:
    """How many cases the frame of the audit has (one COUNT query)."""
    from sqlalchemy import func, select

    from audit.models import Case

    audit = _resolve(session, audit)
    return int(session.connection().execute(
        select(func.count()).select_from(Case.__table__).where(*_filters(audit.id, statuses))).scalar() or 0)


def case_ids(session: Session, audit: Audit | str, statuses: Sequence[str] | None = REPORT_STATUSES) -> list[int]:
    """The ids of the cases the frame of the audit has, in id order (one query, no answers):
    who an export is about, for the access log before the file is written."""
    from sqlalchemy import select

    from audit.models import Case

    audit = _resolve(session, audit)
    c = Case.__table__.c
    return [int(r[0]) for r in session.connection().execute(
        select(c.id).where(*_filters(audit.id, statuses)).order_by(c.id))]


# ---------------------------------------------------------------- the municipality frame (theme 7)

# Theme 7 (management information and supervision) is answered once per municipality. Its
# frame has one row per municipality whose theme-7 form is completed; a municipality recorded
# as not answering (MUNICIPALITY_NOT_ANSWERED) is no row of it, so N = the municipalities that
# answered (the report's "N=22 kommuner" of 25), and the frame's attrs name who did not answer.
MUNICIPALITY_COLUMNS = ("municipality_review_id", "municipality")
MUNICIPALITY_ANSWERED = ("completed",)
MUNICIPALITY_NOT_ANSWERED = "not_answered"
FRAMES = ("case", "municipality")


def municipality_frame(reviews: pd.DataFrame, answers: Mapping[int, Mapping[str, Any]],
                       instrument: Instrument, *, not_answered: Sequence[str] = (),
                       municipalities: int | None = None) -> pd.DataFrame:
    """One row per municipality review in `reviews` (columns municipality_review_id,
    municipality), one column per theme-7 item, the skip logic applied as in the case frame.
    attrs: as the case frame's, plus 'unit' ('municipality'), 'not_answered' (the municipalities
    recorded as not answering) and 'municipalities' (how many the audit has)."""
    missing = [c for c in MUNICIPALITY_COLUMNS if c not in reviews.columns]
    if missing:
        raise ValueError(f"reviews lacks column(s): {', '.join(missing)}")
    base = reviews.loc[:, list(MUNICIPALITY_COLUMNS)].reset_index(drop=True).copy()
    cols = _columns(instrument, len(base), *_answer_arrays(instrument, base["municipality_review_id"].tolist(),
                                                           answers, level="municipality"), level="municipality")
    frame = _finish(base, cols, instrument, level="municipality")
    frame.attrs["unit"] = "municipality"
    frame.attrs["not_answered"] = tuple(sorted(not_answered))
    frame.attrs["municipalities"] = municipalities if municipalities is not None else len(base) + len(not_answered)
    from audit.statistics.derived import apply_derived  # the variables of theme-7 items (Figures 66-68)

    return apply_derived(frame)


def load_municipality_frame(session: Session, audit: Audit | str,
                            instrument: Instrument | None = None) -> pd.DataFrame:
    """The theme-7 frame of an audit from the database: the completed municipality reviews and
    their first-pass answers; the municipalities of the audit (its cases' and its reviews')
    count in attrs['municipalities'], those recorded as not answering in attrs['not_answered']."""
    from sqlalchemy import select

    from audit.models import Answer, Case, MunicipalityReview

    audit = _resolve(session, audit)
    inst = instrument if instrument is not None else instrument_for(audit)
    session.flush()
    conn = session.connection()
    r = MunicipalityReview.__table__.c
    reviews = [tuple(x) for x in conn.execute(
        select(r.id, r.municipality, r.status).where(r.audit_id == audit.id).order_by(r.municipality))]
    answered = pd.DataFrame.from_records([(i, m) for i, m, s in reviews if s in MUNICIPALITY_ANSWERED],
                                         columns=list(MUNICIPALITY_COLUMNS))
    not_answered = [m for _, m, s in reviews if s == MUNICIPALITY_NOT_ANSWERED]
    c = Case.__table__.c
    names = {m for _, m, _ in reviews} | {row[0] for row in conn.execute(
        select(c.municipality).where(c.audit_id == audit.id).distinct())}
    a = Answer.__table__.c
    ids = answered["municipality_review_id"].tolist()
    answers: dict[int, dict[str, Any]] = {}
    if ids:
        for rid, item, text in conn.execute(select(a.municipality_review_id, a.item, a.value_json)
                                            .where(a.pass_no == 1, a.municipality_review_id.in_(ids))):
            answers.setdefault(int(rid), {})[item] = None if text is None else json.loads(text)
    return municipality_frame(answered, answers, inst, not_answered=not_answered, municipalities=len(names))


def load_frame(session: Session, audit: Audit | str, frame: str = "case", **kwargs: Any) -> pd.DataFrame:
    """The frame named `frame`: 'case' (one row per reviewed case) or 'municipality' (theme 7)."""
    if frame == "municipality":
        return load_municipality_frame(session, audit, instrument=kwargs.get("instrument"))
    if frame == "case":
        return load_case_frame(session, audit, **kwargs)
    raise ValueError(f"unknown frame {frame!r}: use one of {', '.join(FRAMES)}")


def frame_of_item(instrument: Instrument, name: str) -> str | None:
    """'municipality' for a theme-7 item, 'case' for a case item, None for other names."""
    item = instrument.find(name)
    return None if item is None else item.level
