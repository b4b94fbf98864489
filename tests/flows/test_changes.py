"""The build plan (flows/changes.py) without Spark: which selectors a change of the sources gives."""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType

import pytest

from flows import changes
from lakehouse.platform.settings import load_settings

# (source name, table) of the dbt sources in schema raw: the manifest, a landed table, the review events
# (an Iceberg table written without batches)
SOURCES = (("raw", "_batches"), ("raw", "order_lines"), ("reviews", "anomaly_review_events"))


class FakeSpark:
    """Enough of SparkSQL for plan_build: the lake's schemas."""

    def __init__(self, _settings: object) -> None:
        pass

    def __enter__(self) -> FakeSpark:
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        pass

    def query(self, _sql: str) -> list[tuple[str]]:
        return [("raw",), ("marts",)]


@pytest.fixture
def planned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """plan_build after a build whose fingerprints were ``before``, with the sources now at ``now``."""
    settings = load_settings({"LAKEHOUSE_DATA_DIR": str(tmp_path)})
    state = changes.state_dir(settings)
    state.mkdir(parents=True)
    manifest = {
        "sources": {
            f"source.p.{source}.{name}": {
                "schema": "raw",
                "identifier": name,
                "source_name": source,
                "name": name,
            }
            for source, name in SOURCES
        },
        "nodes": {"model.p.anomalies_volume": {"resource_type": "model", "schema": "marts"}},
    }
    (state / changes.MANIFEST).write_text(json.dumps(manifest))
    monkeypatch.setattr(changes, "SparkSQL", FakeSpark)

    def plan(before: dict[str, str], now: dict[str, str]) -> changes.BuildPlan:
        (state / changes.FINGERPRINTS).write_text(json.dumps(before))
        monkeypatch.setattr(changes, "fingerprints", lambda _spark, _relations: now)
        return changes.plan_build(settings)

    return plan


def test_a_landed_batch_also_selects_what_reads_the_batch_manifest(planned):
    before = {"raw.order_lines": "batches=3;rows=30;last=x", "raw.anomaly_review_events": "snapshot=1"}
    now = {**before, "raw.order_lines": "batches=4;rows=40;last=z"}
    plan = planned(before, now)
    # the volume monitor (downstream of raw._batches) is rebuilt with the order-line chain
    assert plan.select == ["source:raw.order_lines+", "state:modified+", "source:raw._batches+"]
    assert plan.reason == "changed sources: raw.order_lines"


def test_no_landing_no_volume_monitor(planned):
    before = {"raw.order_lines": "batches=3;rows=30;last=x", "raw.anomaly_review_events": "snapshot=1"}
    assert planned(before, before).select == ["state:modified+"]
    # a table written without batches (a new Iceberg snapshot of the review events) is no landing
    plan = planned(before, {**before, "raw.anomaly_review_events": "snapshot=2"})
    assert plan.select == ["source:reviews.anomaly_review_events+", "state:modified+"]


# A failed build resumed: the target's manifest of the failed build (nodes, their data tests) and its results.
TARGET_NODES = {
    "model.p.stg_lines": {"name": "stg_lines", "resource_type": "model", "schema": "marts"},
    "model.p.fct_lines": {"name": "fct_lines", "resource_type": "model", "schema": "marts"},
    "model.p.mart_sales": {"name": "mart_sales", "resource_type": "model", "schema": "marts"},
    "test.p.not_null_stg_lines_id": {"name": "not_null_stg_lines_id", "resource_type": "test"},
    "test.p.unique_fct_lines_id": {"name": "unique_fct_lines_id", "resource_type": "test"},
}
TARGET_SOURCES = {
    f"source.p.{source}.{name}": {"schema": "raw", "identifier": name, "source_name": source, "name": name}
    for source, name in SOURCES
}
CHILD_MAP = {
    "source.p.raw.order_lines": ["model.p.stg_lines"],
    "source.p.reviews.anomaly_review_events": ["model.p.mart_sales"],
    "model.p.stg_lines": ["test.p.not_null_stg_lines_id", "model.p.fct_lines"],
    "model.p.fct_lines": ["test.p.unique_fct_lines_id", "model.p.mart_sales"],
}


@pytest.fixture
def failed_build(planned, tmp_path: Path):
    """A build of a landing that dbt reported failed with ``statuses`` (unique id -> status): how many nodes
    its failure marked done, and the next plan, with the sources then at ``later`` (default: as they were)."""
    settings = load_settings({"LAKEHOUSE_DATA_DIR": str(tmp_path)})
    before = {"raw.order_lines": "batches=3;rows=30;last=x", "raw.anomaly_review_events": "snapshot=1"}
    now = {**before, "raw.order_lines": "batches=4;rows=40;last=z"}

    def fail(statuses: dict[str, str], later: dict[str, str] | None = None, reported: bool = True,
             then=lambda: None):  # fmt: skip
        plan = planned(before, now)
        changes.begin_build(settings, plan)
        target = settings.dbt_target_path
        target.mkdir(parents=True, exist_ok=True)
        (target / changes.MANIFEST).write_text(
            json.dumps({"nodes": TARGET_NODES, "sources": TARGET_SOURCES, "child_map": CHILD_MAP})
        )
        added = changes.note_failed_build(settings, statuses if reported else {})
        then()
        return added, planned(before, later or now)

    return fail


