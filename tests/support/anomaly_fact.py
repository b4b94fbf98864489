"""A small order-line fact written straight into the lake (only the columns the anomaly models read), so the
detection is tested on Spark + Iceberg without the dbt build of the whole warehouse.

Shape (dates 2024-01-01 .. 2024-02-29; detection window 2024-02-23 .. 2024-02-29 with
anomaly_detection_end = 2024-03-01, training the 90 days before it):
- P1..P5: two lines a day each, quantity 17..23 (mean about 20, stddev about 2), country GB (P4: FR).
- PFEW: 5 lines in training (not enough to score); PFLAT: 30 lines of quantity 5 (stddev 0).
Scenario rows (spikes, volume) are added by the tests with :func:`add_lines`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from datetime import date, timedelta

from ingestion import manifest
from lakehouse.platform.sql import SparkSQL, literal

FACT = "marts.fct_order_lines"
FACT_COLUMNS = {
    "order_line_key": "string",
    "invoice_month": "string",
    "invoice_no": "string",
    "stock_code": "string",
    "product_sk": "string",
    "customer_id": "string",
    "customer_sk": "string",
    "country_id": "string",
    "invoice_ts": "timestamp",
    "invoice_date": "date",
    "quantity": "bigint",
    "is_cancellation": "boolean",
    "amount_gbp": "decimal(18,2)",
    "_loaded_at": "timestamp",
}
FIRST_DAY = date(2024, 1, 1)
DETECTION_START = date(2024, 2, 23)
DETECTION_END = date(2024, 3, 1)
NORMAL_PRODUCTS = ("P1", "P2", "P3", "P4", "P5")
LAKE_SCHEMAS = ("raw", "staging", "intermediate", "marts", "ops")


def normal_quantity(day: int, line: int, product: int) -> int:
    return 20 + (day * 2 + line + product) % 7 - 3


def line(key: str, product: str, day: date, quantity: int, country: str = "GB", hour: int = 10) -> dict:
    return {
        "order_line_key": key,
        "invoice_month": day.strftime("%Y-%m"),
        "invoice_no": f"INV-{key}",
        "stock_code": product,
        "product_sk": f"{product}-v1",
        "customer_id": f"C-{key[-3:]}",
        "customer_sk": f"C-{key[-3:]}-v1",
        "country_id": country,
        "invoice_ts": f"{day.isoformat()} {hour:02d}:00:00",
        "invoice_date": day.isoformat(),
        "quantity": quantity,
        "is_cancellation": False,
        "amount_gbp": f"{quantity * 1.0:.2f}",
        "_loaded_at": "2024-03-01 00:00:00",
    }


def baseline_lines() -> list[dict]:
    rows = []
    days = (DETECTION_END - FIRST_DAY).days
    for d in range(days):
        day = FIRST_DAY + timedelta(days=d)
        for p, product in enumerate(NORMAL_PRODUCTS):
            for n in range(2):
                country = "FR" if product == "P4" else "GB"
                rows.append(line(f"{product}-{d}-{n}", product, day, normal_quantity(d, n, p), country))
    for d in range(5):
        rows.append(line(f"PFEW-{d}", "PFEW", FIRST_DAY + timedelta(days=d), 3))
    for d in range(30):
        rows.append(line(f"PFLAT-{d}", "PFLAT", FIRST_DAY + timedelta(days=d), 5))
    return rows


def training_stats(product: str) -> tuple[float, float]:
    """Mean and sample stddev of a normal product's quantities in the training window (from the data)."""
    p = NORMAL_PRODUCTS.index(product)
    values = [normal_quantity(d, n, p) for d in range((DETECTION_START - FIRST_DAY).days) for n in range(2)]
    return statistics.mean(values), statistics.stdev(values)


def _value(column: str, value: object) -> str:
    spark_type = FACT_COLUMNS[column]
    if value is None:
        return f"cast(null as {spark_type})"
    if spark_type in ("bigint", "boolean"):
        return str(value).lower()
    return f"cast({literal(str(value), 'string')} as {spark_type})"


def add_lines(spark: SparkSQL, rows: list[dict]) -> None:
    values = ", ".join("(" + ", ".join(_value(c, r[c]) for c in FACT_COLUMNS) + ")" for r in rows)
    spark.execute(f"insert into {FACT} values {values}")


def reset_lake(spark: SparkSQL) -> None:
    for schema in LAKE_SCHEMAS:
        spark.execute(f"drop database if exists {schema} cascade")
    spark.execute("create database marts")
    spark.execute("create database raw")
    spark.execute(manifest.create_sql("raw"))  # the batch manifest the volume monitor reads: no batch yet
    cols = ", ".join(f"{c} {t}" for c, t in FACT_COLUMNS.items())
    spark.execute(f"create table {FACT} ({cols}) using iceberg partitioned by (invoice_month)")
    add_lines(spark, baseline_lines())


def detect(end: date = DETECTION_END, *extra: str) -> subprocess.CompletedProcess:
    """`dbt build --select tag:anomalies` (the detection models and their tests) for a detection window."""
    variables = json.dumps({"anomaly_detection_end": end.isoformat()})
    proc = subprocess.run(
        [sys.executable, "-m", "lakehouse", "dbt", "build", "--select", "tag:anomalies", "--vars", variables,
         *extra],
        capture_output=True, text=True, env=os.environ.copy(),
    )  # fmt: skip
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-60:])
        raise AssertionError(f"dbt build of the anomaly models failed:\n{tail}")
    return proc
