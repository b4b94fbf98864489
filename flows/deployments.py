"""Deployments and schedules (UTC), served by `make serve` (`python -m flows serve`).

| deployment          | flow         | schedule                   |
|---------------------|--------------|----------------------------|
| master-data-daily   | master-data  | daily 06:00                |
| order-lines-2h      | order-lines  | every 2 hours              |
| shop-hourly         | shop         | hourly at :30 (extract; the demo shop simulates an hour first) |
| recovery-daily      | recovery     | daily 07:00, after master  |
| gold-backup-daily   | gold-backup  | daily 02:00                |
| table-maintenance-weekly | table-maintenance | Sundays 03:00         |
| ml-train-weekly     | ml-train     | Sundays 03:00 (waits for maintenance's lock) |
| ml-score-daily      | ml-score     | daily 08:00, after recovery |
| full-pipeline       | pipeline     | on demand                  |
| detect-and-alert    | detect-and-alert | on demand              |
| import-files        | import       | on demand (parameter: paths) |

Anomaly detection runs inside every transform, right after it, then the alert (not on a schedule of its
own); `detect-and-alert` re-runs just that part on demand, e.g. after a round of reviews. Each
deployment has `concurrency_limit=1`; across deployments the pipeline lock keeps runs from overlapping
(a run waits up to `wait_for_lock_seconds` for the one before it). Table maintenance also runs at the end
of a pipeline run every MAINTENANCE_EVERY_N_RUNS runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from prefect.schedules import Cron, Schedule

from flows.ingest import SimulatedShop

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

SCHEDULES = {
    "master-data-daily": "0 6 * * *",
    "order-lines-2h": "0 */2 * * *",
    "shop-hourly": "30 * * * *",
    "recovery-daily": "0 7 * * *",
    "gold-backup-daily": "0 2 * * *",
    "table-maintenance-weekly": "0 3 * * 0",
    "ml-train-weekly": "0 3 * * 0",
    "ml-score-daily": "0 8 * * *",
}


def deployments(shop: SimulatedShop | None = None) -> list[RunnerDeployment]:
    """The deployments; the scheduled ingest runs replay ``shop`` (default: the shop of `make run`)."""
    from flows.maintenance import gold_backup, maintenance_run
    from flows.pipeline import (
        detect_and_alert_run,
        import_run,
        master_data_run,
        order_lines_run,
        pipeline,
        recovery_run,
        score_run,
        shop_run,
        train_run,
    )

    def cron(name: str) -> list[Schedule]:
        return [Cron(SCHEDULES[name], timezone="UTC")]

    sim = {"shop": (shop or SimulatedShop()).model_dump()}
    # to_deployment is sync-compatible: called outside an event loop it returns the deployment itself
    return cast("list[RunnerDeployment]", [
        master_data_run.to_deployment(
            name="master-data-daily", schedules=cron("master-data-daily"), parameters=sim,
            concurrency_limit=1, tags=["daily", "ingest"],
        ),
        order_lines_run.to_deployment(
            name="order-lines-2h", schedules=cron("order-lines-2h"), parameters={**sim, "hours": 2},
            concurrency_limit=1, tags=["hourly", "ingest"],
        ),
        # the shop database's changes every hour; the embedded demo shop first lives through that hour
        shop_run.to_deployment(
            name="shop-hourly", schedules=cron("shop-hourly"),
            parameters={"simulate_intervals": 1, "interval_hours": 1.0},
            concurrency_limit=1, tags=["hourly", "ingest", "shop"],
        ),
        recovery_run.to_deployment(
            name="recovery-daily", schedules=cron("recovery-daily"), concurrency_limit=1, tags=["daily"],
        ),
        gold_backup.to_deployment(
            name="gold-backup-daily", schedules=cron("gold-backup-daily"),  # keeps GOLD_BACKUP_KEEP_DAYS
            concurrency_limit=1, tags=["daily", "gold"],
        ),
        maintenance_run.to_deployment(  # keeps ICEBERG_SNAPSHOT_RETENTION_HOURS
            name="table-maintenance-weekly", schedules=cron("table-maintenance-weekly"),
            concurrency_limit=1, tags=["weekly", "lake"],
        ),
        train_run.to_deployment(  # the gates decide what is published (ML_* settings)
            name="ml-train-weekly", schedules=cron("ml-train-weekly"), concurrency_limit=1,
            tags=["weekly", "ml"],
        ),
        score_run.to_deployment(
            name="ml-score-daily", schedules=cron("ml-score-daily"), concurrency_limit=1,
            tags=["daily", "ml"],
        ),
        pipeline.to_deployment(name="full-pipeline", concurrency_limit=1, tags=["manual"]),
        detect_and_alert_run.to_deployment(
            name="detect-and-alert", concurrency_limit=1, tags=["manual", "anomalies"],
        ),
        # a user's files to gold: run it with the paths (a landing folder, a bucket URI) as a parameter
        import_run.to_deployment(
            name="import-files", concurrency_limit=1, tags=["manual", "ingest"],
            parameters={"paths": [], "layout": None, "mappings": [], "encoding": "utf-8"},
        ),
    ])  # fmt: skip
