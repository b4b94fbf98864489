"""The shop database's staging, SCD2 dimensions and order status history (issue 23) on the real services.

A fresh lake and a new, small shop (ingestion.shopdb.simulator): three rounds of simulated application
changes (inserts, updates, the simulator's hard and soft deletes), an extraction after each, then a dbt build
of the shop's staging, current-state, dimension and status-history models with their data tests (the scd2
tests included). Every expectation is computed here, straight from the source database.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from ingestion.contract import SHOP_TABLES

pytestmark = pytest.mark.integration

SEED = 7
ROUNDS = (timedelta(days=2), timedelta(days=7), timedelta(days=7))  # statuses skip between extractions
DIMENSIONS = {"customers": "customer_id", "sellers": "seller_id", "products": "product_id"}
# one row each, deleted for real after the simulation (leads as the application does; a customer as no
# application here does, for the dimension's deleted member)
HARD_DELETES = {"leads": "mql_id", "order_items": "order_id", "customers": "customer_id"}
MILESTONES = {
    "created": "purchased_at",
    "approved": "approved_at",
    "shipped": "shipped_at",
    "delivered": "delivered_at",
    "canceled": "canceled_at",
}
SELECTION = [
    *(f"stg_shop__{t}" for t in SHOP_TABLES),
    *(f"int_shop__{t}_current" for t in SHOP_TABLES),
    *(f"dim_shop_{t}" for t in DIMENSIONS),
    "int_shop__order_status_history",
]


def _plain(value: object) -> object:
    """A source value as the lake returns it over Thrift: timestamps naive UTC (the lake's session zone),
    dates as yyyy-MM-dd text (PyHive's rendering of a Spark date)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _source(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return [tuple(_plain(v) for v in row) for row in conn.execute(sql).fetchall()]


@pytest.fixture(scope="module")
def lake_sql(lake):
    """A Thrift client on a lake emptied of what this module writes (the extraction makes raw anew)."""
    from lakehouse.platform.sql import SparkSQL

    with SparkSQL(lake) as client:
        for schema in ("raw", "staging", "intermediate", "marts"):
            client.execute(f"drop database if exists {schema} cascade")
        shutil.rmtree(lake.warehouse_dir / "raw", ignore_errors=True)  # no batches of earlier modules
        yield client


@pytest.fixture(scope="module")
def shop(lake_sql, lake, dbt):
    """The rounds above on a new shop, extracted into the emptied lake after each, then built. Returns the
    source URL and, per dimension, every (key, updated_at) the source showed at an extraction."""
    from ingestion import extract
    from ingestion.shopdb import ensure_database, source_url
    from ingestion.shopdb.simulator import ShopConfig, Simulator

    ensure_database(lake)
    url = source_url(lake)
    small = ShopConfig(customers=150, sellers=12, products=50, signups_per_day=10, orders_per_day=40)
    seen: dict[str, set[tuple]] = {t: set() for t in DIMENSIONS}
    with Simulator(url, seed=SEED, config=small) as sim:
        sim.init(reset=True)
        for i, interval in enumerate(ROUNDS):
            sim.step(interval)
            if i == len(ROUNDS) - 1:  # hard deletes the last extraction must find by key comparison
                with psycopg.connect(url, autocommit=True) as conn:
                    for table, key in HARD_DELETES.items():
                        conn.execute(
                            f"delete from shop.{table} where {key} = (select min({key}) from shop.{table})"
                        )
            report = extract.extract(lake, key_check_every=1)
            assert not report.failed, [r.line() for r in report.failed]
            for table, key in DIMENSIONS.items():
                seen[table] |= set(_source(url, f"select {key}, updated_at from shop.{table}"))
    dbt("build", "--select", *SELECTION, "--indirect-selection", "cautious")
    return url, seen


def test_1_current_state_equals_the_source_after_updates_and_deletes(shop, lake_sql):
    url, _seen = shop
    for table in SHOP_TABLES.values():
        columns = ", ".join(table.columns)
        live = " where deleted_at is null" if table.soft_delete else ""
        expected = set(_source(url, f"select {columns} from shop.{table.name}{live}"))
        got = set(lake_sql.query(f"select {columns} from intermediate.int_shop__{table.name}_current"))
        assert got == expected, f"{table.name}: {len(got - expected)} extra, {len(expected - got)} missing"
    deletes = lake_sql.query(
        "select count_if(is_deleted) from staging.stg_shop__order_items"
        " union all select count_if(is_deleted) from staging.stg_shop__order_reviews"
        " union all select count_if(is_deleted) from staging.stg_shop__leads"
        " union all select count_if(is_deleted) from staging.stg_shop__campaign_spend"
    )
    assert sum(n for (n,) in deletes) > 0  # the delete paths were exercised
    # staging keeps every version landed, typed
    types = "select typeof(price), typeof(shipping_limit_at) from staging.stg_shop__order_items limit 1"
    assert lake_sql.query(types) == [("decimal(12,2)", "timestamp")]
    dates = "select typeof(estimated_delivery_date) from staging.stg_shop__orders limit 1"
    assert lake_sql.query(dates) == [("date",)]


def test_2_scd2_dimensions_hold_one_row_per_version_landed(shop, lake_sql):
    url, seen = shop
    alive = {t: {k for (k,) in _source(url, f"select {k} from shop.{t}")} for t, k in DIMENSIONS.items()}
    for table, key in DIMENSIONS.items():
        rows = lake_sql.query(
            f"select {key}, valid_from, valid_to, is_current, is_deleted from marts.dim_shop_{table}"
        )
        assert {(r[0], r[1]) for r in rows} == seen[table], table
        assert len(rows) == len(seen[table])
        starts: dict[str, list[datetime]] = {}
        for k, valid_from in sorted(seen[table]):
            starts.setdefault(k, []).append(valid_from)
        deleted = {k for k in starts if k not in alive[table]}
        assert len(deleted) == (table == "customers"), table
        expected = {
            (k, s[i], s[i + 1] if i + 1 < len(s) else None, i + 1 == len(s), i + 1 == len(s) and k in deleted)
            for k, s in starts.items()
            for i in range(len(s))
        }
        assert set(rows) == expected, table
    versions = Counter(k for k, _v in seen["customers"])
    assert max(versions.values()) > 1  # address changes landed as versions


def test_3_order_status_history_has_each_status_at_its_milestone(shop, lake_sql):
    url, _seen = shop
    orders = _source(url, f"select order_id, status, {', '.join(MILESTONES.values())} from shop.orders")
    expected = set()
    for order_id, status, *times in orders:
        entered = {s: t for s, t in zip(MILESTONES, times, strict=True) if t is not None}
        assert status in entered
        expected |= {(order_id, s, t, s == status) for s, t in entered.items()}
    got = set(
        lake_sql.query(
            "select order_id, status, entered_at, is_current_status"
            " from intermediate.int_shop__order_status_history"
        )
    )
    assert got == expected
    statuses = {s for _o, s, _t, _c in got}
    assert {"created", "approved", "shipped"} <= statuses
