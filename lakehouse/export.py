"""Export marts from the lake to PostgreSQL (schema ``gold_marts``, under the BI views of ``gold``).

Which models: every model whose dbt config has ``meta: {gold: true}`` (read from the manifest, no list here).
What the manifest also decides: the primary key (``unique_key``, else the column tested ``unique`` and
``not_null``), secondary indexes (columns with a ``relationships`` test: what dashboards join and filter on),
PII columns (tagged ``pii``, replaced by a keyed hash: the raw value never leaves the lake) and the mode:

- **swap** (dimensions, marts): the table is read from its Iceberg files (PyIceberg on the current metadata
  file the catalog names; no rows through Thrift) and streamed batch by batch into ``COPY`` into
  ``gold_load`` (no index yet; the scan overlaps the load and the table is never whole in client memory),
  indexed, reconciled, and swapped into ``gold_marts`` by rename. Views on the table (the dbt-postgres BI
  layer) are re-pointed with ``create or replace view`` in the same transaction, so they keep their grants
  and comments, and a BI query sees the old or the new data, never a half-loaded or missing table. A table
  whose Iceberg snapshot did not change since the last export is left alone.
- **upsert** (incremental models with a ``unique_key`` and a ``_loaded_at`` column, i.e. the order-line fact):
  only rows written since the watermark (``_loaded_at``, kept with the Iceberg snapshot in
  ``gold_marts._export_state``) are read (Iceberg prunes the files of older batches) and merged with
  ``INSERT ... ON CONFLICT``. The first export, a rewritten lake table or a changed schema load it in full.

Everything of one run commits in ONE transaction after reconciliation (row count and a column sum per table,
lake vs gold; a streamed scan must also give the snapshot's own row count from the table metadata): a
mismatch rolls back and leaves the previous gold in place.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import secrets
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from lakehouse import gold
from lakehouse.gold import LOAD_SCHEMA, MARTS_SCHEMA
from lakehouse.platform.errors import LakehouseError, first_line
from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL

log = logging.getLogger(__name__)

GOLD_SCHEMA = MARTS_SCHEMA  # where exported tables live (kept for callers of the first version)
STATE_TABLE = f"{MARTS_SCHEMA}._export_state"
WATERMARK_COLUMN = "_loaded_at"
COPY_CHUNK_ROWS = 100_000
SCAN_PREFETCH_FILES = 2  # data files read ahead of the COPY: bounds the export's memory, keeps COPY fed
PARALLEL_INDEX_MIN_ROWS = 200_000  # above this, the key and indexes are built at once, one connection each
LOCK_TIMEOUT_MS = 200  # the swap never waits longer for a BI query: it retries instead (no deadlocks)
LOCK_ATTEMPTS = 150


@dataclass(frozen=True)
class GoldModel:
    name: str  # the table name in gold_marts (the model's alias)
    lake_relation: str  # schema.table in the lake
    primary_key: tuple[str, ...] = ()
    index_columns: tuple[str, ...] = ()
    pii_columns: tuple[str, ...] = ()
    incremental: bool = False  # upsert changed rows (needs a primary key)


@dataclass
class ExportResult:
    model: GoldModel
    rows: int  # rows in gold after the export
    seconds: float
    mode: str = "swap"  # swap | upsert | unchanged
    changed_rows: int = 0  # rows loaded or upserted in this run
    reconciled: dict = field(default_factory=dict)


@dataclass
class _Plan:
    model: GoldModel
    metadata_file: str
    snapshot_id: int | None
    mode: str  # swap | upsert | unchanged
    watermark: str | None = None
    data: pa.Table | None = None  # the changed rows of an upsert (small: read before loading)
    scan: object | None = None  # a swap's PyIceberg scan: streamed into COPY, never held whole in memory
    lake_schema: pa.Schema | None = None
    expected_rows: int | None = None  # the snapshot's own live-row count (table metadata), when it has one
    changed_rows: int = 0
    lake_totals: tuple[int, Decimal | float | None] = (0, None)
    sum_column: str | None = None
    new_watermark: str | None = None
    started: float = 0.0
    replaces: bool = False  # a previous version is in gold_marts
    gold_before: tuple | None = None  # (rows, sum) reconciled by the last export, for an incremental count


# ----------------------------------------------------------------------------------------- manifest


def gold_models(manifest_path: Path) -> list[GoldModel]:
    """Models flagged ``meta: {gold: true}`` in the dbt manifest, with keys, indexes and PII from it."""
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError as exc:
        raise LakehouseError(f"No dbt manifest at {manifest_path}: run `dbt build` first.") from exc
    tests: dict[str, list[tuple[str, str]]] = {}  # node id -> [(test name, column)]
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("column_name"):
            continue
        test_name = (node.get("test_metadata") or {}).get("name", "")
        for dep in node.get("depends_on", {}).get("nodes", [])[-1:]:  # the tested model comes last
            tests.setdefault(node.get("attached_node") or dep, []).append((test_name, node["column_name"]))
    models = []
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] not in ("model", "snapshot", "seed"):
            continue
        config = node.get("config", {})
        meta = {**node.get("meta", {}), **config.get("meta", {})}
        if not meta.get("gold") or not config.get("enabled", True):
            continue
        name = node.get("alias") or node["name"]
        node_tests = tests.get(uid, [])
        unique_key = config.get("unique_key")
        if isinstance(unique_key, str):
            unique_key = [unique_key]
        if not unique_key:
            unique = {c for t, c in node_tests if t == "unique"}
            not_null = {c for t, c in node_tests if t == "not_null"}
            unique_key = sorted(unique & not_null)[:1]
        # the lake's partition columns lead the key, as in the lake: new lines (recent months) then land in
        # a narrow part of the index instead of on every page of it
        partitions = config.get("partition_by") or []
        partitions = [partitions] if isinstance(partitions, str) else list(partitions)
        pk = tuple(sorted(unique_key or (), key=lambda c: (c not in partitions, (unique_key or []).index(c))))
        indexed = sorted({c for t, c in node_tests if t == "relationships"} - set(pk[:1]))
        columns = node.get("columns", {})
        pii = tuple(sorted(c for c, col in columns.items() if "pii" in (col.get("tags") or [])))
        incremental = config.get("materialized") == "incremental" and bool(pk)
        models.append(GoldModel(name, f"{node['schema']}.{name}", pk, tuple(indexed), pii, incremental))
    return sorted(models, key=lambda m: m.name)


# ---------------------------------------------------------------------------------------- the lake


def current_metadata_file(spark: SparkSQL, relation: str) -> str:
    """The table's current metadata JSON, as the catalog knows it (never guessed from file names)."""
    path = spark.scalar(f"select file from {relation}.metadata_log_entries order by timestamp desc limit 1")
    if not path:
        raise LakehouseError(f"{relation} has no Iceberg metadata: is it an Iceberg table?")
    return path


