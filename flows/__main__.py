"""`python -m flows ...`: run the pipeline once, run one flow, serve the scheduled deployments, or browse the
runs (`ui`). The console shows one line per step, a progress bar while dbt builds, warnings and errors
(flows/console.py); the detail goes to <data dir>/logs/lakehouse.log."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

import flows  # noqa: F401  (exports settings to the environment before Prefect is imported)
from flows.ingest import SHOP_DEMO_DAYS
from ingestion.generate.config import (
    DEMO_CHURN_HORIZON_DAYS,
    DEMO_DAYS,
    DEMO_ML_CUTOFF_STEP_DAYS,
    GeneratorConfig,
)
from lakehouse.platform.cli import LakehouseGroup, name_log_file
from lakehouse.platform.settings import load_settings

if TYPE_CHECKING:
    from flows.report import RunReport

F = TypeVar("F", bound=Callable[..., Any])  # a click command, before and after its options

PREFECT_UI_PORT = int(os.environ.get("PREFECT_UI_PORT", "4200"))
FULL = click.option(
    "--full", is_flag=True, help="Build the whole dbt graph, not only what the new data touches."
)


def _run(fn: Callable[..., RunReport], **kwargs: Any) -> None:
    """Run a flow with the console for people (call it after Prefect is imported: see console.activate),
    then print its report. An error is one line naming the log file (the CLI group handles it)."""
    from flows import console

    name_log_file(console.activate(load_settings().log_dir))
    report = fn(**kwargs)
    click.echo("\n" + report.text())


@click.group(cls=LakehouseGroup)
def main() -> None:
    """Prefect flows of the lakehouse."""


@main.command()
@click.option(
    "--seed", default=GeneratorConfig.seed, show_default=True, help="Seed of the synthetic sources."
)
@click.option("--days", default=DEMO_DAYS, show_default=True, help="Days of history to generate.")
@click.option("--lines-per-day", default=GeneratorConfig.lines_per_day, show_default=True)
@click.option("--sessions-per-day", default=GeneratorConfig.sessions_per_day, show_default=True)
@click.option("--products", default=GeneratorConfig.products, show_default=True)
@click.option("--customers", default=GeneratorConfig.customers, show_default=True)
@click.option(
    "--shop-days", default=SHOP_DEMO_DAYS, show_default=True,
    help="Simulated days of the demo shop database (in all: a second run adds none).",
)  # fmt: skip
@click.option(
    "--churn-horizon-days", default=DEMO_CHURN_HORIZON_DAYS, show_default=True,
    help="Churn horizon of the ML features in this run (LAKEHOUSE_CHURN_HORIZON_DAYS for the other flows).",
)  # fmt: skip
@click.option(
    "--ml-cutoff-step-days", default=DEMO_ML_CUTOFF_STEP_DAYS, show_default=True,
    help="Days between the ML features' cutoffs in this run (LAKEHOUSE_ML_CUTOFF_STEP_DAYS for the others).",
)  # fmt: skip
@click.option("--wait", "wait", default=0.0, help="Seconds to wait for a running pipeline to finish.")
@FULL
def run(wait: float, **params: Any) -> None:
    """Run the whole pipeline once on the configured services."""
    from flows.pipeline import pipeline  # Prefect configures its console logging on import

    _run(pipeline, wait_for_lock_seconds=wait, **params)
    _next_steps()


def _next_steps() -> None:
    settings = load_settings()
    click.echo(
        "\nGold is loaded. psql on it as the read-only role gold_reader: make psql; its URL for a BI tool: "
        "make gold-url\n"
        "Dashboards: make dashboard (Apache Superset on the gold schema, http://127.0.0.1:"
        f"{settings.get('SUPERSET_PORT')}: sales, the shop database, site health, churn and recommendations,"
        " pipeline health)\n"
        f"Logs: {settings.log_dir}   dbt docs: make docs   services: make status / make down\n"
        "This run, its steps and its report in the Prefect UI: make ui"
    )


@main.command("import")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--layout",
    help="Layout name (default: detected from the columns): online_retail, "
    "online_retail_ii, or one of a mapping file.",
)
@click.option(
    "--mapping",
    "mappings",
    multiple=True,
    type=click.Path(exists=True),
    help="Mapping file (or folder of *.toml) describing another layout (repeatable).",
)
@click.option(
    "--encoding",
    default="utf-8",
    show_default=True,
    help="Text encoding of CSV / JSON files (e.g. cp1252 for the common Online Retail re-export).",
)
@click.option("--wait", "wait", default=0.0, help="Seconds to wait for a running pipeline to finish.")
@FULL
def import_(
    paths: tuple[str, ...], layout: str | None, mappings: tuple[str, ...], encoding: str, wait: float,
    full: bool,
) -> None:  # fmt: skip
    """Import your own files (CSV, Excel .xlsx, JSON lines, Parquet; files, folders or URIs) and take
    them through the warehouse to gold."""
    from flows.pipeline import import_run

    _run(
        import_run, paths=list(paths), layout=layout, mappings=list(mappings), encoding=encoding,
        wait_for_lock_seconds=wait, full=full,
    )  # fmt: skip
    _next_steps()


def _shop(fn: F) -> F:
    """Options for the simulated shop the scheduled runs replay (flows.ingest.SimulatedShop): its seed and
    sizes must be the ones `make run` generated."""
    from flows.ingest import SimulatedShop

    for name, field in reversed(SimulatedShop.model_fields.items()):
        fn = click.option(f"--{name.replace('_', '-')}", default=field.default, show_default=True)(fn)
    return fn


@main.command("master-data")
@_shop
@FULL
def master_data(full: bool, **shop: Any) -> None:
    """Land the next simulated day of master data, then transform and export."""
    from flows.ingest import SimulatedShop
    from flows.pipeline import master_data_run

    _run(master_data_run, shop=SimulatedShop(**shop), full=full)


@main.command("order-lines")
@click.option("--hours", default=2, show_default=True, help="Hourly batches to land.")
@_shop
@FULL
def order_lines(hours: int, full: bool, **shop: Any) -> None:
    """Land the next hourly order-line batches, then transform and export."""
    from flows.ingest import SimulatedShop
    from flows.pipeline import order_lines_run

    _run(order_lines_run, shop=SimulatedShop(**shop), hours=hours, full=full)


@main.command()
@click.option(
    "--intervals",
    default=1,
    show_default=True,
    help="Intervals to simulate on the embedded demo shop first (0: none; an external shop never is).",
)
@click.option("--interval-hours", default=24.0, show_default=True, help="Length of a simulated interval.")
@click.option("--wait", "wait", default=0.0, help="Seconds to wait for a running pipeline to finish.")
@FULL
def shop(intervals: int, interval_hours: float, wait: float, full: bool) -> None:
    """The shop database's changes to gold: simulate (demo shop), extract, transform and export."""
    from flows.pipeline import shop_run

    _run(
        shop_run, simulate_intervals=intervals, interval_hours=interval_hours,
        wait_for_lock_seconds=wait, full=full,
    )  # fmt: skip


