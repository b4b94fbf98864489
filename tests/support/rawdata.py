"""Raw tables of the ingestion contract, created and filled over Thrift for warehouse tests and benchmarks.

The ingestion package lands the real data; this module lands tiny, hand-written batches with exactly the
raw contract (business columns as strings, lineage columns, Hive partitions ``ingest_date``/``batch_id``)
so the dbt models can be developed and tested on their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from ingestion.contract import SOURCES
from lakehouse.platform.sql import SparkSQL, literal

RAW_SCHEMA = "raw"

# The business columns of the ingestion contract (ingestion/contract.py), in its order.
BUSINESS_COLUMNS: dict[str, list[str]] = {
    name: list(SOURCES[name].columns)
    for name in ("countries", "exchange_rates", "products", "customers", "order_lines")
}
LINEAGE = "_batch_id string, _source_file string, _row_number bigint, _ingested_at timestamp"


def text_literal(value: object) -> str:
    """A raw column's literal: everything lands as text, as the ingestion lands it."""
    return literal(None if value is None else str(value))


def create_raw_tables(spark: SparkSQL, *, drop: bool = False) -> None:
    """Create the raw schema and its tables (Hive Parquet, partitioned like the ingestion lands them)."""
    spark.execute(f"create database if not exists {RAW_SCHEMA}")
    for table, columns in BUSINESS_COLUMNS.items():
        if drop:
            spark.execute(f"drop table if exists {RAW_SCHEMA}.{table}")
        cols = ", ".join(f"{c} string" for c in columns)
        spark.execute(
            f"create table if not exists {RAW_SCHEMA}.{table} ({cols}, {LINEAGE}, "
            "ingest_date string, batch_id string) using parquet partitioned by (ingest_date, batch_id)"
        )
    if drop:
        spark.execute(f"drop table if exists {RAW_SCHEMA}._batches")
    spark.execute(
        f"create table if not exists {RAW_SCHEMA}._batches (batch_id string, source string, file string, "
        "checksum string, rows bigint, status string, error string, started_at timestamp, "
        "finished_at timestamp) using parquet"
    )


def land(
    spark: SparkSQL,
    table: str,
    batch_id: str,
    rows: Iterable[Mapping[str, object]],
    *,
    ingested_at: datetime | None = None,
    source_file: str | None = None,
) -> int:
    """Land one batch of ``rows`` (dicts of business columns; missing keys are null) into ``raw.<table>``."""
    rows = list(rows)
    ingested_at = ingested_at or datetime.now(UTC)
    ts = ingested_at.strftime("%Y-%m-%d %H:%M:%S.%f")
    source_file = source_file or f"{table}/{batch_id}.csv"
    columns = BUSINESS_COLUMNS[table]
    values = []
    for number, row in enumerate(rows, start=1):
        unknown = set(row) - set(columns)
        if unknown:
            raise ValueError(f"columns {sorted(unknown)} are not in raw.{table}")
        business = ", ".join(text_literal(row.get(c)) for c in columns)
        lineage = f"{text_literal(batch_id)}, {text_literal(source_file)}, {number}, timestamp '{ts}'"
        values.append(f"({business}, {lineage})")
    if values:
        spark.execute(
            f"insert into {RAW_SCHEMA}.{table} partition (ingest_date='{ingested_at:%Y-%m-%d}', "
            f"batch_id={text_literal(batch_id)}) values {', '.join(values)}"
        )
    spark.execute(
        f"insert into {RAW_SCHEMA}._batches values ({text_literal(batch_id)}, {text_literal(table)}, "
        f"{text_literal(source_file)}, null, {len(rows)}, 'landed', null, timestamp '{ts}', timestamp '{ts}')"
    )
    return len(rows)


# ---------- a tiny, deterministic master-data set shared by tests

COUNTRIES = [
    {
        "country_id": "GB",
        "country_name": "United Kingdom",
        "continent": "Europe",
        "region_code": "NEU",
        "currency": "GBP",
    },
    {
        "country_id": "FR",
        "country_name": "France",
        "continent": "Europe",
        "region_code": "WEU",
        "currency": "EUR",
    },
    {
        "country_id": "US",
        "country_name": "United States",
        "continent": "North America",
        "region_code": "NAM",
        "currency": "USD",
    },
]
EXCHANGE_RATES = [
    {"currency": "EUR", "rate_date": "2024-01-01", "quote_currency": "GBP", "rate": "0.8500"},
    {"currency": "EUR", "rate_date": "2024-02-01", "quote_currency": "GBP", "rate": "0.8600"},
    {"currency": "USD", "rate_date": "2024-01-01", "quote_currency": "GBP", "rate": "0.7900"},
]
PRODUCTS = [
    {
        "stock_code": "P1",
        "description": "Red mug",
        "category": "Kitchen",
        "unit_price": "2.00",
        "price_date": "2024-01-01",
    },
    {
        "stock_code": "P2",
        "description": "Blue lamp",
        "category": "Home",
        "unit_price": "10.00",
        "price_date": "2024-01-01",
    },
]
CUSTOMERS = [
    {
        "customer_id": "C1",
        "customer_name": "Ada",
        "email": "ada@example.com",
        "country_id": "GB",
        "segment": "retail",
        "registration_date": "2023-06-01",
        "updated_at": "2023-06-01 00:00:00",
    },
    {
        "customer_id": "C2",
        "customer_name": "Bob",
        "email": "bob@example.com",
        "country_id": "FR",
        "segment": "wholesale",
        "registration_date": "2023-07-01",
        "updated_at": "2023-07-01 00:00:00",
    },
]


def land_master_data(spark: SparkSQL, batch_id: str = "md-0001") -> None:
    land(spark, "countries", batch_id, COUNTRIES)
    land(spark, "exchange_rates", batch_id, EXCHANGE_RATES)
    land(spark, "products", batch_id, PRODUCTS)
    land(spark, "customers", batch_id, CUSTOMERS)
