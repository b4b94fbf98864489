"""The raw contract: which sources exist and which columns each raw table has.

Business columns are strings (schema on read; dbt staging casts). Every raw table then carries
``_extra`` (unexpected source columns as a JSON object, so schema drift loses nothing), the lineage
columns, and the partition columns ``ingest_date`` and ``batch_id``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

EXTRA_COLUMN = "_extra"
# the fields an access-log format may capture (nginx's variable names; ingestion/logs.py parses at landing)
LOG_FIELDS = (
    "remote_addr", "ident", "remote_user", "time_local", "request", "status", "body_bytes_sent",
    "http_referer", "http_user_agent", "request_time", "upstream_response_time",
)  # fmt: skip
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
        Source(
            "access_logs",
            # the line unchanged, then what the landing's parse read from it (ingestion/logs.py)
            ("server", "line", "line_base64", "log_format", *LOG_FIELDS),
            ("line",),
            "Web server access logs: one row per line, unchanged, and its fields as the format's pattern "
            "captured them (ingestion/logs.py; typed in staging).",
        ),
    )
}


@dataclass(frozen=True)
class ShopTable:
    """A table of the shop database (schema ``shop``) extracted incrementally into ``raw.shop_<name>``."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]

    @property
    def source(self) -> str:
        return f"shop_{self.name}"

    @property
    def soft_delete(self) -> bool:
        """Deleted rows keep their row with ``deleted_at`` set (else deletes are found by key comparison)."""
        return "deleted_at" in self.columns


# Olist shapes (docs: ingestion/README.md "The shop database"); every table has updated_at and an index on
# (updated_at, key), the extraction cursor.
SHOP_TABLES: dict[str, ShopTable] = {
    t.name: t
    for t in (
        ShopTable("customers", ("customer_id", "customer_unique_id", "customer_name", "email",
                  "zip_code_prefix", "city", "state", "created_at", "updated_at"), ("customer_id",)),
        ShopTable("sellers", ("seller_id", "seller_name", "zip_code_prefix", "city", "state", "created_at",
                  "updated_at"), ("seller_id",)),
        ShopTable("products", ("product_id", "category", "product_name", "weight_g", "length_cm", "height_cm",
                  "width_cm", "list_price", "created_at", "updated_at"), ("product_id",)),
        ShopTable("orders", ("order_id", "customer_id", "status", "purchased_at", "approved_at", "shipped_at",
                  "delivered_at", "canceled_at", "estimated_delivery_date", "updated_at"), ("order_id",)),
        ShopTable("order_items", ("order_id", "order_item_id", "product_id", "seller_id", "shipping_limit_at",
                  "price", "freight_value", "updated_at"), ("order_id", "order_item_id")),
        ShopTable("order_payments", ("order_id", "payment_sequential", "payment_type", "payment_installments",
                  "payment_value", "updated_at"), ("order_id", "payment_sequential")),
        ShopTable("order_reviews", ("review_id", "order_id", "review_score", "comment_title",
                  "comment_message", "created_at", "answered_at", "updated_at", "deleted_at"),
                  ("review_id",)),
        ShopTable("inventory_movements", ("movement_id", "product_id", "movement_type", "quantity",
                  "occurred_at", "order_id", "updated_at"), ("movement_id",)),
        ShopTable("campaigns", ("campaign_id", "campaign_name", "channel", "campaign_code", "start_date",
                  "end_date", "daily_budget", "updated_at"), ("campaign_id",)),
        ShopTable("campaign_spend", ("campaign_id", "spend_date", "spend", "impressions", "clicks",
                  "updated_at"), ("campaign_id", "spend_date")),
        ShopTable("leads", ("mql_id", "first_contact_date", "landing_page_id", "origin", "updated_at"),
                  ("mql_id",)),
        ShopTable("closed_deals", ("mql_id", "seller_id", "won_date", "business_segment", "lead_type",
                  "declared_monthly_revenue", "updated_at"), ("mql_id",)),
    )
}  # fmt: skip
OP_COLUMN, CURSOR_COLUMN = "_op", "_cursor"
UPSERT, DELETE = "upsert", "delete"

SOURCES.update(
    {
        t.source: Source(
            t.source,
            (*t.columns, OP_COLUMN, CURSOR_COLUMN),
            (*t.key, OP_COLUMN),
            f"Shop database table shop.{t.name}, extracted incrementally (_op: upsert or delete).",
        )
        for t in SHOP_TABLES.values()
    }
)

# Master data first, so a run lands dimensions before the facts that point at them.
LANDING_ORDER: tuple[str, ...] = tuple(SOURCES)


def source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        from lakehouse.platform.errors import LakehouseError

        known = ", ".join(SOURCES)
        raise LakehouseError(f"unknown source {name!r}: expected one of {known}") from None