def _static_table(metadata_file: str):
    from pyiceberg.table import StaticTable

    return StaticTable.from_metadata(metadata_file)


def read_lake_table(spark: SparkSQL, relation: str) -> pa.Table:
    return _static_table(current_metadata_file(spark, relation)).scan().to_arrow()


def pii_key(settings: Settings) -> bytes:
    return settings.kept_secret("GOLD_PII_KEY", "pii.key").encode()


def mask_pii(data: pa.Table, columns: Iterable[str], key: bytes) -> pa.Table:
    """Replace each PII column by a keyed hash (HMAC-SHA256, 32 hex digits): joinable, not readable."""
    for name in columns:
        if name not in data.column_names:
            continue
        values = data.column(name).to_pylist()
        digest = lambda v: hmac.new(key, str(v).strip().lower().encode(), hashlib.sha256).hexdigest()[:32]  # noqa: E731
        hashed = [None if v is None else digest(v) for v in values]
        data = data.set_column(data.column_names.index(name), name, pa.array(hashed, pa.string()))
    return data


def masked_schema(schema: pa.Schema, columns: Iterable[str]) -> pa.Schema:
    """The schema gold receives: PII columns become the strings of their hashes."""
    pii = set(columns)
    fields = [pa.field(f.name, pa.string()) if f.name in pii else f.remove_metadata() for f in schema]
    return pa.schema(fields)


def sum_column(schema: pa.Schema, exclude: Iterable[str] = ()) -> str | None:
    """The column whose sum reconciles the table: the first decimal, else float, else integer measure."""
    skip = set(exclude)
    for check in (pat.is_decimal, pat.is_floating, pat.is_integer):
        for f in schema:
            if f.name not in skip and not f.name.startswith("_") and check(f.type):
                return f.name
    return None


def arrow_totals(data: pa.Table, column: str | None) -> tuple[int, Decimal | float | None]:
    if column is None:
        return data.num_rows, None
    total = pc.sum(data.column(column)).as_py()
    return data.num_rows, total if total is not None else 0


# ------------------------------------------------------------------------------------------ postgres


def pg_type(dtype: pa.DataType) -> str:
    if pat.is_string(dtype) or pat.is_large_string(dtype):
        return "text"
    if pat.is_boolean(dtype):
        return "boolean"
    if pat.is_int8(dtype) or pat.is_int16(dtype):
        return "smallint"
    if pat.is_int32(dtype):
        return "integer"
    if pat.is_int64(dtype):
        return "bigint"
    if pat.is_float32(dtype):
        return "real"
    if pat.is_float64(dtype):
        return "double precision"
    if pat.is_decimal(dtype):
        return f"numeric({dtype.precision},{dtype.scale})"
    if pat.is_date(dtype):
        return "date"
    if pat.is_timestamp(dtype):
        return "timestamp with time zone" if dtype.tz else "timestamp without time zone"
    if pat.is_binary(dtype) or pat.is_large_binary(dtype):
        return "bytea"
    raise LakehouseError(f"No PostgreSQL type for Arrow type {dtype}")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _rel(schema: str, name: str) -> str:
    return f"{_ident(schema)}.{_ident(name)}"


