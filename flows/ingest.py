"""Ingest: generate (or import) source files, then land them in the raw zone (bronze)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from prefect import flow, get_run_logger, task
from pydantic import BaseModel, ConfigDict

from flows.retry import TRANSIENT_RETRIES
from ingestion.generate.config import DEMO_DAYS, GeneratorConfig
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import load_settings
from lakehouse.platform.sql import SparkSQL

if TYPE_CHECKING:
    from ingestion.enrich.lookups import LookupCounts
    from ingestion.land import LandReport


@dataclass(frozen=True)
class IngestSummary:
    batches_landed: int
    batches_skipped: int
    batches_failed: int
    rows_landed: int

    @classmethod
    def of(cls, report: LandReport) -> IngestSummary:
        return cls(len(report.succeeded), len(report.skipped), len(report.failed), report.rows)


@task(name="land-files", **TRANSIENT_RETRIES)
def land_files(paths: list[str], restate: bool = True) -> LandReport:
    """Land files as raw batches; idempotent (known checksums are skipped, a batch id is replaced),
    so a retry after a dropped connection lands nothing twice. Generated files pass ``restate=False``:
    another dataset under the same batch ids is refused up front, not mixed into the lake."""
    from ingestion.inputs import file_inputs
    from ingestion.land import land_inputs

    # progress=False: the console shows steps
    return land_inputs(load_settings(), file_inputs(paths), restate=restate, progress=False)


@flow(name="ingest-demo")
def ingest_demo(
    seed: int = GeneratorConfig.seed,
    days: int = DEMO_DAYS,
    start_date: date = GeneratorConfig.start_date,
    products: int = GeneratorConfig.products,
    customers: int = GeneratorConfig.customers,
    lines_per_day: int = GeneratorConfig.lines_per_day,
    sessions_per_day: int = GeneratorConfig.sessions_per_day,
) -> IngestSummary:
    """Generate the synthetic sources for ``days`` days and land them; re-running lands nothing twice
    (same seed, same files, same checksums: skipped)."""
    from ingestion.generate import generate_dataset

    logger = get_run_logger()
    settings = load_settings()
    config = GeneratorConfig(
        seed=seed, start_date=start_date, days=days, products=products, customers=customers,
        lines_per_day=lines_per_day, sessions_per_day=sessions_per_day,
    )  # fmt: skip
    out = settings.data_dir / "landing" / f"demo-{seed}"
    files = generate_dataset(config, out, progress=False)
    logger.info("generated %d files under %s (%s)", len(files), out, asdict(config) | {"dirt": "defaults"})
    report = land_files([str(f) for f in files], restate=False)
    logger.info(report.summary())
    if report.failed:
        for o in report.failed:
            logger.error("batch %s (%s) failed: %s", o.batch_id, o.file, o.error)
        raise LakehouseError(f"{len(report.failed)} batch(es) failed to land; see raw._batches")
    return IngestSummary.of(report)


@task(name="land-access-logs", **TRANSIENT_RETRIES)
def land_access_logs(paths: list[str]) -> LandReport:
    """Land log files as raw.access_logs batches (parsed at landing); idempotent like land_files, and a
    different dataset under the same batch ids is refused (restate=False)."""
    from ingestion.land import land_inputs
    from ingestion.logs import log_inputs

    return land_inputs(load_settings(), log_inputs(paths), restate=False, progress=False)


def access_log_day(days: int) -> int:
    """The demo day (0-based) whose access logs a pipeline run lands: the middle one, the day of the
    generator's incident (a burst of 5xx), so the site-health marts have one to show."""
    return days // 2


@flow(name="ingest-access-logs")
def ingest_access_logs(
    seed: int = GeneratorConfig.seed,
    days: int = DEMO_DAYS,
    start_date: date = GeneratorConfig.start_date,
    products: int = GeneratorConfig.products,
    customers: int = GeneratorConfig.customers,
    lines_per_day: int = GeneratorConfig.lines_per_day,
    sessions_per_day: int = GeneratorConfig.sessions_per_day,
) -> IngestSummary:
    """The web servers' access logs of one day of the demo dataset of the same sizes (its clickstream's
    visitors, pages and times; ingestion/generate/access_logs.py), generated and landed; re-running lands
    nothing twice."""
    from ingestion.generate.access_logs import LogConfig, generate_access_logs

    logger = get_run_logger()
    config = GeneratorConfig(
        seed=seed, start_date=start_date, days=days, products=products, customers=customers,
        lines_per_day=lines_per_day, sessions_per_day=sessions_per_day,
    )  # fmt: skip
    day = access_log_day(days)
    out = load_settings().data_dir / "landing" / f"demo-{seed}-access-logs"
    files = generate_access_logs(config, out, LogConfig(live=False), only_days=[day])
    when = config.start_date + timedelta(days=day)
    logger.info("generated %d access-log files of %s (day %d) under %s", len(files), when, day, out)
    report = land_access_logs([str(f) for f in files])
    logger.info(report.summary())
    if report.failed:
        for o in report.failed:
            logger.error("batch %s (%s) failed: %s", o.batch_id, o.file, o.error)
        raise LakehouseError(f"{len(report.failed)} access-log batch(es) failed to land; see raw._batches")
    return IngestSummary.of(report)


