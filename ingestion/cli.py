"""``python -m ingestion``: generate synthetic sources, import Online Retail files, land files, run the shop
database and extract it.

Expected failures print ``error: <one line>`` and exit 1; the detail goes to ``<data dir>/logs``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from lakehouse.platform.cli import LakehouseGroup, settings_for
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import Settings

if TYPE_CHECKING:
    from ingestion.generate.config import GeneratorConfig
    from ingestion.land import LandReport
    from ingestion.shopdb.simulator import Simulator

log = logging.getLogger("ingestion.cli")
F = TypeVar("F", bound=Callable[..., Any])  # a click command, before and after its options


def _dirt_options(func: F) -> F:
    """One ``--dirt-<kind> RATE`` option per kind of dirt (0 turns it off)."""
    from ingestion.generate.config import DirtRates

    for f in reversed(fields(DirtRates)):
        flag = "--dirt-" + f.name.replace("_", "-")
        func = click.option(
            flag, f"dirt_{f.name}", type=click.FloatRange(0, 1), default=f.default, show_default=True,
            help=f"Rate of dirt: {f.name.replace('_', ' ')} (0 turns it off).",
        )(func)  # fmt: skip
    return func


def _generator_options(func: F) -> F:
    from ingestion.generate.config import GeneratorConfig

    d = GeneratorConfig()
    opts = [
        click.option("--seed", type=int, default=d.seed, show_default=True, help="Random seed."),
        click.option("--start-date", type=click.DateTime(["%Y-%m-%d"]), default=str(d.start_date),
                     show_default=True, help="First simulated day."),
        click.option("--days", type=click.IntRange(1), default=d.days, show_default=True,
                     help="Number of simulated order days."),
        click.option("--products", type=click.IntRange(1), default=d.products, show_default=True),
        click.option("--customers", type=click.IntRange(1), default=d.customers, show_default=True),
        click.option("--lines-per-day", type=click.IntRange(0), default=d.lines_per_day,
                     show_default=True, help="Order lines per day (before duplicates)."),
        click.option("--sessions-per-day", type=click.IntRange(0), default=d.sessions_per_day,
                     show_default=True, help="Clickstream sessions per day."),
        click.option("--price-change-rate", type=click.FloatRange(0, 1),
                     default=d.price_change_rate, show_default=True,
                     help="Share of products changing price each day."),
        click.option("--customer-change-rate", type=click.FloatRange(0, 1),
                     default=d.customer_change_rate, show_default=True,
                     help="Share of customers changing segment or country each day."),
        click.option("--order-format", type=click.Choice(["csv", "parquet", "jsonl"]),
                     default=d.order_format, show_default=True, help="File format of order lines."),
    ]  # fmt: skip
    for opt in reversed(opts):
        func = opt(func)
    return _dirt_options(func)


def _config(kw: dict[str, Any]) -> GeneratorConfig:
    from ingestion.generate.config import DirtRates, GeneratorConfig

    dirt = DirtRates(**{f.name: kw.pop(f"dirt_{f.name}") for f in fields(DirtRates)})
    start = kw.pop("start_date")
    try:
        return GeneratorConfig(
            start_date=start.date() if start else GeneratorConfig.start_date, dirt=dirt, **kw
        )
    except ValueError as exc:
        raise LakehouseError(str(exc)) from exc


def _landing_options(func: F) -> F:
    opts = [
        click.option("--raw-uri", help="Raw zone root (URI or path); default LAKEHOUSE_RAW_URI or "
                     "<warehouse>/raw."),
        click.option("--ingest-date", type=click.DateTime(["%Y-%m-%d"]),
                     help="Partition date; default today (UTC)."),
        click.option("--force", is_flag=True,
                     help="Land even if the same content already landed (replaces the batch)."),
    ]  # fmt: skip
    for opt in reversed(opts):
        func = opt(func)
    return func


def _report(report: LandReport) -> None:
    """The outcome of a landing on the console; failed batches make the command fail."""
    for o in report.failed:
        click.echo(f"failed: {o.batch_id} ({o.file}): {o.error}", err=True)
    click.echo(report.summary())
    if report.failed:
        raise LakehouseError(
            f"{len(report.failed)} batch(es) failed; see raw._batches or the log for the reasons"
        )


def _day(ingest_date: datetime | None) -> str | None:
    return ingest_date.strftime("%Y-%m-%d") if ingest_date else None


@click.group(cls=LakehouseGroup)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Bronze layer: generate, import and land source data as raw Parquet tables (raw.<source>)."""
    ctx.obj = settings_for(ctx)


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder; default <data dir>/landing/generated.")  # fmt: skip
@_generator_options
@click.pass_obj
def generate(settings: Settings, out: Path | None, **kw: Any) -> None:
    """Write a synthetic shop's source files (master data, order lines, clickstream)."""
    from ingestion.generate import generate_dataset

    out = out or settings.data_dir / "landing" / "generated"
    files = generate_dataset(_config(kw), out)
    click.echo(f"wrote {len(files)} files under {out}")


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--source", help="Raw table to land into; default from the folder or file name.")
@click.option("--batch-id", help="Batch id (one file only); default from the file name.")
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of CSV/JSON.")
@_landing_options
@click.pass_obj
def land(
    settings: Settings, paths: tuple[str, ...], source: str | None, batch_id: str | None, encoding: str,
    raw_uri: str | None, ingest_date: datetime | None, force: bool,
) -> None:  # fmt: skip
    """Land files or folders (local paths or URIs) into raw.<source>."""
    from ingestion.contract import source as check_source
    from ingestion.inputs import file_inputs
    from ingestion.land import land_inputs

    if source:
        check_source(source)
    inputs = file_inputs(list(paths), source, batch_id, encoding)
    if not inputs:
        raise LakehouseError(f"no CSV, JSON lines or Parquet files under {', '.join(paths)}")
    _report(land_inputs(settings, inputs, raw_uri=raw_uri, ingest_date=_day(ingest_date), force=force))


