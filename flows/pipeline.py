"""The pipeline flows: the full run of `make run`, and the scheduled runs that compose the same steps.

Every flow that writes to the lake runs in the one skeleton of flows/run.py (the pipeline lock, services up,
the run report and its artifact): runs never overlap.
`python -m flows --help` lists the commands; flows/deployments.py schedules them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from prefect import flow, get_run_logger, task

from flows import history
from flows.anomalies import alert_anomalies, describe_alert, publish_anomalies, pull_reviews
from flows.freshness import Freshness, check_freshness
from flows.ingest import (
    DEFAULT_SHOP,
    SHOP_DEMO_DAYS,
    ExtractSummary,
    IngestSummary,
    ShopSimulation,
    SimulatedShop,
    enrich_lookups,
    extract_shop,
    import_files,
    ingest_access_logs,
    ingest_demo,
    ingest_master_data,
    ingest_order_lines,
    simulate_shop,
)
from flows.maintenance import maintain_if_due
from flows.ml import score_customers, train_models
from flows.report import RunReport, layer_counts
from flows.retry import TRANSIENT_RETRIES
from flows.run import Run, flow_run, timed
from flows.transform import DbtOutcome, ml_vars, run_dbt, transform
from ingestion.generate.config import (
    DEMO_CHURN_HORIZON_DAYS,
    DEMO_DAYS,
    DEMO_ML_CUTOFF_STEP_DAYS,
    GeneratorConfig,
)
from lakehouse import gold
from lakehouse.platform.settings import load_settings


@task(name="export-gold", **TRANSIENT_RETRIES)
def export_gold(full_refresh: bool = False) -> list[gold.ExportResult]:
    logger = get_run_logger()
    results = gold.export_gold(load_settings(), full_refresh=full_refresh)
    for r in results:
        logger.info("gold.%s: %d rows in %.1fs", r.model.name, r.rows, r.seconds)
    return results


def _landed(s: IngestSummary) -> str:
    history.note(rows_landed=s.rows_landed)
    return f"{s.batches_landed} batches landed ({s.rows_landed:,} rows), {s.batches_skipped} skipped"


def _extracted(s: ExtractSummary) -> str:
    history.note(rows_landed=s.rows + s.deletes)
    return s.describe()


def _refresh(run: Run, unit_tests: bool = False, full: bool = False, score: bool = False) -> None:
    """Enrich, reviews in, transform (detection included), [ML scoring,] export, BI layer, alert: every
    run's tail."""
    run.step(
        "enrich lookups", enrich_lookups,
        lambda c: f"{c.new_user_agents} new user agents, {c.new_ip_addresses} new IP addresses",
    )  # fmt: skip
    _detect(run, unit_tests=unit_tests, full=full, score=score)


def _detect(
    run: Run, select: str | None = None, unit_tests: bool = False, full: bool = False, score: bool = False
) -> None:
    """Reviews from gold into the lake, source freshness, dbt build (all, or ``select``), [``score``: the
    customers scored with the published models, trained first on a lake without one,] export, alert on new
    anomalies."""
    run.step("pull anomaly reviews", pull_reviews, lambda n: f"{n} review changes from gold")
    run.step("source freshness", check_freshness, Freshness.describe)  # an error-level staleness stops here
    run.step(
        "transform (dbt build)" if select is None else f"transform (dbt build -s {select})",
        lambda: transform(select, unit_tests, full),
        _built,
    )
    if score:
        run.step("ml score", lambda: score_customers(train_if_unpublished=True), lambda r: r.summary())
    _export(run)
    run.step("anomaly alert", alert_anomalies, describe_alert)


def _built(o: DbtOutcome) -> str:
    if o.nodes == 0:
        return f"nothing to build ({o.plan})"
    return (
        f"{o.count('model', 'success')} models, {o.count('snapshot', 'success')} snapshots, "
        f"tests {o.count('test', 'pass')} passed / {o.count('test', 'fail', 'error')} failed"
        + (f", unit tests {o.count('unit_test', 'pass')} passed" if o.count("unit_test", "pass") else "")
        + (f" ({o.plan})" if o.plan else "")
    )


