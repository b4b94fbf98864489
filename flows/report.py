"""The run report: what ran, counts per layer, and durations; published as a Prefect markdown artifact
and printed at the end of `make run`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL

# (label, SQL) for the rows-per-layer table; a table a run has not built yet is reported as absent.
LAYER_COUNTS = (
    ("raw order lines", "select count(*) from raw.order_lines"),
    ("fact order lines", "select count(*) from marts.fct_order_lines"),
    ("quarantine open", "select count(*) from marts.quarantine_order_lines where recovered_at is null"),
    (
        "quarantine recovered",
        "select count(*) from marts.quarantine_order_lines where recovered_at is not null",
    ),
    ("unreconciled rows", "select coalesce(sum(unreconciled_rows), 0) from marts.audit_batch_reconciliation"),
    (
        "fact lines re-priced / re-linked by the last build",
        "select count(*) from intermediate.int_order_lines__validated "
        "where validation_status in ('repriced', 'relinked')",
    ),
    (
        "of which re-linked to another customer version",
        "select count(*) from intermediate.int_order_lines__validated where validation_status = 'relinked'",
    ),
    ("anomalies flagged", "select count(*) from marts.anomalies"),
    ("anomalies not reviewed", "select count(*) from marts.anomalies where status = 'NEW'"),
    ("country revenue anomalies", "select count(*) from marts.anomalies_country_revenue"),
    ("volume anomalies", "select count(*) from marts.anomalies_volume"),
)


def layer_counts(settings: Settings) -> dict[str, int | None]:
    counts: dict[str, int | None] = {}
    with SparkSQL(settings) as spark:
        for label, sql in LAYER_COUNTS:
            try:
                counts[label] = int(spark.scalar(sql) or 0)
            except LakehouseError:
                counts[label] = None
    return counts


@dataclass
class RunReport:
    title: str
    started: float = field(default_factory=time.monotonic)
    steps: list[tuple[str, str, float]] = field(default_factory=list)  # (step, result, seconds)
    counts: dict[str, int | None] = field(default_factory=dict)
    step_starts: list[datetime] = field(default_factory=list)  # when each of ``steps`` began (UTC)
    failed_step: tuple[str, str, float, datetime] | None = (
        None  # (step, first line of the error, seconds, began)
    )

    def step(self, name: str, result: str, seconds: float, started_at: datetime | None = None) -> None:
        self.steps.append((name, result, seconds))
        self.step_starts.append(started_at or datetime.now(UTC) - timedelta(seconds=seconds))

    def markdown(self) -> str:
        lines = [f"# {self.title}", "", "| step | result | seconds |", "|---|---|---:|"]
        lines += [f"| {name} | {result} | {sec:.1f} |" for name, result, sec in self.steps]
        lines.append(f"| **total** | | {time.monotonic() - self.started:.1f} |")
        if self.counts:
            lines += ["", "| rows | count |", "|---|---:|"]
            lines += [f"| {k} | {'absent' if v is None else f'{v:,}'} |" for k, v in self.counts.items()]
        return "\n".join(lines)

    def text(self) -> str:
        width = max((len(s[0]) for s in self.steps), default=10)
        out = [self.title]
        out += [f"  {name:<{width}}  {result}  ({sec:.1f} s)" for name, result, sec in self.steps]
        if self.counts:
            out.append(
                "  rows: "
                + ", ".join(f"{k} {'-' if v is None else f'{v:,}'}" for k, v in self.counts.items())
            )
        out.append(f"  total {time.monotonic() - self.started:.1f} s")
        return "\n".join(out)
