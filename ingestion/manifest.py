"""The batch manifest ``raw._batches``: one row per batch id, its status rewritten in place.

A small Iceberg table updated with ``MERGE`` (keyed by batch id): each status change is an atomic
snapshot, so a crash never leaves a half-written row, and a batch id can never appear twice.
A landing run writes it twice: every planned batch as ``running``, then the outcomes.

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


def _values(records: list[BatchRecord]) -> tuple[str, list[str]]:
    names = [f.name for f in fields(BatchRecord)]
    rows = ", ".join(
        "(" + ", ".join(literal(getattr(r, n), COLUMN_TYPES[n]) for n in names) + ")" for r in records
    )
    return rows, names


def merge_sql(schema: str, records: list[BatchRecord]) -> str:
    rows, names = _values(records)
    return (
        f"merge into {schema}.{TABLE} t using (select * from values {rows} as v({', '.join(names)})) s "
        "on t.batch_id = s.batch_id when matched then update set * when not matched then insert *"
    )


def history_sql(schema: str, records: list[BatchRecord]) -> str:
    rows, names = _values(records)
    return f"insert into {schema}.{HISTORY} ({', '.join(names)}) values {rows}"


def write(spark: SparkSQL, schema: str, records: list[BatchRecord]) -> None:
    """Record ``records`` in the manifest; their outcomes (not ``running``) also in the history."""
    if records:
        spark.execute(merge_sql(schema, records))
    outcomes = [r for r in records if r.status != RUNNING]
    if outcomes:
        spark.execute(history_sql(schema, outcomes))


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