@main.command()
@FULL
def refresh(full: bool) -> None:
    """Take what landed since the last build to gold (after `python -m ingestion land ...`)."""
    from flows.pipeline import refresh_run

    _run(refresh_run, full=full)


@main.command("export")
@click.option("--full-refresh", is_flag=True, help="Reload every table instead of only what changed.")
def export_(full_refresh: bool) -> None:
    """Export the gold marts as the lake holds them, then build the BI layer."""
    from flows.pipeline import export_run

    _run(export_run, full_refresh=full_refresh)


@main.command()
@click.option("--debounce", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Transform once the stream has been quiet this many seconds after a landing.")  # fmt: skip
@click.option("--max-wait", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="... or at the latest this long after the first landing not transformed yet.")  # fmt: skip
def stream(debounce: float, max_wait: float) -> None:
    """Consume the Kafka topics continuously and run the stream refresh flow (build what reads the landed
    sources, export those marts to gold) whenever micro-batches have landed, debounced; one line per cycle
    with produce -> gold latency."""
    from flows import console
    from flows.stream import stream as run_stream
    from flows.stream import stream_refresh_run
    from ingestion.stream import graceful_stop
    from lakehouse import services

    settings = load_settings()
    name_log_file(console.activate(settings.log_dir))
    services.up(settings, echo=lambda line: click.echo(f"  {line}"))  # the consumer needs the Thrift server
    stop = graceful_stop(click.echo)
    click.echo("streaming: Ctrl-C stops (what landed stays; the rest is read again next time)")
    try:
        run_stream(settings, lambda landed: stream_refresh_run(landed, wait_for_lock_seconds=3600),
                   debounce=debounce, max_wait=max_wait, stop=stop, echo=click.echo)  # fmt: skip
    except KeyboardInterrupt:
        stop.set()


@main.command()
@click.option(
    "--shuffle-labels", is_flag=True,
    help="Permutation check: train the churn model on shuffled labels (its gate must refuse it).",
)  # fmt: skip
def train(shuffle_labels: bool) -> None:
    """Train the churn and recommendation models (published only past their gates), score, export."""
    from flows.pipeline import train_run

    _run(train_run, shuffle_labels=shuffle_labels)


@main.command()
def score() -> None:
    """Score the customers with the published models (churn risk, top-10 products), export to gold."""
    from flows.pipeline import score_run

    _run(score_run)


@main.command()
def recovery() -> None:
    """Re-validate the quarantine against current master data, then export."""
    from flows.pipeline import recovery_run

    _run(recovery_run)


@main.command()
def detect() -> None:
    """Copy reviews from gold, re-run anomaly detection and its tests, export, alert on new flags."""
    from flows.pipeline import detect_and_alert_run

    _run(detect_and_alert_run)


@main.command()
@click.option(
    "--retention-hours",
    type=float,
    default=None,
    help="Keep snapshots this young for time travel (default ICEBERG_SNAPSHOT_RETENTION_HOURS).",
)
@click.option("--schema", "schemas", multiple=True, help="Only this schema's tables (repeatable).")
@click.option("--wait", "wait", default=0.0, help="Seconds to wait for a running pipeline to finish.")
def maintenance(retention_hours: float | None, schemas: tuple[str, ...], wait: float) -> None:
    """Iceberg table maintenance: compact small files, rewrite manifests, expire old snapshots, remove
    orphan files (never during a pipeline run)."""
    from flows.maintenance import maintenance_run

    _run(
        maintenance_run, retention_hours=retention_hours, schemas=list(schemas) or None,
        wait_for_lock_seconds=wait,
    )  # fmt: skip


@main.command()
@_shop
def serve(**shop: Any) -> None:
    """Serve the scheduled deployments; starts a local Prefect server (UI on 127.0.0.1) unless
    PREFECT_API_URL points at one."""
    env = dict(os.environ)
    code = (
        "import flows\nfrom prefect import serve\nfrom flows.deployments import deployments\n"
        "from flows.ingest import SimulatedShop\n"
        f"serve(*deployments(SimulatedShop(**{shop!r})))\n"
    )
    _stop_on_sigterm()  # before anything starts: a SIGTERM at any moment stops what did
    server = runner = None
    try:
        if not env.get("PREFECT_API_URL"):
            server, env["PREFECT_API_URL"], log = _start_server(env)
            click.echo(f"Prefect UI: http://127.0.0.1:{PREFECT_UI_PORT}  (server log: {log})")
        runner = subprocess.Popen([sys.executable, "-c", code], env=env)
        runner.wait()
    except KeyboardInterrupt:
        pass
    finally:
        _stop(runner, server)


@main.command()
def ui() -> None:
    """The Prefect UI on 127.0.0.1 over the runs `make run` stored (every flow run, its task runs and logs,
    its report), schedules paused: nothing is scheduled or marked late while you look. Ctrl-C stops it."""
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)  # this server, on this Prefect home
    # the scheduler would create runs for served deployments; late-runs would mark them late
    env["PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED"] = "false"
    env["PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED"] = "false"
    _stop_on_sigterm()  # before the server starts: a SIGTERM at any moment stops it
    server = None
    try:
        server, _url, log = _start_server(env, "prefect-ui.log")
        click.echo(
            f"Prefect UI: http://127.0.0.1:{PREFECT_UI_PORT}  (runs in {env['PREFECT_HOME']}, schedules "
            f"paused; server log: {log})\nCtrl-C stops it."
        )
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        _stop(server)


