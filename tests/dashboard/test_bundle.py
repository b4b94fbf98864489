"""The dashboard kept as code: it reads gold views only, holds no secret, and the dbt exposures know it."""

from __future__ import annotations

import re

import yaml

from lakehouse.dashboard import BUNDLE_DIR, DASHBOARD_SLUG, MASKED_PASSWORD
from lakehouse.platform.settings import REPO_ROOT

GOLD_MODELS = REPO_ROOT / "models" / "gold"


def load(folder: str) -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted((BUNDLE_DIR / folder).rglob("*.yaml"))]


def views_read() -> set[str]:
    views = set()
    for dataset in load("datasets"):
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


def test_every_chart_is_on_the_dashboard_and_uses_a_bundled_dataset():
    datasets = {d["uuid"] for d in load("datasets")}
    charts = load("charts")
    (dashboard,) = load("dashboards")
    assert dashboard["slug"] == DASHBOARD_SLUG
    placed = {v["meta"]["uuid"] for v in dashboard["position"].values() if isinstance(v, dict) and "meta" in v
              and "uuid" in v["meta"]}  # fmt: skip
    assert {c["uuid"] for c in charts} == placed
    assert all(c["dataset_uuid"] in datasets for c in charts)


def test_dbt_exposures_point_at_the_dashboard_and_cover_what_it_reads():
    exposed, urls = set(), set()
    for path in GOLD_MODELS.glob("_gold__*.yml"):
        for exposure in yaml.safe_load(path.read_text()).get("exposures", []):
            urls.add(exposure.get("url"))
            exposed |= set(re.findall(r"ref\('(\w+)'\)", " ".join(exposure["depends_on"])))
    assert urls == {f"http://127.0.0.1:8088/superset/dashboard/{DASHBOARD_SLUG}/"}
    assert views_read() <= exposed, views_read() - exposed


def test_the_anomaly_drill_down_filters_by_product_date_and_z_score():
    (dashboard,) = load("dashboards")
    chart_ids = {
        v["meta"]["sliceName"]: v["meta"]["chartId"]
        for v in dashboard["position"].values()
        if isinstance(v, dict) and v.get("type") == "CHART"
    }
    filters = {f["name"]: f for f in dashboard["metadata"]["native_filter_configuration"]}
    columns = {name: [t.get("column", {}).get("name") for t in f["targets"]] for name, f in filters.items()}
    assert columns["Product"] == ["product_code"] and filters["Product"]["filterType"] == "filter_select"
    assert columns["Z-score"] == ["z_score"] and filters["Z-score"]["filterType"] == "filter_range"
    assert filters["Invoice date"]["filterType"] == "filter_time"
    drill_down = chart_ids["Flagged order lines"]
    for f in filters.values():  # each applies to the drill-down table, and to no chart lacking its column
        assert drill_down in f["chartsInScope"] and drill_down not in f["scope"]["excluded"]
    assert set(filters["Invoice date"]["chartsInScope"]) == {drill_down, chart_ids["Anomaly trend"]}
