"""Transform: `dbt build` inside the flow process through prefect-dbt's PrefectDbtRunner.

Each dbt node becomes its own Prefect task run (status, timing, logs; skipped nodes shown as skipped).
A failed model or test fails the flow with the node's name and the first line of its message.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from prefect import flow, get_run_logger

from lakehouse import dbt_thrift
from lakehouse.config import REPO_ROOT, load_settings
from lakehouse.errors import LakehouseError, first_line


@dataclass
class DbtOutcome:
    statuses: Counter = field(default_factory=Counter)  # by resource type and status, e.g. ("test", "pass")
    seconds: float = 0.0

    def count(self, resource_type: str, *statuses: str) -> int:
        return sum(
            n for (rtype, status), n in self.statuses.items() if rtype == resource_type and status in statuses
        )


def dbt_runner(target: str | None = None):
    from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

    dbt_thrift.install()  # --fail-fast cancels running queries from another thread: make that safe
    settings = load_settings()
    return PrefectDbtRunner(
        settings=PrefectDbtSettings(
            project_dir=REPO_ROOT,
            profiles_dir=REPO_ROOT / "profiles",
            target_path=settings.dbt_target_path if target in (None, "local", "cluster") else
            settings.dbt_target_path.parent / f"target-{target}",
        ),
        raise_on_failure=False,
    )  # fmt: skip


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


def run_dbt(args: list[str], target: str | None = None) -> DbtOutcome:
    if target:
        args = [*args, "--target", target]
    res = dbt_runner(target).invoke(args)
    if res.exception is not None:
        raise LakehouseError(f"dbt {args[0]} could not run: {first_line(str(res.exception))}")
    outcome = DbtOutcome()
    for r in res.result.results:
        outcome.statuses[(str(r.node.resource_type), str(r.status))] += 1
    outcome.seconds = getattr(res.result, "elapsed_time", 0.0) or 0.0
    if not res.success:
        failures = dbt_failure_summary(res.result.results)
        get_run_logger().error("dbt %s failed:\n%s", args[0], "\n".join(failures))
        raise LakehouseError(f"dbt {args[0]} failed on {len(failures)} node(s): " + " | ".join(failures[:3]))
    return outcome


@flow(name="transform")
def transform(select: str | None = None) -> DbtOutcome:
    """`dbt build` on the lake target: seeds, snapshots, models and tests (the quarantine is re-validated
    against the current master data on every build). Nothing after a failure runs: gold keeps its state."""
    # --fail-fast: the first failure stops the build (nothing after it would be exported anyway), so a
    # broken connection or a failed test costs seconds, not one timeout per remaining node.
    args = ["build", "--fail-fast"]
    if select:
        args += ["--select", select]
    return run_dbt(args)