def _start_server(
    env: dict[str, str], log_name: str = "prefect-server.log"
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`prefect server start` on 127.0.0.1:PREFECT_UI_PORT (its own session, output to a log file);
    returns (process, API URL, log file) once the API answers."""
    url = f"http://127.0.0.1:{PREFECT_UI_PORT}/api"
    log = load_settings().log_dir / log_name
    log.parent.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(PREFECT_UI_PORT)],
        stdout=log.open("ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        start_new_session=True,
    )  # fmt: skip
    try:
        _wait_for_api(url, server, log)
    except BaseException:  # interrupted or failed while it started: nothing left behind
        _stop(server)
        raise
    return server, url, log


def _stop_on_sigterm() -> None:
    # SIGTERM (systemd, `timeout`, a container stop) ends the server too, not only Ctrl-C
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))


def _stop(*procs: subprocess.Popen[bytes] | None) -> None:
    """Stop each process and everything it started (the Prefect server runs uvicorn and its services in
    child processes): nothing is left behind."""
    import psutil

    from lakehouse.services import kill_tree

    for proc in procs:
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(psutil.NoSuchProcess):
                kill_tree(psutil.Process(proc.pid))
            proc.wait(timeout=30)


def _wait_for_api(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise click.ClickException(f"the Prefect server exited; see {log}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    _stop(server)
    raise click.ClickException(f"the Prefect server did not answer within 90 s; see {log}")


if __name__ == "__main__":
    main()