@main.command("import")
@click.argument("paths", nargs=-1, required=True)
@click.option("--layout", help="Layout name (default: detected from the columns).")
@click.option("--mapping", "mappings", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Extra mapping file or folder of *.toml layouts (repeatable).")  # fmt: skip
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of CSV/JSON.")
@_landing_options
@click.pass_obj
def import_(
    settings: Settings, paths: tuple[str, ...], layout: str | None, mappings: tuple[Path, ...],
    encoding: str, raw_uri: str | None, ingest_date: datetime | None, force: bool,
) -> None:  # fmt: skip
    """Import Online Retail (II) files: order lines, price history, countries, customers."""
    from ingestion.imports import import_files

    report = import_files(
        settings, paths, layout, mappings, encoding, raw_uri=raw_uri, ingest_date=_day(ingest_date),
        force=force,
    )  # fmt: skip
    _report(report)


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Where the generated files go; default <data dir>/landing/demo-<seed>.")  # fmt: skip
@_generator_options
@_landing_options
@click.pass_obj
def demo(
    settings: Settings, out: Path | None, raw_uri: str | None, ingest_date: datetime | None, force: bool,
    **kw: Any,
) -> None:  # fmt: skip
    """Generate a default-sized dataset and land it (what `make run` uses)."""
    from ingestion.generate import generate_dataset
    from ingestion.inputs import file_inputs
    from ingestion.land import land_inputs

    config = _config(kw)
    out = out or settings.data_dir / "landing" / f"demo-{config.seed}"
    files = generate_dataset(config, out)
    click.echo(f"wrote {len(files)} files under {out}")
    inputs = file_inputs([str(f) for f in files])
    _report(land_inputs(settings, inputs, raw_uri=raw_uri, ingest_date=_day(ingest_date), force=force))


@main.command()
@click.option("--status", type=click.Choice(["running", "succeeded", "failed"]))
@click.option("--source")
@click.pass_obj
def batches(settings: Settings, status: str | None, source: str | None) -> None:
    """List the batch manifest (raw._batches)."""
    from ingestion import manifest
    from lakehouse.platform.sql import SparkSQL

    with SparkSQL(settings) as spark:
        records = manifest.read(spark, "raw")
    for r in sorted(records, key=lambda r: (r.source, r.batch_id)):
        if (status and r.status != status) or (source and r.source != source):
            continue
        rows = "" if r.rows is None else r.rows
        click.echo(f"{r.batch_id}\t{r.source}\t{r.status}\t{rows}\t{r.error or ''}")


# ---------- web server access logs (ingestion/logs.py, ingestion/generate/access_logs.py)
@main.group()
def logs() -> None:
    """Web server access logs: generate a shop's log files, land log files into raw.access_logs."""


@logs.command("generate")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (one folder per server); default <data dir>/landing/access_logs.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Seed of the simulated shop.")
@click.option("--start-date", type=click.DateTime(["%Y-%m-%d"]), default="2024-01-01", show_default=True)
@click.option("--days", type=click.IntRange(1), default=1, show_default=True)
@click.option(
    "--sessions-per-day",
    type=click.IntRange(0),
    default=500,
    show_default=True,
    help="Clickstream sessions per day (as for `generate`: the same seed gives the same visitors).",
)
@click.option("--products", type=click.IntRange(1), default=500, show_default=True)
@click.option("--customers", type=click.IntRange(1), default=1_000, show_default=True)
@click.pass_obj
def logs_generate(
    settings: Settings, out: Path | None, seed: int, start_date: datetime, days: int, sessions_per_day: int,
    products: int, customers: int,
) -> None:  # fmt: skip
    """Write access logs consistent with the clickstream of `generate` for the same seed and sizes."""
    from ingestion.generate.access_logs import generate_access_logs
    from ingestion.generate.config import GeneratorConfig

    config = GeneratorConfig(
        seed=seed, start_date=start_date.date(), days=days, sessions_per_day=sessions_per_day,
        products=products, customers=customers,
    )  # fmt: skip
    out = out or settings.data_dir / "landing" / "access_logs"
    files = generate_access_logs(config, out)
    click.echo(f"wrote {len(files)} log files under {out}")


@logs.command("land")
@click.argument("paths", nargs=-1, required=True)
@click.option("--server", help="Server name of every file; default the name of each file's folder.")
@click.option(
    "--include-live",
    is_flag=True,
    help="Also land the live access.log files found in folders (skipped by default: they grow).",
)
@_landing_options
@click.pass_obj
def logs_land(
    settings: Settings, paths: tuple[str, ...], server: str | None, include_live: bool, raw_uri: str | None,
    ingest_date: datetime | None, force: bool,
) -> None:  # fmt: skip
    """Land log files or folders (plain or .gz, rotated names) into raw.access_logs, one batch per file."""
    from ingestion.land import land_inputs
    from ingestion.logs import log_inputs

    inputs = log_inputs(list(paths), server, include_live)
    if not inputs:
        where = ", ".join(paths)
        raise LakehouseError(f"no access log files under {where} (live access.log files: --include-live)")
    _report(land_inputs(settings, inputs, raw_uri=raw_uri, ingest_date=_day(ingest_date), force=force))


# ---------- the shop database (a PostgreSQL source: ingestion/shopdb)
def _duration(text: str) -> timedelta:
    """``1d``, ``6h``, ``30m`` (or a number of hours) as a timedelta."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    unit = units.get(text[-1:].lower())
    try:
        return timedelta(**{unit: float(text[:-1])}) if unit else timedelta(hours=float(text))
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: expected e.g. 1d, 6h or 30m") from exc


def _shop(settings: Settings, seed: int | None, start: datetime | None = None) -> Simulator:
    """The simulator on the shop database, made ready: the embedded PostgreSQL up (started, or the running one
    reused) when the shop lives there, role, database and schema in place."""
    from ingestion.shopdb import embedded, ensure_database, source_url
    from ingestion.shopdb.simulator import ShopConfig, Simulator
    from lakehouse.services import Postgres

    if embedded(settings) and settings.pg_embedded:
        log.info("postgres: %s", Postgres(settings).up())
    ensure_database(settings)
    config = ShopConfig(start=start.strftime("%Y-%m-%d")) if start else None
    return Simulator(source_url(settings), seed=seed, config=config)


def _init_if_new(sim: Simulator) -> None:
    report = None if sim.initialised else sim.init()
    if report is not None:
        click.echo(report.line())


@main.group()
def shop() -> None:
    """The shop's operational database (PostgreSQL, schema shop): create it and make it live."""


@shop.command("init")
@click.option("--seed", type=click.IntRange(0), help="Random seed (default 42; kept in the database).")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="Simulated start (default 2024-01-01).")
@click.option("--reset", is_flag=True, help="Drop the shop's schema and every row first, then start over.")
@click.pass_obj
def shop_init(settings: Settings, seed: int | None, start: datetime | None, reset: bool) -> None:
    """Create role, database and schema, and the shop's starting state (catalogue, customers, stock)."""
    with _shop(settings, seed, start) as sim:
        report = sim.init(reset=reset)
        if report is None:
            s = sim.state
            click.echo(
                f"already initialised (seed {s.seed}, {s.step} intervals, clock {s.clock:%Y-%m-%d %H:%M})"
            )
        else:
            click.echo(report.line())


