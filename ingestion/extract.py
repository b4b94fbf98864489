"""Incremental extraction of the shop database (schema ``shop``) into raw batches, one per table and run.

Per table, in one REPEATABLE READ snapshot of the source (all tables of a run see the same instant):

1. the cursor ``(seq, updated_at, key)`` of the last landed batch is read from ``raw._extract_cursor_log``
   (appended; the view ``raw._extract_cursors`` shows each table's latest);
2. the end of this batch is the table's greatest ``(updated_at, key)`` (a backward scan of the index);
3. hard deletes (tables without ``deleted_at``, every N-th run: ``SHOP_EXTRACT_KEY_CHECK_EVERY``): every key
   of the source is streamed (Arrow, to a Parquet file in the raw zone's staging area) and Spark computes
   the keys alive in ``raw.shop_<table>`` that the source no longer has; they become tombstones;
4. the rows with ``(updated_at, key) > cursor`` and ``<= end`` stream through ADBC (binary COPY decoded to
   Arrow record batches in C), every value cast to text in Arrow, plus ``_op`` (``delete`` when the table's
   ``deleted_at`` is set, else ``upsert``) and ``_cursor`` (the row's ``updated_at``), then the tombstones;
5. the batches land through :class:`ingestion.land.Lander` (the manifest, restating, lineage, ``_extra`` for
   columns the contract does not know, as for files). The batch id ``shop_<table>__<seq>__<cursor start>``
   depends only on the cursor, so a run that crashed after landing and before step 6 re-extracts under the
   same id and the manifest replaces the batch;
6. the cursors of the batches registered as succeeded move to their end: appended to the log with the
   manifest rows, they count only once those are in (below).

The Spark statements (round trips and Iceberg commits, little CPU) overlap the rest on two more
Thrift connections (:class:`Aside`): the tables are checked while the cursors are read, the manifest rows of
the batch ids are read and the new batches' partitions added while the rows stream, then the manifest rows,
the history rows and the cursor rows are appended at once (three commits in parallel). A cursor row counts
only once the manifest holds its batch as succeeded (:func:`read_cursors`): whichever commit a crash
interrupts, the cursor has not moved past a batch that is not registered.

The lake's current state of a table: the last row per key in batch id order (the sequence number leads the
batch id), then ``_row_number``; rows whose ``_op`` is ``delete`` are gone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from ingestion import catalog, manifest
from ingestion.conform import constant
from ingestion.contract import CURSOR_COLUMN, DELETE, OP_COLUMN, SHOP_TABLES, UPSERT, ShopTable
from ingestion.land import BatchInput, Lander, LandReport, Outcome
from ingestion.manifest import SUCCEEDED, BatchRecord
from ingestion.rawzone import RawZone, default_raw_uri
from lakehouse.platform.errors import LakehouseError, first_line
from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL, literal

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA = "shop"
CURSORS = "_extract_cursors"  # a view: each table's latest cursor
CURSOR_LOG = "_extract_cursor_log"  # appended: a table's cursor after each landed batch
COMPACT_EVERY = 100  # batches of a table between two rewrites of the cursor log
ROW_NUMBER = "_row_number"
KEY_CHECK_VARIABLE = "SHOP_EXTRACT_KEY_CHECK_EVERY"
LANES = 2  # Thrift connections besides the main one (Aside)
PREFETCH = 4  # record batches decoded ahead of the writer (the driver's batches are ~16 MB)
# Text of a timestamp in the raw contract and in cursors: UTC, microseconds, fixed width (sorts as text).
_ISO_SQL = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
# The snapshot every query of a run shares, and UTC for any text the server renders.
_SESSION_OPTIONS = "-c default_transaction_isolation=repeatable\\ read -c timezone=UTC"


# ---------------------------------------------------------------------------------------------- cursors
@dataclass
class Cursor:
    """Where a table's extraction stands: the last landed batch and the greatest (updated_at, key) in it."""

    table_name: str
    seq: int = 0  # batches landed so far
    updated_at: str | None = None  # ISO text (UTC, microseconds); None before the first batch
    key_values: str | None = None  # JSON list of the key columns' values as text
    batch_id: str | None = None
    rows: int = 0
    deletes: int = 0
    key_checked_seq: int = 0  # the seq of the last batch that compared keys
    extracted_at: datetime | None = None

    @property
    def key(self) -> list[str] | None:
        return json.loads(self.key_values) if self.key_values else None

    def compact(self) -> str:
        """The cursor's position in a batch id: ``20260102T030405.123456Z``, or ``start``."""
        if self.updated_at is None:
            return "start"
        return self.updated_at.replace("-", "").replace(":", "")


