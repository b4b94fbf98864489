"""Extraction benchmark: the shop database's order_items (1M rows) extracted into the lake, fully then
incrementally, against ``psql \\copy (the same query) to FILE``; then every shop table in one run.

Each side is timed BENCH_EXTRACT_REPEAT times (default 3), psql and full extraction alternately (the machine
is shared: alternating spreads its noise over both), and the fastest of each is kept.
Prints `name: value unit` lines:
  extract_rows                        rows in shop.order_items (BENCH_EXTRACT_ROWS, default 1,000,000)
  extract_repeats                     timings per figure (the fastest is printed)
  extract_psql_copy_seconds           `psql -c "\\copy (<the extraction's query>) to FILE"` (same rows, order)
  extract_full_seconds                `run_extraction` of the table into an empty lake schema (its tables
                                      made, untimed): plan, stream, land, register, cursor
  extract_full_stream_seconds         of which streaming: ADBC binary COPY -> Arrow -> text -> Parquet
  extract_full_bookkeeping_seconds    the rest: the Spark statements over Thrift left on the critical path
                                      (most overlap the streaming on a second connection)
  extract_full_vs_psql                psql seconds / full seconds (goal: 0.70 or more)
  extract_stream_vs_psql              psql seconds / stream seconds
  extract_incremental_rows            rows changed (1%), then extracted
  extract_incremental_seconds         an incremental run, end to end
  extract_incremental_stream_seconds  of which streaming
  extract_incremental_vs_full         incremental seconds / full seconds (goal: under 0.05)
  extract_incremental_stream_vs_full_stream  the same for the streaming parts alone (no Spark statements)
  extract_incremental_fixed_seconds   an incremental run minus its streaming: the fixed cost of a run with a
                                      batch (cursor read, manifest read, partition, manifest + history
                                      commits, cursor commit), whatever the number of rows
  extract_fixed_vs_full               that fixed cost / full seconds: the floor of incremental_vs_full
  extract_per_row_microseconds        the full streaming per row: the cost that follows the data
  extract_incremental_goal_from_rows  the table size from which a 1% incremental run is under 5% of a full
                                      one, from the figures above: (fixed - 0.05 x full's bookkeeping)
                                      / (0.04 x per-row cost); below it the per-run catalog work dominates
  extract_key_check_seconds           a run that also compares the 1M keys (finds the hard deletes)
  extract_unchanged_seconds           a run that finds nothing changed (cursor read, one index probe)
  extract_incremental_3x_table_rows   the table after 2M more rows (stamped behind the cursor)
  extract_incremental_3x_table_seconds  the same 1% (of the first 1M) changed in the 3M-row table: about
                                      extract_incremental_seconds, the time follows the changed rows
  extract_incremental_3x_table_stream_seconds  of which streaming
  extract_all_tables_count            the shop tables extracted in one run
  extract_all_tables_full_rows        rows of a simulated shop (BENCH_EXTRACT_ALL_ITEMS order lines of
                                      history, default 100,000, and three simulated days), all tables
  extract_all_tables_full_seconds     their first extraction, one run
  extract_all_tables_incremental_rows 1% of every table's rows changed
  extract_all_tables_incremental_seconds  one run extracting them (a batch per table; one commit each for
                                      the manifest, history and cursors of all tables)

Needs the project venv. Starts its own PostgreSQL and Spark Thrift Server (benchmarks/_bench_env.py), creates
the shop database there (empties its order_items; the all-tables part re-creates the shop) and lands into a
lake schema of its own (dropped after).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import psycopg
from _bench_env import keep_services  # the services of the benchmarks (sets the environment)

from ingestion import catalog
from ingestion.contract import SHOP_TABLES
from ingestion.extract import (
    Cursor,
    changed_rows_sql,
    end_position,
    ensure_cursor_table,
    open_source,
    run_extraction,
    source_columns,
)
from ingestion.rawzone import RawZone
from ingestion.shopdb import ensure_database, source_url
from ingestion.shopdb.simulator import Simulator
from lakehouse import services
from lakehouse.platform.settings import load_settings
from lakehouse.platform.sql import SparkSQL
from lakehouse.services.postgres import pg_bin_dir

ROWS = int(os.environ.get("BENCH_EXTRACT_ROWS", "1000000"))
REPEAT = int(os.environ.get("BENCH_EXTRACT_REPEAT", "3"))
ALL_ITEMS = int(os.environ.get("BENCH_EXTRACT_ALL_ITEMS", "100000"))
SCHEMA = "bench_extract"
TABLE = SHOP_TABLES["order_items"]
START = datetime(2026, 1, 1, tzinfo=UTC)


def emit(name: str, value: float, unit: str) -> None:
    text = (
        f"{value:,.0f}"
        if unit in ("rows", "times", "tables")
        else f"{value:.3f}"
        if unit == "ratio"
        else f"{value:.2f}"
    )
    print(f"{name}: {text} {unit}", flush=True)


def load_order_items(url: str) -> None:
    """ROWS order lines, ten sharing each updated_at second (generated by the server, one statement)."""
    with psycopg.connect(url) as conn:
        conn.execute("truncate shop.order_items")
        conn.execute(
            "insert into shop.order_items select md5(g::text), 1 + mod(g, 3), md5(mod(g, 5000)::text), "
            "md5(mod(g, 300)::text), %s + make_interval(secs => g), mod(g, 10000) / 100.0, "
            "mod(g, 2000) / 100.0, %s + make_interval(secs => g / 10) from generate_series(1, %s) g",
            (START, START, ROWS),
        )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze shop.order_items")


def change_one_percent(url: str, at: datetime) -> None:
    """1% of the first ROWS order lines (by a hash of the order id) change, sharing one updated_at."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "update shop.order_items set price = price + 1, updated_at = %s "
            "where mod(abs(hashtext(order_id)), 100) = 0 and updated_at >= %s",
            (at, START),
        )


