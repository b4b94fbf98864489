"""The dashboards kept as code: they read gold views only, hold no secret, and the dbt exposures know them."""

from __future__ import annotations

import re

import pytest
import yaml

from lakehouse.dashboard import (
    BUNDLE_DIR,
    DASHBOARD_SLUG,
    DASHBOARDS,
    HEALTH_DASHBOARD_SLUG,
    MASKED_PASSWORD,
    ML_DASHBOARD_SLUG,
    SHOP_DASHBOARD_SLUG,
    SITE_HEALTH_DASHBOARD_SLUG,
)
from lakehouse.platform.settings import REPO_ROOT

GOLD_MODELS = REPO_ROOT / "models" / "gold"


def load(folder: str) -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted((BUNDLE_DIR / folder).rglob("*.yaml"))]


def dashboard(slug: str) -> dict:
    (found,) = [d for d in load("dashboards") if d["slug"] == slug]
    return found


def placed_charts(dashboard: dict) -> dict[str, str]:
    """uuid -> name of the charts in a dashboard's layout."""
    return {
        v["meta"]["uuid"]: v["meta"]["sliceName"]
        for v in dashboard["position"].values()
        if isinstance(v, dict) and v.get("type") == "CHART"
    }


def views_read(datasets: list[dict] | None = None) -> set[str]:
    views = set()
    for dataset in load("datasets") if datasets is None else datasets:
        assert dataset["schema"] == "gold", dataset["table_name"]
        if dataset["sql"]:
            # a virtual dataset: every relation it names is schema-qualified and in gold
            relations = re.findall(r"\b(?:from|join)\s+(?!lateral\b)([\w.]+)", dataset["sql"], flags=re.I)
            assert relations and all(r.startswith("gold.") for r in relations), (
                dataset["table_name"],
                relations,
            )
            views |= {r.removeprefix("gold.") for r in relations}
        else:
            views.add(dataset["table_name"])
    return views


def test_datasets_read_gold_views_only():
    gold_views = {p.stem for p in GOLD_MODELS.glob("*.sql")}
    assert views_read() <= gold_views


def test_the_bundle_holds_no_password():
    (database,) = load("databases")
    assert f"gold_reader:{MASKED_PASSWORD}@" in database["sqlalchemy_uri"]
    for path in BUNDLE_DIR.rglob("*.yaml"):
        assert not re.search(r"postgres(?:ql)?(?:\+\w+)?://[^:\s]+:(?!XXXXXXXXXX@)[^@\s]+@", path.read_text())


def test_every_chart_is_on_one_dashboard_and_uses_a_bundled_dataset():
    datasets = {d["uuid"] for d in load("datasets")}
    charts = load("charts")
    dashboards = load("dashboards")
    assert {d["slug"]: d["dashboard_title"] for d in dashboards} == DASHBOARDS
    placed = [uuid for d in dashboards for uuid in placed_charts(d)]
    assert sorted(c["uuid"] for c in charts) == sorted(placed)  # each chart on exactly one dashboard
    assert all(c["dataset_uuid"] in datasets for c in charts)


def assert_charts_show_their_datasets_fields(placed: dict[str, str], charts: dict, datasets: dict) -> None:
    """What each chart shows is a column (or a saved metric) of its dataset."""
    for uuid in placed:
        name, params = charts[uuid]["slice_name"], charts[uuid]["params"]
        dataset = datasets[charts[uuid]["dataset_uuid"]]
        columns = {c["column_name"] for c in dataset["columns"]}
        metrics = {m["metric_name"] for m in dataset["metrics"]}
        used = {params.get("x_axis"), *params.get("groupby", []), *params.get("all_columns", [])} - {None}
        assert used <= columns, (name, used - columns)
        shown = {*params.get("metrics", []), *params.get("metrics_b", []), params.get("metric")} - {None}
        assert shown <= metrics, (name, shown - metrics)


def assert_datasets_are_the_contracts(views: set[str], datasets: dict, contracts_file: str) -> None:
    """A dataset's columns are its view's contract, name and type."""
    models = yaml.safe_load((GOLD_MODELS / contracts_file).read_text())["models"]
    contracts = {m["name"]: m for m in models}
    for view in views:
        (dataset,) = [d for d in datasets.values() if d["table_name"] == view and not d["sql"]]
        assert {c["column_name"]: c["type"] for c in dataset["columns"]} == {
            c["name"]: c["data_type"].upper() for c in contracts[view]["columns"]
        }, view


