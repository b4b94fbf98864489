"""A training run: both models trained and evaluated in the ML application, saved, gated, recorded."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from lakehouse.ml import churn, gates, recommend
from lakehouse.ml.io import ml_session, read_lake_table
from lakehouse.ml.runs import TrainingRun, published_version, record
from lakehouse.ml.settings import CHURN, RECOMMENDATIONS, MLParams, model_dir
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelOutcome:
    model: str
    version: str
    published: bool
    reason: str
    metrics: dict[str, object]
    baseline_metrics: dict[str, object]
    in_use: str | None  # the published version after this run

    def summary(self) -> str:
        if self.version == "-":  # could not be trained (too little data): the reason says why
            return f"{self.model}: {self.reason}; {self.in_use or 'no model'} stays in use"
        verdict = "published" if self.published else f"refused, {self.in_use or 'no model'} stays in use"
        return f"{self.model} {self.version} {verdict} ({self.reason})"


@dataclass(frozen=True)
class TrainReport:
    run_id: str
    seconds: float
    outcomes: list[ModelOutcome] = field(default_factory=list)

    def outcome(self, model: str) -> ModelOutcome:
        return next(o for o in self.outcomes if o.model == model)

    def summary(self) -> str:
        return f"ml train {self.run_id} in {self.seconds:.0f} s: " + "; ".join(
            o.summary() for o in self.outcomes
        )


def new_version(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S%fZ")


def train(
    settings: Settings,
    shuffle_labels: bool = False,
    params: MLParams | None = None,
    models: tuple[str, ...] = (CHURN, RECOMMENDATIONS),
) -> TrainReport:
    """Train, evaluate and gate ``models`` (churn, recommendations); publish those that pass (their runs
    appended to ``ml.training_runs`` either way). ``shuffle_labels`` trains churn on permuted labels: its
    gate must refuse it."""
    params = params or MLParams.from_settings(settings)
    run_id = uuid.uuid4().hex[:12]
    began = datetime.now(UTC)
    outcomes = []
    with SparkSQL(settings) as sql, ml_session(settings) as spark:
        for model in models:
            try:
                if model == CHURN:
                    outcomes.append(_train_churn(spark, sql, settings, params, run_id, shuffle_labels))
                else:
                    outcomes.append(_train_recommendations(spark, sql, settings, params, run_id))
            except LakehouseError as exc:  # e.g. a lake too young for a label: said, the other model goes on
                in_use = published_version(sql, model, params.ml_schema)
                outcomes.append(ModelOutcome(model, "-", False, f"not trained: {exc}", {}, {}, in_use))
    report = TrainReport(run_id, (datetime.now(UTC) - began).total_seconds(), outcomes)
    log.info("%s", report.summary())
    return report


def _train_churn(spark: Any, sql: SparkSQL, settings: Settings, params: MLParams, run_id: str,
                 shuffle_labels: bool) -> ModelOutcome:  # fmt: skip
    features = read_lake_table(spark, sql, params.features_table, settings)
    started = datetime.now(UTC)
    c = churn.train_churn(features, params, shuffle_labels=shuffle_labels)
    gate = gates.churn_gate(float(c.metrics["auc"]), float(c.baseline_metrics["auc"]),  # type: ignore[arg-type]
                            params.auc_floor, params.auc_margin)  # fmt: skip
    version = new_version(started)
    c.model.save(str(model_dir(settings, CHURN, version)))
    return _record(sql, params, run_id, CHURN, version, started, gate, c.params, c.metrics,
                   c.baseline_metrics, c.train_rows, c.data_from, c.data_to)  # fmt: skip


def _train_recommendations(spark: Any, sql: SparkSQL, settings: Settings, params: MLParams,
                           run_id: str) -> ModelOutcome:  # fmt: skip
    interactions = read_lake_table(spark, sql, params.interactions_table, settings)
    started = datetime.now(UTC)
    r = recommend.train_recommendations(interactions, params)
    gate = gates.recommendations_gate(float(r.metrics["precision_at_10"]),  # type: ignore[arg-type]
                                      float(r.baseline_metrics["precision_at_10"]),  # type: ignore[arg-type]
                                      params.precision_margin)  # fmt: skip
    version = new_version(started)
    r.model.save(str(model_dir(settings, RECOMMENDATIONS, version)))
    return _record(sql, params, run_id, RECOMMENDATIONS, version, started, gate, r.params, r.metrics,
                   r.baseline_metrics, r.train_rows, r.data_from, r.data_to)  # fmt: skip


def _record(sql: SparkSQL, ml: MLParams, run_id: str, model: str, version: str, started: datetime,
            gate: gates.Gate, params: dict[str, object], metrics: dict[str, object],
            baseline: dict[str, object], train_rows: int, data_from: date,
            data_to: date) -> ModelOutcome:  # fmt: skip
    run = TrainingRun(
        run_id=run_id, model=model, model_version=version, started_at=started, finished_at=datetime.now(UTC),
        data_from=data_from, data_to=data_to, train_rows=train_rows, params=params, metrics=metrics,
        baseline_metrics=baseline, gate_passed=gate.passed, gate_reason=gate.reason, published=gate.passed,
    )  # fmt: skip
    record(sql, run, ml.ml_schema)
    log.info("training run %s", json.dumps({"model": model, "version": version, "gate": gate.reason}))
    in_use = published_version(sql, model, ml.ml_schema)
    return ModelOutcome(model, version, gate.passed, gate.reason, metrics, baseline, in_use)
