"""Gold export speed: prints `name: value unit` lines (make bench).

1. A 1M-row order-line-like Iceberg fact (written by Spark in schema `bench_gold`) exported lake -> gold
   (read the Iceberg files, COPY, primary key and indexes built, reconciled, swapped in) versus `psql \\copy`
   of the same rows from a CSV file into a bare table (no key, no index) on the same server in the same run.
2. An hourly export of 10,000 new lines on top of the 1M exported ones (incremental upsert) versus exporting
   those 10,000 lines into an empty gold. Lines are one every 30 seconds, so the new ones are the newest
   (the last 3.5 days), as new order lines are; the key leads with the partition column, as gold_models
   derives it from the manifest.
Every timed step starts from a quiet server (what autovacuum would do to the last step's tables done
beforehand, then a CHECKPOINT, so no step pays for the one before); the 1M export and the `\\copy` run REPEAT
times each, alternating, and the medians are printed, with the CPU seconds the embedded server spent on each
(the bound on 2 cores: the export's key and indexes cost the server more CPU than `\\copy`'s whole load).
Needs the services (`make up`); uses the configured ones; its tables stay in its own bench schemas.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
import psycopg
import pyarrow.csv as pacsv

from lakehouse import gold, services
from lakehouse.gold import GoldModel, lake_scan, pgcopy, state
from lakehouse.platform.settings import load_settings
from lakehouse.platform.sql import SparkSQL

SCHEMA = "bench_gold"
ROWS = int(os.environ.get("BENCH_GOLD_ROWS", "1000000"))
HOURLY = 10_000
REPEAT = int(os.environ.get("BENCH_GOLD_REPEAT", "3"))


def quiet(settings) -> None:
    """Start the next timed step on a quiet server: no autovacuum worker busy with the tables the last step
    loaded (it would take one of the cores from the step; an hourly export in production comes long after
    it), their dirty pages flushed, and the Thrift server's writes settled."""
    with psycopg.connect(settings.gold_url, autocommit=True) as conn:
        conn.execute("vacuum")  # what autovacuum would do to the tables loaded by the last step, done now
        deadline = time.monotonic() + 120
        while (
            time.monotonic() < deadline
            and conn.execute(
                "select count(*) from pg_stat_activity where backend_type = 'autovacuum worker'"
            ).fetchone()[0]
        ):
            time.sleep(0.1)
        conn.execute("checkpoint")
    time.sleep(1)


def server_cpu(settings) -> float | None:
    """CPU seconds the embedded PostgreSQL has used so far: the postmaster, its live backends and the ended
    ones it has reaped. None for an external server (its processes are not ours to read)."""
    proc = services.Postgres(settings).process() if settings.pg_embedded else None
    if proc is None:
        return None
    time.sleep(0.3)  # let the postmaster reap the backends of the connections just closed
    total = 0.0
    for child in proc.children():
        with contextlib.suppress(psutil.NoSuchProcess):
            total += sum(child.cpu_times()[:2])
    times = proc.cpu_times()
    return total + times.user + times.system + times.children_user + times.children_system


def timed_step(settings, step):
    """Run ``step()`` from a quiet server: its result, its wall seconds, and the embedded server's CPU seconds
    spent meanwhile (None for an external server)."""
    quiet(settings)
    cpu0, t0 = server_cpu(settings), time.monotonic()
    result = step()
    seconds = time.monotonic() - t0
    return result, seconds, server_cpu(settings) - cpu0 if cpu0 is not None else None


def lines_sql(start: int, n: int, loaded_at: str) -> str:
    return (
        f"select sha2(cast(id as string), 256) as order_line_key, "
        f"date_format(timestamp '2024-01-01 00:00:00' + make_interval(0, 0, 0, 0, 0, 0, id * 30), 'yyyy-MM') "
        f"as invoice_month, "
        f"concat('INV', cast(id div 4 as string)) as invoice_no, "
        f"concat('P', cast(id % 5000 as string)) as stock_code, "
        f"sha2(concat('p', cast(id % 5000 as string)), 256) as product_sk, "
        f"concat('C', cast(id % 20000 as string)) as customer_sk, "
        f"element_at(array('GB','FR','DE','NL','ES'), cast(id % 5 + 1 as int)) as country_id, "
        f"timestamp '2024-01-01 00:00:00' + make_interval(0, 0, 0, 0, 0, 0, id * 30) as invoice_ts, "
        f"cast(id % 7 + 1 as bigint) as quantity, cast((id % 1000) / 10.0 as decimal(18,2)) as unit_price, "
        f"cast((id % 7 + 1) * (id % 1000) / 10.0 as decimal(18,2)) as amount, "
        f"concat('batch-', cast(id div 10000 as string)) as _batch_id, "
        f"timestamp '{loaded_at}' as _loaded_at from range({start}, {start + n})"
    )


