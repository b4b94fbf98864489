"""The run history and source freshness, on a small lake of their own (a stale source needs a lake whose
every batch of that source is old: landed here under a clock set back with time-machine).

In order, each test on the state the previous one left:
1. countries last landed 8 days ago (error after 7), products 2 days ago (warn after 36 hours): the run fails
   at the freshness step, before the build, naming the source; the failed run and its freshness are in gold.
2. countries land again: the run goes through, products' warn-level staleness in the report and artifact.
3. a failing data test injected: the run fails; both runs, every node of each (from dbt's own artifacts)
   and the failure (node, message) are in gold.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import time_machine
import yaml

from ingestion.generate import generate_dataset
from ingestion.generate.config import GeneratorConfig
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import REPO_ROOT
from lakehouse.platform.sql import SparkSQL

pytestmark = pytest.mark.integration

SHOP = GeneratorConfig(seed=23, days=2, lines_per_day=150, sessions_per_day=30, products=40, customers=60)
STALE, WARNED = "countries", "products"
STATE: dict[str, object] = {}
INJECTED = REPO_ROOT / "tests" / "dbt" / "assert_history_probe_fails.sql"


def _thresholds(table: str) -> tuple[float, float]:
    """(warn, error) seconds of a raw table, read from the sources YAML (table config over source config)."""
    periods = {"minute": 60, "hour": 3600, "day": 86400}
    (source,) = yaml.safe_load((REPO_ROOT / "models/staging/raw/_raw__sources.yml").read_text())["sources"]
    (spec,) = [t for t in source["tables"] if t["name"] == table]
    freshness = {**source["config"]["freshness"], **(spec.get("config", {}).get("freshness") or {})}
    warn, error = freshness["warn_after"], freshness["error_after"]
    return warn["count"] * periods[warn["period"]], error["count"] * periods[error["period"]]


def _csv_rows(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with path.open(newline="", encoding="utf-8") as fh:
            total += sum(1 for _row in csv.DictReader(fh))
    return total


def _land(lake, paths: list[Path]) -> None:
    from ingestion.inputs import file_inputs
    from ingestion.land import land_inputs

    report = land_inputs(lake, file_inputs([str(p) for p in paths]), restate=False, progress=False)
    assert not report.failed, report.summary()


@pytest.fixture(scope="module")
def shop(lake, empty_lake_and_gold, prefect_harness, tmp_path_factory) -> dict[str, list[Path]]:
    """The small shop landed: countries' first day 8 days ago (its second day held back), products 2 days
    ago, everything else now."""
    empty_lake_and_gold()
    files: dict[str, list[Path]] = {}
    for path in generate_dataset(SHOP, tmp_path_factory.mktemp("shop"), progress=False):
        files.setdefault(path.parent.name, []).append(path)
    for paths in files.values():
        paths.sort()
    now = datetime.now(UTC)
    with time_machine.travel(now - timedelta(days=8), tick=True):
        _land(lake, files[STALE][:1])
    with time_machine.travel(now - timedelta(days=2), tick=True):
        _land(lake, files[WARNED])
    _land(lake, [p for source, paths in files.items() if source not in (STALE, WARNED) for p in paths])
    return files


def _artifact(lake, name: str, target: str | None = None) -> dict:
    folder = lake.dbt_target_path if target is None else lake.dbt_target_path.parent / f"target-{target}"
    return json.loads((folder / name).read_text())


def _nodes_of_the_last_run(lake, *, with_build: bool, with_gold: bool) -> set[tuple[str, str, str]]:
    """(command, node, status) of every node dbt ran in the last run, read from dbt's own artifacts."""
    nodes = {
        ("source freshness", r["unique_id"], r["status"]) for r in _artifact(lake, "sources.json")["results"]
    }
    if with_build:
        nodes |= {
            ("build", r["unique_id"], r["status"]) for r in _artifact(lake, "run_results.json")["results"]
        }
    if with_gold:
        results = _artifact(lake, "run_results.json", "gold")["results"]
        nodes |= {("build --target gold", r["unique_id"], r["status"]) for r in results}
    return nodes


def _gold_nodes(lake, run_id: str) -> set[tuple[str, str, str]]:
    with psycopg.connect(lake.gold_url) as pg:
        rows = pg.execute(
            "select command, unique_id, status from gold_marts.node_runs where run_id = %s", (run_id,)
        ).fetchall()
    assert len(rows) == len(set(rows)), "a node recorded twice"
    return set(rows)


