"""Scoring with the published models: churn risk of every customer at the scoring cutoff, and 10 products
per customer. Written as Parquet by the ML application, then loaded over Thrift into
``ml.customer_churn_risk`` and ``ml.product_recommendations`` (each replaced whole)."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from lakehouse.ml import churn, recommend
from lakehouse.ml.gates import risk_band
from lakehouse.ml.io import ml_session, read_lake_table, register_parquet
from lakehouse.ml.runs import published_version
from lakehouse.ml.settings import (
    CHURN,
    CHURN_TABLE,
    RECOMMENDATIONS,
    RECS_TABLE,
    MLParams,
    model_dir,
    score_dir,
)
from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL

log = logging.getLogger(__name__)

CHURN_COLUMNS = (
    "customer_id string, cutoff_date date, churn_probability double, risk_band string, top_drivers string, "
    "model_name string, model_version string, scored_at timestamp"
)
RECS_COLUMNS = (
    "customer_id string, rank int, stock_code string, score double, model_version string, scored_at timestamp"
)


@dataclass(frozen=True)
class ScoreReport:
    churn_version: str | None
    recommendations_version: str | None
    churn_rows: int = 0
    recommendation_rows: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        if not self.churn_version and not self.recommendations_version:
            return (
                "ml score: no published model yet: run `python -m lakehouse ml train` first; nothing scored"
            )
        parts = []
        parts.append(f"churn {self.churn_version}: {self.churn_rows} customers" if self.churn_version
                     else "churn: no published model")  # fmt: skip
        parts.append(f"recommendations {self.recommendations_version}: {self.recommendation_rows} rows"
                     if self.recommendations_version else "recommendations: no published model")  # fmt: skip
        return f"ml score in {self.seconds:.0f} s: " + "; ".join(parts)


def score(settings: Settings, params: MLParams | None = None) -> ScoreReport:
    """Score with the published models; with none published, say so (one line) and return."""
    params = params or MLParams.from_settings(settings)
    began = datetime.now(UTC)
    with SparkSQL(settings) as sql:
        churn_version = published_version(sql, CHURN, params.ml_schema)
        recs_version = published_version(sql, RECOMMENDATIONS, params.ml_schema)
        if not churn_version and not recs_version:
            report = ScoreReport(None, None)
            log.warning("%s", report.summary())
            return report
        churn_rows = recs_rows = 0
        with ml_session(settings) as spark:
            from pyspark.sql import functions as F

            scored_at = began.replace(tzinfo=None)  # naive UTC: the session time zone is UTC
            if churn_version:
                features = read_lake_table(spark, sql, params.features_table, settings)
                churn_rows = _score_churn(spark, settings, params, churn_version, features, scored_at)
            if recs_version:
                interactions = read_lake_table(spark, sql, params.interactions_table, settings)
                last = interactions.agg(F.max("interaction_date")).collect()[0][0]
                recs_rows = _score_recommendations(spark, settings, params, recs_version, interactions, last,
                                                   scored_at)  # fmt: skip
        if churn_version:
            churn_table = params.table(CHURN_TABLE)
            register_parquet(sql, churn_table, CHURN_COLUMNS, str(score_dir(settings, churn_table)))
        if recs_version:
            recs_table = params.table(RECS_TABLE)
            register_parquet(sql, recs_table, RECS_COLUMNS, str(score_dir(settings, recs_table)))
    report = ScoreReport(churn_version, recs_version, churn_rows, recs_rows,
                         (datetime.now(UTC) - began).total_seconds())  # fmt: skip
    log.info("%s", report.summary())
    return report


def _score_churn(spark: object, settings: Settings, params: MLParams, version: str, features: object,
                 scored_at: datetime) -> int:  # fmt: skip
    from pyspark.ml import PipelineModel
    from pyspark.sql import functions as F

    model = PipelineModel.load(str(model_dir(settings, CHURN, version)))
    rows = churn.prepare(features.where(F.col("is_scoring_cutoff")))  # type: ignore[attr-defined]
    predicted = model.transform(rows)
    names = churn.feature_names(model, predicted)
    weights = churn.importances(model)
    kind = "logistic_regression" if hasattr(model.stages[-1], "coefficients") else "gbt"
    out = []
    for row in predicted.select("customer_id", "cutoff_date", "probability", "features").collect():
        probability = float(row[2][1])
        drivers = churn.top_drivers(weights, [float(v) for v in row[3].toArray()], names)
        out.append((row[0], row[1], probability, risk_band(probability), drivers, kind, version, scored_at))
    df = spark.createDataFrame(out, CHURN_COLUMNS)  # type: ignore[attr-defined]
    _write(df, settings, params.table(CHURN_TABLE))
    return len(out)


def _score_recommendations(spark: object, settings: Settings, params: MLParams, version: str,
                           interactions: object, last: date, scored_at: datetime) -> int:  # fmt: skip
    from pyspark.ml import PipelineModel
    from pyspark.sql import functions as F

    model = PipelineModel.load(str(model_dir(settings, RECOMMENDATIONS, version)))
    end = last + timedelta(days=1)
    excluded = recommend.bought_between(interactions, end - timedelta(days=params.exclude_days), end)
    customers = interactions.select("customer_id").distinct()  # type: ignore[attr-defined]
    recs = recommend.recommend(model, customers, excluded, params.top_k).select(
        "customer_id", F.col("rank").cast("int"), "stock_code", "score",
        F.lit(version).alias("model_version"), F.lit(scored_at).cast("timestamp").alias("scored_at"),
    )  # fmt: skip
    _write(recs, settings, params.table(RECS_TABLE))
    return int(spark.read.parquet(str(score_dir(settings, params.table(RECS_TABLE)))).count())  # type: ignore[attr-defined]


def _write(df: object, settings: Settings, table: str) -> None:
    path = score_dir(settings, table)
    shutil.rmtree(path, ignore_errors=True)
    df.coalesce(1).write.parquet(str(path))  # type: ignore[attr-defined]
