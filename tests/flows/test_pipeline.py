"""The pipeline flows end to end under Prefect's test harness, on the session's real services.

One small dataset, run in this order (each test builds on the state the previous one left):
1. a full run: the reference state of lake and gold, and the run's artifact; the daily recovery (with dbt's
   unit tests) and the anomaly re-run leave it unchanged;
2. the Spark Thrift Server killed in the middle of `dbt build`, then a fresh run resumes it: the same state as
   the reference, and a concurrent run meanwhile is refused;
3. a failing dbt test: the run stops before the export and gold keeps its state;
4. PostgreSQL killed in the middle of the export, then a fresh run: the same state as the reference;
5. builds of what changed: the failed build of 3 resumed where it stopped, then nothing when nothing landed,
   then a batch of order lines alone (the clickstream models are not rebuilt), then master data alone (the
   quarantine is re-checked);
6. the scheduled deployments `master-data-daily` and `order-lines-2h`, each flow run with its deployment's
   parameters: the next simulated day of master data, then the next two hourly order-line batches.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

import psutil
import psycopg
import pytest

from lakehouse import services
from lakehouse.gold import gold_totals
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import REPO_ROOT
from lakehouse.platform.sql import SparkSQL
from tests.access_logs.oracle import count_file
from tests.support.reference import REFERENCE_SIZES, lake_state

pytestmark = pytest.mark.integration

SMALL = REFERENCE_SIZES
STATE: dict[str, object] = {}


class Watcher:
    """Calls ``action`` once ``event_check()`` turns true (polled every 20 ms), until stopped."""

    def __init__(self, event_check, action):
        self.fired = False
        self._stop = threading.Event()

        def watch():
            while not self._stop.is_set():
                if event_check():
                    action()
                    self.fired = True
                    return
                self._stop.wait(0.02)

        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


def test_1_full_run_builds_lake_and_gold(lake, reference_run):
    report = reference_run.report
    steps = {name: result for name, result, _sec in report.steps}
    assert set(steps) == {
        "services up", "ingest", "ingest access logs", "shop simulate", "shop extract", "enrich lookups",
        "pull anomaly reviews",
        "source freshness",
        "transform (dbt build)", "ml score",
        "export gold", "publish anomalies for review", "gold BI layer (dbt build --target gold)",
        "anomaly alert",
    }  # fmt: skip
    assert "0 failed" in steps["transform (dbt build)"]
    # two days hold no churn label and no recommendation holdout: nothing is trained, nothing scored, and
    # the step says so (an ML failure would be reported here without stopping the export)
    assert steps["ml score"].startswith("ml score: no published model yet"), steps["ml score"]
    counts = report.counts
    assert counts["raw order lines"] > 0
    assert counts["unreconciled rows"] == 0
    assert counts["fact order lines"] + counts["quarantine open"] + counts["quarantine recovered"] > 0
    assert "# Lakehouse pipeline run" in report.markdown()
    # two days of history: nothing to learn a baseline from, so every product is reported as not scored;
    # the day of access logs is the generator's incident day: its window is the one new anomaly
    assert counts["anomalies flagged"] == 0
    assert steps["anomaly alert"] == "1 new anomalies (1 site_incident); logged"
    with SparkSQL(lake) as spark:
        unscored = spark.query(
            "select count(*), count_if(not is_scored and not_scored_reason = 'too_few_observations') "
            "from marts.anomaly_product_baselines"
        )[0]
    assert unscored[0] == unscored[1] > 0

    fact = reference_run.lake["fact"]
    assert fact[0] == fact[2] > 0  # no duplicate order-line keys
    # a day of the demo's access logs landed and reached gold: every request line of the files, per the
    # tests' own reader of the formats (tests/access_logs/oracle.py)
    logs = sorted((lake.data_dir / "landing" / f"demo-{SMALL['seed']}-access-logs").rglob("access.log*"))
    expected = [count_file(f) for f in logs]
    assert len(logs) == 3 and steps["ingest access logs"].startswith("3 batches landed")
    with psycopg.connect(lake.gold_url) as conn:
        requests = conn.execute("select sum(requests) from gold.site_traffic_per_minute").fetchone()[0]
        timed = conn.execute("select sum(timed_requests) from gold.endpoint_latency").fetchone()[0]
    assert requests == sum(c.parsed for c in expected) > 0
    assert timed == sum(1 for c in expected for r in c.parsed_rows if r["request_time"] is not None) > 0
    assert reference_run.gold, "nothing was exported to gold"
    # the stories below start from the reference state: nothing run since may have changed it
    STATE["lake"], STATE["gold"] = reference_run.lake, reference_run.gold
    assert lake_state(lake) == STATE["lake"] and gold_totals(lake.gold_url) == STATE["gold"]


def _unit_tests_declared() -> int:
    """dbt unit tests declared in the project's YAML (counted from the files, not from dbt)."""
    import yaml

    return sum(
        len((yaml.safe_load(path.read_text()) or {}).get("unit_tests") or [])
        for path in (REPO_ROOT / "models").rglob("*.yml")
    )