@shop.command("simulate")
@click.option("--intervals", type=click.IntRange(1), default=1, show_default=True, help="Intervals to run.")
@click.option(
    "--interval", "length", default="1d", show_default=True, help="Length of one interval: 1d, 6h, 30m."
)
@click.option("--seed", type=click.IntRange(0), help="Random seed of a new shop (default 42); must match.")
@click.pass_obj
def shop_simulate(settings: Settings, intervals: int, length: str, seed: int | None) -> None:
    """Advance the shop by N intervals; one line per interval: rows +inserted ~updated -deleted per table."""
    interval = _duration(length)
    with _shop(settings, seed) as sim:
        _init_if_new(sim)
        for report in sim.run(intervals, interval):
            click.echo(report.line())


@shop.command("load")
@click.option("--order-items", type=click.IntRange(1), required=True, help="Order lines of history to add.")
@click.pass_obj
def shop_load(settings: Settings, order_items: int) -> None:
    """Add a year of finished order history by COPY (for benchmarks); before the first extraction."""
    with _shop(settings, None) as sim:
        _init_if_new(sim)
        click.echo(sim.bulk_load(order_items).line())


@main.command()
@click.option("--tables", help="Comma-separated shop tables (default: all of them).")
@click.option(
    "--key-check-every",
    type=click.IntRange(0),
    help="Compare keys (hard deletes) every N extractions; default SHOP_EXTRACT_KEY_CHECK_EVERY.",
)
@click.option("--ingest-date", type=click.DateTime(["%Y-%m-%d"]), help="Partition date; default today (UTC).")
@click.pass_obj
def extract(
    settings: Settings, tables: str | None, key_check_every: int | None, ingest_date: datetime | None
) -> None:  # fmt: skip
    """Extract the shop database's changes since the last run into raw.shop_<table> (one batch per table)."""
    from ingestion.extract import extract as run_extract

    names = [t.strip() for t in tables.split(",") if t.strip()] if tables else None
    report = run_extract(
        settings, tables=names, key_check_every=key_check_every, ingest_date=_day(ingest_date)
    )
    for result in report.results:
        click.echo(result.line())
    if report.failed:
        raise LakehouseError(
            f"{len(report.failed)} table(s) failed; their cursors did not move (see raw._batches or the log)"
        )


