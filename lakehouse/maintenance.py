"""Iceberg table maintenance: compact small files, rewrite manifests, expire old snapshots, remove orphans.

Every incremental run commits new snapshots and small data files to the lake's Iceberg tables (a `merge`
into the fact, a replaced mart, a landing's row in `raw._batches`); nothing else ever removes them. For each
Iceberg table found through the Thrift server (raw Hive/Parquet tables and views are skipped) this runs
Iceberg's Spark procedures, in this order:

1. `rewrite_data_files`: bin-pack small files, one group per partition from two files up (Iceberg's default
   waits for five, too many for tables this small);
2. `rewrite_manifests`, when the current snapshot has more than one manifest;
3. `expire_snapshots` older than the retention window (ICEBERG_SNAPSHOT_RETENTION_HOURS), the newest always
   kept: time travel (`VERSION AS OF`, `TIMESTAMP AS OF`) works within the window, and the export's
   incremental reads find their last snapshot;
4. `remove_orphan_files` older than the window and never younger than 24 hours (Iceberg's procedure refuses
   less): files a running or crashed write left behind, never those of a write in progress.

It writes to the tables, so it must never overlap a pipeline run: callers hold the pipeline lock
(flows/maintenance.py). One table's failure is logged and reported; the other tables are still maintained.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lakehouse.platform.errors import LakehouseError, first_line
from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL

log = logging.getLogger(__name__)

# remove_orphan_files refuses an `older_than` within 24 h of the server's clock; a minute more for clock skew
ORPHAN_MIN_AGE = timedelta(hours=24, minutes=1)
PROCEDURES = "spark_catalog.system"  # Iceberg's SparkSessionCatalog is the session catalog here
# small local tables: compact a partition from two files up (Iceberg's default min-input-files is 5)
REWRITE_OPTIONS = {"min-input-files": "2"}


@dataclass
class TableMaintenance:
    """What maintenance did to one table (counts of the current snapshot before and after)."""

    table: str
    snapshots_before: int = 0
    snapshots_after: int = 0
    data_files_before: int = 0
    data_files_after: int = 0
    files_rewritten: int = 0  # small data files replaced by compacted ones
    files_added: int = 0
    manifests_rewritten: int = 0
    snapshots_expired: int = 0
    files_deleted: int = 0  # data, manifest and manifest-list files of expired snapshots
    orphans_removed: int = 0
    seconds: float = 0.0
    error: str | None = None

    def describe(self) -> str:
        if self.error:
            return f"failed: {self.error}"
        return (
            f"snapshots {self.snapshots_before}→{self.snapshots_after}, "
            f"data files {self.data_files_before}→{self.data_files_after} "
            f"({self.files_rewritten} rewritten), {self.manifests_rewritten} manifests rewritten, "
            f"{self.files_deleted} expired files deleted, {self.orphans_removed} orphans removed"
        )


def default_retention_hours(settings: Settings) -> float:
    """ICEBERG_SNAPSHOT_RETENTION_HOURS (validated > 0 by the settings)."""
    return settings.typed.ICEBERG_SNAPSHOT_RETENTION_HOURS


def every_n_runs(settings: Settings) -> int:
    """MAINTENANCE_EVERY_N_RUNS (0: never after runs, only on its schedule)."""
    return settings.typed.MAINTENANCE_EVERY_N_RUNS


def iceberg_tables(spark: SparkSQL, schemas: list[str] | None = None) -> list[str]:
    """`schema.table` of every Iceberg table (not views, not Hive/Parquet tables) in ``schemas`` (default:
    every database of the catalog)."""
    if schemas is None:
        schemas = sorted(row[0] for row in spark.query("show databases"))
    tables = []
    for schema in schemas:
        for _db, name, is_temporary in spark.query(f"show tables in `{schema}`"):
            if is_temporary:
                continue
            relation = f"{schema}.{name}"
            info = {row[0]: row[1] for row in spark.query(f"describe table extended `{schema}`.`{name}`")}
            if info.get("Provider") == "iceberg" and info.get("Type") != "VIEW":
                tables.append(relation)
    return tables


def _literal(moment: datetime) -> str:
    return f"TIMESTAMP '{moment.astimezone(UTC).isoformat(sep=' ', timespec='milliseconds')}'"


def _count(spark: SparkSQL, table: str, metadata: str) -> int:
    return int(spark.scalar(f"select count(*) from {table}.{metadata}") or 0)


def maintain_table(
    spark: SparkSQL, table: str, retention: timedelta, now: datetime | None = None, retain_last: int = 1
) -> TableMaintenance:
    """Run the four procedures on one Iceberg table; raises on a failure (see :func:`maintain`)."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    result = TableMaintenance(table)
    table_arg = f"table => '{table}'"
    result.snapshots_before = _count(spark, table, "snapshots")
    result.data_files_before = result.data_files_after = _count(spark, table, "files")
    if result.snapshots_before:  # a table never written has nothing to compact or expire
        if result.data_files_before > 1:
            options = ", ".join(f"'{k}', '{v}'" for k, v in REWRITE_OPTIONS.items())
            rewritten, added, *_ = spark.query(
                f"call {PROCEDURES}.rewrite_data_files({table_arg}, options => map({options}))"
            )[0]
            result.files_rewritten, result.files_added = int(rewritten), int(added)
        if _count(spark, table, "manifests") > 1:
            rewritten_manifests = spark.query(f"call {PROCEDURES}.rewrite_manifests({table_arg})")
            result.manifests_rewritten = int(rewritten_manifests[0][0])
        cutoff = _literal(now - retention)
        snapshots, older = spark.query(
            f"select count(*), count_if(committed_at < {cutoff}) from {table}.snapshots"
        )[0]
        result.snapshots_after = int(snapshots)
        if older and snapshots > retain_last:  # the procedure reads every manifest even with nothing to do
            expired = spark.query(
                f"call {PROCEDURES}.expire_snapshots({table_arg}, older_than => {cutoff}, "
                f"retain_last => {retain_last})"
            )[0]
            result.files_deleted = sum(int(n or 0) for n in expired)
            result.snapshots_after = _count(spark, table, "snapshots")
        result.snapshots_expired = int(snapshots) - result.snapshots_after
        result.data_files_after = _count(spark, table, "files")
    orphans = spark.query(
        f"call {PROCEDURES}.remove_orphan_files({table_arg}, "
        f"older_than => {_literal(now - max(retention, ORPHAN_MIN_AGE))})"
    )
    result.orphans_removed = len(orphans)
    result.seconds = time.monotonic() - started
    return result


