"""Fixtures of the dashboard tests: gold with pipeline data, Superset started by
lakehouse/dashboard.py."""

from __future__ import annotations

import psycopg
import pytest

from tests.support.dashboards import running_superset

# every gold view the bundle's datasets read, and those that must hold rows for its charts to mean anything
VIEWS = ("sales_by_region", "order_lines", "countries", "top_products", "customer_order_frequency",
         "cross_border_shoppers", "anomaly_trend", "order_line_anomalies", "conversion_funnel",
         "shop_orders", "shop_delivery_performance", "shop_seller_scorecard", "shop_payments_mix",
         "shop_review_scores", "shop_inventory_health", "shop_campaign_performance",
         "shop_lead_funnel", "site_traffic_per_minute", "endpoint_latency", "top_404s", "crawler_traffic",
         "site_incidents", "session_server_requests", "churn_risk", "product_recommendations",
         "ml_training_runs")  # fmt: skip
MUST_HAVE_ROWS = ("sales_by_region", "order_lines", "top_products", "customer_order_frequency", "shop_orders")


def gold_is_ready(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        present = {
            row[0]
            for row in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'gold'"
            )
        }
        if not set(VIEWS) <= present:
            return False
        filled = [conn.execute(f"select exists (select from gold.{v})").fetchone()[0] for v in MUST_HAVE_ROWS]
        return all(filled)


@pytest.fixture(scope="module")
def gold_with_data(lake, reference_run):
    """Gold as the session's reference pipeline run left it (tests/conftest.py), every view filled."""
    assert gold_is_ready(lake.gold_url), "the reference run left a gold without the dashboard's views"
    return lake


@pytest.fixture(scope="module")
def superset(chromium, gold_with_data):
    """Superset over that gold, started by the real module; stopped at the end of the module."""
    with running_superset(gold_with_data) as server:
        yield server