CURSOR_TYPES = {
    "table_name": "string",
    "seq": "bigint",
    "updated_at": "string",
    "key_values": "string",
    "batch_id": "string",
    "rows": "bigint",
    "deletes": "bigint",
    "key_checked_seq": "bigint",
    "extracted_at": "timestamp",
}


def _cursor_columns() -> str:
    return ", ".join(CURSOR_TYPES)


def ensure_cursor_table(
    spark: SparkSQL, schema: str = "raw", existing: set[str] | None = None, check_view: bool = True
) -> None:
    """The cursor log (appended, one row per landed batch) and the view of each table's latest cursor.
    ``existing``: the names ``show tables`` gave (when the caller just asked). A lake whose cursors are in
    a table ``_extract_cursors`` (merged in place, before the log) has them copied into the log.
    ``check_view=False``: the caller checks the view later (:func:`ensure_cursor_view`)."""
    if existing is None:
        existing = {row[1] for row in spark.query(f"show tables in {schema}")}
    if CURSOR_LOG in existing and CURSORS in existing:
        if check_view:
            ensure_cursor_view(spark, schema)
        return
    cols = _cursor_columns()
    if CURSOR_LOG not in existing:
        typed = ", ".join(f"{n} {t}" for n, t in CURSOR_TYPES.items())
        if CURSORS in existing:  # the cursor table of the first version: its rows start the log
            views = {row[1] for row in spark.query(f"show views in {schema}")}
            if CURSORS not in views:
                old = f"{schema}.{CURSORS}"
                spark.execute(f"create table {schema}.{CURSOR_LOG} using iceberg as select {cols} from {old}")
                spark.execute(f"drop table {schema}.{CURSORS}")
                existing = existing - {CURSORS}
        if CURSOR_LOG not in existing:
            spark.execute(f"create table if not exists {schema}.{CURSOR_LOG} ({typed}) using iceberg")
    if CURSORS not in existing:
        _create_cursor_view(spark, schema)


def _create_cursor_view(spark: SparkSQL, schema: str) -> None:
    spark.execute(f"create view if not exists {schema}.{CURSORS} as {_latest_cursors_sql(schema)}")


def ensure_cursor_view(spark: SparkSQL, schema: str = "raw") -> None:
    """The latest-cursor view of an earlier version counted cursors whose batch was never registered: made
    again (dropped first: `create or replace view` keeps serving the old text on this catalog). The view is
    for people and SQL; :func:`read_cursors` does not read it, so an extraction checks it off its path."""
    if _view_counts_registered_only(spark, schema):
        return
    spark.execute(f"drop view if exists {schema}.{CURSORS}")
    _create_cursor_view(spark, schema)


def _view_counts_registered_only(spark: SparkSQL, schema: str) -> bool:
    """Whether the latest-cursor view joins the manifest (:func:`_registered_cursors_sql`): views made
    before cursors counted only once their batch was registered do not."""
    text = " ".join(str(row[0]) for row in spark.query(f"show create table {schema}.{CURSORS}"))
    return "left semi join" in text.lower() and manifest.TABLE in text


def _registered_cursors_sql(schema: str) -> str:
    """The cursor log's rows whose batch the manifest holds as succeeded: a cursor row is written at the same
    time as its batch's manifest row (two commits in parallel), and counts only once that row is there."""
    cols = ", ".join(f"c.{n}" for n in CURSOR_TYPES)
    return (
        f"select {cols} from {schema}.{CURSOR_LOG} c left semi join {schema}.{manifest.TABLE} b "
        f"on b.batch_id = c.batch_id and b.status = '{SUCCEEDED}'"
    )


def _latest_cursors_sql(schema: str) -> str:
    cols = _cursor_columns()
    return (
        f"select {cols} from (select {cols}, row_number() over (partition by table_name "
        f"order by seq desc, extracted_at desc) as _rn "
        f"from ({_registered_cursors_sql(schema)})) where _rn = 1"
    )


