"""The dashboard in a real browser, after a pipeline run: every chart renders, none fails, the total revenue
it shows is the one gold gives; a renamed column fails the check with the chart's name; `up` is idempotent
and `down` leaves nothing behind.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import psutil
import psycopg
import pytest
import yaml

from lakehouse import gold, services
from lakehouse.dashboard import BUNDLE_DIR, HOST, Superset
from tests.support.browser import check_dashboard

pytestmark = pytest.mark.integration

CHARTS = {yaml.safe_load(p.read_text())["slice_name"] for p in (BUNDLE_DIR / "charts").glob("*.yaml")}
# charts on views any pipeline run fills (the anomaly charts are empty until detection has history)
NEVER_EMPTY = {
    "Total revenue", "Sales per region", "Revenue by geography over time", "Top 20 products by quantity",
    "Top 20 products by revenue", "Order frequency distribution", "Conversion funnel",
}  # fmt: skip


def check(server: Superset, screenshot: Path | None = None):
    return check_dashboard(
        server.url,
        server.dashboard_url.removeprefix(server.url),
        server.admin_user,
        server.admin_password(),
        expected_charts=len(CHARTS),
        screenshot=screenshot,
    )


def test_every_chart_renders_and_total_revenue_is_golds(superset: Superset):
    screenshot = superset.home / "dashboard.png"
    result = check(superset, screenshot)

    assert set(result.charts) == CHARTS, f"charts on the page: {sorted(result.charts)}"
    assert not result.unfinished, f"charts still loading after {result.seconds:.0f} s: {result.unfinished}"
    assert not result.errors, "charts in an error state:\n" + "\n".join(
        f"- {name}: {error}" for name, error in result.errors.items()
    )
    empty = sorted(name for name, chart in result.charts.items() if chart.state == "empty")
    assert not set(empty) & NEVER_EMPTY, f"charts without data: {empty}"
    assert screenshot.stat().st_size > 10_000

    with psycopg.connect(gold.role_url(superset.s, "reader")) as conn:
        (total,) = conn.execute("select sum(net_revenue) from gold.sales_by_region").fetchone()
    shown = re.search(r"-?[\d,]+\.\d\d", result.charts["Total revenue"].text)
    assert shown, f"no number in the Total revenue chart: {result.charts['Total revenue'].text!r}"
    assert Decimal(shown.group().replace(",", "")) == Decimal(total).quantize(Decimal("0.01"))


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
