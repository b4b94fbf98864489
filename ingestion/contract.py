"""The raw contract: which sources exist and which columns each raw table has.

Business columns are strings (schema on read; dbt staging casts). Every raw table then carries
``_extra`` (unexpected source columns as a JSON object, so schema drift loses nothing), the lineage
columns, and the partition columns ``ingest_date`` and ``batch_id``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

EXTRA_COLUMN = "_extra"
LINEAGE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("_batch_id", pa.string()),
    pa.field("_source_file", pa.string()),
    pa.field("_row_number", pa.int64()),
    pa.field("_ingested_at", pa.timestamp("us", tz="UTC")),
)
PARTITION_COLUMNS: tuple[str, ...] = ("ingest_date", "batch_id")


@dataclass(frozen=True)
class Source:
    """One raw table: its business columns, which of them a file must have, its file format."""

    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    description: str

    @property
    def table(self) -> str:
        return f"raw.{self.name}"

    @property
    def file_schema(self) -> pa.Schema:
        """Columns of the Parquet files we write (partition columns live in the path)."""
        business = [pa.field(c, pa.string()) for c in (*self.columns, EXTRA_COLUMN)]
        return pa.schema([*business, *LINEAGE_FIELDS])

    def table_ddl_columns(self) -> str:
        """The column list of ``create table`` (Spark types), partition columns included."""
        types = {pa.string(): "string", pa.int64(): "bigint"}
        cols = []
        for f in self.file_schema:
            spark_type = "timestamp" if pa.types.is_timestamp(f.type) else types[f.type]
            cols.append(f"`{f.name}` {spark_type}")
        cols += [f"`{c}` string" for c in PARTITION_COLUMNS]
        return ", ".join(cols)


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "countries",
            ("country_id", "country_name", "continent", "region_code", "currency"),
            ("country_id", "country_name"),
            "Country master data (changes rarely).",
        ),
        Source(
            "exchange_rates",
            ("currency", "rate_date", "quote_currency", "rate"),
            ("currency", "rate_date", "rate"),
            "Daily rates: GBP per 1 unit of currency.",
        ),
        Source(
            "products",
            ("stock_code", "description", "category", "unit_price", "price_date"),
            ("stock_code", "unit_price", "price_date"),
            "Product catalogue with the price in effect since price_date (GBP).",
        ),
        Source(
            "customers",
            (
                "customer_id",
                "customer_name",
                "email",
                "country_id",
                "segment",
                "registration_date",
                "updated_at",
            ),
            ("customer_id",),
            "Customer master data (PII: customer_name, email).",
        ),
        Source(
            "order_lines",
            (
                "invoice_no",
                "stock_code",
                "quantity",
                "invoice_date",
                "customer_id",
                "country_id",
                "description",
                "unit_price",
                "source_layout",
                "line_type",
                "currency",
                "date_order",
            ),
            ("invoice_no", "stock_code", "quantity", "invoice_date"),
            "Order lines (hourly batches, or Online Retail imports).",
        ),
        Source(
            "clickstream_events",
            (
                "event_id",
                "user_id",
                "session_id",
                "event_time",
                "page_url",
                "product_id",
                "event_type",
                "device_type",
                "ip_address",
                "user_agent",
                "referrer",
                "traffic_source",
            ),
            ("event_id", "session_id", "event_time", "event_type"),
            "Web clickstream events (JSON lines).",
        ),
    )
}

# Master data first, so a run lands dimensions before the facts that point at them.
LANDING_ORDER: tuple[str, ...] = tuple(SOURCES)


def source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        from lakehouse.platform.errors import LakehouseError

        known = ", ".join(SOURCES)
        raise LakehouseError(f"unknown source {name!r}: expected one of {known}") from None
