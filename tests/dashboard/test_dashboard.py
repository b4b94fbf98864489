"""The dashboards in a real browser, after a pipeline run: every chart of four renders, none fails, the
total revenue shown is the one gold gives, the latest run on "Pipeline health" is gold's latest run, the shop
orders shown are the shop database's own count, the requests on "Site health" are the request lines of the
log files the run landed, counted by the test; a renamed
column fails the check with the chart's name; `up` is idempotent and `down` leaves nothing behind. The fifth,
"Churn and recommendations", needs a lake old enough for churn labels: tests/ml/test_demo_lake.py.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import psutil
import psycopg
import pytest

from ingestion import shopdb
from lakehouse import gold, services
from lakehouse.dashboard import (
    DASHBOARD_SLUG,
    HEALTH_DASHBOARD_SLUG,
    HOST,
    SHOP_DASHBOARD_SLUG,
    SITE_HEALTH_DASHBOARD_SLUG,
    Superset,
)
from lakehouse.platform.sql import SparkSQL
from tests.access_logs.oracle import count_file
from tests.support.dashboards import assert_all_rendered, charts_of, check

pytestmark = pytest.mark.integration


CHARTS = charts_of(DASHBOARD_SLUG)
HEALTH_CHARTS = charts_of(HEALTH_DASHBOARD_SLUG)
SHOP_CHARTS = charts_of(SHOP_DASHBOARD_SLUG)
SITE_HEALTH_CHARTS = charts_of(SITE_HEALTH_DASHBOARD_SLUG)
# charts on views any pipeline run fills (the anomaly charts are empty until detection has history)
NEVER_EMPTY = {
    "Total revenue", "Sales per region", "Revenue by geography over time", "Top 20 products by quantity",
    "Top 20 products by revenue", "Order frequency distribution", "Conversion funnel",
}  # fmt: skip
# health charts any run fills (a run leaves no test failure, quarantine or volume flag necessarily)
HEALTH_NEVER_EMPTY = {
    "Runs", "Run duration by step", "Rows per layer per run", "Slowest models", "Source freshness",
}  # fmt: skip


# shop charts the reference run fills: its 2 simulated days (seed 11) leave 278 orders, 3 of them delivered,
# payments, sellers, stock, campaign spend and leads from 7 origins, but no review yet
SHOP_NEVER_EMPTY = {
    "Shop orders", "Shop orders by status", "On-time delivery by customer state", "Top sellers by GMV",
    "Payments mix by month", "Inventory health", "Campaign spend and ROAS by channel",
    "Lead funnel by origin",
}  # fmt: skip


# site health charts the reference run's day of access logs fills (the incident day: 5xx and its incident
# window, 404s, scanners, crawlers, timed requests on the nginx servers, and the day's clickstream sessions)
SITE_HEALTH_NEVER_EMPTY = {
    "Requests", "Requests per minute by status class", "Error rate over time", "Bytes served",
    "p95 latency by endpoint group", "Top 404s", "Crawler, scanner and human traffic",
    "Sessions that saw a 5xx by funnel stage", "Incident windows",
}  # fmt: skip


def test_every_chart_renders_and_total_revenue_is_golds(superset: Superset):
    screenshot = superset.home / "dashboard.png"
    result = check(superset, screenshot)

    assert_all_rendered(result, CHARTS, NEVER_EMPTY)
    assert screenshot.stat().st_size > 10_000

    with psycopg.connect(gold.role_url(superset.s, "reader")) as conn:
        (total,) = conn.execute("select sum(net_revenue) from gold.sales_by_region").fetchone()
    shown = re.search(r"-?[\d,]+\.\d\d", result.charts["Total revenue"].text)
    assert shown, f"no number in the Total revenue chart: {result.charts['Total revenue'].text!r}"
    assert Decimal(shown.group().replace(",", "")) == Decimal(total).quantize(Decimal("0.01"))


def table_rows(text: str) -> list[list[str]]:
    """The body rows of a table chart in the browser's text of it: one line per row, cells tab-separated
    (the header's cells come one per line, between lines holding only a tab)."""
    return [line.split("\t") for line in text.splitlines() if "\t" in line and line.strip()]


def test_every_health_chart_renders_and_the_latest_run_is_golds(superset: Superset):
    screenshot = superset.home / "pipeline-health.png"
    result = check(superset, screenshot, HEALTH_DASHBOARD_SLUG)

    assert_all_rendered(result, HEALTH_CHARTS, HEALTH_NEVER_EMPTY)
    assert screenshot.stat().st_size > 10_000

    with psycopg.connect(gold.role_url(superset.s, "reader")) as conn:
        runs = conn.execute(
            "select flow_name, status from gold.pipeline_runs order by started_at desc"
        ).fetchall()
        (sources,) = conn.execute(
            "select count(distinct (source_name, table_name)) from gold.source_freshness"
        ).fetchone()
    shown = table_rows(result.charts["Runs"].text)
    # newest first: started_at, flow_name, status, seconds, error; one page of at most 10
    assert [row[1:3] for row in shown[:1]] == [list(runs[0])], result.charts["Runs"].text
    assert len(shown) == min(len(runs), 10), result.charts["Runs"].text
    assert len(table_rows(result.charts["Source freshness"].text)) == sources


def test_every_shop_chart_renders_and_the_orders_are_the_source_databases(superset: Superset):
    screenshot = superset.home / "shop.png"
    result = check(superset, screenshot, SHOP_DASHBOARD_SLUG)

    assert_all_rendered(result, SHOP_CHARTS, SHOP_NEVER_EMPTY)
    assert screenshot.stat().st_size > 10_000

    # straight from the shop's own database, not from the lake or gold
    with psycopg.connect(shopdb.source_url(superset.s)) as conn:
        (orders,) = conn.execute("select count(*) from shop.orders").fetchone()
    assert orders > 0
    shown = re.search(r"[\d,]+", result.charts["Shop orders"].text)
    assert shown, f"no number in the Shop orders chart: {result.charts['Shop orders'].text!r}"
    assert int(shown.group().replace(",", "")) == orders


def landed_log_files(settings) -> list[Path]:
    """The access-log files the pipeline run landed, as its manifest names them."""
    with SparkSQL(settings) as spark:
        rows = spark.query(
            "select file from raw._batches where source = 'access_logs' and status = 'succeeded'"
        )
    return sorted(Path(file.removeprefix("file://")) for (file,) in rows)


def test_every_site_health_chart_renders_and_the_requests_are_the_log_files(superset: Superset):
    files = landed_log_files(superset.s)
    assert files, "the reference run landed no access logs (flows/pipeline.py lands a day of them)"
    # the request lines of those files, read by the tests' own reader of the formats (not by the models)
    requests = sum(count_file(f).parsed for f in files)
    assert requests > 0

    screenshot = superset.home / "site-health.png"
    result = check(superset, screenshot, SITE_HEALTH_DASHBOARD_SLUG)

    assert_all_rendered(result, SITE_HEALTH_CHARTS, SITE_HEALTH_NEVER_EMPTY)
    assert screenshot.stat().st_size > 10_000
    shown = re.search(r"[\d,]+", result.charts["Requests"].text)
    assert shown, f"no number in the Requests chart: {result.charts['Requests'].text!r}"
    assert int(shown.group().replace(",", "")) == requests


def test_a_renamed_column_fails_the_check_with_the_charts_name(superset: Superset):
    # as the views' owner, in one statement: nothing to roll back, the finally puts the name back
    with psycopg.connect(gold.role_url(superset.s, "writer"), autocommit=True) as conn:
        conn.execute("alter view gold.top_products rename column net_quantity to units_sold")
        try:
            result = check(superset)
        finally:
            conn.execute("alter view gold.top_products rename column units_sold to net_quantity")

    assert set(result.errors) == {"Top 20 products by quantity"}, result.errors
    assert "net_quantity" in result.errors["Top 20 products by quantity"]


def test_up_twice_starts_nothing_new_and_down_leaves_no_process(superset: Superset):
    first = superset.process()
    assert first is not None
    assert superset.up(echo=lambda _msg: None) == first.pid
    assert superset.process().pid == first.pid
    workers = first.children(recursive=True)

    superset.down(echo=lambda _msg: None)
    assert superset.process() is None
    assert not superset.leftover_processes()
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in [first, *workers])
    assert not services.port_in_use(HOST, superset.port)