def copy_arrow(cur, table_sql: str, data: pa.Table, *, freeze: bool = False) -> None:
    """COPY an Arrow table (see ``copy_batches``)."""
    copy_batches(cur, table_sql, data.schema, data.to_batches(max_chunksize=COPY_CHUNK_ROWS), freeze=freeze)


def copy_batches(
    cur, table_sql: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch], *, freeze: bool = False
) -> None:
    """COPY Arrow batches in PostgreSQL's binary format (pgpq encodes Arrow batches natively): the server
    parses no text, the client formats none. Batches are sent as they come, so a lake scan that produces
    them overlaps the load. ``freeze`` (table created in this transaction) writes rows already frozen, so
    the index builds and first reads that follow set no hint bits."""
    from pgpq import ArrowToPostgresBinaryEncoder

    columns = ", ".join(_ident(c) for c in schema.names)
    options = "format binary, freeze" if freeze else "format binary"
    encoder = ArrowToPostgresBinaryEncoder(schema)
    with cur.copy(f"copy {table_sql} ({columns}) from stdin ({options})") as copy:
        copy.write(encoder.write_header())
        for batch in batches:
            copy.write(encoder.write_batch(batch))
        copy.write(encoder.finish())


def _columns_sql(schema: pa.Schema, not_null: Iterable[str] = ()) -> str:
    required = set(not_null)
    return ",\n  ".join(
        f"{_ident(f.name)} {pg_type(f.type)}{' not null' if f.name in required else ''}" for f in schema
    )


def _gold_columns(cur, name: str) -> list[tuple[str, str]]:
    return cur.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
        "where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped order by a.attnum",
        (_rel(MARTS_SCHEMA, name),),
    ).fetchall()


def _pg_totals(cur, table_sql: str, column: str | None) -> tuple[int, Decimal | float | None]:
    total = f"coalesce(sum({_ident(column)}), 0)" if column else "null"
    count, value = cur.execute(f"select count(*), {total} from {table_sql}").fetchone()
    return count, value


def _same_totals(lake: tuple, pg: tuple) -> bool:
    if lake[0] != pg[0]:
        return False
    a, b = lake[1], pg[1]
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    return Decimal(a) == Decimal(b)


def reconcile(model: GoldModel, lake: tuple, pg: tuple, column: str | None) -> dict:
    if not _same_totals(lake, pg):
        raise LakehouseError(
            f"Reconciliation failed for {model.name}: lake has {lake[0]} rows (sum {column} = {lake[1]}), "
            f"gold has {pg[0]} (sum {pg[1]}); gold left unchanged."
        )
    return {"rows": pg[0], "sum_column": column, "sum": str(pg[1]) if pg[1] is not None else None}


def gold_totals(url: str) -> dict[str, tuple]:
    """Per exported table: row count and the sum of every integer and numeric column. A fingerprint to compare
    two golds (a re-run, an embedded and a cluster run) or a gold before and after an event."""
    import psycopg

    totals = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = %s "
            "and table_name <> '_export_state' order by 1",
            (MARTS_SCHEMA,),
        ).fetchall()
        for (table,) in tables:
            numeric = conn.execute(
                "select column_name from information_schema.columns where table_schema = %s "
                "and table_name = %s and data_type in ('integer', 'bigint', 'numeric', 'smallint') "
                "order by ordinal_position",
                (MARTS_SCHEMA, table),
            ).fetchall()
            sums = "".join(f", sum({_ident(c)})" for (c,) in numeric)
            row = conn.execute(f"select count(*){sums} from {_rel(MARTS_SCHEMA, table)}").fetchone()
            totals[table] = tuple(row)
    return totals


# -------------------------------------------------------------------------------------------- state


def _ensure_state(conn) -> None:
    conn.execute(f"""
        create table if not exists {STATE_TABLE} (
            table_name text primary key,
            mode text not null,
            lake_relation text not null,
            snapshot_id bigint,
            metadata_file text,
            watermark text,
            rows bigint not null,
            sum_column text,
            sum_value text,
            exported_at timestamptz not null default now()
        )""")
    conn.commit()


def _state(conn) -> dict[str, dict]:
    cur = conn.execute(
        f"select table_name, snapshot_id, watermark, mode, rows, sum_column, sum_value from {STATE_TABLE}"
    )
    keys = ("snapshot_id", "watermark", "mode", "rows", "sum_column", "sum_value")
    return {r[0]: dict(zip(keys, r[1:], strict=True)) for r in cur.fetchall()}