def fact_model(name: str) -> GoldModel:
    return GoldModel(
        name=name, lake_relation=f"{SCHEMA}.{name}", primary_key=("invoice_month", "order_line_key"),
        index_columns=("product_sk", "customer_sk"), incremental=True,
    )  # fmt: skip


def main() -> None:
    settings = load_settings()
    services.up(settings, echo=lambda _m: None)
    gold.ensure_gold(settings)
    with SparkSQL(settings) as spark:
        spark.execute(f"create database if not exists {SCHEMA}")
        for name, rows in (("fct_lines_1m", ROWS), ("fct_lines_10k", HOURLY)):
            spark.execute(f"drop table if exists {SCHEMA}.{name}")
            spark.execute(
                f"create table {SCHEMA}.{name} using iceberg partitioned by (invoice_month) "
                f"as {lines_sql(0 if rows == ROWS else ROWS, rows, '2024-02-01 00:00:00')}"
            )
        data = lake_scan.read_lake_table(spark, f"{SCHEMA}.fct_lines_1m")
    with psycopg.connect(gold.role_url(settings, gold.WRITER), autocommit=True) as conn:
        state.ensure_state(conn)
        for name in ("fct_lines_1m", "fct_lines_10k"):
            conn.execute(f"drop table if exists gold_marts.{name}")
            conn.execute("delete from gold_marts._export_state where table_name = %s", (name,))

    csv_dir = tempfile.TemporaryDirectory()
    csv = Path(csv_dir.name) / "lines.csv"
    pacsv.write_csv(data, csv, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    columns = ", ".join(f"{f.name} {pgcopy.pg_type(f.type)}" for f in data.schema)
    del data
    psql = str(services.pg_bin_dir() / "psql")
    copy_sql = f"\\copy bench_copy.lines from '{csv}' with (format csv)"
    copy_command = [psql, settings.gold_url, "-q", "-c", copy_sql]
    export_runs, copy_runs = [], []
    for _ in range(REPEAT):
        # lake -> gold, until queryable with its keys and indexes
        export_runs.append(timed_step(settings, lambda: gold.export_gold(
            settings, models=[fact_model("fct_lines_1m")], full_refresh=True
        )))  # fmt: skip
        # the practical limit: psql \copy from CSV into a bare table of the same server
        with psycopg.connect(settings.gold_url, autocommit=True) as conn:
            conn.execute("create schema if not exists bench_copy")
            conn.execute("drop table if exists bench_copy.lines")
            conn.execute(f"create table bench_copy.lines ({columns})")
        copy_runs.append(
            timed_step(settings, lambda: subprocess.run(copy_command, check=True, capture_output=True))
        )
        with psycopg.connect(settings.gold_url, autocommit=True) as conn:
            conn.execute("drop table bench_copy.lines")  # measured: nothing left for autovacuum to chew on
    csv_dir.cleanup()
    export_s, copy_s = (statistics.median(s for _r, s, _cpu in runs) for runs in (export_runs, copy_runs))
    export_cpu, copy_cpu = (
        [cpu for *_r, cpu in runs if cpu is not None] for runs in (export_runs, copy_runs)
    )
    print(f"gold_export_1m_rows_per_s: {ROWS / export_s:.0f} rows/s")
    print(f"gold_export_1m_seconds: {export_s:.2f} s")
    print(f"psql_copy_bare_1m_rows_per_s: {ROWS / copy_s:.0f} rows/s")
    print(f"gold_export_vs_psql_copy: {copy_s / export_s * 100:.0f} %")
    if export_cpu and copy_cpu:
        # the machine's bound: the export's server work (binary COPY, key, indexes, analyze, counts) against
        # \copy's (CSV parsing), whatever the wall clock did
        print(f"gold_export_1m_server_cpu_seconds: {statistics.median(export_cpu):.2f} s")
        print(f"psql_copy_bare_1m_server_cpu_seconds: {statistics.median(copy_cpu):.2f} s")

    # hourly: 10k new lines on top of 1M exported ones, vs the same 10k into an empty gold
    with SparkSQL(settings) as spark:
        spark.execute(f"insert into {SCHEMA}.fct_lines_1m {lines_sql(ROWS, HOURLY, '2024-02-01 01:00:00')}")
    hourly, hourly_s, _cpu = timed_step(
        settings, lambda: gold.export_gold(settings, models=[fact_model("fct_lines_1m")])
    )
    assert hourly[0].mode == "upsert" and hourly[0].changed_rows == HOURLY, hourly
    _result, empty_s, _cpu = timed_step(
        settings, lambda: gold.export_gold(settings, models=[fact_model("fct_lines_10k")])
    )
    print(f"gold_hourly_10k_on_1m_seconds: {hourly_s:.2f} s")
    print(f"gold_10k_into_empty_seconds: {empty_s:.2f} s")
    print(f"gold_hourly_vs_empty_ratio: {hourly_s / empty_s:.2f} x")


if __name__ == "__main__":
    main()