_STREAM_SOURCES = click.Choice(["clickstream_events", "order_lines"])


@main.command()
@click.option("--sources", "sources", multiple=True, type=_STREAM_SOURCES,
              help="Sources to consume (repeatable); default both.")  # fmt: skip
@click.option("--batch-seconds", type=click.FloatRange(min=0, min_open=True),
              help="Land at least this often; default STREAM_BATCH_SECONDS.")  # fmt: skip
@click.option("--batch-messages", type=click.IntRange(1),
              help="Land when this many messages wait; default STREAM_BATCH_MESSAGES.")  # fmt: skip
@click.option("--idle-stop", type=click.FloatRange(min=0, min_open=True),
              help="Stop after this many seconds without a message (default: run until Ctrl-C).")  # fmt: skip
@click.option("--max-seconds", type=click.FloatRange(min=0, min_open=True), help="Stop after this long.")
@click.option("--raw-uri", help="Raw zone root (URI or path); default LAKEHOUSE_RAW_URI or <warehouse>/raw.")
@click.option("--kill-after-landing", type=click.IntRange(1), hidden=True,
              help="Tests: SIGKILL the process after the N-th landing, before the commit.")  # fmt: skip
@click.pass_obj
def consume(
    settings: Settings, sources: tuple[str, ...], batch_seconds: float | None, batch_messages: int | None,
    idle_stop: float | None, max_seconds: float | None, raw_uri: str | None, kill_after_landing: int | None,
) -> None:  # fmt: skip
    """Consume the Kafka topics of the sources into raw batches, exactly once (offsets committed after the
    batch is registered). Runs until Ctrl-C, --idle-stop or --max-seconds."""

    from ingestion.stream import STREAM_SOURCES, Cycle, graceful_stop
    from ingestion.stream import consume as run_consume
    from ingestion.stream import kill_after_landing as killer

    stop = graceful_stop(click.echo)

    def show(cycle: Cycle) -> None:
        lag = f", {cycle.lag_seconds:.1f} s after the oldest was produced" if cycle.lag_seconds else ""
        click.echo(
            f"landed {cycle.messages:,} message(s) as {len(cycle.report.succeeded)} batch(es) "
            f"({len(cycle.report.skipped)} already landed) in {cycle.seconds:.1f} s{lag}"
        )

    try:
        report = run_consume(
            settings, sources=sources or STREAM_SOURCES, raw_uri=raw_uri, batch_seconds=batch_seconds,
            batch_messages=batch_messages, idle_stop=idle_stop, max_seconds=max_seconds, stop=stop,
            on_cycle=show, after_landing=killer(kill_after_landing) if kill_after_landing else None,
        )  # fmt: skip
    except KeyboardInterrupt:
        click.echo("interrupted: what was landed is committed; the rest is read again next time")
        return
    click.echo(report.summary())


