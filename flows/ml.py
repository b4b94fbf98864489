"""Machine learning steps (lakehouse/ml): train the churn and recommendation models behind their gates, score
customers with the published ones.

Training runs weekly (deployment `ml-train-weekly`, Sundays 03:00 UTC) and scoring daily after the morning's
runs (`ml-score-daily`) and at the end of every full pipeline run (`make run`), which first trains when no
model has been published yet (a new lake). Both run inside the pipeline lock (flows/run.py) like every flow
that writes to the lake; the models run in their own Spark application, never in the Thrift server.
"""

from __future__ import annotations

from prefect import get_run_logger, task

from lakehouse import ml
from lakehouse.platform.settings import load_settings
from lakehouse.platform.sql import SparkSQL


@task(name="ml-train")
def train_models(shuffle_labels: bool = False) -> ml.TrainReport:
    """Train both models on the current features; each is published only if its gate passes."""
    report = ml.train(load_settings(), shuffle_labels=shuffle_labels)
    get_run_logger().info("ml train: %s", report.summary())
    return report


@task(name="ml-score")
def score_customers(train_if_unpublished: bool = False) -> ml.ScoreReport:
    """Score with the published models (``train_if_unpublished``: train first where none is published)."""
    settings = load_settings()
    if train_if_unpublished:
        with SparkSQL(settings) as sql:
            published = ml.published_models(sql)
        if len(published) < 2:
            get_run_logger().info("ml train (no published model yet): %s", ml.train(settings).summary())
    report = ml.score(settings)
    get_run_logger().info("ml score: %s", report.summary())
    return report
