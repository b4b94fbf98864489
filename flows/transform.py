"""Transform: `dbt build` inside the flow process (dbt's programmatic `dbtRunner`).

Each finished node is one line of the flow's log (status, time); dbt's own log and `run_results.json` under
the data directory keep the detail. A failed model or test fails the flow with the node's name and the first
line of its message.

Not one Prefect task run per node (prefect-dbt's PrefectDbtRunner, used until the builds got fast): on 2
cores its task runs and their API events cost a third of a build of 200 nodes, competing with Spark for the
same cores (README, "Design decisions").
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from prefect import flow, get_run_logger

from flows import changes, console, history
from lakehouse.platform import dbt_thrift
from lakehouse.platform.errors import LakehouseError, first_line
from lakehouse.platform.settings import REPO_ROOT, load_settings

Logger = logging.Logger | logging.LoggerAdapter[logging.Logger]  # what Prefect's get_run_logger returns
DbtCallback = Callable[[Any], None]  # called with each dbt EventMsg


@dataclass
class DbtOutcome:
    statuses: Counter[tuple[str, str]] = field(
        default_factory=Counter
    )  # by resource type and status, e.g. ("test", "pass")
    seconds: float = 0.0
    plan: str = ""  # why these nodes (flows/changes.py)
    results: list[Any] = field(default_factory=list)  # dbt's result per node

    @property
    def nodes(self) -> int:
        return sum(self.statuses.values())

    def count(self, resource_type: str, *statuses: str) -> int:
        return sum(
            n for (rtype, status), n in self.statuses.items() if rtype == resource_type and status in statuses
        )


def _node_logger(logger: Logger) -> DbtCallback:
    """A dbt callback: one debug line per finished node in the flow's log (dbt's threads call it)."""

    def log_node(event: Any) -> None:
        if event.info.name == "NodeFinished":
            node, result = event.data.node_info, event.data.run_result
            logger.debug("%s %s: %s in %.1fs", node.resource_type, node.node_name, result.status,
                         result.execution_time)  # fmt: skip

    return log_node


def dbt_runner(logger: Logger, *callbacks: DbtCallback) -> Any:  # a dbtRunner
    from dbt.cli.main import dbtRunner

    dbt_thrift.install()  # one Thrift session per thread, fast polling, cancel made safe
    return dbtRunner(callbacks=[_node_logger(logger), *callbacks])


@contextmanager
def ml_vars(churn_horizon_days: int, ml_cutoff_step_days: int) -> Iterator[None]:
    """The dbt vars of marts.ml_customer_features for the dbt runs inside (dbt runs in this process and reads
    them through env_var() in dbt_project.yml); the settings' values again afterwards."""
    values = {
        "LAKEHOUSE_CHURN_HORIZON_DAYS": str(int(churn_horizon_days)),
        "LAKEHOUSE_ML_CUTOFF_STEP_DAYS": str(int(ml_cutoff_step_days)),
    }
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dbt_args(args: list[str], target: str | None) -> list[str]:
    settings = load_settings()
    target_path = settings.dbt_target_path
    if target not in (None, "local", "cluster"):
        target_path = target_path.parent / f"target-{target}"
    # dbt's console says only what went wrong (the run report says the rest); its log file keeps everything.
    # Under `python -m flows` our console shows dbt's warnings (flows/console.py) and dbt's own is off.
    level = "none" if console.current() is not None else "warn"
    extra = ["--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT / "profiles"),
             "--target-path", str(target_path),
             "--log-level", level, "--log-level-file", "debug"]  # fmt: skip
    words = 2 if args[0] == "source" else 1  # the command: "build", "source freshness"
    return [*args[:words], *extra, *args[words:], *(["--target", target] if target else [])]


def dbt_failure_summary(results: Iterable[Any]) -> list[str]:  # dbt's RunResults
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


def run_dbt(
    args: list[str], target: str | None = None, check: bool = True, callbacks: Iterable[DbtCallback] = ()
) -> DbtOutcome:
    """Run dbt in this process; a failed node fails the call (unless not ``check``: the caller judges the
    results, e.g. source freshness)."""
    logger = get_run_logger()
    # a progress bar over the nodes on the console of `python -m flows` (flows/console.py), else nothing
    command = " ".join(args[:2]) if args[0] == "source" else args[0]  # "build", "source freshness"
    label = f"dbt {command}" + (f" --target {target}" if target else "")
    with console.dbt_progress(label) as progress:
        res = dbt_runner(logger, progress, *callbacks).invoke(dbt_args(args, target))
    if res.exception is not None:
        raise LakehouseError(f"dbt {command} could not run: {first_line(str(res.exception))}")
    recorder = history.current()
    if recorder is not None:  # every node in the run history (flows/history.py), whatever happens next
        from dbt_common.invocation import get_invocation_id

        recorder.add_dbt_results(label.removeprefix("dbt "), get_invocation_id(), res.result.results)
    outcome = DbtOutcome(results=list(res.result.results))
    for r in res.result.results:
        outcome.statuses[(str(r.node.resource_type), str(r.status))] += 1
    outcome.seconds = getattr(res.result, "elapsed_time", 0.0) or 0.0
    if check and not res.success:
        failures = dbt_failure_summary(res.result.results)
        logger.error("dbt %s failed:\n%s", command, "\n".join(failures))
        raise LakehouseError(f"dbt {command} failed on {len(failures)} node(s): " + " | ".join(failures[:3]))
    return outcome


@flow(name="transform")
def transform(
    select: str | None = None,
    unit_tests: bool = False,
    full: bool = False,
    indirect_selection: str | None = None,
) -> DbtOutcome:
    """`dbt build` on the lake target of what changed since the last build (flows/changes.py; everything with
    ``full``, or ``select``): seeds, snapshots, models and their data tests. The quarantine is re-validated
    whenever master data changed. Nothing after a failure runs: gold keeps its state.

    dbt's unit tests check the models' SQL on fixed inputs, not the data: they run in CI (`make test`) and
    in the daily recovery flow (``unit_tests``, a full build), not in every 2-hourly cycle (dbt's advice for
    production)."""
    settings = load_settings()
    # --fail-fast: the first failure stops the build (nothing after it would be exported anyway), so a
    # broken connection or a failed test costs seconds, not one timeout per remaining node.
    args = ["build", "--fail-fast"]
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    if indirect_selection:  # which tests come with the selected models (dbt's --indirect-selection)
        args += ["--indirect-selection", indirect_selection]
    if select:
        return run_dbt([*args, "--select", select])
    plan = changes.plan_build(settings, full=full or unit_tests)
    get_run_logger().info("transform: %s", plan.reason)
    if plan.select is not None:
        args += ["--select", *plan.select, "--state", str(changes.state_dir(settings))]
    if plan.exclude:
        args += ["--exclude", *plan.exclude]
    changes.begin_build(settings, plan)  # a build that fails or is killed: the next one resumes it
    finished: dict[
        str, str
    ] = {}  # unique id -> status, as dbt reports each node (a killed build has no results)

    def note(event: Any) -> None:
        if event.info.name == "NodeFinished":
            finished[event.data.node_info.unique_id] = str(event.data.run_result.status)

    try:
        outcome = run_dbt(args, callbacks=[note])
    except LakehouseError:
        added = changes.note_failed_build(settings, dict(finished))
        get_run_logger().info("transform failed: the next build resumes it (%d more nodes done)", added)
        raise
    outcome.plan = plan.reason
    changes.record_build(settings, plan)
    return outcome