def _record_state(cur, plan: _Plan, reconciled: dict) -> None:
    cur.execute(
        f"insert into {STATE_TABLE} as s (table_name, mode, lake_relation, snapshot_id, metadata_file, "
        "watermark, rows, sum_column, sum_value, exported_at) "
        "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, now()) on conflict (table_name) do update set "
        "mode = excluded.mode, lake_relation = excluded.lake_relation, "
        "snapshot_id = excluded.snapshot_id, metadata_file = excluded.metadata_file, "
        "watermark = excluded.watermark, rows = excluded.rows, sum_column = excluded.sum_column, "
        "sum_value = excluded.sum_value, exported_at = excluded.exported_at",
        (
            plan.model.name, plan.mode, plan.model.lake_relation, plan.snapshot_id, plan.metadata_file,
            plan.new_watermark, reconciled["rows"], reconciled["sum_column"], reconciled["sum"],
        ),
    )  # fmt: skip


# --------------------------------------------------------------------------------------------- plan


def _plan(spark: SparkSQL, conn, model: GoldModel, state: dict, full_refresh: bool, key: bytes) -> _Plan:
    """Read what changed in the lake for ``model`` and decide how it reaches gold."""
    from pyiceberg.table.snapshots import ancestors_of

    started = time.monotonic()
    metadata_file = current_metadata_file(spark, model.lake_relation)
    table = _static_table(metadata_file)
    snapshot = table.current_snapshot()
    snapshot_id = snapshot.snapshot_id if snapshot else None
    previous = state.get(model.name)
    lake_schema = table.schema().as_arrow()
    with conn.cursor() as cur:
        gold_cols = _gold_columns(cur, model.name)
    schema_same = [(f.name, pg_type(f.type)) for f in lake_schema] == gold_cols
    exists = bool(gold_cols)
    plan = _Plan(model, metadata_file, snapshot_id, "swap", started=started, lake_schema=lake_schema)
    if not full_refresh and exists and schema_same and previous and previous["snapshot_id"] == snapshot_id:
        plan.mode = "unchanged"
        plan.new_watermark = previous["watermark"]
        return plan
    incremental_ok = (
        model.incremental
        and not full_refresh
        and exists
        and schema_same
        and previous is not None
        and previous["watermark"] is not None
        and WATERMARK_COLUMN in lake_schema.names
        and snapshot is not None
        and any(s.snapshot_id == previous["snapshot_id"] for s in ancestors_of(snapshot, table.metadata))
        and not _removed_rows_since(snapshot, previous["snapshot_id"], table.metadata)
    )
    if incremental_ok:
        plan.mode = "upsert"
        plan.watermark = previous["watermark"]
        changed = f"{WATERMARK_COLUMN} > '{previous['watermark']}'"
        data = table.scan(row_filter=changed, snapshot_id=snapshot_id).to_arrow()
        plan.sum_column = sum_column(lake_schema, model.primary_key)
        plan.lake_totals = _appended_totals(table, snapshot, previous, data, plan.sum_column)
        if previous.get("rows") is not None and previous.get("sum_column") == plan.sum_column:
            plan.gold_before = (previous["rows"], previous["sum_value"])
        if plan.lake_totals is None:
            # the whole lake table's totals at the same snapshot: one column, for the reconciliation
            probe = plan.sum_column or model.primary_key[0]
            plan.lake_totals = arrow_totals(
                table.scan(selected_fields=(probe,), snapshot_id=snapshot_id).to_arrow(), plan.sum_column
            )
    else:
        # a swap streams the whole table into COPY (_stage_swap): counted, summed and masked on the way
        plan.sum_column = sum_column(lake_schema, model.primary_key)
        plan.scan = table.scan(snapshot_id=snapshot_id) if snapshot_id else None
        plan.expected_rows = _snapshot_rows(snapshot)
        return plan
    plan.data = mask_pii(data, model.pii_columns, key)
    plan.changed_rows = plan.data.num_rows
    newest = _newest_load(data)
    plan.new_watermark = newest.isoformat() if newest is not None else plan.watermark
    return plan


def _removed_rows_since(snapshot, previous_id: int, metadata) -> bool:
    """Whether a snapshot after ``previous_id`` removed rows (a ``DELETE``, e.g. a restated batch's previous
    lines): an upsert cannot carry a removal, so the table is swapped whole. A copy-on-write ``MERGE``
    rewrites files but never adds fewer records than it removes; a delete does."""
    from pyiceberg.table.snapshots import ancestors_of

    for current in ancestors_of(snapshot, metadata):
        if current.snapshot_id == previous_id:
            return False
        summary = current.summary
        if summary is None:
            return True
        # a count is absent from a snapshot that did not touch it
        deleted, added, delete_files = (
            int(summary.get(name) or 0) for name in ("deleted-records", "added-records", "added-delete-files")
        )
        if summary.operation.value == "delete" or deleted > added or delete_files:
            return True
    return False


