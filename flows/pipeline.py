"""The main pipeline: services up, dbt build on the lake, export to gold.

Later issues add ingestion, anomaly alerts, recovery and backups as their own flows chained here.
`make run` runs :func:`pipeline` once; `python -m flows --help` lists the commands.
"""

from __future__ import annotations

import re
import time

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows.ingest import ingest_demo
from flows.retry import TRANSIENT_RETRIES
from lakehouse import export, services
from lakehouse.config import REPO_ROOT, load_settings
from lakehouse.errors import LakehouseError, first_line
from lakehouse.runlock import pipeline_lock


@task(name="services-up", **TRANSIENT_RETRIES)
def services_up() -> None:
    logger = get_run_logger()
    services.up(load_settings(), echo=logger.info)


def dbt_runner():
    from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

    settings = load_settings()
    return PrefectDbtRunner(
        settings=PrefectDbtSettings(
            project_dir=REPO_ROOT,
            profiles_dir=REPO_ROOT / "profiles",
            target_path=settings.dbt_target_path,
        ),
        raise_on_failure=False,
    )


def dbt_failure_summary(results) -> list[str]:
    """One line per failed node: its type, name, status and the first meaningful line of its message
    (Spark errors arrive with tens of KB of Java stack; the full text is in dbt's log)."""
    lines = []
    for r in results:
        if str(r.status) not in ("error", "fail", "runtime error"):
            continue
        message = r.message or ""
        code = re.search(r"\[[A-Z_.]+\][^\n]*", message)
        text = code.group(0) if code else first_line(message)
        if code and "Exception: " in text:
            text = text.split("Exception: ", 1)[1]
        lines.append(f"{r.node.resource_type} {r.node.name} {r.status}: {text[:300]}")
    return lines


@flow(name="transform")
def transform(select: str | None = None) -> None:
    """`dbt build` on the lake target: seeds, snapshots, models and tests, one Prefect task per node.

    A failed model or test fails the flow with the node's name and message, so nothing after it
    (the gold export) runs and gold keeps its previous state.
    """
    args = ["build"]
    if select:
        args += ["--select", select]
    res = dbt_runner().invoke(args)
    if res.success:
        return
    if res.exception is not None:
        raise LakehouseError(f"dbt build could not run: {first_line(str(res.exception))}")
    failures = dbt_failure_summary(res.result.results)
    get_run_logger().error("dbt build failed:\n%s", "\n".join(failures))
    raise LakehouseError(f"dbt build failed on {len(failures)} node(s): " + " | ".join(failures[:3]))


@task(name="export-gold", **TRANSIENT_RETRIES)
def export_gold() -> list[export.ExportResult]:
    logger = get_run_logger()
    results = export.export_gold(load_settings())
    for r in results:
        logger.info("gold.%s: %d rows in %.1fs", r.model.name, r.rows, r.seconds)
    return results


@flow(name="lakehouse-pipeline", log_prints=True)
def pipeline(
    seed: int = 42,
    days: int = 30,
    lines_per_day: int = 5_000,
    sessions_per_day: int = 500,
    products: int = 500,
    customers: int = 1_000,
    wait_for_lock_seconds: float = 0,
) -> None:
    """One run (ingest, transform, export), never overlapping another (see lakehouse.runlock)."""
    with pipeline_lock(load_settings(), wait_seconds=wait_for_lock_seconds):
        _pipeline(
            dict(seed=seed, days=days, lines_per_day=lines_per_day, sessions_per_day=sessions_per_day,
                 products=products, customers=customers)
        )  # fmt: skip


def _pipeline(ingest_params: dict) -> None:
    started = time.monotonic()
    services_up()
    t0 = time.monotonic()
    landed = ingest_demo(**ingest_params)
    t_ingest = time.monotonic() - t0
    t0 = time.monotonic()
    transform()
    t_transform = time.monotonic() - t0
    exported = export_gold()
    lines = [
        "# Lakehouse pipeline run",
        "",
        "| step | result |",
        "|---|---|",
        f"| ingest | {landed.batches_landed} batches landed ({landed.rows_landed:,} rows), "
        f"{landed.batches_skipped} skipped, {t_ingest:.1f} s |",
        f"| transform (dbt build) | {t_transform:.1f} s |",
    ]
    lines += [f"| export gold.{r.model.name} | {r.rows} rows, {r.seconds:.1f} s |" for r in exported]
    lines.append(f"| total | {time.monotonic() - started:.1f} s |")
    create_markdown_artifact(markdown="\n".join(lines), key="pipeline-summary")
