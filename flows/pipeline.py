"""The pipeline flows: the full run of `make run`, and the scheduled runs that compose the same steps.

Every flow that writes to the lake takes the pipeline lock first (lakehouse.platform.runlock): runs never
overlap.
`python -m flows --help` lists the commands; flows/deployments.py schedules them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows import console
from flows.anomalies import alert_anomalies, describe_alert, publish_anomalies, pull_reviews
from flows.ingest import (
    DEFAULT_SHOP,
    IngestSummary,
    SimulatedShop,
    enrich_lookups,
    import_files,
    ingest_demo,
    ingest_master_data,
    ingest_order_lines,
)
from flows.report import RunReport, layer_counts
from flows.retry import TRANSIENT_RETRIES
from flows.transform import run_dbt, transform
from lakehouse import gold, services
from lakehouse.platform.runlock import pipeline_lock
from lakehouse.platform.settings import load_settings


@task(name="services-up", **TRANSIENT_RETRIES)
def services_up() -> None:
    logger = get_run_logger()

    def echo(message: str) -> None:  # "postgres: started (pid ...) at ...": the flow's log and the console
        logger.info(message)
        console.say(message, also_log=False)

    services.up(load_settings(), echo=echo)


@task(name="export-gold", **TRANSIENT_RETRIES)
def export_gold(full_refresh: bool = False) -> list[gold.ExportResult]:
    logger = get_run_logger()
    results = gold.export_gold(load_settings(), full_refresh=full_refresh)
    for r in results:
        logger.info("gold.%s: %d rows in %.1fs", r.model.name, r.rows, r.seconds)
    return results


def _timed(report: RunReport, name: str, fn: Callable[[], Any], describe: Callable[[Any], str]) -> Any:
    """Run one step, add it to the report and print its line (flows/console.py) when it ends."""
    t0 = time.monotonic()
    try:
        value = fn()
    except BaseException:
        console.step(name, "failed", time.monotonic() - t0, ok=False)
        raise
    result = describe(value)
    report.step(name, result, time.monotonic() - t0)
    console.step(name, result, time.monotonic() - t0)
    return value


def _landed(s: IngestSummary) -> str:
    return f"{s.batches_landed} batches landed ({s.rows_landed:,} rows), {s.batches_skipped} skipped"


def _refresh(report: RunReport, unit_tests: bool = False, full: bool = False) -> None:
    """Enrich, reviews in, transform (detection included), export, BI layer, alert: every run's tail."""
    _timed(
        report, "enrich lookups", enrich_lookups,
        lambda c: f"{c.new_user_agents} new user agents, {c.new_ip_addresses} new IP addresses",
    )  # fmt: skip
    _detect(report, unit_tests=unit_tests, full=full)


def _detect(
    report: RunReport, select: str | None = None, unit_tests: bool = False, full: bool = False
) -> None:
    """Reviews from gold into the lake, dbt build (all, or ``select``), export, alert on new anomalies."""
    _timed(report, "pull anomaly reviews", pull_reviews, lambda n: f"{n} review changes from gold")
    _timed(
        report, "transform (dbt build)" if select is None else f"transform (dbt build -s {select})",
        lambda: transform(select, unit_tests, full),
        _built,
    )  # fmt: skip
    _export(report)
    _timed(report, "anomaly alert", alert_anomalies, describe_alert)


def _built(o) -> str:
    if o.nodes == 0:
        return f"nothing to build ({o.plan})"
    return (
        f"{o.count('model', 'success')} models, {o.count('snapshot', 'success')} snapshots, "
        f"tests {o.count('test', 'pass')} passed / {o.count('test', 'fail', 'error')} failed"
        + (f", unit tests {o.count('unit_test', 'pass')} passed" if o.count("unit_test", "pass") else "")
        + (f" ({o.plan})" if o.plan else "")
    )


def _export(report: RunReport, full_refresh: bool = False) -> None:
    _timed(
        report, "export gold", lambda: export_gold(full_refresh),
        lambda rs: f"{len(rs)} tables, {sum(r.changed_rows for r in rs):,} rows changed "
        f"({sum(1 for r in rs if r.mode == 'unchanged')} unchanged)",
    )  # fmt: skip
    _timed(
        report,
        "publish anomalies for review",
        publish_anomalies,
        lambda n: f"{n} new in gold.anomaly_reviews",
    )
    _timed(
        report, "gold BI layer (dbt build --target gold)", lambda: run_dbt(["build"], target="gold"),
        lambda o: f"{o.count('model', 'success')} views, tests {o.count('test', 'pass')} passed",
    )  # fmt: skip


def _finish(report: RunReport) -> RunReport:
    from flows.maintenance import maintain_if_due  # Iceberg maintenance every MAINTENANCE_EVERY_N_RUNS runs

    maintain_if_due(report, _timed)
    report.counts = layer_counts(load_settings())
    create_markdown_artifact(markdown=report.markdown(), key="pipeline-summary", description=report.title)
    return report


