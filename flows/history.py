"""Recording a flow run in the lake's run history (lakehouse/history.py), and copying it to gold.

``flow_run`` (flows/run.py) opens a ``Recorder`` for every run and makes it current; while the run goes,
``run_dbt`` adds one record per dbt node from dbt's own results, the freshness step its source results, and
steps ``note`` run-level figures (rows landed, rows exported). When the run ends, succeeded or failed, the
records are written to ``ops`` and the ``ops`` tables exported to gold: a failed run is in the history too.
Recording never fails a run, nor hides why it failed: a history that cannot be written (the services are
down: that is often why the run failed) is a warning in the log.

``LAKEHOUSE_RUN_HISTORY=false`` switches it off (benchmarks/bench_cycle.py measures what it costs).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lakehouse import gold, history
from lakehouse.gold.manifest import gold_models
from lakehouse.platform.errors import first_line
from lakehouse.platform.settings import Settings, load_settings
from lakehouse.platform.sql import SparkSQL

log = logging.getLogger(__name__)

_current: ContextVar[Recorder | None] = ContextVar("run_history", default=None)

# report.counts label -> pipeline_runs column (flows/report.py LAYER_COUNTS)
COUNT_COLUMNS = {
    "raw order lines": "raw_order_lines",
    "fact order lines": "fact_order_lines",
    "quarantine open": "quarantine_open",
    "quarantine recovered": "quarantine_recovered",
    "anomalies flagged": "anomalies_flagged",
    "anomalies not reviewed": "anomalies_new",
}
PERIOD_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass
class Recorder:
    """The records of one flow run, kept in memory until it ends (a few hundred rows)."""

    run_id: str
    flow_name: str
    title: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    figures: dict[str, int] = field(default_factory=dict)  # run-level figures noted by steps
    nodes: list[dict[str, Any]] = field(default_factory=list)
    freshness: list[dict[str, Any]] = field(default_factory=list)

    def add_dbt_results(self, command: str, invocation_id: str, results: Iterable[Any]) -> None:
        """One record per node of a dbt invocation, from its RunResults (build) or freshness results."""
        for r in results:
            node = r.node
            timing = {t.name: t for t in getattr(r, "timing", None) or []}
            execute = timing.get("execute") or timing.get("compile")
            started = (timing.get("compile") or execute).started_at if execute else None
            response = getattr(r, "adapter_response", None) or {}
            self.nodes.append({
                "run_id": self.run_id, "invocation_id": invocation_id, "command": command,
                "unique_id": node.unique_id, "node_name": node.name,
                "resource_type": str(node.resource_type), "status": str(r.status),
                "rows_affected": response.get("rows_affected"),
                "started_at": _utc(started), "completed_at": _utc(execute.completed_at if execute else None),
                "execution_seconds": float(r.execution_time or 0.0),
                "failures": r.failures, "message": first_line(r.message or "")[:1000] or None,
                "attached_node": getattr(node, "attached_node", None),
            })  # fmt: skip
            if command == "source freshness":
                self.freshness.append(_freshness_record(self.run_id, r))

    def records(self, ended_at: datetime, status: str, error: str | None, report: Any) -> dict[str, list]:
        counts = {column: report.counts.get(label) for label, column in COUNT_COLUMNS.items()}
        run = {
            "run_id": self.run_id, "flow_name": self.flow_name, "title": self.title,
            "started_at": self.started_at, "ended_at": ended_at, "status": status, "error": error,
            "seconds": (ended_at - self.started_at).total_seconds(), **self.figures, **counts,
        }  # fmt: skip
        steps = [
            {"run_id": self.run_id, "step_no": i, "step": name, "status": "succeeded", "result": result,
             "started_at": started, "seconds": seconds}
            for i, ((name, result, seconds), started) in enumerate(
                zip(report.steps, report.step_starts, strict=True)
            )
        ]  # fmt: skip
        if report.failed_step is not None:
            name, message, seconds, started = report.failed_step
            steps.append({"run_id": self.run_id, "step_no": len(steps), "step": name, "status": "failed",
                          "result": message, "started_at": started, "seconds": seconds})  # fmt: skip
        return {"pipeline_runs": [run], "run_steps": steps, "node_runs": self.nodes,
                "source_freshness": self.freshness}  # fmt: skip


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _freshness_record(run_id: str, r: Any) -> dict[str, Any]:
    node = r.node
    threshold = getattr(node, "freshness", None)

    def seconds(after: Any) -> float | None:
        if after is None or after.count is None or after.period is None:
            return None
        return float(after.count * PERIOD_SECONDS[str(after.period)])

    return {
        "run_id": run_id, "unique_id": node.unique_id, "source_name": node.source_name,
        "table_name": node.name, "status": str(r.status),
        "max_loaded_at": _utc(getattr(r, "max_loaded_at", None)),
        "snapshotted_at": _utc(getattr(r, "snapshotted_at", None)), "age_seconds": getattr(r, "age", None),
        "warn_after_seconds": seconds(threshold.warn_after) if threshold else None,
        "error_after_seconds": seconds(threshold.error_after) if threshold else None,
    }  # fmt: skip


def current() -> Recorder | None:
    return _current.get()


def note(**figures: int) -> None:
    """Run-level figures for the run's row in ``pipeline_runs`` (e.g. ``rows_landed``), added up."""
    recorder = _current.get()
    if recorder is not None:
        for name, value in figures.items():
            recorder.figures[name] = recorder.figures.get(name, 0) + value


def enabled(settings: Settings) -> bool:
    return bool(settings.typed.LAKEHOUSE_RUN_HISTORY)


def _run_identity(title: str) -> tuple[str, str]:
    from prefect.runtime import flow_run

    run_id = flow_run.id or str(uuid.uuid4())
    return str(run_id), str(flow_run.flow_name or title)


@contextmanager
def recording(title: str, report: Any) -> Iterator[Recorder | None]:
    """Make a Recorder current for the run; when it ends, write the records and export them (see module)."""
    settings = load_settings()
    if not enabled(settings):
        yield None
        return
    run_id, flow_name = _run_identity(title)
    recorder = Recorder(run_id, flow_name, title)
    token = _current.set(recorder)
    status, error = "succeeded", None
    try:
        yield recorder
    except BaseException as exc:
        status, error = "failed", first_line(str(exc))[:1000] or type(exc).__name__
        raise
    finally:
        _current.reset(token)
        _store(settings, recorder, recorder.records(datetime.now(UTC), status, error, report))


def _store(settings: Settings, recorder: Recorder, records: dict[str, list]) -> None:
    t0 = time.monotonic()
    try:
        with SparkSQL(settings) as spark:
            history.ensure_tables(spark)
            history.write_run(spark, records, recorder.run_id)
        gold.export_gold(settings, models=ops_models(settings))
    except Exception:
        log.warning("run %s: the run history could not be recorded", recorder.run_id, exc_info=True)
        return
    log.info(
        "run %s recorded in %s and gold in %.1fs", recorder.run_id, history.SCHEMA, time.monotonic() - t0
    )


def ops_models(settings: Settings) -> list[gold.GoldModel]:
    """The gold models of the history (the ``ops`` sources flagged gold in the manifest)."""
    prefix = f"{history.SCHEMA}."
    return [
        m
        for m in gold_models(settings.dbt_target_path / "manifest.json")
        if m.lake_relation.startswith(prefix)
    ]
