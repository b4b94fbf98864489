"""The run history in the lake: schema ``ops``, one Iceberg table per kind of record, appended at the end of
every flow run that writes to the lake (flows/history.py collects the records; this module only stores them).

- ``pipeline_runs``: one row per run (flow, start, end, status, the first line of its error, rows per layer)
- ``run_steps``: one row per step of the run report
- ``node_runs``: one row per dbt node per dbt invocation (from dbt's own results: status, rows affected,
  timing, failures, the first line of the message; a test names the node it tests)
- ``source_freshness``: one row per source table checked by ``dbt source freshness``
- ``quarantine_by_reason``: open quarantined order lines per failure reason at the end of the run

Every row carries ``_loaded_at`` (when it was written): the gold export upserts the new rows only
(``meta: {gold: true}`` on the ``ops`` sources, models/ops/_ops__sources.yml). The tables are small and
append-only; one INSERT per table and run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from lakehouse.platform.sql import SparkSQL, literal

SCHEMA = "ops"

TABLES: dict[str, dict[str, str]] = {
    "pipeline_runs": {
        "run_id": "string", "flow_name": "string", "title": "string", "started_at": "timestamp",
        "ended_at": "timestamp", "status": "string", "error": "string", "seconds": "double",
        "rows_landed": "bigint", "raw_order_lines": "bigint", "fact_order_lines": "bigint",
        "quarantine_open": "bigint", "quarantine_recovered": "bigint", "rows_exported": "bigint",
        "anomalies_flagged": "bigint", "anomalies_new": "bigint",
    },
    "run_steps": {
        "run_id": "string", "step_no": "int", "step": "string", "status": "string", "result": "string",
        "started_at": "timestamp", "seconds": "double",
    },
    "node_runs": {
        "run_id": "string", "invocation_id": "string", "command": "string", "unique_id": "string",
        "node_name": "string", "resource_type": "string", "status": "string", "rows_affected": "bigint",
        "started_at": "timestamp", "completed_at": "timestamp", "execution_seconds": "double",
        "failures": "bigint", "message": "string", "attached_node": "string",
    },
    "source_freshness": {
        "run_id": "string", "unique_id": "string", "source_name": "string", "table_name": "string",
        "status": "string", "max_loaded_at": "timestamp", "snapshotted_at": "timestamp",
        "age_seconds": "double", "warn_after_seconds": "double", "error_after_seconds": "double",
    },
    "quarantine_by_reason": {
        "run_id": "string", "recorded_at": "timestamp", "reason": "string", "open_lines": "bigint",
    },
}  # fmt: skip
LOADED_AT = "_loaded_at"

# open quarantine by reason, computed by Spark from the mart (no rows through Thrift)
QUARANTINE_SQL = (
    "select {run_id}, {now}, reason, count(*) from marts.quarantine_order_lines "
    "lateral view explode(failure_reasons) r as reason where recovered_at is null group by reason"
)


def ensure_tables(spark: SparkSQL) -> None:
    """Create the schema and its tables when absent (a new lake, or one from before the history)."""
    spark.execute(f"create database if not exists {SCHEMA}")
    for table, columns in TABLES.items():
        cols = ", ".join(f"{name} {typ}" for name, typ in {**columns, LOADED_AT: "timestamp"}.items())
        spark.execute(f"create table if not exists {SCHEMA}.{table} ({cols}) using iceberg")


def _value(value: Any, spark_type: str) -> str:
    text = literal(value, spark_type)
    return text if value is None or spark_type in ("string", "timestamp") else f"cast({text} as {spark_type})"


def insert_sql(table: str, rows: Sequence[Mapping[str, Any]], loaded_at: datetime) -> str:
    """One INSERT of ``rows`` (dicts keyed by column; a missing column is null) into ``ops.<table>``."""
    columns = TABLES[table]
    values = ", ".join(
        "(" + ", ".join([*(_value(row.get(c), t) for c, t in columns.items()), literal(loaded_at)]) + ")"
        for row in rows
    )
    return f"insert into {SCHEMA}.{table} ({', '.join([*columns, LOADED_AT])}) values {values}"


def write_run(spark: SparkSQL, records: Mapping[str, Sequence[Mapping[str, Any]]], run_id: str) -> None:
    """Append one run's records (table -> rows) and its open quarantine by reason (``run_id`` is new for
    every run: a Prefect flow run id, or a fresh uuid)."""
    now = datetime.now(UTC)
    for table in TABLES:
        rows = records.get(table) or []
        if rows:
            spark.execute(insert_sql(table, rows, now))
    if spark.table_exists("marts.quarantine_order_lines"):  # not before the first build
        quarantine = QUARANTINE_SQL.format(run_id=literal(run_id), now=literal(now))
        spark.execute(
            f"insert into {SCHEMA}.quarantine_by_reason select *, {literal(now)} from ({quarantine})"
        )


def _exists(spark: SparkSQL, schema: str, table: str) -> bool:
    return bool(spark.query(f"show databases like '{schema}'")) and bool(
        spark.query(f"show tables in {schema} like '{table}'")
    )