def grow_behind_cursor(url: str, n: int) -> None:
    """``n`` more order lines, stamped before START (behind every cursor: no extraction reads them), so the
    table is bigger and the rows an incremental run reads are the same."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into shop.order_items select md5('big' || g), 1, md5(mod(g, 5000)::text), "
            "md5(mod(g, 300)::text), %s, 1.00, 1.00, %s - make_interval(secs => g) "
            "from generate_series(1, %s) g",
            (START, START, n),
        )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze shop.order_items")


def all_tables(settings: Any, url: str, spark: SparkSQL, zone: RawZone) -> None:
    """Every shop table at once: a simulated shop (BENCH_EXTRACT_ALL_ITEMS order lines of history plus a
    few simulated days), extracted in full, then 1% of every table's rows change and one run extracts them."""
    tables = list(SHOP_TABLES.values())
    with Simulator(url) as sim:
        sim.init(reset=True)
        sim.bulk_load(ALL_ITEMS)
        for _ in sim.run(3):
            pass
    spark.execute(f"drop database if exists {SCHEMA} cascade")
    zone.remove_dir(zone.root)
    try:
        existing = catalog.ensure_tables(spark, zone, SCHEMA, {t.source for t in tables})
        ensure_cursor_table(spark, SCHEMA, existing)
        started = time.perf_counter()
        report = run_extraction(spark, zone, url, tables, 0, schema=SCHEMA)
        full = time.perf_counter() - started
        assert not report.failed, [r.line() for r in report.failed]
        emit("extract_all_tables_count", len(tables), "tables")
        emit("extract_all_tables_full_rows", sum(r.rows for r in report.results), "rows")
        emit("extract_all_tables_full_seconds", full, "s")
        incs, rows = [], 0
        for i in range(REPEAT):
            with psycopg.connect(url) as conn:
                for t in tables:
                    key = ", ".join(f"{k}::text" for k in t.key)
                    conn.execute(
                        f"update shop.{t.name} set updated_at = %s "
                        f"where mod(abs(hashtext(concat_ws('|', {key}))), 100) = 0",
                        (datetime(2027, 1, 1 + i, tzinfo=UTC),),
                    )
            started = time.perf_counter()
            report = run_extraction(spark, zone, url, tables, 0, schema=SCHEMA)
            incs.append(time.perf_counter() - started)
            assert not report.failed, [r.line() for r in report.failed]
            rows = sum(r.rows for r in report.results)
        emit("extract_all_tables_incremental_rows", rows, "rows")
        emit("extract_all_tables_incremental_seconds", min(incs), "s")
    finally:
        spark.execute(f"drop database if exists {SCHEMA} cascade")


def extraction_query(url: str) -> str:
    """The query a full extraction of order_items runs (ingestion.extract.changed_rows_sql)."""
    with open_source(url) as conn:
        types = source_columns(conn, TABLE.name)
        start = Cursor(TABLE.name)
        position = end_position(conn, TABLE, types, start)
    assert position is not None
    end = Cursor(TABLE.name, updated_at=position[0], key_values=json.dumps(position[1]))
    return changed_rows_sql(TABLE, types, start, end)


