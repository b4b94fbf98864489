"""Warehouse benchmark: cost of an hourly order-line batch on an empty fact vs on a large fact.

Prints `name: value unit` lines:
  pipeline_batch_empty_fact      wall time of the order-line pipeline run for one batch, fact empty
  pipeline_batch_large_fact      the same batch size once the fact holds BENCH_FACT_ROWS lines
  pipeline_ratio                 large / empty (target: at most 1.5)
  model_<name>_empty|large       each pipeline model's own time (dbt run_results)
  layer_<folder>                 time per layer (staging, snapshots, intermediate, marts), bulk load build

The pipeline run is `dbt run --select int_order_lines__validated fct_order_lines quarantine_order_lines
audit_batch_reconciliation` (what an hourly run adds to the constant-cost staging views, snapshots and dims).

Needs: the project venv (Java 17, pyspark, the Iceberg jar wheel) and a few GB of disk. It starts its own
Spark Thrift Server and PostgreSQL on a dedicated data directory and ports, and DROPS every lake schema in
that directory first:
  BENCH_DATA_DIR (default .lakehouse/bench), BENCH_THRIFT_PORT (10500), BENCH_PG_PORT (15932),
  BENCH_UI_PORT (4540), BENCH_KEEP_SERVICES=1 to leave them running.
Size: BENCH_FACT_ROWS (default 2000000) and BENCH_BATCH_ROWS (default 10000); for a quick run e.g.
  BENCH_FACT_ROWS=200000 BENCH_BATCH_ROWS=2000 python benchmarks/bench_warehouse.py
At full size expect roughly 15 to 30 minutes on 2 cores (the bulk load dominates).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_env import keep_services  # the services of the benchmarks (sets the environment)

from ingestion.contract import SOURCES
from lakehouse import services
from lakehouse.platform.settings import load_settings
from lakehouse.platform.sql import SparkSQL
from tests.support import rawdata
from tests.support.warehouse import WAREHOUSE_SELECTION, reset_lake

FACT_ROWS = int(os.environ.get("BENCH_FACT_ROWS", "2000000"))
BATCH_ROWS = int(os.environ.get("BENCH_BATCH_ROWS", "10000"))
PRODUCTS = 1000
CUSTOMERS = 5000
PIPELINE = [
    "int_order_lines__validated",
    "fct_order_lines",
    "quarantine_order_lines",
    "audit_batch_reconciliation",
]


def say(name: str, value: float, unit: str) -> None:
    print(f"{name}: {value:.3f} {unit}", flush=True)


def dbt(settings, *args: str) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "lakehouse", "dbt", *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(
            f"dbt {' '.join(args)} failed:\n" + "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        )
    results = json.loads((settings.dbt_target_path / "run_results.json").read_text())["results"]
    return elapsed, results


def land_master_data(spark: SparkSQL) -> None:
    rawdata.land(spark, "countries", "bench-md", rawdata.COUNTRIES)
    rawdata.land(
        spark,
        "exchange_rates",
        "bench-md",
        rawdata.EXCHANGE_RATES
        + [
            {"currency": c, "rate_date": "2023-01-01", "quote_currency": "GBP", "rate": r}
            for c, r in (("EUR", "0.86"), ("USD", "0.80"))
        ],
    )
    spark.execute(
        "insert into raw.products partition (ingest_date='2023-12-01', batch_id='bench-md') "
        f"select concat('B', lpad(cast(id as string), 5, '0')), concat('Product ', id), "
        "element_at(array('Kitchen', 'Home', 'Garden', 'Toys'), 1 + cast(pmod(id, 4) as int)), "
        "cast(1 + pmod(id, 50) * 0.5 as string), '2023-12-01', 'bench-md', 'bench/products.csv', id + 1, "
        f"current_timestamp() from range({PRODUCTS})"
    )
    spark.execute(
        "insert into raw.customers partition (ingest_date='2023-12-01', batch_id='bench-md') "
        "select concat('BC', id), concat('Customer ', id), concat('c', id, '@example.com'), "
        "element_at(array('GB', 'FR', 'US'), 1 + cast(pmod(id, 3) as int)), 'retail', '2023-01-01', "
        "'2023-01-01 00:00:00', 'bench-md', 'bench/customers.csv', id + 1, current_timestamp() "
        f"from range({CUSTOMERS})"
    )


ORDER_LINE_COLUMNS = SOURCES["order_lines"].columns


def land_order_lines(spark: SparkSQL, batch_id: str, rows: int, first_id: int, start: str, days: int) -> None:
    """`rows` lines with invoice times spread over `days` days from `start`; 1% unknown products."""
    # the contract's columns after country_id (description, unit_price, ...) are absent from generated lines,
    # as in ingestion; counted from the contract, so a new raw column does not break the benchmark
    absent = "null, " * len(ORDER_LINE_COLUMNS[ORDER_LINE_COLUMNS.index("country_id") + 1 :])
    spark.execute(
        f"insert into raw.order_lines partition (ingest_date='2025-12-31', batch_id='{batch_id}') "
        "select cast(id div 4 as string), "
        "case when pmod(id, 100) = 0 then concat('X', id) "
        f"else concat('B', lpad(cast(pmod(id * 7919, {PRODUCTS}) as string), 5, '0')) end, "
        "cast(1 + pmod(id, 12) as string), "
        f"date_format(timestamp_seconds(unix_timestamp(timestamp '{start}') "
        f"+ pmod(id * 37, {days * 86400})), 'yyyy-MM-dd HH:mm:ss'), "
        f"concat('BC', pmod(id, {CUSTOMERS})), "
        "element_at(array('GB', 'FR', 'US'), 1 + cast(pmod(id, 3) as int)), "
        f"{absent}'{batch_id}', 'bench/{batch_id}.csv', id - {first_id} + 1, current_timestamp() "
        f"from range({first_id}, {first_id + rows})"
    )


def report_models(results: list[dict], suffix: str) -> None:
    for result in results:
        name = result["unique_id"].split(".")[-1]
        if name in PIPELINE:
            say(f"model_{name}_{suffix}", result["execution_time"], "s")


def main() -> None:
    settings = load_settings()
    services.up(settings, echo=lambda _msg: None)
    try:
        with SparkSQL(settings) as spark:
            reset_lake(spark)
            land_master_data(spark)
            dbt(
                settings,
                "build",
                *WAREHOUSE_SELECTION,
                "--exclude",
                "resource_type:test",
                "resource_type:unit_test",
            )

            # one batch on an empty fact
            land_order_lines(spark, "bench-hour-1", BATCH_ROWS, 10_000_000_000, "2025-12-01 00:00:00", 1)
            empty, results = dbt(settings, "run", "--select", *PIPELINE)
            say("pipeline_batch_empty_fact", empty, "s")
            report_models(results, "empty")

            # bulk: the fact grows to FACT_ROWS lines over two years
            land_order_lines(spark, "bench-bulk", FACT_ROWS, 0, "2024-01-01 00:00:00", 730)
            bulk, results = dbt(
                settings,
                "build",
                *WAREHOUSE_SELECTION,
                "--exclude",
                "resource_type:test",
                "resource_type:unit_test",
            )
            say("bulk_load_build", bulk, "s")
            layers: dict[str, float] = defaultdict(float)
            for result in results:
                node = result["unique_id"]
                layer = "snapshots" if node.startswith("snapshot.") else node.split(".")[-1].split("_")[0]
                layer = {"stg": "staging", "int": "intermediate"}.get(
                    layer, "marts" if layer != "snapshots" else layer
                )
                layers[layer] += result["execution_time"]
            for layer, seconds in sorted(layers.items()):
                say(f"layer_{layer}", seconds, "s")
            say("fact_rows", spark.scalar("select count(*) from marts.fct_order_lines"), "rows")

            # the same batch size on the large fact
            land_order_lines(spark, "bench-hour-2", BATCH_ROWS, 20_000_000_000, "2025-12-02 00:00:00", 1)
            large, results = dbt(settings, "run", "--select", *PIPELINE)
            say("pipeline_batch_large_fact", large, "s")
            report_models(results, "large")
            say("pipeline_ratio", large / empty, "x")
            unreconciled = spark.scalar(
                "select sum(abs(unreconciled_rows)) from marts.audit_batch_reconciliation"
            )
            say("unreconciled_rows", unreconciled or 0, "rows")
    finally:
        if not keep_services():
            services.down(settings, echo=lambda _msg: None)


if __name__ == "__main__":
    main()
