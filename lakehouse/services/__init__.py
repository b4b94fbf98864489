"""Start, stop and inspect the local services: the Spark Thrift Server and the gold PostgreSQL.

The one package that knows how services are launched: ``process`` (ports, PID files, process trees, logs),
``runtime`` (Java, Spark, the Iceberg jar), ``service`` (what every service shares), ``spark_thrift``,
``postgres``, and ``cluster`` (a Spark standalone cluster, started on its own command). Superset, a BI tool on
gold, builds on this package from ``lakehouse/dashboard.py``.

``up`` is idempotent (a running service of ours is reused), waits until each service answers, and records
PID files under ``<data dir>/run``; ``down`` stops exactly what ``up`` started. When configuration points at
external services (``LAKEHOUSE_SPARK=external``, ``GOLD_DATABASE_URL``) nothing is started, only checked.
"""

from __future__ import annotations

from pathlib import Path

from lakehouse.platform.settings import Settings
from lakehouse.services.postgres import Postgres, pg_bin_dir
from lakehouse.services.process import is_running, kill_tree, port_in_use, tail
from lakehouse.services.service import Echo, LakehouseService, ServiceStatus, State
from lakehouse.services.spark_thrift import SparkThrift, spark_conf

__all__ = [
    "Echo", "Postgres", "ServiceStatus", "SparkThrift", "State", "down", "is_running", "kill_tree",
    "log_files", "pg_bin_dir", "port_in_use", "services", "spark_conf", "status", "tail", "up",
]  # fmt: skip


def services(settings: Settings) -> list[LakehouseService]:
    return [Postgres(settings), SparkThrift(settings)]


def up(settings: Settings, echo: Echo = print) -> None:
    """Start (or reuse) every service; PostgreSQL first, it is up in a second.

    Every preflight (Java, ports, an external server's reachability) runs before anything starts, so a
    missing prerequisite fails fast and leaves nothing half-started.
    """
    for svc in services(settings):
        svc.preflight()
    for svc in services(settings):
        echo(f"{svc.name}: {svc.up()}")
    from ingestion.catalog import ensure_lake_of  # the lake's tables need the Thrift server just started

    ensure_lake_of(settings)


def down(settings: Settings, echo: Echo = print) -> None:
    from lakehouse.services.kafka import EmbeddedKafka  # started on its own command, stopped with the rest

    broker = EmbeddedKafka(settings)
    if broker.process() is not None:
        echo(f"{broker.name}: {broker.down()}")
    for svc in reversed(services(settings)):
        echo(f"{svc.name}: {svc.down()}")


def status(settings: Settings) -> list[ServiceStatus]:
    return [svc.status() for svc in services(settings)]


def log_files(settings: Settings) -> dict[str, Path]:
    return {svc.name: svc.log_file for svc in services(settings)} | {
        "lakehouse": settings.log_dir / "lakehouse.log"
    }