def _newest_load(data: pa.Table):
    """The newest ``_loaded_at`` of rows read from the lake (None: no rows, or no such column)."""
    if WATERMARK_COLUMN not in data.column_names or not data.num_rows:
        return None
    return pc.max(data.column(WATERMARK_COLUMN)).as_py()


def _snapshot_rows(snapshot) -> int | None:
    """Live rows of a snapshot from its summary (``total-records``), when no delete files blur the count."""
    summary = snapshot.summary if snapshot is not None else None
    if summary is None or summary.get("total-records") is None:
        return 0 if snapshot is None else None
    deletes = int(summary.get("total-position-deletes", 0)) + int(summary.get("total-equality-deletes", 0))
    return None if deletes else int(summary["total-records"])


def _scan_batches(scan, prefetch: int = SCAN_PREFETCH_FILES) -> Iterable[pa.RecordBatch]:
    """The scan's record batches, file by file, reading at most ``prefetch`` files ahead of the consumer.

    PyIceberg's own batch reader submits every file of the scan at once, so a table slower to load than to
    read ends up whole in memory; here memory is bounded by a few data files, whatever the table's size."""
    from pyiceberg.io.pyarrow import ArrowScan

    reader = ArrowScan(scan.table_metadata, scan.io, scan.projection(), scan.row_filter, scan.case_sensitive)
    pending: deque = deque()
    with ThreadPoolExecutor(max_workers=prefetch, thread_name_prefix="lake-scan") as pool:
        for task in scan.plan_files():
            pending.append(pool.submit(lambda t: list(reader.to_record_batches([t])), task))
            if len(pending) > prefetch:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


class _LakeStream:
    """The batches of a swap's scan on their way to COPY: PII masked, cast to one schema, and counted,
    summed and watermarked as they pass, so nothing needs the whole table in memory."""

    def __init__(self, plan: _Plan, key: bytes):
        self.plan, self.key = plan, key
        self.schema = masked_schema(plan.lake_schema, plan.model.pii_columns)
        self.rows, self.total, self.newest = 0, None, None

    def batches(self) -> Iterable[pa.RecordBatch]:
        if self.plan.scan is None:
            return
        for batch in _scan_batches(self.plan.scan):
            data = mask_pii(pa.Table.from_batches([batch]), self.plan.model.pii_columns, self.key)
            data = data.cast(self.schema)
            count, total = arrow_totals(data, self.plan.sum_column)
            self.rows += count
            if total is not None:
                self.total = total if self.total is None else self.total + total
            newest = _newest_load(data)
            if newest is not None and (self.newest is None or newest > self.newest):
                self.newest = newest
            yield from data.to_batches(max_chunksize=COPY_CHUNK_ROWS)

    def totals(self) -> tuple[int, Decimal | float | None]:
        if self.plan.sum_column is None:
            return self.rows, None
        return self.rows, self.total if self.total is not None else 0


def _appended_totals(table, snapshot, previous: dict, changed: pa.Table, column: str | None) -> tuple | None:
    """The lake table's totals without reading it, when every snapshot since the last export only appended
    rows: the reconciled totals of the last export plus those of the changed rows. The row count must also
    equal the snapshot's own ``total-records`` (table metadata), which proves the watermark scan saw every
    appended row. ``None`` (read the table) when anything else happened or the numbers disagree."""
    if previous.get("rows") is None or previous.get("sum_column") != column:
        return None
    snapshots = {s.snapshot_id: s for s in table.metadata.snapshots}
    current = snapshot
    while current is not None and current.snapshot_id != previous["snapshot_id"]:
        summary = current.summary
        if summary is None or summary.operation.value != "append":
            return None
        current = snapshots.get(current.parent_snapshot_id) if current.parent_snapshot_id else None
    if current is None:
        return None
    rows = previous["rows"] + changed.num_rows
    if _snapshot_rows(snapshot) != rows:
        return None
    if column is None:
        return rows, None
    delta = pc.sum(changed.column(column)).as_py() or 0
    base = Decimal(previous["sum_value"]) if isinstance(delta, Decimal) else float(previous["sum_value"])
    return rows, base + delta


# ------------------------------------------------------------------------------------------- loading


def _load_name(model: GoldModel) -> str:
    return f"{model.name}"