def read_cursors(spark: SparkSQL, schema: str = "raw") -> dict[str, Cursor]:
    """Each table's latest cursor: the row of the greatest ``seq`` among the log's rows whose batch is
    registered (:func:`_registered_cursors_sql`), picked here (the view's window needs a shuffle, about
    three times the latency)."""
    names = list(CURSOR_TYPES)
    latest: dict[str, Cursor] = {}
    for row in spark.query(_registered_cursors_sql(schema)):
        c = Cursor(**dict(zip(names, row, strict=True)))
        have = latest.get(c.table_name)
        if have is None or (c.seq, str(c.extracted_at or "")) > (have.seq, str(have.extracted_at or "")):
            latest[c.table_name] = c
    return latest


def save_cursors(spark: SparkSQL, cursors: list[Cursor], schema: str = "raw", compact: bool = True) -> None:
    """Append ``cursors`` to the cursor log: one Iceberg commit for the run (an append: a merge keyed by
    table cost three to four times as much over Thrift). Every ``COMPACT_EVERY`` batches of a table the
    log is rewritten to the latest row per table (one atomic overwrite), so reading it stays small;
    ``compact=False``: the caller compacts (:func:`compaction_due`) once the manifest rows are in."""
    if not cursors:
        return
    names = [f.name for f in fields(Cursor)]
    rows = ", ".join(
        "(" + ", ".join(literal(getattr(c, n), CURSOR_TYPES[n]) for n in names) + ")" for c in cursors
    )
    spark.execute(f"insert into {schema}.{CURSOR_LOG} ({', '.join(names)}) values {rows}")
    if compact and compaction_due(cursors):
        compact_cursor_log(spark, schema)


def compaction_due(cursors: list[Cursor]) -> bool:
    return any(c.seq % COMPACT_EVERY == 0 for c in cursors)


def compact_cursor_log(spark: SparkSQL, schema: str = "raw") -> None:
    """Keep only each table's latest cursor in the log (an overwrite: one atomic Iceberg commit)."""
    spark.execute(f"insert overwrite table {schema}.{CURSOR_LOG} {_latest_cursors_sql(schema)}")