# ---------------------------------------------------------------------------------------- scheduled
# Scheduled runs replay a simulated shop one step at a time: the whole simulated period (`horizon_days`) is
# generated once into the landing folder (deterministic per seed), and each run lands the next slice that
# raw._batches does not hold yet: a day of master data, or the next hours of order lines.

MASTER_SOURCES = ("countries", "products", "customers", "exchange_rates")


class SimulatedShop(BaseModel):
    """The synthetic shop the scheduled runs replay: its seed and sizes must be those of the lake's demo
    data (`make run`'s, GeneratorConfig's defaults unless it ran with others), over ``horizon_days``."""

    model_config = ConfigDict(frozen=True)

    seed: int = GeneratorConfig.seed
    horizon_days: int = 90
    lines_per_day: int = GeneratorConfig.lines_per_day
    sessions_per_day: int = GeneratorConfig.sessions_per_day
    products: int = GeneratorConfig.products
    customers: int = GeneratorConfig.customers

    def files(self) -> list[Path]:
        """The whole simulated period's files, generated once into the landing folder."""
        from ingestion.generate import generate_dataset

        name = (
            f"sim-{self.seed}-{self.horizon_days}d-{self.lines_per_day}l-{self.sessions_per_day}s-"
            f"{self.products}p-{self.customers}c"
        )
        out = load_settings().data_dir / "landing" / name
        marker = out / ".complete"
        if not marker.exists():
            sizes = self.model_dump(exclude={"horizon_days"})
            generate_dataset(GeneratorConfig(days=self.horizon_days, **sizes), out, progress=False)
            marker.write_text("ok\n")
        return sorted(p for p in out.rglob("*") if p.is_file() and p.name != ".complete")


DEFAULT_SHOP = SimulatedShop()  # frozen: safe as a default argument


def landed_batch_ids() -> set[str]:
    from ingestion import manifest

    with SparkSQL(load_settings()) as spark:
        if not spark.query("show tables in raw like '_batches'"):
            return set()
        return {r.batch_id for r in manifest.read(spark, "raw") if r.status == "succeeded"}


def _day_of(path: Path) -> str:
    return path.stem.rsplit("_", 1)[-1][:10]


@flow(name="ingest-master-data")
def ingest_master_data(shop: SimulatedShop = DEFAULT_SHOP) -> IngestSummary:
    """Land the next simulated day of master data (countries, products with the day's prices, customers,
    exchange rates)."""
    files = shop.files()
    landed = landed_batch_ids()
    master = [p for p in files if p.parent.name in MASTER_SOURCES and p.stem not in landed]
    if not master:
        get_run_logger().info("the simulated period is fully landed: nothing to do")
        return IngestSummary(0, 0, 0, 0)
    day = min(_day_of(p) for p in master)
    report = land_files([str(p) for p in master if _day_of(p) == day], restate=False)
    get_run_logger().info("master data of %s: %s", day, report.summary())
    return IngestSummary.of(report)


@flow(name="ingest-order-lines")
def ingest_order_lines(shop: SimulatedShop = DEFAULT_SHOP, hours: int = 2) -> IngestSummary:
    """Land the next ``hours`` hourly order-line batches (and the clickstream of their days)."""
    files = shop.files()
    landed = landed_batch_ids()
    pending = [p for p in files if p.parent.name == "order_lines" and p.stem not in landed][:hours]
    days = {_day_of(p) for p in pending}
    pending += [
        p for p in files
        if p.parent.name == "clickstream_events" and p.stem not in landed and _day_of(p) in days
    ]  # fmt: skip
    if not pending:
        get_run_logger().info("the simulated period is fully landed: nothing to do")
        return IngestSummary(0, 0, 0, 0)
    report = land_files([str(p) for p in pending], restate=False)
    get_run_logger().info(report.summary())
    return IngestSummary.of(report)