def test_1a_daily_recovery_runs_the_unit_tests_and_changes_nothing(lake, prefect_harness):
    """The 2-hourly runs leave dbt's unit tests out (they test SQL on fixed inputs); the daily recovery flow
    runs them all, on the reference lake, and a recovery with nothing to recover changes nothing."""
    from flows.pipeline import recovery_run

    report = recovery_run()
    built = {name: result for name, result, _sec in report.steps}["transform (dbt build)"]
    declared = _unit_tests_declared()
    assert declared >= 9
    assert f"unit tests {declared} passed" in built and "0 failed" in built
    assert lake_state(lake) == STATE["lake"] and gold_totals(lake.gold_url) == STATE["gold"]


def test_1b_detect_and_alert_reruns_only_the_anomaly_part(lake, prefect_harness):
    from flows.pipeline import detect_and_alert_run

    report = detect_and_alert_run()
    steps = {name: result for name, result, _sec in report.steps}
    assert "ingest" not in steps and "enrich lookups" not in steps
    built = steps["transform (dbt build -s tag:anomalies)"]
    assert "0 snapshots" in built and "0 failed" in built
    assert steps["anomaly alert"] == "no new anomalies"
    assert lake_state(lake) == STATE["lake"] and gold_totals(lake.gold_url) == STATE["gold"]


