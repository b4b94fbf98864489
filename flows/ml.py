"""Machine learning steps (lakehouse/ml): train the churn and recommendation models behind their gates, score
customers with the published ones.

Training runs weekly (deployment `ml-train-weekly`, Sundays 03:00 UTC) and scoring daily after the morning's
runs (`ml-score-daily`) and at the end of every full pipeline run (`make run`), which first trains when no
model has been published yet (a new lake). Both run inside the pipeline lock (flows/run.py) like every flow
that writes to the lake; the models run in their own Spark application, never in the Thrift server.
"""

from __future__ import annotations

from dataclasses import dataclass

from prefect import get_run_logger, task

from lakehouse import ml
from lakehouse.platform.errors import first_line
from lakehouse.platform.settings import load_settings
from lakehouse.platform.sql import SparkSQL


@task(name="ml-train")
def train_models(shuffle_labels: bool = False) -> ml.TrainReport:
    """Train both models on the current features; each is published only if its gate passes."""
    report = ml.train(load_settings(), shuffle_labels=shuffle_labels)
    get_run_logger().info("ml train: %s", report.summary())
    return report


@dataclass(frozen=True)
class ScoringFailed:
    """What a pipeline run reports when its ML step failed: the run goes on to export the rest."""

    error: str

    def summary(self) -> str:
        return f"failed, gold keeps the previous scores: {self.error} (detail in the log)"


@dataclass(frozen=True)
class ScoredAfterTraining:
    """A pipeline run's ML step on a lake without published models: what training decided, then scoring."""

    trained: ml.TrainReport
    scored: ml.ScoreReport

    def summary(self) -> str:
        decided = ", ".join(
            f"{o.model} {'published' if o.published else 'not published'}" for o in self.trained.outcomes
        )
        return f"{self.scored.summary()} (trained first in {self.trained.seconds:.0f} s: {decided})"


@task(name="ml-score")
def score_customers(
    train_if_unpublished: bool = False,
) -> ml.ScoreReport | ScoredAfterTraining | ScoringFailed:
    """Score with the published models. ``train_if_unpublished`` (the full pipeline run): train first where
    none is published, and a failure of either is reported without failing the run (the marts still reach
    gold); the ML flows themselves fail on it."""
    settings = load_settings()
    logger = get_run_logger()
    trained = None
    try:
        if train_if_unpublished:
            with SparkSQL(settings) as sql:
                published = ml.published_models(sql)
            if len(published) < 2:
                trained = ml.train(settings)
                logger.info("ml train (no published model yet): %s", trained.summary())
        report = ml.score(settings)
    except Exception as exc:
        if not train_if_unpublished:
            raise
        logger.exception("the ML step failed; the run goes on without new scores")
        return ScoringFailed(first_line(str(exc)))
    logger.info("ml score: %s", report.summary())
    return report if trained is None else ScoredAfterTraining(trained, report)