@flow(name="import-files")
def import_files(
    paths: list[str],
    layout: str | None = None,
    mappings: list[str] | None = None,
    encoding: str = "utf-8",
) -> IngestSummary:
    """Import a user's files (files, folders or URIs; UCI Online Retail layouts, or any layout described by
    a mapping file): four raw batches per file (order lines and the master data derived from them). The
    layout is detected from the columns unless named. A file that cannot be read fails its batches alone;
    the run then fails with one line per file after landing the others."""
    from ingestion import imports

    logger = get_run_logger()
    report = imports.import_files(load_settings(), paths, layout, mappings or [], encoding, progress=False)
    logger.info(report.summary())
    if report.failed:
        reasons = {f"{o.file.rsplit('/', 1)[-1]}: {o.error}" for o in report.failed}
        for reason in sorted(reasons):
            logger.error("import failed: %s", reason)
        raise LakehouseError(f"{len(reasons)} import(s) failed: " + "; ".join(sorted(reasons)))
    return IngestSummary.of(report)


@task(name="enrich-lookups", **TRANSIENT_RETRIES)
def enrich_lookups() -> LookupCounts:
    """Parse the user agents and resolve the IP addresses the lookups have not seen yet (ua-parser, iptocc);
    the clickstream models join these tables. Cheap when nothing is new."""
    from ingestion.enrich.lookups import refresh_lookups

    with SparkSQL(load_settings()) as spark:
        return refresh_lookups(spark)


# ------------------------------------------------------------------------------------------- shop db
# The shop's operational database (ingestion/shopdb): the embedded demo shop is advanced by its simulator,
# then every table's changes since the last extraction land as raw batches (ingestion/extract.py).
SHOP_DEMO_DAYS = 7  # `make run`'s simulated shop days (the shop's sizes are ShopConfig's defaults)


@dataclass(frozen=True)
class ShopSimulation:
    intervals: int  # simulated in this run
    clock: str  # the shop's simulated time afterwards ('' when the shop is not ours)

    def describe(self) -> str:
        if not self.clock:
            return "external shop database (SOURCE_DATABASE_URL): not simulated"
        return f"{self.intervals} interval(s) simulated, shop clock {self.clock}"


@task(name="shop-simulate")
def simulate_shop(
    intervals: int = 1, interval_hours: float = 24.0, until_intervals: int | None = None
) -> ShopSimulation:
    """Advance the embedded demo shop (created and initialised when new) by ``intervals`` intervals, or,
    with ``until_intervals``, until it has run that many in all (idempotent: `make run` twice simulates
    its days once). A shop at SOURCE_DATABASE_URL is a real application's: never simulated. No retries:
    an interval that a crash interrupted resumes by itself on the next run."""
    from datetime import timedelta

    from ingestion.shopdb import embedded, ensure_database, source_url
    from ingestion.shopdb.simulator import Simulator

    settings = load_settings()
    if not embedded(settings):
        return ShopSimulation(0, "")
    ensure_database(settings)
    with Simulator(source_url(settings)) as sim:
        if not sim.initialised:
            sim.init()
        n = intervals if until_intervals is None else max(0, until_intervals - sim.state.step)
        for report in sim.run(n, timedelta(hours=interval_hours)) if n else ():
            get_run_logger().info(report.line())
        return ShopSimulation(n, f"{sim.clock:%Y-%m-%d %H:%M}")


@dataclass(frozen=True)
class ExtractSummary:
    tables_changed: int
    rows: int
    deletes: int

    def describe(self) -> str:
        return f"{self.tables_changed} tables changed, {self.rows:,} rows, {self.deletes:,} deletes"


@task(name="shop-extract", **TRANSIENT_RETRIES)
def extract_shop(tables: list[str] | None = None) -> ExtractSummary:
    """Land the shop database's changes since the last extraction, one raw batch per changed table.
    Safe to retry: a cursor moves only after its batch is registered, and a batch id lands once."""
    from ingestion.extract import extract

    logger = get_run_logger()
    report = extract(load_settings(), tables=tables)
    for result in report.results:
        logger.info(result.line())
    if report.failed:
        raise LakehouseError(
            f"{len(report.failed)} shop table(s) failed to extract: "
            + ", ".join(f"{r.table} ({r.error})" for r in report.failed)
        )
    changed = [r for r in report.results if r.status == "succeeded"]
    return ExtractSummary(len(changed), sum(r.rows for r in changed), sum(r.deletes for r in changed))