# Each dashboard's charts, each on the gold view its issue names (22: health on the run history, 23: the shop
# database's marts, 24: site health on the access logs, 25: churn and recommendations), and the file of the
# views' contracts the datasets' columns must equal (None: the health views' contracts are spread over files)
DASHBOARD_CHARTS = {
    HEALTH_DASHBOARD_SLUG: (None, {
        "Run duration by step": "run_steps", "Test failures over time": "test_results",
        "Slowest models": "node_runs", "Rows per layer per run": "pipeline_runs",
        "Source freshness": "source_freshness", "Open quarantine by reason": "quarantine_by_reason",
        "Runs": "pipeline_runs", "Volume flags": "volume_anomalies",
    }),
    SHOP_DASHBOARD_SLUG: ("_gold__shop.yml", {
        "Shop orders": "shop_orders", "Shop orders by status": "shop_orders",
        "On-time delivery by customer state": "shop_delivery_performance",
        "Top sellers by GMV": "shop_seller_scorecard", "Payments mix by month": "shop_payments_mix",
        "Review scores over time": "shop_review_scores", "Inventory health": "shop_inventory_health",
        "Campaign spend and ROAS by channel": "shop_campaign_performance",
        "Lead funnel by origin": "shop_lead_funnel",
    }),
    SITE_HEALTH_DASHBOARD_SLUG: ("_gold__site_health.yml", {
        "Requests": "site_traffic_per_minute",
        "Requests per minute by status class": "site_traffic_per_minute",
        "Error rate over time": "site_traffic_per_minute", "Bytes served": "site_traffic_per_minute",
        "p95 latency by endpoint group": "endpoint_latency", "Top 404s": "top_404s",
        "Crawler, scanner and human traffic": "crawler_traffic", "Incident windows": "site_incidents",
        "Sessions that saw a 5xx by funnel stage": "session_server_requests",
    }),
    ML_DASHBOARD_SLUG: ("_gold__ml.yml", {
        "Customers at high churn risk": "churn_risk", "Customers by churn risk band": "churn_risk",
        "What drives churn risk": "churn_risk", "Customers most likely to churn": "churn_risk",
        "Most recommended products": "product_recommendations",
        "Model quality by training run": "ml_training_runs",
    }),
}  # fmt: skip


@pytest.mark.parametrize("slug", DASHBOARD_CHARTS)
def test_each_dashboard_has_its_issues_charts_on_their_gold_views(slug: str):
    contracts_file, expected = DASHBOARD_CHARTS[slug]
    charts = {c["uuid"]: c for c in load("charts")}
    datasets = {d["uuid"]: d for d in load("datasets")}
    placed = placed_charts(dashboard(slug))
    read = {name: views_read([datasets[charts[uuid]["dataset_uuid"]]]) for uuid, name in placed.items()}
    assert read == {name: {view} for name, view in expected.items()}
    assert_charts_show_their_datasets_fields(placed, charts, datasets)
    if contracts_file:
        assert_datasets_are_the_contracts(set(expected.values()), datasets, contracts_file)


def test_dbt_exposures_point_at_the_dashboards_and_cover_what_they_read():
    exposed: dict[str, set[str]] = {}
    for path in GOLD_MODELS.glob("_gold__*.yml"):
        for exposure in yaml.safe_load(path.read_text()).get("exposures", []):
            refs = set(re.findall(r"ref\('(\w+)'\)", " ".join(exposure["depends_on"])))
            exposed.setdefault(exposure.get("url"), set()).update(refs)
    assert set(exposed) == {f"http://127.0.0.1:8088/superset/dashboard/{slug}/" for slug in DASHBOARDS}
    datasets = {d["uuid"]: d for d in load("datasets")}
    charts = {c["uuid"]: c for c in load("charts")}
    for slug in DASHBOARDS:
        read = views_read([datasets[charts[uuid]["dataset_uuid"]] for uuid in placed_charts(dashboard(slug))])
        url = f"http://127.0.0.1:8088/superset/dashboard/{slug}/"
        assert read <= exposed[url], (slug, read - exposed[url])


def test_the_anomaly_drill_down_filters_by_product_date_and_z_score():
    ecommerce = dashboard(DASHBOARD_SLUG)
    chart_ids = {
        v["meta"]["sliceName"]: v["meta"]["chartId"]
        for v in ecommerce["position"].values()
        if isinstance(v, dict) and v.get("type") == "CHART"
    }
    filters = {f["name"]: f for f in ecommerce["metadata"]["native_filter_configuration"]}
    columns = {name: [t.get("column", {}).get("name") for t in f["targets"]] for name, f in filters.items()}
    assert columns["Product"] == ["product_code"] and filters["Product"]["filterType"] == "filter_select"
    assert columns["Z-score"] == ["z_score"] and filters["Z-score"]["filterType"] == "filter_range"
    assert filters["Invoice date"]["filterType"] == "filter_time"
    drill_down = chart_ids["Flagged order lines"]
    for f in filters.values():  # each applies to the drill-down table, and to no chart lacking its column
        assert drill_down in f["chartsInScope"] and drill_down not in f["scope"]["excluded"]
    assert set(filters["Invoice date"]["chartsInScope"]) == {drill_down, chart_ids["Anomaly trend"]}