def _exported(results: list[gold.ExportResult]) -> str:
    changed = sum(r.changed_rows for r in results)
    history.note(rows_exported=changed)
    unchanged = sum(1 for r in results if r.mode == "unchanged")
    return f"{len(results)} tables, {changed:,} rows changed ({unchanged} unchanged)"


def _export(run: Run, full_refresh: bool = False) -> None:
    run.step("export gold", lambda: export_gold(full_refresh), _exported)
    run.step("publish anomalies for review", publish_anomalies, lambda n: f"{n} new in gold.anomaly_reviews")
    run.step(
        "gold BI layer (dbt build --target gold)", lambda: run_dbt(["build"], target="gold"),
        lambda o: f"{o.count('model', 'success')} views, tests {o.count('test', 'pass')} passed",
    )  # fmt: skip


def _finish(report: RunReport) -> None:
    """Every pipeline run's end, inside its lock: Iceberg maintenance every MAINTENANCE_EVERY_N_RUNS runs,
    then the rows per layer for the report."""
    maintain_if_due(report, timed)
    report.counts = layer_counts(load_settings())


def _pipeline_run(title: str, wait_for_lock_seconds: float) -> AbstractContextManager[Run]:
    return flow_run(title, wait_for_lock_seconds, finish=_finish)


@flow(name="lakehouse-pipeline")
def pipeline(
    seed: int = GeneratorConfig.seed,
    days: int = DEMO_DAYS,
    lines_per_day: int = GeneratorConfig.lines_per_day,
    sessions_per_day: int = GeneratorConfig.sessions_per_day,
    products: int = GeneratorConfig.products,
    customers: int = GeneratorConfig.customers,
    shop_days: int = SHOP_DEMO_DAYS,
    wait_for_lock_seconds: float = 0,
    full: bool = False,
    churn_horizon_days: int = DEMO_CHURN_HORIZON_DAYS,
    ml_cutoff_step_days: int = DEMO_ML_CUTOFF_STEP_DAYS,
) -> RunReport:
    """One full run: services up, ingest the demo dataset and a day of its web servers' access logs, the
    demo shop database (its first ``shop_days`` simulated days) extracted, dbt build, customers scored by
    the published churn and recommendation models (trained first on a new lake), export to gold. The ML
    features take the demo's churn horizon and cutoff step (its data is short; other flows: the settings)."""
    with (
        ml_vars(churn_horizon_days, ml_cutoff_step_days),
        _pipeline_run("Lakehouse pipeline run", wait_for_lock_seconds) as run,
    ):
        run.step(
            "ingest", lambda: ingest_demo(
                seed=seed, days=days, lines_per_day=lines_per_day, sessions_per_day=sessions_per_day,
                products=products, customers=customers,
            ), _landed,
        )  # fmt: skip
        run.step(
            "ingest access logs", lambda: ingest_access_logs(
                seed=seed, days=days, lines_per_day=lines_per_day, sessions_per_day=sessions_per_day,
                products=products, customers=customers,
            ), _landed,
        )  # fmt: skip
        run.step("shop simulate", lambda: simulate_shop(until_intervals=shop_days), ShopSimulation.describe)
        run.step("shop extract", extract_shop, _extracted)
        _refresh(run, full=full, score=True)
    return run.report


@flow(name="shop")
def shop_run(
    simulate_intervals: int = 1,
    interval_hours: float = 24.0,
    wait_for_lock_seconds: float = 600,
    full: bool = False,
) -> RunReport:
    """Hourly: the shop database's changes to gold. The embedded demo shop is first advanced by
    ``simulate_intervals`` simulated intervals (0: none; a shop at SOURCE_DATABASE_URL never is), then every
    table's changes since the last extraction land as raw batches, then enrich, transform, export, alert."""
    with _pipeline_run("Shop database run", wait_for_lock_seconds) as run:
        if simulate_intervals:
            run.step(
                "shop simulate", lambda: simulate_shop(simulate_intervals, interval_hours),
                ShopSimulation.describe,
            )  # fmt: skip
        run.step("shop extract", extract_shop, _extracted)
        _refresh(run, full=full)
    return run.report


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
    with _pipeline_run("Import run", wait_for_lock_seconds) as run:
        run.step(
            "import files", lambda: import_files(paths, layout, mappings, encoding), _landed
        )  # fmt: skip
        _refresh(run, full=full)
    return run.report