def _stage_swap(conn, plan: _Plan, url: str, key: bytes) -> None:
    """Create, fill, index and analyze ``gold_load.<name>`` (committed; BI never reads gold_load).

    The table is created and filled in one transaction (``COPY ... FREEZE``; with ``wal_level=minimal``, the
    embedded server's setting, that writes no WAL), then its key and indexes are built, concurrently on
    separate connections for big tables: load first, index after."""
    model = plan.model
    staged = _rel(LOAD_SCHEMA, _load_name(model))
    stream = _LakeStream(plan, key)
    clock = _PhaseClock()
    with conn.cursor() as cur:
        cur.execute(f"drop table if exists {staged}")
        conn.commit()
        cur.execute(f"create table {staged} (\n  {_columns_sql(stream.schema, model.primary_key)}\n)")
        copy_batches(cur, staged, stream.schema, stream.batches(), freeze=True)
        clock.lap("scan+copy")
        conn.commit()
        clock.lap("commit")
        plan.lake_totals, plan.changed_rows = stream.totals(), stream.rows
        plan.new_watermark = stream.newest.isoformat() if stream.newest is not None else plan.watermark
        if plan.expected_rows is not None and stream.rows != plan.expected_rows:
            raise LakehouseError(
                f"Reconciliation failed for {model.name}: the lake snapshot holds {plan.expected_rows} rows, "
                f"the scan gave {stream.rows}; gold left unchanged."
            )
        _build_indexes(url, cur, model, parallel=stream.rows >= PARALLEL_INDEX_MIN_ROWS)
        conn.commit()  # the key's constraint took an exclusive lock: released before another session reads
        clock.lap("indexes")
        # the totals on another connection while ANALYZE samples (a read does not wait on it)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gold-count") as pool:
            counting = pool.submit(_totals_on_own_connection, url, staged, plan.sum_column)
            cur.execute(f"analyze {staged}")
            in_gold = counting.result()
        clock.lap("analyze+count")
    reconcile(model, plan.lake_totals, in_gold, plan.sum_column)
    conn.commit()
    log.info("staged %s: %d rows, %s", model.name, stream.rows, clock)


class _PhaseClock:
    """Seconds per phase, for the log: where an export's time goes."""

    def __init__(self):
        self.laps: list[tuple[str, float]] = []
        self.last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps.append((name, now - self.last))
        self.last = now

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.laps)


def _totals_on_own_connection(url: str, table_sql: str, column: str | None) -> tuple:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        return _pg_totals(cur, table_sql, column)


def _index_names(model: GoldModel, tag: str) -> list[tuple[str, tuple[str, ...]]]:
    """(name, columns) of the primary key and each index; ``tag`` makes load-time names unique."""
    base = model.name[:40]
    names = []
    if model.primary_key:
        names.append((f"{base}{tag}_pkey", model.primary_key))
    for col in model.index_columns:
        names.append((f"{base}{tag}_{col[:20]}_idx", (col,)))
    return names


def _build_indexes(url: str, cur, model: GoldModel, *, parallel: bool) -> None:
    """The primary key (a unique index, then attached as the constraint) and the secondary indexes of the
    load table; with ``parallel``, each index on its own connection (CREATE INDEX takes a SHARE lock, so
    they run side by side)."""
    import psycopg

    table = _rel(LOAD_SCHEMA, _load_name(model))
    statements = []
    for i, (name, cols) in enumerate(_index_names(model, "__load")):
        unique = "unique " if i == 0 and model.primary_key else ""
        collist = ", ".join(_ident(c) for c in cols)
        statements.append(f"create {unique}index {_ident(name)} on {table} ({collist})")
    memory = "set maintenance_work_mem = '256MB'"
    if parallel and len(statements) > 1:

        def build(statement: str) -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(memory)
                conn.execute("set max_parallel_maintenance_workers = 0")
                conn.execute(statement)

        with ThreadPoolExecutor(max_workers=len(statements), thread_name_prefix="gold-index") as pool:
            for built in [pool.submit(build, st) for st in statements]:
                built.result()  # every build ends before the pool does; the first error is raised
    else:
        cur.execute(memory)
        for statement in statements:
            cur.execute(statement)
    if model.primary_key:
        pkey = _ident(_index_names(model, "__load")[0][0])
        cur.execute(f"alter table {table} add constraint {pkey} primary key using index {pkey}")


