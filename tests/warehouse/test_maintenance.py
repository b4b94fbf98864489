"""Iceberg table maintenance (issue 19): after many small incremental runs the maintenance flow leaves a
table with few snapshots and one data file per partition, the same rows, and time travel within the window.

Twenty dbt runs would cost twenty minutes, so the runs are what an incremental run does to the fact, by SQL:
an Iceberg table of the fact's shape, partitioned by month, gets a few new lines per run (every other run a
`merge` that also restates a line of the run before, the others plain appends, which cost Spark less), each
run one snapshot and small files. The flow is the real one (`table-maintenance`), restricted to
this test's schema; the retention window is set by its parameter so that the first runs fall outside it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.runlock import pipeline_lock
from lakehouse.platform.sql import SparkSQL

integration = pytest.mark.integration

SCHEMA = "maintenance_test"
FACT = f"{SCHEMA}.fct_order_lines"
RUNS = 20
YOUNG_RUNS = 3  # the last runs fall inside the retention window, the others outside
GAP = 10.0  # seconds between the old and the young runs
MARGIN = 6.0  # how far before the first young run the window starts (> the flow's start-up, < GAP)
MONTHS = ("2026-10-01", "2026-11-01")


@dataclass
class Lines:
    """What the test wrote: order_line_id -> (invoice_month, quantity, line_amount)."""

    rows: dict[str, tuple[str, int, Decimal]] = field(default_factory=dict)

    def run(self, n: int) -> list[tuple[str, str, int, Decimal]]:
        """Run ``n``'s batch: three new lines over both months; odd runs also restate a line of the run
        before."""
        batch = [
            (f"r{n:02d}-{i}", MONTHS[(n + i) % 2], n + i + 1, Decimal(f"{n + i}.{i + 1}5")) for i in range(3)
        ]
        if n % 2:
            month, quantity, amount = self.rows[f"r{n - 1:02d}-0"]
            batch.append((f"r{n - 1:02d}-0", month, quantity + 10, amount + Decimal("1.00")))
        for line_id, month, quantity, amount in batch:
            self.rows[line_id] = (month, quantity, amount)
        return batch

    def totals(self) -> tuple[int, int, Decimal]:
        return (
            len(self.rows),
            sum(q for _m, q, _a in self.rows.values()),
            sum((a for _m, _q, a in self.rows.values()), Decimal(0)),
        )


def land(spark: SparkSQL, batch: list[tuple[str, str, int, Decimal]], restates: bool) -> None:
    values = ", ".join(
        f"('{line_id}', date'{month}', {quantity}, cast({amount} as decimal(18, 2)), current_timestamp())"
        for line_id, month, quantity, amount in batch
    )
    if not restates:
        spark.execute(f"insert into {FACT} values {values}")
        return
    spark.execute(
        f"merge into {FACT} t using (select * from values {values} "
        "as v(order_line_id, invoice_month, quantity, line_amount, _loaded_at)) s "
        "on t.order_line_id = s.order_line_id "
        "when matched then update set * when not matched then insert *"
    )


def current_snapshot(spark: SparkSQL) -> tuple[int, str]:
    snapshot_id, committed_at = spark.query(
        f"select snapshot_id, cast(committed_at as string) from {FACT}.snapshots "
        "order by committed_at desc limit 1"
    )[0]
    return int(snapshot_id), committed_at


def totals(spark: SparkSQL, relation: str) -> tuple[int, int, Decimal]:
    count, quantity, amount = spark.query(
        f"select count(*), sum(quantity), sum(line_amount) from {relation}"
    )[0]
    return int(count), int(quantity), Decimal(str(amount))


def files_per_partition(spark: SparkSQL) -> dict[str, int]:
    rows = spark.query(
        f"select cast(partition.invoice_month as string), count(*) from {FACT}.files group by 1"
    )
    return {month: int(n) for month, n in rows}


@dataclass
class Maintained:
    lines: Lines
    old: tuple[int, Lines]  # snapshot id after an early run (outside the window), what it held
    young: tuple[int, str, tuple]  # snapshot id and time of the second-last run (inside), its totals
    before: dict  # snapshots, files per partition before maintenance
    locked_error: str
    locked_seconds: float
    locked_snapshots: int
    report: object
    seconds: float
    orphan_old: Path
    orphan_new: Path


@pytest.fixture(scope="module")
def maintained(lake, prefect_harness) -> Maintained:
    from flows.maintenance import maintenance_run

    with SparkSQL(lake) as spark:
        spark.execute(f"drop database if exists {SCHEMA} cascade")
        spark.execute(f"create database {SCHEMA}")
        spark.execute(
            f"create table {FACT} (order_line_id string, invoice_month date, quantity int, "
            "line_amount decimal(18, 2), _loaded_at timestamp) using iceberg partitioned by (invoice_month)"
        )
        # not Iceberg tables: maintenance must leave them alone
        spark.execute(f"create table {SCHEMA}.raw_lines (order_line_id string) using parquet")
        spark.execute(f"create view {SCHEMA}.v_lines as select order_line_id from {FACT}")

        lines = Lines()
        old = None
        for n in range(RUNS - YOUNG_RUNS):
            land(spark, lines.run(n), restates=n % 2 == 1)
            if n == 5:
                old = (current_snapshot(spark)[0], lines.totals())
        old_runs_end = time.monotonic()

        # a pipeline run holds the lock: the flow waits its time, then fails without touching a table
        locked_snapshots = int(spark.scalar(f"select count(*) from {FACT}.snapshots"))
        started = time.monotonic()
        with pipeline_lock(lake), pytest.raises(LakehouseError) as locked:
            maintenance_run(schemas=[SCHEMA], wait_for_lock_seconds=2)
        locked_seconds = time.monotonic() - started
        assert int(spark.scalar(f"select count(*) from {FACT}.snapshots")) == locked_snapshots

        time.sleep(max(0.0, old_runs_end + GAP - time.monotonic()))
        young_start = time.time()
        young = None
        for n in range(RUNS - YOUNG_RUNS, RUNS):
            land(spark, lines.run(n), restates=n % 2 == 1)
            if n == RUNS - 2:
                young = (*current_snapshot(spark), lines.totals())

        # orphans: a file a crashed write left two days ago, and one of a write in progress
        location = next(
            r[1] for r in spark.query(f"describe table extended {FACT}") if r[0] == "Location"
        ).removeprefix("file:")
        data_dir = Path(location) / "data" / f"invoice_month={MONTHS[0]}"
        orphan_old, orphan_new = data_dir / "crashed-write.parquet", data_dir / "write-in-progress.parquet"
        orphan_old.write_bytes(b"PAR1")
        orphan_new.write_bytes(b"PAR1")
        two_days_ago = time.time() - 2 * 86400
        os.utime(orphan_old, (two_days_ago, two_days_ago))

        before = {
            "snapshots": int(spark.scalar(f"select count(*) from {FACT}.snapshots")),
            "files": files_per_partition(spark),
        }
    retention_hours = (time.time() - young_start + MARGIN) / 3600
    started = time.monotonic()
    report = maintenance_run(retention_hours=retention_hours, schemas=[SCHEMA])
    seconds = time.monotonic() - started
    return Maintained(
        lines, old, young, before, str(locked.value), locked_seconds, locked_snapshots, report, seconds,
        orphan_old, orphan_new,
    )  # fmt: skip


@integration
def test_runs_left_many_snapshots_and_small_files(maintained: Maintained):
    assert maintained.before["snapshots"] == RUNS
    assert sum(maintained.before["files"].values()) >= RUNS, maintained.before


@integration
def test_maintenance_bounds_snapshots_and_files(spark, maintained: Maintained):
    snapshots = int(spark.scalar(f"select count(*) from {FACT}.snapshots"))
    files = files_per_partition(spark)
    print(
        f"\nmaintenance of {FACT} after {RUNS} runs: snapshots {maintained.before['snapshots']} -> "
        f"{snapshots}, data files {maintained.before['files']} -> {files}, flow {maintained.seconds:.1f} s"
    )
    # the young runs, plus the compaction and the manifest rewrite
    assert snapshots <= YOUNG_RUNS + 2
    assert files == {month: 1 for month in MONTHS}


@integration
def test_data_is_unchanged(spark, maintained: Maintained):
    rows = spark.query(
        f"select order_line_id, cast(invoice_month as string), quantity, line_amount from {FACT}"
    )
    assert {r[0]: (r[1], r[2], Decimal(str(r[3]))) for r in rows} == maintained.lines.rows
    assert totals(spark, FACT) == maintained.lines.totals()


@integration
def test_time_travel_works_within_the_window(spark, maintained: Maintained):
    snapshot_id, committed_at, expected = maintained.young
    assert totals(spark, f"{FACT} version as of {snapshot_id}") == expected
    assert totals(spark, f"{FACT} timestamp as of '{committed_at}'") == expected


@integration
def test_snapshots_older_than_the_window_are_gone(spark, maintained: Maintained):
    snapshot_id, _expected = maintained.old
    assert not spark.query(f"select 1 from {FACT}.snapshots where snapshot_id = {snapshot_id}")
    with pytest.raises(LakehouseError):
        spark.query(f"select count(*) from {FACT} version as of {snapshot_id}")


@integration
def test_orphans_go_only_when_old_enough(maintained: Maintained):
    assert not maintained.orphan_old.exists()
    assert maintained.orphan_new.exists()  # younger than 24 hours: could be a write in progress


@integration
def test_only_iceberg_tables_are_maintained(maintained: Maintained):
    steps = {name: result for name, result, _s in maintained.report.steps}
    assert set(steps) == {"services up", FACT}
    assert "orphans removed" in steps[FACT]
    assert maintained.report.counts["tables failed"] == 0
    assert maintained.report.counts["orphan files removed"] == 1


@integration
def test_a_held_pipeline_lock_makes_the_flow_wait_then_fail_cleanly(maintained: Maintained):
    assert "Another pipeline run is active" in maintained.locked_error
    assert 2 <= maintained.locked_seconds < 30


@integration
def test_one_bad_table_is_reported_and_the_others_maintained(lake, spark, maintained: Maintained):
    from lakehouse import maintenance

    spark.execute(f"create table if not exists {SCHEMA}.broken (id int) using iceberg")
    spark.execute(f"insert into {SCHEMA}.broken values (1)")
    spark.execute(f"insert into {SCHEMA}.broken values (2)")
    location = next(
        r[1] for r in spark.query(f"describe table extended {SCHEMA}.broken") if r[0] == "Location"
    ).removeprefix("file:")
    for manifest_list in (Path(location) / "metadata").glob("snap-*.avro"):
        manifest_list.write_bytes(b"not avro")  # its metadata is unreadable now
    results = {r.table: r for r in maintenance.maintain(lake, retention_hours=1, schemas=[SCHEMA])}
    assert results[f"{SCHEMA}.broken"].error
    assert results[FACT].error is None
    spark.execute(f"drop table {SCHEMA}.broken")


def test_maintenance_after_every_n_runs(monkeypatch, tmp_path):
    """The pipeline's runs call maintain_if_due at their end: it counts, and maintains on the N-th run."""
    from flows import maintenance as flows_maintenance
    from flows.report import RunReport
    from lakehouse import maintenance

    monkeypatch.setenv("LAKEHOUSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MAINTENANCE_EVERY_N_RUNS", "3")
    calls = []
    monkeypatch.setattr(maintenance, "maintain", lambda settings: calls.append(1) or [])

    def timed(report, name, fn, describe):
        value = fn()
        report.step(name, describe(value), 0.0)
        return value

    reports = [RunReport(f"run {n}") for n in range(7)]
    for report in reports:
        flows_maintenance.maintain_if_due(report, timed)
    assert len(calls) == 2  # runs 3 and 6
    assert [bool(r.steps) for r in reports] == [False, False, True, False, False, True, False]
    monkeypatch.setenv("MAINTENANCE_EVERY_N_RUNS", "0")
    for report in reports:
        flows_maintenance.maintain_if_due(report, timed)
    assert len(calls) == 2


def test_weekly_deployment_runs_the_maintenance_flow():
    from flows.deployments import SCHEDULES, deployments
    from flows.maintenance import maintenance_run

    (weekly,) = [d for d in deployments() if d.name == "table-maintenance-weekly"]
    assert weekly.flow_name == maintenance_run.name == "table-maintenance"
    assert SCHEDULES["table-maintenance-weekly"] == "0 3 * * 0"  # Sundays 03:00 UTC