def psql_copy(url: str, query: str, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([str(pg_bin_dir() / "psql"), url, "-qc", f"\\copy ({query}) to '{out}'"], check=True)
    seconds = time.perf_counter() - started
    out.unlink()
    return seconds


def main() -> None:
    settings = load_settings()
    services.up(settings, echo=lambda _msg: None)
    try:
        ensure_database(settings)
        url = source_url(settings)
        load_order_items(url)
        emit("extract_rows", ROWS, "rows")
        emit("extract_repeats", REPEAT, "times")
        query = extraction_query(url)
        with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp, SparkSQL(settings) as spark:
            zone = RawZone(str(Path(tmp) / "raw"))

            def fresh_lake() -> None:
                """An empty lake schema with its tables (what `make up` leaves), untimed."""
                spark.execute(f"drop database if exists {SCHEMA} cascade")
                zone.remove_dir(zone.root)
                existing = catalog.ensure_tables(spark, zone, SCHEMA, {TABLE.source})
                ensure_cursor_table(spark, SCHEMA, existing)

            def extract(key_check_every: int = 0) -> tuple[float, float, int, int]:
                started = time.perf_counter()
                report = run_extraction(spark, zone, url, [TABLE], key_check_every, schema=SCHEMA)
                (result,) = report.results
                assert result.status in ("succeeded", "unchanged"), result.line()
                return time.perf_counter() - started, result.seconds, result.rows, result.deletes

            try:
                copies, fulls, full_streams = [], [], []
                for i in range(REPEAT):  # alternately
                    copies.append(psql_copy(url, query, Path(tmp) / f"copy{i}.txt"))
                    fresh_lake()
                    full, full_stream, rows, _ = extract()
                    assert rows == ROWS, rows
                    fulls.append(full)
                    full_streams.append(full_stream)
                copy, full, full_stream = min(copies), min(fulls), min(full_streams)
                emit("extract_psql_copy_seconds", copy, "s")
                emit("extract_full_seconds", full, "s")
                emit("extract_full_stream_seconds", full_stream, "s")
                emit("extract_full_bookkeeping_seconds", full - full_streams[fulls.index(full)], "s")
                emit("extract_full_vs_psql", copy / full, "ratio")
                emit("extract_stream_vs_psql", copy / full_stream, "ratio")

                incs, inc_streams = [], []
                for i in range(REPEAT):  # 1% of the rows change, sharing one updated_at
                    change_one_percent(url, datetime(2026, 6, 1 + i, tzinfo=UTC))
                    inc, inc_stream, inc_rows, _ = extract()
                    assert inc_rows == ROWS // 100 or abs(inc_rows - ROWS // 100) < ROWS // 200, inc_rows
                    incs.append(inc)
                    inc_streams.append(inc_stream)
                emit("extract_incremental_rows", inc_rows, "rows")
                emit("extract_incremental_seconds", min(incs), "s")
                emit("extract_incremental_stream_seconds", min(inc_streams), "s")
                emit("extract_incremental_vs_full", min(incs) / full, "ratio")
                emit("extract_incremental_stream_vs_full_stream", min(inc_streams) / full_stream, "ratio")

                fixed = [inc - stream for inc, stream in zip(incs, inc_streams, strict=True)]
                emit("extract_incremental_fixed_seconds", min(fixed), "s")
                emit("extract_fixed_vs_full", min(fixed) / full, "ratio")
                per_row = full_stream / ROWS
                emit("extract_per_row_microseconds", per_row * 1e6, "us")
                full_fixed = full - full_streams[fulls.index(full)]
                emit(
                    "extract_incremental_goal_from_rows",
                    (min(fixed) - 0.05 * full_fixed) / (0.04 * per_row),
                    "rows",
                )

                with psycopg.connect(url) as conn:
                    conn.execute("delete from shop.order_items where order_id = md5('42')")
                check, _, _, deletes = extract(key_check_every=1)
                assert deletes == 1, deletes
                emit("extract_key_check_seconds", check, "s")
                emit("extract_unchanged_seconds", min(extract()[0] for _ in range(REPEAT)), "s")

                # the same 1% change on a table three times as big: the source reads its index from the
                # cursor on and the lake adds a batch, so the time follows the changed rows, not the table
                grow_behind_cursor(url, 2 * ROWS)
                big, big_streams = [], []
                for i in range(REPEAT):
                    change_one_percent(url, datetime(2026, 11, 1 + i, tzinfo=UTC))
                    inc, inc_stream, inc_rows, _ = extract()
                    assert abs(inc_rows - ROWS // 100) < ROWS // 200, inc_rows
                    big.append(inc)
                    big_streams.append(inc_stream)
                emit("extract_incremental_3x_table_rows", 3 * ROWS, "rows")
                emit("extract_incremental_3x_table_seconds", min(big), "s")
                emit("extract_incremental_3x_table_stream_seconds", min(big_streams), "s")
            finally:
                spark.execute(f"drop database if exists {SCHEMA} cascade")
            all_tables(settings, url, spark, zone)
    finally:
        if not keep_services():
            services.down(settings, echo=lambda _msg: None)


if __name__ == "__main__":
    main()
