"""The batch manifest ``raw._batches``: one row per batch id, its status rewritten in place.

A small Iceberg table: each status change is an atomic snapshot, so a crash never leaves a half-written row,
and a batch id never appears twice. A batch id the manifest already holds is rewritten with ``MERGE``; a new
one is appended (``INSERT``, about a quarter of a merge's time over Thrift): the caller says which ids the
manifest holds (read at the start of its run; runs never overlap). A landing run of files writes it twice
(every planned batch as ``running``, then the outcomes), an extraction once (the outcomes).

``raw._batch_history`` keeps every outcome ever recorded (appended, never rewritten): when a corrected file
is landed again under its batch id, the manifest row shows the current version and the history the
versions it replaced (checksum, rows, times). The warehouse reprocesses such a restated batch.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from lakehouse.platform.sql import SparkSQL, literal

TABLE = "_batches"
HISTORY = "_batch_history"
RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"


@dataclass
class BatchRecord:
    batch_id: str
    source: str
    file: str
    checksum: str
    rows: int | None
    status: str
    error: str | None
    started_at: datetime
    finished_at: datetime | None
    ingest_date: str
    location: str | None


COLUMN_TYPES = {
    "batch_id": "string",
    "source": "string",
    "file": "string",
    "checksum": "string",
    "rows": "bigint",
    "status": "string",
    "error": "string",
    "started_at": "timestamp",
    "finished_at": "timestamp",
    "ingest_date": "string",
    "location": "string",
}


def create_sql(schema: str, table: str = TABLE) -> str:
    cols = ", ".join(f"{name} {typ}" for name, typ in COLUMN_TYPES.items())
    return f"create table if not exists {schema}.{table} ({cols}) using iceberg"


def _row(record: BatchRecord, *more: str) -> str:
    names = [f.name for f in fields(BatchRecord)]
    return "(" + ", ".join([*(literal(getattr(record, n), COLUMN_TYPES[n]) for n in names), *more]) + ")"


def _values(records: list[BatchRecord]) -> tuple[str, list[str]]:
    return ", ".join(_row(r) for r in records), [f.name for f in fields(BatchRecord)]


def merge_sql(schema: str, records: list[BatchRecord]) -> str:
    rows, names = _values(records)
    return (
        f"merge into {schema}.{TABLE} t using (select * from values {rows} as v({', '.join(names)})) s "
        "on t.batch_id = s.batch_id when matched then update set * when not matched then insert *"
    )


def insert_sql(schema: str, records: list[BatchRecord], new: set[str]) -> str:
    """One statement (a multi-insert: one round trip, a commit per table) appending the records whose batch
    id is in ``new`` to the manifest and the outcomes (not ``running``) to the history."""
    rows = []
    for r in records:
        to_manifest, to_history = r.batch_id in new, r.status != RUNNING
        if to_manifest or to_history:
            rows.append((r, to_manifest, to_history))
    values = ", ".join(_row(r, str(m).lower(), str(h).lower()) for r, m, h in rows)
    cols = ", ".join(f.name for f in fields(BatchRecord))
    # only the tables that get rows: an empty append would still be a commit
    inserts = [
        f"insert into {schema}.{table} ({cols}) select {cols} where {flag}"
        for table, flag, wanted in (
            (TABLE, "_to_manifest", any(m for _, m, _ in rows)),
            (HISTORY, "_to_history", any(h for _, _, h in rows)),
        )
        if wanted
    ]
    source = f"(select * from values {values} as v({cols}, _to_manifest, _to_history))"
    return f"from {source} s {' '.join(inserts)}"


def insert_statements(schema: str, records: list[BatchRecord], new: set[str]) -> list[str]:
    """What :func:`insert_sql` does as one statement per table (the manifest's first): for a caller that
    runs them at once over two connections (two commits in parallel instead of one after the other)."""
    cols = ", ".join(f.name for f in fields(BatchRecord))
    out = []
    for table, rows in (
        (TABLE, [r for r in records if r.batch_id in new]),
        (HISTORY, [r for r in records if r.status != RUNNING]),
    ):
        if rows:
            out.append(f"insert into {schema}.{table} ({cols}) values {', '.join(_row(r) for r in rows)}")
    return out


def write(spark: SparkSQL, schema: str, records: list[BatchRecord], landed: set[str] | None = None) -> None:
    """Record ``records`` in the manifest, their outcomes (not ``running``) also in the history.
    ``landed``: the batch ids the manifest holds (read in this run); None: unknown, every record is merged."""
    held = [r for r in records if landed is None or r.batch_id in landed]
    if held:
        spark.execute(merge_sql(schema, held))
    new = {r.batch_id for r in records} - {r.batch_id for r in held}
    if new or any(r.status != RUNNING for r in records):
        spark.execute(insert_sql(schema, records, new))


def read(
    spark: SparkSQL, schema: str, batch_ids: list[str] | None = None, checksums: list[str] | None = None
) -> list[BatchRecord]:
    """The manifest; with ``batch_ids`` / ``checksums``, only the rows with one of them (what a landing
    needs to plan: a stream consumer lands every few seconds into a manifest that only grows)."""
    names = [f.name for f in fields(BatchRecord)]
    where = ""
    if batch_ids is not None or checksums is not None:
        terms = [
            f"{column} in ({', '.join(literal(v) for v in values)})"
            for column, values in (("batch_id", batch_ids), ("checksum", checksums))
            if values
        ]
        where = " where " + (" or ".join(terms) if terms else "false")
    rows = spark.query(f"select {', '.join(names)} from {schema}.{TABLE}{where}")
    return [BatchRecord(**dict(zip(names, row, strict=True))) for row in rows]