# ---------------------------------------------------------------------------------------------- source
def _with_session_options(url: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["options"] = f"{query['options']} {_SESSION_OPTIONS}" if "options" in query else _SESSION_OPTIONS
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def public_url(url: str) -> str:
    """``postgresql://host[:port]/db``: the source's address without credentials (for lineage)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"postgresql://{host}{port}{parts.path}"


@contextmanager
def open_source(url: str) -> Iterator[Any]:
    """An ADBC connection to the source: one REPEATABLE READ transaction (rolled back at the end: it only
    reads), UTC."""
    import adbc_driver_postgresql.dbapi as adbc

    try:
        conn = adbc.connect(_with_session_options(url), autocommit=False)
    except Exception as exc:
        log.error("source connection failed", exc_info=True)
        raise LakehouseError(f"cannot connect to the shop database: {first_line(str(exc))}") from exc
    try:
        yield conn
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()


def _rows(conn: Any, sql: str) -> list[tuple]:
    log.debug("source sql: %s", sql)
    with conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def _batches(conn: Any, sql: str, prefetch: int = PREFETCH) -> Iterator[pa.RecordBatch]:
    """The rows of ``sql`` as record batches. A thread decodes the next batches (the driver's C code, without
    the GIL) while the caller converts and writes the current one; at most ``prefetch`` wait in memory."""
    log.info("source sql: %s", sql)
    done = object()
    ready: queue.Queue[Any] = queue.Queue(maxsize=prefetch)
    stop = threading.Event()

    def produce(reader: Any) -> None:
        try:
            for batch in reader:
                while not stop.is_set():
                    try:
                        ready.put(batch, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            ready.put(exc)

    with conn.cursor() as cur:
        cur.execute(sql)
        worker = threading.Thread(target=produce, args=(cur.fetch_record_batch(),), daemon=True)
        worker.start()
        try:
            while (item := ready.get()) is not done:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            worker.join()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def source_columns(conn: Any, table: str) -> dict[str, str]:
    """Columns of ``shop.<table>`` in order, with their types (``format_type``)."""
    rows = _rows(
        conn,
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
        "join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace "
        f"where n.nspname = {_quote(SCHEMA)} and c.relname = {_quote(table)} "
        "and a.attnum > 0 and not a.attisdropped order by a.attnum",
    )
    if not rows:
        raise LakehouseError(f"the shop database has no table {SCHEMA}.{table}")
    return {name: typ for name, typ in rows}


# ---------------------------------------------------------------------------------------------- arrow
def _timestamp_text(values: pa.Array, utc: bool) -> pa.Array:
    # The cast of a zone-less timestamp: 'YYYY-MM-DD HH:MM:SS.ffffff' (a zoned one's cast, or strftime, is
    # ~30x slower: they go through the zone database), its ASCII bytes spliced ('T', then 'Z' when zoned:
    # zoned values are UTC instants). 1M values: 0.08 s.
    text = pc.binary_replace_slice(values.cast(pa.timestamp("us")).cast(pa.string()), 10, 11, "T")
    return pc.binary_join_element_wise(text, pa.scalar("Z"), "") if utc else text


def as_text(values: pa.Array) -> pa.Array:
    """``values`` as strings: timestamps ISO (``...T...Z`` when zoned, stored UTC), everything else Arrow's
    cast (the query reads other types as PostgreSQL's text already: :func:`select_list`)."""
    t = values.type
    if pa.types.is_string(t):
        return values
    if pa.types.is_timestamp(t):
        return _timestamp_text(values, utc=t.tz is not None)
    try:
        return values.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # rare types (bytea, arrays): Python's str
        return pa.array([None if v is None else str(v) for v in values.to_pylist()], pa.string())


def raw_chunk(batch: pa.RecordBatch, soft_delete: bool) -> pa.RecordBatch:
    """A source batch in the raw contract: every column as text, plus ``_op`` and ``_cursor``."""
    arrays = [as_text(c) for c in batch.columns]
    names = list(batch.schema.names)
    n = batch.num_rows
    cursor = arrays[names.index("updated_at")]
    if soft_delete:
        op = pc.if_else(pc.is_null(batch.column("deleted_at")), pa.scalar(UPSERT), pa.scalar(DELETE))
    else:
        op = constant(UPSERT, pa.string(), n)
    return pa.RecordBatch.from_arrays([*arrays, op, cursor], names=[*names, OP_COLUMN, CURSOR_COLUMN])


def tombstones(table: ShopTable, keys: pa.Table, cursor: str) -> Iterator[pa.RecordBatch]:
    """Rows that delete ``keys`` (key columns as text): key columns, ``_op``, ``_cursor`` only."""
    for batch in keys.to_batches():
        n = batch.num_rows
        yield pa.RecordBatch.from_arrays(
            [*batch.columns, constant(DELETE, pa.string(), n), constant(cursor, pa.string(), n)],
            names=[*table.key, OP_COLUMN, CURSOR_COLUMN],
        )


# ---------------------------------------------------------------------------------------------- deletes
def lake_alive_keys(zone: RawZone, table: ShopTable, batches: list[BatchRecord]) -> pa.Table:
    """The keys whose latest row in ``batches`` (landed batches of ``table``: their Parquet files in the raw
    zone, in batch id order, then ``_row_number``) is not a delete."""
    key_schema = pa.schema([pa.field(k, pa.string()) for k in table.key])
    parts = []
    for i, record in enumerate(sorted(batches, key=lambda r: r.batch_id)):
        path = zone.partition_path(table.source, record.ingest_date, record.batch_id)
        if not zone.exists(path):  # as Spark reads a partition whose folder is gone: no rows
            log.warning("batch %s has no folder %s: no keys from it", record.batch_id, path)
            continue
        data = ds.dataset(path, filesystem=zone.fs, format="parquet")
        part = data.to_table(columns=[*table.key, OP_COLUMN, ROW_NUMBER])
        # a row's place (batch, then row number) times two, plus one for a delete: the greatest per key is
        # its latest row, odd when that row deletes it (a hash aggregation, no sort)
        order = pc.add(part.column(ROW_NUMBER), pa.scalar(i << 40, pa.int64()))
        deletes = pc.cast(pc.equal(part.column(OP_COLUMN), pa.scalar(DELETE)), pa.int64())
        rank = pc.add(pc.multiply(order, pa.scalar(2, pa.int64())), deletes)
        parts.append(part.select(list(table.key)).append_column("_rank", rank))
    if not parts:
        return key_schema.empty_table()
    latest = pa.concat_tables(parts).group_by(list(table.key)).aggregate([("_rank", "max")])
    rank = latest.column("_rank_max")
    alive = latest.filter(pc.equal(pc.bit_wise_and(rank, pa.scalar(1, pa.int64())), pa.scalar(0, pa.int64())))
    return alive.select(list(table.key)).cast(key_schema)


def source_keys(conn: Any, table: ShopTable, types: dict[str, str]) -> pa.Table:
    """Every key of the source table, as text (in the run's snapshot)."""
    key_schema = pa.schema([pa.field(k, pa.string()) for k in table.key])
    sql = f"select {select_list({k: types[k] for k in table.key})} from {SCHEMA}.{_ident(table.name)}"
    chunks = [
        pa.RecordBatch.from_arrays([as_text(c) for c in b.columns], schema=key_schema)
        for b in _batches(conn, sql)
    ]
    return pa.Table.from_batches(chunks, schema=key_schema)


def deleted_keys(
    zone: RawZone, conn: Any, table: ShopTable, types: dict[str, str], batches: list[BatchRecord]
) -> pa.Table:
    """Keys alive in the lake's ``batches`` of the table (the landed ones, without the batch a re-run
    replaces) that the source no longer has: an anti-join in Arrow of the source's keys (streamed) and the
    keys read from the batches' Parquet files (no Spark job: a window over the raw table and an anti-join
    took 13-17 s over Thrift for 1M keys). Memory: both key sets (~40 MB per million keys)."""
    alive = lake_alive_keys(zone, table, batches)
    if alive.num_rows == 0:
        return alive
    return alive.join(source_keys(conn, table, types), list(table.key), join_type="left anti")


# ---------------------------------------------------------------------------------------------- plan
@dataclass
class TablePlan:
    """One table's part of a run: its batch (None when nothing changed) and the cursor after it."""

    table: ShopTable
    start: Cursor
    end: Cursor
    deletes: int = 0
    input: BatchInput | None = None
    rows: int = 0
    seconds: float = 0.0

    @property
    def batch_id(self) -> str | None:
        return self.input.batch_id if self.input else None


def batch_id_for(table: ShopTable, start: Cursor) -> str:
    return f"{table.source}__{start.seq + 1:06d}__{start.compact()}"


def _position_sql(table: ShopTable, types: dict[str, str], ts: str, key: list[str]) -> tuple[str, str]:
    cols = ", ".join(_ident(c) for c in ("updated_at", *table.key))
    keys = [f"{_quote(v)}::{types[k]}" for k, v in zip(table.key, key, strict=True)]
    vals = [f"{_quote(ts)}::timestamptz", *keys]
    return f"({cols})", f"({', '.join(vals)})"


def end_position(
    conn: Any, table: ShopTable, types: dict[str, str], start: Cursor
) -> tuple[str, list[str]] | None:
    """The greatest (updated_at, key) beyond ``start`` (a backward scan of the index), None if no row is."""
    order = ", ".join(f"{_ident(c)} desc" for c in ("updated_at", *table.key))
    keys = ", ".join(f"{_ident(k)}::text" for k in table.key)
    where = ""
    if start.updated_at is not None and start.key is not None:
        row, lower = _position_sql(table, types, start.updated_at, start.key)
        where = f"where {row} > {lower} "
    rows = _rows(
        conn,
        f"select to_char(updated_at at time zone 'UTC', '{_ISO_SQL}'), {keys} "
        f"from {SCHEMA}.{_ident(table.name)} {where}order by {order} limit 1",
    )
    return (rows[0][0], list(rows[0][1:])) if rows else None


# Types read in their binary form and made text in Arrow (decoded in C, cheap to cast); every other type is
# made text by the server (``::text``, PostgreSQL's own text): the driver's numeric decoding, for one, cost
# more than the whole read (1M order_items: 2.5 s with numeric, 1.3 s with ``numeric::text``).
_NATIVE = re.compile(
    r"^(text|character varying|character|smallint|integer|bigint|boolean|date|timestamp)\b(\(\d+\))?"
    r"( with(out)? time zone)?$"
)


def select_list(types: dict[str, str]) -> str:
    """The columns of ``types`` for the query: native where Arrow makes the text, else ``::text``."""
    return ", ".join(
        _ident(c) if _NATIVE.match(t) else f"{_ident(c)}::text as {_ident(c)}" for c, t in types.items()
    )


def changed_rows_sql(table: ShopTable, types: dict[str, str], start: Cursor, end: Cursor) -> str:
    cols = select_list(types)
    order = ", ".join(_ident(c) for c in ("updated_at", *table.key))
    assert end.updated_at is not None and end.key is not None
    row, upper = _position_sql(table, types, end.updated_at, end.key)
    where = f"{row} <= {upper}"
    if start.updated_at is not None and start.key is not None:
        where = f"{row} > {_position_sql(table, types, start.updated_at, start.key)[1]} and {where}"
    return f"select {cols} from {SCHEMA}.{_ident(table.name)} where {where} order by {order}"


def key_check_due(start: Cursor, every: int) -> bool:
    """Compare keys on this run? Not before anything landed, never when ``every`` is 0."""
    return start.seq > 0 and every > 0 and start.seq + 1 - start.key_checked_seq >= every


def plan_table(
    zone: RawZone,
    conn: Any,
    url: str,
    table: ShopTable,
    start: Cursor,
    key_check_every: int,
    batches: list[BatchRecord],
) -> TablePlan:
    """``batches``: the manifest (read when a key comparison is due, else empty)."""
    types = source_columns(conn, table.name)
    missing = [c for c in ("updated_at", *table.key) if c not in types]
    if missing:
        raise LakehouseError(f"{SCHEMA}.{table.name} lacks column(s) {', '.join(missing)}")
    batch_id = batch_id_for(table, start)
    position = end_position(conn, table, types, start)
    end = Cursor(**{f.name: getattr(start, f.name) for f in fields(Cursor)})
    has_rows = position is not None
    if position is not None:
        end.updated_at, end.key_values = position[0], json.dumps(position[1])
    gone = pa.table({k: pa.array([], pa.string()) for k in table.key})
    checked = not table.soft_delete and key_check_due(start, key_check_every)
    if checked:
        landed = [
            r
            for r in batches
            if r.source == table.source and r.status == SUCCEEDED and r.batch_id != batch_id
        ]
        gone = deleted_keys(zone, conn, table, types, landed)
    plan = TablePlan(table, start, end, deletes=gone.num_rows)
    if not has_rows and gone.num_rows == 0:  # nothing to land: no batch, the cursor stays
        return plan
    end.seq = start.seq + 1
    end.batch_id = batch_id
    end.deletes = gone.num_rows
    end.extracted_at = datetime.now(UTC)
    if checked:
        end.key_checked_seq = end.seq
    to = end.updated_at or start.updated_at or ""
    file = f"{public_url(url)}/{SCHEMA}.{table.name}?from={start.updated_at or ''}&to={to}"
    digest = hashlib.sha256(
        f"{file}|{start.key_values}|{end.key_values}|{gone.num_rows}".encode()
    ).hexdigest()
    sql = changed_rows_sql(table, types, start, end) if has_rows else None
    plan.input = BatchInput(
        source=table.source,
        batch_id=batch_id,
        file=file,
        checksum=digest,
        chunks=partial(_chunks, plan, conn, sql, gone, to),
        allow_empty=True,
    )
    return plan


def _chunks(
    plan: TablePlan, conn: Any, sql: str | None, gone: pa.Table, cursor: str
) -> Iterator[pa.RecordBatch]:
    started = time.perf_counter()
    plan.rows = 0
    if sql is not None:
        for batch in _batches(conn, sql):
            plan.rows += batch.num_rows
            yield raw_chunk(batch, plan.table.soft_delete)
    yield from tombstones(plan.table, gone, cursor)
    plan.end.rows = plan.rows
    plan.seconds = time.perf_counter() - started


# ---------------------------------------------------------------------------------------------- run
@dataclass
class TableResult:
    table: str
    status: str  # succeeded | failed | unchanged
    rows: int = 0
    deletes: int = 0
    batch_id: str | None = None
    cursor: str | None = None
    error: str | None = None
    seconds: float = 0.0  # streaming the batch: source -> Arrow -> Parquet in the staging area

    def line(self) -> str:
        where = self.cursor or "-"
        detail = f" ({self.batch_id})" if self.batch_id else ""
        error = f": {self.error}" if self.error else ""
        return (
            f"{self.table}: {self.status}, {self.rows:,} rows, {self.deletes:,} deletes, "
            f"cursor {where}{detail}{error}"
        )


@dataclass
class ExtractReport:
    results: list[TableResult] = field(default_factory=list)
    land: LandReport | None = None

    @property
    def failed(self) -> list[TableResult]:
        return [r for r in self.results if r.status == "failed"]


def tables_of(names: list[str] | None) -> list[ShopTable]:
    if not names:
        return list(SHOP_TABLES.values())
    unknown = [n for n in names if n not in SHOP_TABLES]
    if unknown:
        raise LakehouseError(f"unknown shop table(s) {', '.join(unknown)}: expected {', '.join(SHOP_TABLES)}")
    return [SHOP_TABLES[n] for n in names]


class Aside:
    """More Thrift connections, a thread each (``lanes``): the run's bookkeeping statements (creating tables,
    reading the manifest, adding partitions, the history, the cursors) run on them, in order per lane, while
    the main connection or the source works. Statements cost round trips and Iceberg commits, hardly any
    CPU: several at a time shorten the wait."""

    def __init__(self, settings: Settings, lanes: int = LANES) -> None:
        self._lanes = [
            (SparkSQL(settings), ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"extract-aside-{i}"))
            for i in range(lanes)
        ]

    def submit(self, fn: Callable[..., T], *args: Any, lane: int = 0) -> Future[T]:
        sql, pool = self._lanes[lane]
        return pool.submit(fn, sql, *args)

    def close(self) -> None:
        try:
            for _, pool in self._lanes:
                pool.shutdown(wait=True)
        finally:
            for sql, _ in self._lanes:
                sql.close()

    def __enter__(self) -> Aside:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ensure(spark: SparkSQL, zone: RawZone, schema: str, sources: set[str]) -> None:
    existing = catalog.ensure_tables(spark, zone, schema, sources)
    ensure_cursor_table(spark, schema, existing, check_view=False)


def _read_cursors(spark: SparkSQL, schema: str, ensured: Future[None]) -> dict[str, Cursor]:
    """The cursors, read while the tables are checked aside (the run waits for those only before it
    registers); on a new lake (no cursor log yet) once they exist (asked first: a failed read would log
    the server's whole stack as an error)."""
    if not spark.table_exists(f"{schema}.{CURSOR_LOG}"):
        ensured.result()
    return read_cursors(spark, schema)


def _add_ahead(spark: SparkSQL, schema: str, parts: list[catalog.Partition]) -> set[str]:
    """Add the partitions of new batches before their files are there (Spark reads a partition whose folder
    is missing as empty; nothing lists a batch before its manifest row): one statement per table."""
    by_source: dict[str, list[catalog.Partition]] = {}
    for part in parts:
        by_source.setdefault(part.source, []).append(part)
    for src, group in by_source.items():
        catalog.add_partitions(spark, schema, src, group)
    return {p.batch_id for p in parts}


def run_extraction(
    spark: SparkSQL,
    zone: RawZone,
    url: str,
    tables: list[ShopTable],
    key_check_every: int = 1,
    ingest_date: str | None = None,
    schema: str = "raw",
) -> ExtractReport:
    """Extract ``tables`` (see the module docstring) on an open Thrift client and raw zone.

    The Spark statements of a run (each a round trip, the writes an Iceberg commit each) overlap with the
    rest on two more connections (:class:`Aside`): see the module docstring."""
    with Aside(spark.settings) as aside:
        # the raw tables of these sources and the manifest (not the whole lake a dbt build needs)
        ensured = aside.submit(_ensure, zone, schema, {t.source for t in tables})
        cursors = _read_cursors(spark, schema, ensured)
        starts = {t.name: cursors.get(t.name) or Cursor(t.name) for t in tables}
        due = any(not t.soft_delete and key_check_due(starts[t.name], key_check_every) for t in tables)
        # the whole manifest when keys are compared (their batches' files)
        whole = aside.submit(manifest.read, schema) if due else None
        batches = whole.result() if whole is not None else []
        lander = Lander(spark, zone, ingest_date=ingest_date, progress=False, schema=schema)
        with open_source(url) as conn:
            plans = [plan_table(zone, conn, url, t, starts[t.name], key_check_every, batches) for t in tables]
            inputs = [p.input for p in plans if p.input is not None]
            if not inputs:
                return ExtractReport([_result(p, None) for p in plans], LandReport())

            # else the rows of the batch ids (read while the rows stream, once the tables are there)
            manifest_rows = whole or aside.submit(manifest.read, schema, [i.batch_id for i in inputs])

            def previous() -> list[BatchRecord]:
                ensured.result()  # an error there (a table it could not create) stops the run here
                wanted = {i.batch_id for i in inputs}
                return [r for r in manifest_rows.result() if r.batch_id in wanted]

            def ahead(_spark: SparkSQL, lane: int) -> set[str]:
                # every batch's partition, without waiting for the manifest rows: a batch id the manifest
                # holds (a re-run after a crash) has its old partition dropped and this one added again
                # by the Lander; `add if not exists` leaves a partition already there as it is
                ensured.result()
                parts = [
                    catalog.Partition(
                        i.source,
                        lander.ingest_date,
                        i.batch_id,
                        zone.location(zone.partition_path(i.source, lander.ingest_date, i.batch_id)),
                    )
                    for n, i in enumerate(inputs)
                    if (n + 1) % LANES == lane  # the first on lane 1: lane 0 reads the manifest
                ]
                return _add_ahead(_spark, schema, parts)

            # a statement per table: the tables split over the lanes
            adding = [aside.submit(ahead, lane, lane=lane) for lane in range(LANES)]
            view = aside.submit(ensure_cursor_view, schema)  # off the run's path (see the function)

            def added() -> set[str]:
                return set().union(*(f.result() for f in adding))

            ends = {p.batch_id: p.end for p in plans if p.batch_id}

            def record(records: list[BatchRecord], held: set[str]) -> None:
                # the cursors of the batches registered as succeeded, at the same time as the manifest:
                # a cursor row counts only once its batch's manifest row says succeeded (read_cursors)
                cursors = [ends[r.batch_id] for r in records if r.status == SUCCEEDED]
                merged = [r for r in records if r.batch_id in held]
                if merged:  # a re-run's batch id: its manifest row already says succeeded, rewrite it first
                    spark.execute(manifest.merge_sql(schema, merged))
                moved = aside.submit(lambda s: save_cursors(s, cursors, schema, compact=False), lane=1)
                try:
                    _record_outcomes(spark, aside, schema, records, held)
                finally:
                    moved.result()
                if compaction_due(cursors):  # keeps registered rows only: after the manifest rows
                    compact_cursor_log(spark, schema)
                view.result()

            # force: a batch id landed before is a re-run after a crash; its new content replaces it
            report = lander.land(
                inputs,
                force=True,
                ensure=False,
                record_running=False,
                previous=previous,
                registered=added,
                record=record,
            )
    outcomes = {o.batch_id: o for o in report.outcomes}
    return ExtractReport([_result(p, outcomes.get(p.batch_id or "")) for p in plans], report)


def _record_outcomes(
    spark: SparkSQL, aside: Aside, schema: str, records: list[BatchRecord], held: set[str]
) -> None:
    """The new manifest rows (appended; ``held``: ids the manifest holds, merged by the caller) on the main
    connection, the history rows at the same time aside: two commits in parallel."""
    new = {r.batch_id for r in records} - held
    statements = manifest.insert_statements(schema, records, new)
    later = [aside.submit(lambda s, sql=sql: s.execute(sql)) for sql in statements[1:]]
    try:
        if statements:
            spark.execute(statements[0])
    finally:
        for f in later:
            f.result()


def _result(p: TablePlan, o: Outcome | None) -> TableResult:
    if p.batch_id is None or o is None:
        return TableResult(p.table.name, "unchanged", cursor=p.start.updated_at)
    ok = o.status == "succeeded"
    return TableResult(
        p.table.name,
        o.status,
        p.rows if ok else 0,
        p.deletes if ok else 0,
        p.batch_id,
        (p.end if ok else p.start).updated_at,
        o.error,
        p.seconds,
    )


def extract(
    settings: Settings,
    url: str | None = None,
    tables: list[str] | None = None,
    key_check_every: int | None = None,
    ingest_date: str | None = None,
) -> ExtractReport:
    """Extract the shop database (``url``, default :func:`ingestion.shopdb.source_url`) into the lake
    through the configured Thrift server: what ``python -m ingestion extract`` runs."""
    if url is None:
        from ingestion.shopdb import source_url

        url = source_url(settings)
    every = int(settings.get(KEY_CHECK_VARIABLE)) if key_check_every is None else key_check_every
    with SparkSQL(settings) as spark:
        zone = RawZone(default_raw_uri(settings))
        return run_extraction(spark, zone, url, tables_of(tables), every, ingest_date)