def _results(lake) -> dict[str, str]:
    """Name -> status of the nodes of the last dbt build (dbt's run_results.json)."""
    import json

    results = json.loads((lake.dbt_target_path / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[2]: r["status"] for r in results}


def _built_nodes(lake) -> set[str]:
    """Names of the nodes the last dbt build ran."""
    return set(_results(lake))


def test_2_thrift_killed_mid_build_then_a_fresh_run_converges(lake, prefect_harness):
    from flows.pipeline import pipeline

    thrift = services.SparkThrift(lake)
    dbt_log = lake.dbt_log_path / "dbt.log"
    offset = dbt_log.stat().st_size if dbt_log.exists() else 0

    def building() -> bool:  # dbt has started merging into the fact, most of the graph behind it
        if not dbt_log.exists():
            return False
        with dbt_log.open("rb") as fh:
            fh.seek(offset)
            return b"START sql incremental model marts.fct_order_lines " in fh.read()

    def kill_java() -> None:
        proc = thrift.process()
        for p in [proc, *proc.children(recursive=True)]:
            p.kill()

    watcher = Watcher(building, kill_java)
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the killed connection surfaces as
            pipeline(**SMALL, full=True)  # nothing new lands: only a full build has models to kill
    finally:
        watcher.stop()
    assert watcher.fired, "the build finished before the Thrift server could be killed"
    assert thrift.process() is None or not thrift.process().is_running()
    # dbt's own log of the killed build (a build whose connection dies writes no run_results.json): what it
    # had built before the kill
    with dbt_log.open("rb") as fh:
        fh.seek(offset)
        killed_log = fh.read().decode(errors="replace")
    done_before_kill = set(re.findall(r"\d+ of \d+ OK created sql \w+ model \w+\.(\w+)", killed_log))
    assert len(done_before_kill) > 40, killed_log[-3000:]  # models

    # a fresh run in another process restarts the services; a concurrent run meanwhile is refused
    env = {**os.environ}
    args = [f"--{k.replace('_', '-')}={v}" for k, v in SMALL.items()]
    fresh = subprocess.Popen(
        [sys.executable, "-m", "flows", "run", *args], cwd=REPO_ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lock_file = lake.run_dir / "pipeline.lock"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and str(fresh.pid) not in lock_file.read_text():
        time.sleep(0.5)
    with pytest.raises(LakehouseError, match="Another pipeline run is active"):
        pipeline(**SMALL)
    out, _ = fresh.communicate(timeout=1800)
    assert fresh.returncode == 0, out[-4000:]

    # the fresh run resumed the killed build: the fact again, not most of what was built before the kill
    resumed = _built_nodes(lake)
    assert "fct_order_lines" in resumed
    assert len(done_before_kill - resumed) > len(done_before_kill) / 2, sorted(done_before_kill & resumed)
    assert lake_state(lake) == STATE["lake"]
    assert gold_totals(lake.gold_url) == STATE["gold"]


def test_3_failing_dbt_test_stops_before_export_and_keeps_gold(lake, prefect_harness):
    from flows.pipeline import recovery_run

    gold_before = gold_totals(lake.gold_url)
    with psycopg.connect(lake.gold_url) as conn:
        exported_at = conn.execute("select count(*) from gold_marts.dim_currency").fetchone()
    with SparkSQL(lake) as spark:
        # a second current version of a currency: what two colliding snapshot runs would leave
        columns = [c[0] for c in spark.query("describe snapshots.snap_currencies") if c[0] and c[0][0] != "#"]
        select = ", ".join("'injected'" if c == "dbt_scd_id" else c for c in columns)
        spark.execute(
            f"insert into snapshots.snap_currencies select {select} from snapshots.snap_currencies "
            "where currency_code = 'GBP' and dbt_valid_to is null"
        )
    try:
        with pytest.raises(LakehouseError, match="snap_currencies_one_current_row_per_currency"):
            recovery_run()
        STATE["failed_build_passed"] = {name for name, status in _results(lake).items() if status == "pass"}
        assert gold_totals(lake.gold_url) == gold_before
        with psycopg.connect(lake.gold_url) as conn:
            assert conn.execute("select count(*) from gold_marts.dim_currency").fetchone() == exported_at
    finally:
        with SparkSQL(lake) as spark:
            spark.execute("delete from snapshots.snap_currencies where dbt_scd_id = 'injected'")


def test_4_postgres_killed_mid_export_then_a_fresh_run_converges(lake, prefect_harness):
    from flows.pipeline import export_run

    pg = services.Postgres(lake)

    probe = psycopg.connect(lake.gold_url, autocommit=True)  # one connection: polls are quick, none missed

    def exporting() -> bool:
        try:
            return bool(
                probe.execute(
                    "select 1 from pg_stat_activity where pid <> pg_backend_pid() "
                    "and query ilike '%gold_load%'"
                ).fetchone()
            )
        except psycopg.Error:
            return False

    def kill_postgres() -> None:
        proc = pg.process()
        proc.kill()  # SIGKILL the postmaster: no clean shutdown
        psutil.wait_procs([proc], timeout=30)

    # a full refresh rewrites every table, so the export is long enough to be caught in the middle
    watcher = Watcher(exporting, kill_postgres)
    try:
        with pytest.raises(Exception):  # noqa: B017 - the export's retries give up while PostgreSQL is down
            export_run(full_refresh=True)
    finally:
        watcher.stop()
        probe.close()
    assert watcher.fired, "the export finished before PostgreSQL could be killed"

    services.up(lake, echo=lambda _m: None)  # crash recovery on start
    export_run()
    assert lake_state(lake) == STATE["lake"]
    assert gold_totals(lake.gold_url) == STATE["gold"]
    with psycopg.connect(lake.gold_url) as conn:
        leftovers = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'gold_load'"
        ).fetchone()
    assert leftovers == (0,)


def _transform_step(report) -> str:
    return {name: result for name, result, _sec in report.steps}["transform (dbt build)"]


def test_5a_a_failed_build_is_resumed_then_nothing_is_built_when_nothing_landed(lake, prefect_harness):
    from flows.pipeline import refresh_run

    report = refresh_run()  # test 3's build failed on a snapshot's test: resumed from there
    assert "resuming the failed build" in _transform_step(report), _transform_step(report)
    built = _built_nodes(lake)
    assert {"snap_currencies_one_current_row_per_currency", "fct_order_lines", "dim_currency"} <= built
    assert STATE["failed_build_passed"] and not STATE["failed_build_passed"] & built  # tests passed before
    assert lake_state(lake) == STATE["lake"] and gold_totals(lake.gold_url) == STATE["gold"]

    report = refresh_run()
    assert _transform_step(report) == "nothing to build (no source changed)", _transform_step(report)
    assert lake_state(lake) == STATE["lake"] and gold_totals(lake.gold_url) == STATE["gold"]


def _copy_batch(source_dir, out_dir, suffix: str, change) -> tuple[object, list[dict]]:
    """The last file landed in ``source_dir``, each row passed through ``change``, saved under a new batch
    id (file name) in ``out_dir/<source>/``; returns the path and the rows written."""
    import csv

    original = sorted(source_dir.glob("*.csv"))[-1]
    with original.open(newline="") as fh:
        rows = [change(row) for row in csv.DictReader(fh)]
    target = out_dir / source_dir.name / f"{original.stem}{suffix}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
    return target, rows


def test_5b_a_batch_of_order_lines_alone_rebuilds_the_order_chain_not_the_clickstream(
    lake, prefect_harness, tmp_path
):
    from flows.ingest import land_files
    from flows.pipeline import refresh_run

    def new_invoice(row: dict) -> dict:  # the same lines as new invoices (a cancellation stays one)
        prefix = "C" if row["invoice_no"].startswith("C") else ""
        return row | {"invoice_no": f"{prefix}9{row['invoice_no'].removeprefix('C')}"}

    landing = lake.data_dir / "landing" / f"demo-{SMALL['seed']}"
    path, rows = _copy_batch(landing / "order_lines", tmp_path, "-resent", new_invoice)
    batch = path.stem
    gold_sql = "select count(*), coalesce(sum(quantity), 0) from gold.order_lines"
    with psycopg.connect(lake.gold_url) as conn:
        gold_before = conn.execute(gold_sql).fetchone()
    report = land_files([str(path)])
    assert [o.batch_id for o in report.succeeded] == [batch]

    report = refresh_run()
    step = _transform_step(report)
    assert step.endswith("(changed sources: raw.order_lines)"), step
    built = _built_nodes(lake)
    assert {"int_order_lines__validated", "fct_order_lines", "quarantine_order_lines",
            "audit_batch_reconciliation", "mart_daily_sales"} <= built  # fmt: skip
    assert not {n for n in built if "clickstream" in n or n in ("fct_events", "fct_sessions")}, sorted(built)
    assert report.counts["unreconciled rows"] == 0

    # every line of the file is in the fact, the quarantine or counted as a duplicate (counted from the file)
    with SparkSQL(lake) as spark:
        of_batch = f"where _batch_id = '{batch}'"
        fact, fact_qty = spark.query(
            f"select count(*), coalesce(sum(quantity), 0) from marts.fct_order_lines {of_batch}"
        )[0]
        quarantined = spark.scalar(f"select count(*) from marts.quarantine_order_lines {of_batch}")
        duplicates = spark.scalar(
            f"select duplicate_rows from marts.audit_batch_reconciliation where batch_id = '{batch}'"
        )
    assert fact + quarantined + duplicates == len(rows)
    assert fact > 0
    with psycopg.connect(lake.gold_url) as conn:
        gold_after = conn.execute(gold_sql).fetchone()
    assert (gold_after[0] - gold_before[0], gold_after[1] - gold_before[1]) == (fact, fact_qty)


def test_5c_master_data_alone_rechecks_the_quarantine(lake, prefect_harness, tmp_path):
    from flows.ingest import land_files
    from flows.pipeline import refresh_run

    landing = lake.data_dir / "landing" / f"demo-{SMALL['seed']}"
    path, _rows = _copy_batch(landing / "products", tmp_path, "-resent", lambda row: row)
    # the same products under a new batch id: new content for the manifest (another batch), the same prices
    land_files([str(path)])

    report = refresh_run()
    step = _transform_step(report)
    assert step.endswith("(changed sources: raw.products)"), step
    built = _built_nodes(lake)
    assert {"snap_products", "dim_products", "int_order_lines__validated", "quarantine_order_lines"} <= built
    # events carry their product's version (fct_events is downstream of products); sessions and the raw
    # clickstream's staging are not
    assert not built & {"stg_clickstream__events", "int_clickstream__events_sessionised", "fct_sessions"}
    assert "stg_raw__order_lines" not in built
    assert report.counts["unreconciled rows"] == 0


def _csv_rows(path) -> int:
    import csv

    with path.open(newline="") as fh:
        return sum(1 for _row in csv.DictReader(fh))


def test_6_the_scheduled_ingest_deployments_run_with_their_parameters(lake, prefect_harness):
    """`make serve` runs these two every day and every two hours; here each deployment's flow runs once with
    the deployment's own parameters (the shop of this session: its seed and sizes, one day further)."""
    from flows.deployments import deployments
    from flows.ingest import MASTER_SOURCES, SimulatedShop, landed_batch_ids
    from flows.pipeline import master_data_run, order_lines_run

    sizes = ("seed", "lines_per_day", "sessions_per_day", "products", "customers")
    shop = SimulatedShop(horizon_days=SMALL["days"] + 1, **{k: SMALL[k] for k in sizes})
    by_name = {d.name: d for d in deployments(shop)}
    master, hourly = by_name["master-data-daily"], by_name["order-lines-2h"]
    assert (master.flow_name, hourly.flow_name) == (master_data_run.name, order_lines_run.name)
    files = SimulatedShop(**master.parameters["shop"]).files()
    before = landed_batch_ids()
    new = [p for p in files if p.stem not in before]

    def day(path) -> str:
        return path.stem.rsplit("_", 1)[-1][:10]

    # the daily run lands the first day of master data the lake does not hold (counted from the files)
    report = master_data_run(**master.parameters)
    new_master = [p for p in new if p.parent.name in MASTER_SOURCES]
    first_day = min(day(p) for p in new_master)
    master_files = {p.stem for p in new_master if day(p) == first_day}
    assert master_files and landed_batch_ids() - before == master_files
    assert {"int_order_lines__validated", "quarantine_order_lines"} <= _built_nodes(lake)  # re-checked
    assert report.counts["unreconciled rows"] == 0

    # the 2-hourly run lands the next two hourly batches and the clickstream of their day
    report = order_lines_run(**hourly.parameters)
    hours = sorted(p for p in new if p.parent.name == "order_lines")[: hourly.parameters["hours"]]
    hour_days = {day(h) for h in hours}
    clicks = {p.stem for p in new if p.parent.name == "clickstream_events" and day(p) in hour_days}
    assert len(hours) == 2 and clicks
    assert landed_batch_ids() - before == master_files | clicks | {p.stem for p in hours}
    assert report.counts["unreconciled rows"] == 0
    # every line of the two files is in the fact, the quarantine or counted as a duplicate (counted from them)
    with SparkSQL(lake) as spark:
        for path in hours:
            of_batch = f"where _batch_id = '{path.stem}'"
            fact = spark.scalar(f"select count(*) from marts.fct_order_lines {of_batch}")
            quarantined = spark.scalar(f"select count(*) from marts.quarantine_order_lines {of_batch}")
            duplicates = spark.scalar(
                f"select duplicate_rows from marts.audit_batch_reconciliation where batch_id = '{path.stem}'"
            )
            assert fact + quarantined + duplicates == _csv_rows(path), path.name
            assert fact > 0
        lake_lines = spark.scalar("select count(*) from marts.fct_order_lines")
    with psycopg.connect(lake.gold_url) as conn:
        assert conn.execute("select count(*) from gold.order_lines").fetchone() == (lake_lines,)