@flow(name="master-data")
def master_data_run(
    shop: SimulatedShop = DEFAULT_SHOP, wait_for_lock_seconds: float = 600, full: bool = False
) -> RunReport:
    """Daily: land the next day of master data, then transform (snapshots pick up the changes) and export."""
    with _pipeline_run("Master data run", wait_for_lock_seconds) as run:
        run.step("ingest master data", lambda: ingest_master_data(shop), _landed)
        _refresh(run, full=full)
    return run.report


@flow(name="order-lines")
def order_lines_run(
    shop: SimulatedShop = DEFAULT_SHOP,
    hours: int = 2,
    wait_for_lock_seconds: float = 600,
    full: bool = False,
) -> RunReport:
    """Every 2 hours: land the next hourly order-line batches, then transform and export."""
    with _pipeline_run("Order lines run", wait_for_lock_seconds) as run:
        run.step("ingest order lines", lambda: ingest_order_lines(shop, hours), _landed)
        _refresh(run, full=full)
    return run.report


@flow(name="refresh")
def refresh_run(full: bool = False, wait_for_lock_seconds: float = 600) -> RunReport:
    """What landed since the last build to gold, without landing anything (after `python -m ingestion land`
    or any other landing): enrich, transform what changed (``full``: everything), export, alert."""
    with _pipeline_run("Refresh run", wait_for_lock_seconds) as run:
        _refresh(run, full=full)
    return run.report


@flow(name="export")
def export_run(full_refresh: bool = False, wait_for_lock_seconds: float = 600) -> RunReport:
    """Export the gold marts from the lake as they are, then build the BI layer (no ingest, no transform);
    ``full_refresh`` reloads every table instead of only what changed."""
    with _pipeline_run("Gold export run", wait_for_lock_seconds) as run:
        _export(run, full_refresh)
    return run.report


@flow(name="recovery")
def recovery_run(wait_for_lock_seconds: float = 600) -> RunReport:
    """Daily after master data: re-validate the quarantine against the current master data (a dbt build
    moves rows that now pass into the fact exactly once) and export. The daily full check: dbt's unit tests
    run here too."""
    with _pipeline_run("Quarantine recovery run", wait_for_lock_seconds) as run:
        _refresh(run, unit_tests=True)
    return run.report


@flow(name="detect-and-alert")
def detect_and_alert_run(wait_for_lock_seconds: float = 600) -> RunReport:
    """On demand (e.g. after a round of reviews): reviews into the lake, the anomaly models and their tests,
    export, alert. The same steps run inside every transform."""
    with _pipeline_run("Anomaly detection run", wait_for_lock_seconds) as run:
        _detect(run, select="tag:anomalies")
    return run.report


@flow(name="ml-train")
def train_run(shuffle_labels: bool = False, wait_for_lock_seconds: float = 600) -> RunReport:
    """Weekly: train the churn and recommendation models on the lake's features (time-based holdout, quality
    gates: a model that fails its gate is not published, the previous one stays), score the customers with
    what is published, export. ``shuffle_labels`` is the permutation check: the churn gate must refuse."""
    with _pipeline_run("ML training run", wait_for_lock_seconds) as run:
        run.step("ml train", lambda: train_models(shuffle_labels), lambda r: r.summary())
        run.step("ml score", score_customers, lambda r: r.summary())
        _export(run)
    return run.report


@flow(name="ml-score")
def score_run(wait_for_lock_seconds: float = 600) -> RunReport:
    """Daily: score the customers with the published models on the features of the last build, export."""
    with _pipeline_run("ML scoring run", wait_for_lock_seconds) as run:
        run.step("ml score", score_customers, lambda r: r.summary())
        _export(run)
    return run.report