def test_1_an_error_level_stale_source_fails_the_run_before_the_build(lake, shop):
    from flows.pipeline import refresh_run

    state = refresh_run(return_state=True)
    assert state.is_failed()
    run_id = str(state.state_details.flow_run_id)
    with pytest.raises(LakehouseError, match=rf"raw\.{STALE} last landed 8\.0 d ago") as failure:
        state.result()
    assert f"raw.{WARNED}" not in str(failure.value)  # a warning does not fail a run
    with SparkSQL(lake) as spark:  # stopped before the build: nothing was built
        assert not spark.query("show databases like 'marts'")

    warn_after, error_after = _thresholds(STALE)
    expected = {f"raw.{t}": "pass" for t in shop if t != "clickstream_events"} | {
        "clickstream.clickstream_events": "pass", f"raw.{STALE}": "error", f"raw.{WARNED}": "warn",
    }  # fmt: skip
    with psycopg.connect(lake.gold_url) as pg:
        run = pg.execute(
            "select status, error from gold_marts.pipeline_runs where run_id = %s", (run_id,)
        ).fetchone()
        steps = pg.execute(
            "select step, status from gold_marts.run_steps where run_id = %s order by step_no", (run_id,)
        ).fetchall()
        freshness = pg.execute(
            "select source_name || '.' || table_name, status, age_seconds, warn_after_seconds, "
            "error_after_seconds from gold_marts.source_freshness where run_id = %s",
            (run_id,),
        ).fetchall()
    assert run[0] == "failed" and f"raw.{STALE}" in run[1]
    assert steps[-1] == ("source freshness", "failed")
    assert "transform (dbt build)" not in {step for step, _status in steps}
    assert {name: status for name, status, *_ in freshness} == expected
    (stale,) = [row for row in freshness if row[0] == f"raw.{STALE}"]
    assert 8 * 86400 - 600 < stale[2] < 8 * 86400 + 600 and stale[3:] == (warn_after, error_after)
    assert _gold_nodes(lake, run_id) == _nodes_of_the_last_run(lake, with_build=False, with_gold=False)


def test_2_a_warn_level_stale_source_lets_the_run_through_and_says_so(lake, shop):
    from flows.pipeline import refresh_run

    _land(lake, shop[STALE][1:])  # countries land again
    state = refresh_run(return_state=True)
    report = state.result()
    steps = {name: result for name, result, _sec in report.steps}
    assert f"stale (warn): raw.{WARNED} 2.0 d" in steps["source freshness"]
    assert f"raw.{WARNED} 2.0 d" in report.markdown()  # the Prefect artifact's text
    assert "0 failed" in steps["transform (dbt build)"]
    STATE["first"] = str(state.state_details.flow_run_id)
    STATE["first_nodes"] = _nodes_of_the_last_run(lake, with_build=True, with_gold=True)


def test_3_two_runs_every_node_and_an_injected_failure_in_gold(lake, shop):
    from flows.pipeline import refresh_run

    raw_countries = _csv_rows(shop[STALE])
    INJECTED.write_text(
        "-- injected by tests/flows/test_run_history.py: fails with one row per raw country row\n"
        "select country_id from {{ source('raw', 'countries') }}\n"
    )
    try:
        state = refresh_run(return_state=True)
    finally:
        INJECTED.unlink()
    assert state.is_failed()
    second = str(state.state_details.flow_run_id)
    second_nodes = _nodes_of_the_last_run(lake, with_build=True, with_gold=False)

    first = str(STATE["first"])
    assert _gold_nodes(lake, first) == STATE["first_nodes"]
    assert _gold_nodes(lake, second) == second_nodes
    with psycopg.connect(lake.gold_url) as pg:
        runs = dict(
            pg.execute(
                "select run_id, status from gold.pipeline_runs where run_id in (%s, %s)", (first, second)
            ).fetchall()
        )
        failed = pg.execute(
            "select test_name, status, failures, message from gold.test_results where run_id = %s and failed",
            (second,),
        ).fetchall()
        rows = pg.execute(
            "select rows_landed, raw_order_lines from gold.pipeline_runs where run_id = %s", (first,)
        ).fetchone()
    assert runs == {first: "succeeded", second: "failed"}
    assert failed == [
        ("assert_history_probe_fails", "fail", raw_countries,
         f"Got {raw_countries} results, configured to fail if != 0"),
    ]  # fmt: skip
    assert rows == (None, _csv_rows(shop["order_lines"]))  # a refresh lands nothing itself