@flow(name="lakehouse-pipeline")
def pipeline(
    seed: int = 42,
    days: int = 30,
    lines_per_day: int = 5_000,
    sessions_per_day: int = 500,
    products: int = 500,
    customers: int = 1_000,
    wait_for_lock_seconds: float = 0,
    full: bool = False,
) -> RunReport:
    """One full run: services up, ingest the demo dataset, dbt build, export to gold."""
    with pipeline_lock(load_settings(), wait_seconds=wait_for_lock_seconds):
        report = RunReport("Lakehouse pipeline run")
        _timed(report, "services up", services_up, lambda _v: "ready")
        _timed(
            report, "ingest", lambda: ingest_demo(
                seed=seed, days=days, lines_per_day=lines_per_day, sessions_per_day=sessions_per_day,
                products=products, customers=customers,
            ), _landed,
        )  # fmt: skip
        _refresh(report, full=full)
        return _finish(report)


@flow(name="import")
def import_run(
    paths: list[str],
    layout: str | None = None,
    mappings: list[str] | None = None,
    encoding: str = "utf-8",
    wait_for_lock_seconds: float = 600,
    full: bool = False,
) -> RunReport:
    """A user's files to gold: services up, import (order lines and the master data derived from them),
    enrich, dbt build, export, BI layer, alert; the same report as the full pipeline run."""
    with pipeline_lock(load_settings(), wait_seconds=wait_for_lock_seconds):
        report = RunReport("Import run")
        _timed(report, "services up", services_up, lambda _v: "ready")
        _timed(
            report, "import files", lambda: import_files(paths, layout, mappings, encoding), _landed
        )  # fmt: skip
        _refresh(report, full=full)
        return _finish(report)


@flow(name="master-data")
def master_data_run(
    shop: SimulatedShop = DEFAULT_SHOP, wait_for_lock_seconds: float = 600, full: bool = False
) -> RunReport:
    """Daily: land the next day of master data, then transform (snapshots pick up the changes) and export."""
    with pipeline_lock(load_settings(), wait_seconds=wait_for_lock_seconds):
        report = RunReport("Master data run")
        _timed(report, "services up", services_up, lambda _v: "ready")
        _timed(report, "ingest master data", lambda: ingest_master_data(shop), _landed)
        _refresh(report, full=full)
        return _finish(report)


@flow(name="order-lines")
def order_lines_run(
    shop: SimulatedShop = DEFAULT_SHOP,
    hours: int = 2,
    wait_for_lock_seconds: float = 600,
    full: bool = False,
) -> RunReport:
    """Every 2 hours: land the next hourly order-line batches, then transform and export."""
    with pipeline_lock(load_settings(), wait_seconds=wait_for_lock_seconds):
        report = RunReport("Order lines run")
        _timed(report, "services up", services_up, lambda _v: "ready")
        _timed(report, "ingest order lines", lambda: ingest_order_lines(shop, hours), _landed)
        _refresh(report, full=full)
        return _finish(report)


@flow(name="refresh")
def refresh_run(full: bool = False, wait_for_lock_seconds: float = 600) -> RunReport:
    """What landed since the last build to gold, without landing anything (after `python -m ingestion land`
    or any other landing): enrich, transform what changed (``full``: everything), export, alert."""
    with pipeline_lock(load_settings(), wait_seconds=wait_for_lock_seconds):
        report = RunReport("Refresh run")
        _timed(report, "services up", services_up, lambda _v: "ready")
        _refresh(report, full=full)
        return _finish(report)


@flow(name="export")
def export_run(full_refresh: bool = False, wait_for_lock_seconds: float = 600) -> RunReport:
    """Export the gold marts from the lake as they are, then build the BI layer (no ingest, no transform);
    ``full_refresh`` reloads every table instead of only what changed."""
    with pipeline_lock(load_settings(), wait_seconds=wait_for_lock_seconds):
        report = RunReport("Gold export run")
        _timed(report, "services up", services_up, lambda _v: "ready")
        _export(report, full_refresh)
        return _finish(report)


@flow(name="recovery")
def recovery_run(wait_for_lock_seconds: float = 600) -> RunReport:
    """Daily after master data: re-validate the quarantine against the current master data (a dbt build
    moves rows that now pass into the fact exactly once) and export. The daily full check: dbt's unit tests
    run here too."""
    with pipeline_lock(load_settings(), wait_seconds=wait_for_lock_seconds):
        report = RunReport("Quarantine recovery run")
        _timed(report, "services up", services_up, lambda _v: "ready")
        _refresh(report, unit_tests=True)
        return _finish(report)


@flow(name="detect-and-alert")
def detect_and_alert_run(wait_for_lock_seconds: float = 600) -> RunReport:
    """On demand (e.g. after a round of reviews): reviews into the lake, the anomaly models and their tests,
    export, alert. The same steps run inside every transform."""
    with pipeline_lock(load_settings(), wait_seconds=wait_for_lock_seconds):
        report = RunReport("Anomaly detection run")
        _timed(report, "services up", services_up, lambda _v: "ready")
        _detect(report, select="tag:anomalies")
        return _finish(report)
