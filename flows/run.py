"""The one skeleton of a flow run that writes to the lake: the pipeline lock, services up, the run report with
one timed line per step, and at the end the report as a Prefect artifact.

    @flow(name="refresh")
    def refresh_run(wait_for_lock_seconds: float = 600) -> RunReport:
        with flow_run("Refresh run", wait_for_lock_seconds) as run:
            run.step("export gold", export_gold, lambda results: f"{len(results)} tables")
        return run.report

A step that raises fails the run where it stands: its line says so, nothing after it runs, no artifact is
written and the lock is released (the CLI then prints the error as one line, lakehouse/platform/errors.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows import console, history
from flows.report import RunReport
from flows.retry import TRANSIENT_RETRIES
from lakehouse import services
from lakehouse.platform.errors import first_line
from lakehouse.platform.runlock import pipeline_lock
from lakehouse.platform.settings import load_settings

T = TypeVar("T")

PIPELINE_ARTIFACT = "pipeline-summary"  # the key of the report artifact of the pipeline runs


@task(name="services-up", **TRANSIENT_RETRIES)
def services_up() -> None:
    """Start the Spark Thrift Server and PostgreSQL, or reuse the running ones."""
    logger = get_run_logger()

    def echo(message: str) -> None:  # "postgres: started (pid ...) at ...": the flow's log and the console
        logger.info(message)
        console.say(message, also_log=False)

    services.up(load_settings(), echo=echo)


def timed(report: RunReport, name: str, fn: Callable[[], T], describe: Callable[[T], str]) -> T:
    """Run one step, add it to the report and print its line (flows/console.py) when it ends."""
    t0, started = time.monotonic(), datetime.now(UTC)
    try:
        value = fn()
    except BaseException as exc:
        console.step(name, "failed", time.monotonic() - t0, ok=False)
        report.failed_step = (
            name,
            first_line(str(exc)) or type(exc).__name__,
            time.monotonic() - t0,
            started,
        )
        raise
    result = describe(value)
    report.step(name, result, time.monotonic() - t0, started)
    console.step(name, result, time.monotonic() - t0)
    return value


@dataclass
class Run:
    """A flow run in progress: its report, and the steps it runs."""

    report: RunReport

    def step(self, name: str, fn: Callable[[], T], describe: Callable[[T], str]) -> T:
        """Run ``fn`` as the step ``name``; ``describe`` turns its value into the report's result."""
        return timed(self.report, name, fn, describe)


@contextmanager
def flow_run(
    title: str,
    wait_for_lock_seconds: float,
    artifact: str = PIPELINE_ARTIFACT,
    finish: Callable[[RunReport], None] | None = None,
) -> Iterator[Run]:
    """Take the pipeline lock (waiting up to ``wait_for_lock_seconds`` for a run that holds it), bring the
    services up as the first step, and hand the run to the flow's steps. When they succeed: ``finish``
    (e.g. counts for the report), then the report as the markdown artifact ``artifact``, inside the lock.
    Succeeded or failed, the run is recorded in the run history (flows/history.py)."""
    with pipeline_lock(load_settings(), wait_seconds=wait_for_lock_seconds):
        run = Run(RunReport(title))
        with history.recording(
            title, run.report
        ):  # the run, failed or not, in ops and gold (flows/history.py)
            run.step("services up", services_up, lambda _ready: "ready")
            yield run
            if finish is not None:
                finish(run.report)
        create_markdown_artifact(markdown=run.report.markdown(), key=artifact, description=run.report.title)