def maintain(
    settings: Settings,
    retention_hours: float | None = None,
    schemas: list[str] | None = None,
    retain_last: int = 1,
    echo: Callable[[str], None] | None = None,
) -> list[TableMaintenance]:
    """Maintain every Iceberg table of the lake (or of ``schemas``); the caller holds the pipeline lock.

    ``retention_hours`` defaults to ICEBERG_SNAPSHOT_RETENTION_HOURS. A table that fails is logged and comes
    back with ``error`` set; the others are still maintained."""
    hours = default_retention_hours(settings) if retention_hours is None else float(retention_hours)
    if hours <= 0 or retain_last < 1:
        raise LakehouseError("Table maintenance needs a retention window above 0 hours and retain_last >= 1.")
    retention = timedelta(hours=hours)
    results = []
    with SparkSQL(settings) as spark:
        for table in iceberg_tables(spark, schemas):
            started = time.monotonic()
            try:
                result = maintain_table(spark, table, retention, retain_last=retain_last)
            except Exception as exc:  # one bad table must not stop the others
                log.error("maintenance of %s failed", table, exc_info=True)
                result = TableMaintenance(table, error=first_line(str(exc)))
                result.seconds = time.monotonic() - started
            log.info("maintenance %s: %s (%.1f s)", table, result.describe(), result.seconds)
            if echo is not None:
                echo(f"{table}: {result.describe()} ({result.seconds:.1f} s)")
            results.append(result)
    return results