def _upsert(cur, plan: _Plan) -> tuple[int, Decimal | float | None] | None:
    """Merge the changed rows into gold_marts.<name> on the primary key (INSERT ... ON CONFLICT).

    Every changed row must be written. Returns the table's totals after the merge, worked out from the change
    alone when it only added rows and the last export's reconciled totals are known: those plus the rows
    added. ``None`` (rows were replaced, or no totals): the caller counts the whole table."""
    model, data = plan.model, plan.data
    target = _rel(MARTS_SCHEMA, model.name)
    changes = _ident(f"_changes_{model.name}")
    cur.execute(f"create temp table {changes} (like {target}) on commit drop")
    if data.num_rows:
        copy_arrow(cur, changes, data)
    cols = [_ident(c) for c in data.column_names]
    keys = ", ".join(_ident(c) for c in model.primary_key)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c.strip('"') not in model.primary_key)
    written, inserted = cur.execute(
        f"with merged as (insert into {target} ({', '.join(cols)}) select {', '.join(cols)} from {changes} "
        f"order by {keys} on conflict ({keys}) do update set {updates} "  # key order: index pages in turn
        "returning (xmax = 0) as inserted) "  # xmax 0: a new row version, not an update of one
        "select count(*), count(*) filter (where inserted) from merged"
    ).fetchone()
    if written != data.num_rows:
        raise LakehouseError(
            f"Reconciliation failed for {model.name}: {data.num_rows} changed rows, {written} merged; "
            "gold left unchanged."
        )
    column, before = plan.sum_column, plan.gold_before
    if before is None or inserted != written:
        return None
    measure = f"coalesce(sum({_ident(column)}), 0)" if column else "null"
    added = cur.execute(f"select count(*), {measure} from {changes}").fetchone()
    if column is None:
        return before[0] + added[0], None
    base = Decimal(before[1]) if isinstance(added[1], Decimal) else float(before[1])
    return before[0] + added[0], base + added[1]


# ---------------------------------------------------------------------------------------------- swap


def _dependent_views(cur, table_sql: str) -> list[tuple[int, str, str, str, list[str] | None]]:
    """Views on a table (recursively), base first: (oid, schema, name, definition, options)."""
    rows = cur.execute(
        """
        with recursive deps(oid, depth) as (
            select r.ev_class, 1 from pg_depend d join pg_rewrite r on r.oid = d.objid
            where d.classid = 'pg_rewrite'::regclass and d.refobjid = to_regclass(%s)
              and r.ev_class <> to_regclass(%s)
            union
            select r.ev_class, deps.depth + 1 from deps
            join pg_depend d on d.refobjid = deps.oid and d.classid = 'pg_rewrite'::regclass
            join pg_rewrite r on r.oid = d.objid
            where r.ev_class <> deps.oid and deps.depth < 20
        )
        select c.oid, n.nspname, c.relname, c.relkind, pg_get_viewdef(c.oid), c.reloptions, max(deps.depth)
        from deps join pg_class c on c.oid = deps.oid join pg_namespace n on n.oid = c.relnamespace
        group by c.oid, n.nspname, c.relname, c.relkind, c.reloptions
        order by max(deps.depth), n.nspname, c.relname
        """,
        (table_sql, table_sql),
    ).fetchall()
    views = []
    for oid, schema, name, kind, definition, options, _depth in rows:
        if kind != "v":
            raise LakehouseError(
                f"{schema}.{name} (a materialized view) depends on {table_sql}: gold takes plain views only."
            )
        views.append((oid, schema, name, definition, options))
    return views


