"""Ingest: generate (or import) source files, then land them in the raw zone (bronze)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from prefect import flow, get_run_logger, task

from flows.retry import TRANSIENT_RETRIES
from lakehouse.config import load_settings
from lakehouse.errors import LakehouseError
from lakehouse.sql import SparkSQL


@dataclass(frozen=True)
class IngestSummary:
    batches_landed: int
    batches_skipped: int
    batches_failed: int
    rows_landed: int


@task(name="land-files", **TRANSIENT_RETRIES)
def land_files(paths: list[str]):
    """Land files as raw batches; idempotent (known checksums are skipped, a batch id is replaced),
    so a retry after a dropped connection lands nothing twice."""
    from ingestion.inputs import file_inputs
    from ingestion.land import Lander
    from ingestion.rawzone import RawZone, default_raw_uri

    settings = load_settings()
    with SparkSQL(settings) as spark:
        return Lander(spark, RawZone(default_raw_uri(settings))).land(file_inputs(paths))


@flow(name="ingest-demo")
def ingest_demo(
    seed: int = 42,
    days: int = 30,
    start_date: date = date(2024, 1, 1),
    products: int = 500,
    customers: int = 1_000,
    lines_per_day: int = 5_000,
    sessions_per_day: int = 500,
) -> IngestSummary:
    """Generate the synthetic sources for ``days`` days and land them; re-running lands nothing twice
    (same seed, same files, same checksums: skipped)."""
    from ingestion.generate import generate_dataset
    from ingestion.generate.config import GeneratorConfig

    logger = get_run_logger()
    settings = load_settings()
    config = GeneratorConfig(
        seed=seed, start_date=start_date, days=days, products=products, customers=customers,
        lines_per_day=lines_per_day, sessions_per_day=sessions_per_day,
    )  # fmt: skip
    out = settings.data_dir / "landing" / f"demo-{seed}"
    files = generate_dataset(config, out, progress=False)
    logger.info("generated %d files under %s (%s)", len(files), out, asdict(config) | {"dirt": "defaults"})
    report = land_files([str(f) for f in files])
    logger.info(report.summary())
    if report.failed:
        for o in report.failed:
            logger.error("batch %s (%s) failed: %s", o.batch_id, o.file, o.error)
        raise LakehouseError(f"{len(report.failed)} batch(es) failed to land; see raw._batches")
    return IngestSummary(len(report.succeeded), len(report.skipped), len(report.failed), report.rows)
