"""The shop database's facts and marts (models/marts/shop) from the source to gold, on the real services.

The simulator runs the shop for two rounds of days (orders move on, lines are removed, reviews are edited
and soft-deleted, spend days restated, spam leads deleted), the extraction lands each round, dbt builds the
shop's models, the export copies its gold models, and dbt-postgres builds the BI views. Every figure checked
in gold is computed by the test straight from the shop database with psycopg, never from the models' SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest

from lakehouse import gold
from lakehouse.platform.sql import SparkSQL
from tests.support.warehouse import LAKE_SCHEMAS, run_dbt

pytestmark = pytest.mark.integration

# the gold models of the shop (meta gold) and their BI views
SHOP_GOLD = {
    "fct_shop_orders": "shop_orders",
    "fct_shop_reviews": "shop_reviews",
    "mart_shop_delivery_performance": "shop_delivery_performance",
    "mart_shop_seller_scorecard": "shop_seller_scorecard",
    "mart_shop_payments_mix": "shop_payments_mix",
    "mart_shop_review_scores": "shop_review_scores",
    "mart_shop_inventory_health": "shop_inventory_health",
    "mart_shop_campaign_performance": "shop_campaign_performance",
    "mart_shop_lead_funnel": "shop_lead_funnel",
}
SHOP_SELECTION = [
    "--select",
    "path:models/staging/shop",
    "path:models/intermediate/shop",
    "path:models/marts/shop",
    "--indirect-selection",
    "cautious",
    "--exclude-resource-type",
    "unit_test",  # they run in the daily story of tests/flows, with the others
]


@pytest.fixture(scope="module")
def shop_in_gold(lake) -> Iterator[str]:
    """Two simulated rounds, each extracted; the shop's models built; its marts in gold; the source's URL."""
    from ingestion import extract
    from ingestion.catalog import ensure_lake_of
    from ingestion.shopdb import ensure_database, source_url
    from ingestion.shopdb.simulator import ShopConfig, Simulator

    with SparkSQL(lake) as spark:
        for schema in LAKE_SCHEMAS:
            spark.execute(f"drop database if exists {schema} cascade")
    ensure_lake_of(lake)  # the lake as `make up` leaves it: every raw table of the contract, empty
    ensure_database(lake)
    url = source_url(lake)
    config = ShopConfig(customers=400, sellers=15, products=120, orders_per_day=50, leads_per_day=6)
    sim = Simulator(url, seed=23, config=config)
    sim.init(reset=True)
    for days in (12, 4):
        list(sim.run(days, timedelta(days=1)))
        report = extract.extract(lake, url=url)
        assert not report.failed
    # the clickstream's fact (campaign sessions and touches) exists, empty: this lake has no clickstream
    run_dbt("build", "--select", "+fct_events", "--exclude-resource-type", "test", "unit_test")
    run_dbt("build", *SHOP_SELECTION)
    models = [m for m in gold.gold_models(lake.dbt_target_path / "manifest.json") if m.name in SHOP_GOLD]
    assert sorted(m.name for m in models) == sorted(SHOP_GOLD)
    gold.export_gold(lake, models=models)
    target = lake.data_dir / "dbt" / "target-shop-test"
    run_dbt("build", "--target", "gold", "--target-path", str(target), "--select", *SHOP_GOLD.values())
    yield url


def rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_orders_per_status_and_their_values(shop_in_gold, lake):
    source = rows(
        shop_in_gold,
        "select o.status, count(*), "
        "coalesce(sum((select sum(price) from shop.order_items i where i.order_id = o.order_id)), 0), "
        "coalesce(sum((select sum(payment_value) from shop.order_payments p "
        "where p.order_id = o.order_id)), 0), "
        "count(*) filter (where (o.delivered_at at time zone 'UTC')::date > o.estimated_delivery_date) "
        "from shop.orders o group by o.status",
    )
    found = rows(
        lake.gold_url,
        "select status, count(*), sum(items_value), sum(payment_value), count(*) filter (where is_late) "
        "from gold.shop_orders group by status",
    )
    assert set(found) == set(source)
    statuses = {r[0] for r in source}
    assert {"delivered", "shipped", "canceled"} <= statuses  # the lifecycle ran far enough to mean something
    late = rows(lake.gold_url, "select count(*) from gold.shop_orders where is_late")[0][0]
    assert late > 0


def test_gmv_and_cancellations_per_seller(shop_in_gold, lake):
    source = rows(
        shop_in_gold,
        "select i.seller_id, sum(i.price) filter (where o.status <> 'canceled'), count(distinct o.order_id), "
        "count(distinct o.order_id) filter (where o.status = 'canceled') "
        "from shop.order_items i join shop.orders o using (order_id) group by i.seller_id",
    )
    found = rows(
        lake.gold_url,
        "select seller_id, gmv, orders, canceled_orders from gold.shop_seller_scorecard where orders > 0",
    )
    assert {(s, g or Decimal(0), o, c) for s, g, o, c in source} == set(found)
    sellers = rows(shop_in_gold, "select count(*) from shop.sellers")[0][0]
    assert rows(lake.gold_url, "select count(*), min(source_system) from gold.shop_seller_scorecard")[0] == (
        sellers,
        "shop_db",
    )


def test_payments_per_month_and_type(shop_in_gold, lake):
    source = rows(
        shop_in_gold,
        "select date_trunc('month', o.purchased_at at time zone 'UTC')::date, p.payment_type, count(*), "
        "sum(p.payment_value) from shop.order_payments p join shop.orders o using (order_id) group by 1, 2",
    )
    found = rows(
        lake.gold_url,
        "select purchase_month, payment_type, payments, payment_value from gold.shop_payments_mix",
    )
    assert set(found) == set(source)


def test_reviews_show_the_latest_text_and_no_deleted_review(shop_in_gold, lake):
    live = rows(
        shop_in_gold,
        "select review_id, order_id, review_score, comment_message from shop.order_reviews "
        "where deleted_at is null",
    )
    found = rows(
        lake.gold_url, "select review_id, order_id, review_score, comment_message from gold.shop_reviews"
    )
    assert set(found) == set(live)
    # the review edited last (after the first extraction had landed an earlier version of it)
    review_id, order_id, text = rows(
        shop_in_gold,
        "select review_id, order_id, comment_message from shop.order_reviews "
        "where deleted_at is null and updated_at > created_at order by updated_at desc, review_id limit 1",
    )[0]
    assert rows(
        lake.gold_url, f"select comment_message from gold.shop_reviews where order_id = '{order_id}' "
        f"and review_id = '{review_id}'"
    ) == [(text,)]  # fmt: skip
    mean = rows(
        shop_in_gold, "select round(avg(review_score), 2) from shop.order_reviews where deleted_at is null"
    )
    assert rows(
        lake.gold_url,
        "select round(sum(mean_score * reviews) / sum(reviews), 2) from gold.shop_review_scores",
    )[0][0] == pytest.approx(mean[0][0], abs=Decimal("0.01"))


def test_stock_on_hand_spend_and_leads(shop_in_gold, lake):
    on_hand = rows(shop_in_gold, "select product_id, sum(quantity) from shop.inventory_movements group by 1")
    assert set(rows(lake.gold_url, "select product_id, on_hand from gold.shop_inventory_health")) == set(
        on_hand
    )
    spend = rows(
        shop_in_gold,
        "select c.campaign_id, coalesce(sum(s.spend), 0), coalesce(sum(s.clicks), 0) from shop.campaigns c "
        "left join shop.campaign_spend s using (campaign_id) group by 1",
    )
    found = rows(
        lake.gold_url,
        "select campaign_id, spend, clicks, attributed_orders from gold.shop_campaign_performance",
    )
    assert {r[:3] for r in found} == set(spend)
    assert {r[3] for r in found} == {0}  # no campaign codes in this lake's clickstream: nothing attributed
    leads = rows(
        shop_in_gold,
        "select coalesce(l.origin, 'unknown'), count(l.mql_id), count(d.mql_id) "
        "from shop.leads l full join shop.closed_deals d using (mql_id) group by 1",
    )
    assert set(rows(lake.gold_url, "select origin, leads, closed_deals from gold.shop_lead_funnel")) == set(
        leads
    )
