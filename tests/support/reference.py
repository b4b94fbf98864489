"""The reference run of the whole-pipeline stories: its sizes and what "the same lake" means.

tests/conftest.py runs it once per session (fixture ``reference_run``); the flows' fault tests must converge
to its state and the cluster run must equal it.
"""

from __future__ import annotations

from lakehouse.platform.settings import Settings

# The reference run: one small dataset, through the whole pipeline, from an empty lake and gold.
REFERENCE_SIZES = {
    "seed": 11,
    "days": 2,
    "lines_per_day": 300,
    "sessions_per_day": 30,
    "products": 60,
    "customers": 120,
    "shop_days": 2,  # simulated days of the demo shop database (ingestion/shopdb)
}
# What "the same lake" means when two runs are compared: counts, sums and distinct keys of the main tables.
LAKE_CHECKS = {
    "fact": "select count(*), sum(quantity), count(distinct order_line_key) from marts.fct_order_lines",
    "quarantine": "select count(*), count(distinct order_line_key) from marts.quarantine_order_lines",
    "products": "select count(*), count(distinct product_sk) from marts.dim_products",
    "snapshot": "select count(*) from snapshots.snap_products",
    "customers": "select count(*), count(distinct customer_sk), count(distinct customer_id) "
    "from marts.dim_customers",
    "batches": "select count(*), sum(rows) from raw._batches where status = 'succeeded'",
    "events": "select count(*), count(distinct event_id) from marts.fct_events",
    "anomalies": "select count(*), count(distinct anomaly_id) from marts.anomalies",
    "baselines": "select count(*), sum(detection_line_count) from marts.anomaly_product_baselines",
}


def lake_state(settings: Settings) -> dict[str, tuple]:
    """LAKE_CHECKS read through the Thrift server of ``settings``."""
    from lakehouse.platform.sql import SparkSQL

    with SparkSQL(settings) as spark:
        return {name: tuple(spark.query(sql)[0]) for name, sql in LAKE_CHECKS.items()}


LAKE_SCHEMAS = ("raw", "staging", "intermediate", "snapshots", "marts", "seeds", "enrich", "analytics", "ops")


def empty_lake_and_gold(settings: Settings) -> None:
    """Drop every lake schema the pipeline builds, the raw files and the gold schemas (start from nothing)."""
    import shutil

    import psycopg

    from flows import changes
    from lakehouse.platform.sql import SparkSQL

    with SparkSQL(settings) as spark:
        for schema in LAKE_SCHEMAS:
            spark.execute(f"drop database if exists {schema} cascade")
    shutil.rmtree(settings.warehouse_dir / "raw", ignore_errors=True)
    shutil.rmtree(changes.state_dir(settings), ignore_errors=True)  # the last build's state
    with psycopg.connect(settings.gold_url, autocommit=True) as conn:
        for schema in ("gold", "gold_marts", "gold_load"):
            conn.execute(f"drop schema if exists {schema} cascade")
    # the demo shop database too: other modules leave it truncated, or another seed's shop, advanced further
    from ingestion.shopdb import embedded, ensure_database, source_url

    if embedded(settings):
        ensure_database(settings)
        with psycopg.connect(source_url(settings), autocommit=True) as conn:
            conn.execute("drop schema if exists shop, shop_sim cascade")