def _swap_all(conn, plans: list[_Plan], upserts: list[_Plan]) -> dict[str, dict]:
    """One transaction: upsert incremental tables, swap staged ones in, re-point views, record state."""
    import psycopg

    reconciled: dict[str, dict] = {}
    with conn.transaction(), conn.cursor() as cur:
        # names in view definitions come out schema-qualified; our own statements qualify everything
        cur.execute("set local search_path = pg_catalog")
        for plan in upserts:
            pg = _upsert(cur, plan) or _pg_totals(cur, _rel(MARTS_SCHEMA, plan.model.name), plan.sum_column)
            reconciled[plan.model.name] = reconcile(plan.model, plan.lake_totals, pg, plan.sum_column)
        views: dict[int, tuple] = {}
        for plan in plans:
            for view in _dependent_views(cur, _rel(MARTS_SCHEMA, plan.model.name)):
                views.setdefault(view[0], view)
        ordered = list(views.values())
        # Take every lock up front, views before tables (the order a BI query takes them), each wait short:
        # a BI query never waits on a swap that waits on it, so it never deadlocks or fails; the swap retries.
        targets = [_rel(s, n) for _o, s, n, _d, _opt in ordered]
        targets += [
            _rel(MARTS_SCHEMA, p.model.name)
            for p in plans
            if cur.execute("select to_regclass(%s)", (_rel(MARTS_SCHEMA, p.model.name),)).fetchone()[0]
        ]
        if targets:
            cur.execute(f"set local lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
            for _attempt in range(LOCK_ATTEMPTS):
                try:
                    with conn.transaction():  # a savepoint: a timed-out attempt releases what it took
                        cur.execute(f"lock table {', '.join(targets)} in access exclusive mode")
                    break
                except psycopg.errors.LockNotAvailable:
                    time.sleep(0.02 + secrets.randbelow(50) / 1000)
            else:
                raise LakehouseError(
                    f"Gold swap gave up after {LOCK_ATTEMPTS} tries: BI queries held the tables all the time."
                )
            cur.execute("set local lock_timeout = 0")
        for plan in plans:
            name = plan.model.name
            old, live = f"{name}__old"[:63], _rel(MARTS_SCHEMA, name)
            had_old = cur.execute("select to_regclass(%s)", (live,)).fetchone()[0] is not None
            if had_old:
                cur.execute(f"alter table {live} rename to {_ident(old)}")
            cur.execute(f"alter table {_rel(LOAD_SCHEMA, _load_name(plan.model))} set schema {MARTS_SCHEMA}")
            plan.replaces = had_old
        for _oid, schema, name, definition, options in ordered:
            with_opts = f" with ({', '.join(options)})" if options else ""
            try:
                with conn.transaction():
                    cur.execute(f"create or replace view {_rel(schema, name)}{with_opts} as {definition}")
            except psycopg.Error as exc:
                raise LakehouseError(
                    f"The BI view {schema}.{name} does not fit the new columns of the table it reads "
                    f"({first_line(str(exc))}); gold left unchanged: adapt models/gold, then run "
                    "`dbt build --target gold` after the export."
                ) from exc
        for plan in plans:
            name = plan.model.name
            if plan.replaces:
                cur.execute(f"drop table {_rel(MARTS_SCHEMA, f'{name}__old'[:63])}")
            for (load_name, _cols), (final, _c) in zip(
                _index_names(plan.model, "__load"), _index_names(plan.model, ""), strict=True
            ):
                cur.execute(f"alter index {_rel(MARTS_SCHEMA, load_name)} rename to {_ident(final)}")
            reconciled[name] = {
                "rows": plan.lake_totals[0],
                "sum_column": plan.sum_column,
                "sum": str(plan.lake_totals[1]) if plan.lake_totals[1] is not None else None,
            }
        for plan in [*upserts, *plans]:
            _record_state(cur, plan, reconciled[plan.model.name])
    return reconciled


# ------------------------------------------------------------------------------------------- driver


def export_gold(
    settings: Settings,
    manifest_path: Path | None = None,
    *,
    models: list[GoldModel] | None = None,
    full_refresh: bool = False,
) -> list[ExportResult]:
    """Export every gold model (or ``models``) from the lake into gold_marts, atomically; see module doc."""
    import psycopg

    if models is None:
        models = gold_models(manifest_path or settings.dbt_target_path / "manifest.json")
    gold.ensure_gold(settings)
    url = gold.role_url(settings, gold.WRITER)
    key = pii_key(settings)
    results: list[ExportResult] = []
    try:
        with SparkSQL(settings) as spark, psycopg.connect(url) as conn:
            _ensure_state(conn)
            _drop_leftovers(conn)
            state = _state(conn)
            conn.commit()
            plans = [_plan(spark, conn, m, state, full_refresh, key) for m in models]
            conn.commit()
            swaps = [p for p in plans if p.mode == "swap"]
            upserts = [p for p in plans if p.mode == "upsert"]
            try:
                for plan in swaps:
                    _stage_swap(conn, plan, url, key)
                reconciled = _swap_all(conn, swaps, upserts)
            finally:
                _drop_staged(conn, swaps)
            for plan in plans:
                name = plan.model.name
                if plan.mode == "unchanged":
                    rows = conn.execute(f"select count(*) from {_rel(MARTS_SCHEMA, name)}").fetchone()
                    rec = {"rows": rows[0]}
                else:
                    rec = reconciled[name]
                changed = plan.changed_rows
                seconds = time.monotonic() - plan.started
                results.append(ExportResult(plan.model, rec["rows"], seconds, plan.mode, changed, rec))
                log.info("exported %s (%s): %d rows, %d changed", name, plan.mode, rec["rows"], changed)
            conn.commit()
    except psycopg.OperationalError as exc:
        raise LakehouseError(f"Gold database unreachable: {first_line(str(exc))}") from exc
    except psycopg.Error as exc:
        log.error("gold export failed", exc_info=True)
        raise LakehouseError(f"Gold export failed: {first_line(str(exc))}; gold left unchanged.") from exc
    return results


def _drop_leftovers(conn) -> None:
    """A run killed mid-export (or a crashed server) can leave load tables behind: gold_load is scratch
    space of the one export that runs at a time (runs never overlap), so whatever is there is stale."""
    rows = conn.execute("select tablename from pg_tables where schemaname = %s", (LOAD_SCHEMA,)).fetchall()
    with conn.cursor() as cur:
        for (table,) in rows:
            log.info("dropping %s.%s left by an interrupted export", LOAD_SCHEMA, table)
            cur.execute(f"drop table if exists {_rel(LOAD_SCHEMA, table)}")


def _drop_staged(conn, plans: list[_Plan]) -> None:
    """Nothing stays in gold_load, whether the swap happened or failed."""
    conn.rollback()
    with conn.cursor() as cur:
        for plan in plans:
            cur.execute(f"drop table if exists {_rel(LOAD_SCHEMA, _load_name(plan.model))}")
    conn.commit()
