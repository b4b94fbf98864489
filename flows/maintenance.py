"""Maintenance flows: gold backups, and Iceberg table maintenance (weekly, and after every N runs)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from flows.report import RunReport
from flows.run import flow_run
from lakehouse import maintenance
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import Settings, load_settings

log = logging.getLogger(__name__)


@flow(name="gold-backup")
def gold_backup(keep_days: float | None = None) -> str:
    """`pg_dump` of the gold database (custom format, compressed, named by time), keeping `keep_days` of
    backups (default GOLD_BACKUP_KEEP_DAYS)."""
    from lakehouse.gold import backup

    path = backup.backup(load_settings(), keep_days=keep_days)
    get_run_logger().info("gold backup written to %s", path)
    return str(path)


def _report(report: RunReport, results: list[maintenance.TableMaintenance]) -> None:
    for r in results:
        report.step(r.table, r.describe(), r.seconds)
    report.counts = {
        "Iceberg tables maintained": sum(1 for r in results if not r.error),
        "tables failed": sum(1 for r in results if r.error),
        "snapshots before": sum(r.snapshots_before for r in results),
        "snapshots after": sum(r.snapshots_after for r in results),
        "data files before": sum(r.data_files_before for r in results),
        "data files after": sum(r.data_files_after for r in results),
        "snapshots expired": sum(r.snapshots_expired for r in results),
        "orphan files removed": sum(r.orphans_removed for r in results),
    }


@flow(name="table-maintenance")
def maintenance_run(
    retention_hours: float | None = None,
    schemas: list[str] | None = None,
    wait_for_lock_seconds: float = 3600,
) -> RunReport:
    """Iceberg table maintenance of the lake (lakehouse/maintenance.py): compact small files, rewrite
    manifests, expire snapshots older than ``retention_hours`` (default ICEBERG_SNAPSHOT_RETENTION_HOURS),
    remove orphan files. Takes the pipeline lock, so it never runs during a pipeline run (it waits up to
    ``wait_for_lock_seconds`` for one to end). Every table is tried; the run fails at the end if one
    failed (after its report is written)."""
    settings = load_settings()
    logger = get_run_logger()
    with flow_run("Table maintenance run", wait_for_lock_seconds, artifact="table-maintenance") as run:
        results = maintenance.maintain(settings, retention_hours, schemas, echo=logger.info)
        _record_maintained(settings)
        _report(run.report, results)
    failed = [r for r in results if r.error]
    if failed:
        raise LakehouseError(
            f"Table maintenance failed for {len(failed)} of {len(results)} table(s): "
            f"{failed[0].table}: {failed[0].error}"
        )
    return run.report


# ------------------------------------------------------------------------------ after every N runs


def _state_file(settings: Settings) -> Path:
    # next to the last build's state: a new (emptied) lake starts counting from zero
    from flows.changes import state_dir

    return state_dir(settings) / "maintenance.json"


def _runs_since(settings: Settings) -> int:
    try:
        return int(json.loads(_state_file(settings).read_text())["runs_since"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _write_runs_since(settings: Settings, runs: int) -> None:
    path = _state_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"runs_since": runs, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    )


def _record_maintained(settings: Settings) -> None:
    _write_runs_since(settings, 0)


Timed = Callable[[RunReport, str, Callable[[], Any], Callable[[Any], str]], Any]  # flows.run.timed


def maintain_if_due(report: RunReport, timed: Timed) -> None:
    """At the end of a pipeline run, inside its lock: count the run, and when MAINTENANCE_EVERY_N_RUNS runs
    have passed since the last maintenance, maintain the tables as a step of this run (``timed`` is the
    pipeline's step runner). A failure here is logged and never fails the run: its data is already in gold,
    and the next run tries again."""
    settings = load_settings()
    every = maintenance.every_n_runs(settings)
    runs = _runs_since(settings) + 1
    if every == 0 or runs < every:
        _write_runs_since(settings, runs)
        return
    try:
        results = timed(
            report, "table maintenance", lambda: maintenance.maintain(settings),
            lambda rs: f"{len(rs)} Iceberg tables, "
            f"snapshots {sum(r.snapshots_before for r in rs)}→{sum(r.snapshots_after for r in rs)}, "
            f"data files {sum(r.data_files_before for r in rs)}→{sum(r.data_files_after for r in rs)}, "
            f"{sum(1 for r in rs if r.error)} failed",
        )  # fmt: skip
    except Exception:
        log.warning("table maintenance after %d runs failed; the next run tries again", runs, exc_info=True)
        _write_runs_since(settings, runs)
        return
    for r in results:
        if r.error:
            log.warning("table maintenance of %s failed: %s", r.table, r.error)
    _record_maintained(settings)