def test_a_failed_build_resumes_without_what_it_built_for_good(failed_build):
    added, plan = failed_build({
        "model.p.stg_lines": "success", "test.p.not_null_stg_lines_id": "pass",
        "model.p.fct_lines": "success", "test.p.unique_fct_lines_id": "fail", "model.p.mart_sales": "skipped",
    })  # fmt: skip
    # the fact was built but its test failed: built and tested again; the staging model and its test are done
    assert added == 2
    assert plan.exclude == ["not_null_stg_lines_id", "stg_lines"]
    assert plan.select == ["source:raw.order_lines+", "state:modified+", "source:raw._batches+"]
    assert plan.reason == "resuming the failed build (2 nodes already built)"


def test_what_a_new_landing_feeds_is_built_again_the_rest_is_resumed(failed_build):
    built = {
        "model.p.stg_lines": "success", "test.p.not_null_stg_lines_id": "pass",
        "model.p.fct_lines": "success", "test.p.unique_fct_lines_id": "pass", "model.p.mart_sales": "error",
    }  # fmt: skip
    before = {"raw.order_lines": "batches=4;rows=40;last=z", "raw.anomaly_review_events": "snapshot=1"}
    # a new review event since: what it feeds (the mart) was not built anyway; the order-line chain stays done
    _added, plan = failed_build(built, {**before, "raw.anomaly_review_events": "snapshot=2"})
    assert plan.exclude == ["fct_lines", "not_null_stg_lines_id", "stg_lines", "unique_fct_lines_id"]
    assert "source:reviews.anomaly_review_events+" in (plan.select or [])
    # a new batch of order lines since: its whole chain is built again
    _added, plan = failed_build(built, {**before, "raw.order_lines": "batches=5;rows=50;last=zz"})
    assert plan.exclude == []
    assert plan.select == ["source:raw.order_lines+", "state:modified+", "source:raw._batches+"]
    assert plan.reason.startswith("the failed build again; changed sources: raw.order_lines")


def test_a_killed_process_or_a_changed_project_resumes_nothing(failed_build, monkeypatch):
    built = {"model.p.stg_lines": "success", "test.p.not_null_stg_lines_id": "pass"}
    added, plan = failed_build(built, reported=False)  # the process was killed: no node reported
    assert added == 0 and plan.exclude == []
    added, plan = failed_build(built)
    assert added == 2 and plan.exclude == ["not_null_stg_lines_id", "stg_lines"]
    _added, plan = failed_build(
        built, then=lambda: monkeypatch.setattr(changes, "project_hash", lambda: "edit")
    )
    assert plan.exclude == [] and plan.select is not None


def test_a_successful_build_ends_the_retry(failed_build, tmp_path: Path):
    settings = load_settings({"LAKEHOUSE_DATA_DIR": str(tmp_path)})
    _added, plan = failed_build({"model.p.stg_lines": "success"})
    assert (changes.state_dir(settings) / changes.RETRY).is_file()
    changes.record_build(settings, plan)
    assert not (changes.state_dir(settings) / changes.RETRY).is_file()


def _graph_manifest() -> dict:
    """Two sources; order lines -> fact -> mart, the fact also reads a dimension built from products."""
    sources = {
        f"source.p.{src}.{name}": {"schema": "raw", "identifier": name, "source_name": src, "name": name}
        for src, name in (("raw", "order_lines"), ("raw", "products"), ("clickstream", "clickstream_events"))
    }
    nodes = {
        f"model.p.{name}": {"resource_type": "model", "schema": "marts", "name": name}
        for name in ("dim_products", "fct_order_lines", "mart_daily_sales", "fct_events")
    }
    edges = [
        ("source.p.raw.products", "model.p.dim_products"),
        ("source.p.raw.order_lines", "model.p.fct_order_lines"),
        ("model.p.dim_products", "model.p.fct_order_lines"),
        ("model.p.fct_order_lines", "model.p.mart_daily_sales"),
        ("source.p.clickstream.clickstream_events", "model.p.fct_events"),
    ]
    children: dict[str, list[str]] = {}
    parents: dict[str, list[str]] = {}
    for parent, child in edges:
        children.setdefault(parent, []).append(child)
        parents.setdefault(child, []).append(parent)
    return {"sources": sources, "nodes": nodes, "child_map": children, "parent_map": parents}


def test_a_stream_cycle_builds_what_reads_the_landed_sources_only(tmp_path: Path, monkeypatch):
    settings = load_settings({"LAKEHOUSE_DATA_DIR": str(tmp_path)})
    settings.dbt_target_path.mkdir(parents=True)
    (settings.dbt_target_path / changes.MANIFEST).write_text(json.dumps(_graph_manifest()))
    monkeypatch.setattr(changes, "SparkSQL", FakeSpark)

    # a new lake (no recorded build): the landed source's models and what they read
    plan = changes.plan_stream_build(settings, {"raw.order_lines"})
    assert plan.select == ["@source:raw.order_lines"]
    assert plan.relations == {"marts.fct_order_lines", "marts.mart_daily_sales", "marts.dim_products"}

    # after a recorded build whose schemas exist: only downstream, neither dimensions nor the clickstream
    changes.state_dir(settings).mkdir(parents=True)
    manifest = {**_graph_manifest(), "nodes": {"model.p.x": {"resource_type": "model", "schema": "marts"}}}
    (changes.state_dir(settings) / changes.MANIFEST).write_text(json.dumps(manifest))
    plan = changes.plan_stream_build(settings, {"raw.order_lines", "raw.clickstream_events"})
    assert plan.select == ["source:clickstream.clickstream_events+", "source:raw.order_lines+"]
    assert plan.relations == {"marts.fct_order_lines", "marts.mart_daily_sales", "marts.fct_events"}
