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