@main.command()
@click.option("--sources", "sources", multiple=True, type=_STREAM_SOURCES,
              help="Sources to publish (repeatable); default both.")  # fmt: skip
@click.option("--rate", type=click.FloatRange(min=0, min_open=True),
              help="Messages per second (default: as fast as the broker takes them).")  # fmt: skip
@click.option("--duplicates", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of messages sent twice (a retrying producer).")  # fmt: skip
@click.option("--poison", type=click.IntRange(0), default=0, show_default=True,
              help="Messages that are not JSON to mix in.")  # fmt: skip
@click.option("--partitions", type=click.IntRange(1), default=2, show_default=True,
              help="Partitions of a topic this command creates (existing topics are kept).")  # fmt: skip
@_generator_options
@click.pass_obj
def publish(
    settings: Settings, sources: tuple[str, ...], rate: float | None, duplicates: float, poison: int,
    partitions: int, **kw: Any,
) -> None:  # fmt: skip
    """Publish the generator's clickstream events and order lines to their Kafka topics (demo producer)."""
    from ingestion.publish import ensure_topics, generated_messages, send
    from ingestion.stream import STREAM_SOURCES
    from lakehouse.services.kafka import check_reachable

    config = _config(kw)
    check_reachable(settings)
    wanted = sources or STREAM_SOURCES
    ensure_topics(settings, wanted, partitions)
    messages = generated_messages(config, wanted, duplicates=duplicates, poison=poison)
    click.echo(send(settings, messages, rate=rate).summary())
