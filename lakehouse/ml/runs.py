"""The record of training runs: ``ml.training_runs``, one row per model per run, appended over Thrift.

Why a table and not MLflow tracking: MLflow would add a tracking server (or a file store only its own UI
reads) and a large dependency set to a project that already has a lake; a row per run in the lake needs
nothing new, is exported to gold like any other table, and a BI tool reads it next to the scores. The
published model of each kind is the newest row with ``published``: a refused model never replaces it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from lakehouse.ml.settings import ML_SCHEMA, RUNS_TABLE
from lakehouse.platform.sql import SparkSQL, literal

RUNS_COLUMNS = (
    "run_id string, model string, model_version string, started_at timestamp, finished_at timestamp, "
    "data_from date, data_to date, train_rows bigint, params string, metrics string, "
    "baseline_metrics string, gate_passed boolean, gate_reason string, published boolean"
)


@dataclass(frozen=True)
class TrainingRun:
    run_id: str
    model: str
    model_version: str
    started_at: datetime
    finished_at: datetime
    data_from: date | None
    data_to: date | None
    train_rows: int
    params: dict[str, object]
    metrics: dict[str, object]
    baseline_metrics: dict[str, object]
    gate_passed: bool
    gate_reason: str
    published: bool


def _date(value: date | None) -> str:
    return f"date'{value.isoformat()}'" if value else "cast(null as date)"


def record(sql: SparkSQL, run: TrainingRun, schema: str = ML_SCHEMA) -> None:
    """Append ``run`` to ``ml.training_runs`` (created on first use)."""
    table = f"{schema}.{RUNS_TABLE}"
    sql.execute(f"create database if not exists {schema}")
    sql.execute(f"create table if not exists {table} ({RUNS_COLUMNS}) using iceberg")
    values = ", ".join([
        literal(run.run_id), literal(run.model), literal(run.model_version),
        literal(run.started_at), literal(run.finished_at), _date(run.data_from), _date(run.data_to),
        str(int(run.train_rows)), literal(json.dumps(run.params, sort_keys=True, default=str)),
        literal(json.dumps(run.metrics, sort_keys=True, default=str)),
        literal(json.dumps(run.baseline_metrics, sort_keys=True, default=str)),
        "true" if run.gate_passed else "false", literal(run.gate_reason),
        "true" if run.published else "false",
    ])  # fmt: skip
    sql.execute(f"insert into {table} values ({values})")


def published_version(sql: SparkSQL, model: str, schema: str = ML_SCHEMA) -> str | None:
    """The version of ``model`` in use: the newest published run's (None: none published yet)."""
    table = f"{schema}.{RUNS_TABLE}"
    if not sql.table_exists(table):
        return None
    version = sql.scalar(
        f"select model_version from {table} where model = {literal(model)} and published "
        "order by finished_at desc, started_at desc limit 1"
    )
    return str(version) if version else None


def ensure_tables(sql: SparkSQL, schema: str = ML_SCHEMA) -> None:
    """The ML outputs, empty until the first training and scoring (a new lake): the gold export copies them
    and the BI layer's views read them whatever the models have done so far."""
    from lakehouse.ml.score import CHURN_COLUMNS, RECS_COLUMNS
    from lakehouse.ml.settings import CHURN_TABLE, RECS_TABLE

    sql.execute(f"create database if not exists {schema}")
    tables = {RUNS_TABLE: RUNS_COLUMNS, CHURN_TABLE: CHURN_COLUMNS, RECS_TABLE: RECS_COLUMNS}
    for table, columns in tables.items():
        sql.execute(f"create table if not exists {schema}.{table} ({columns}) using iceberg")


def published_models(sql: SparkSQL, schema: str = ML_SCHEMA) -> dict[str, str]:
    """Model kind -> the version in use, for the kinds with a published model."""
    from lakehouse.ml.settings import CHURN, RECOMMENDATIONS

    versions = {model: published_version(sql, model, schema) for model in (CHURN, RECOMMENDATIONS)}
    return {model: version for model, version in versions.items() if version}
