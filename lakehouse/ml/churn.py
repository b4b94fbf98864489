"""Churn: logistic regression and gradient-boosted trees on the point-in-time customer features.

Rows are (customer, cutoff); only labelled ones train (``churned`` not null). The holdout is the last
labelled cutoff (one more when it has too few rows or a single class); the model is fitted on the cutoffs
before it. The labels of the last of those reach up to ``horizon - step`` days into the holdout's label
window (no feature does). Purging them (``MLParams.purge_label_overlap``: fit only on cutoffs whose label
window had closed by the holdout's start) leaves the demo's month of data only its first half, younger
customers than the holdout's: holdout AUC 0.80 instead of 0.85, measured. Hyper-parameters and the kind of
model are chosen by cross-validation on time-based folds (expanding window: fit on the cutoffs before a
cutoff, validate on that cutoff). The chosen model is evaluated on the holdout (AUC, PR-AUC, Brier score,
reliability bins) against the recency-only rule (score = days since the last order), then refitted on all
labelled rows to be saved.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lakehouse.ml.gates import auc, average_precision, brier, reliability
from lakehouse.ml.settings import MLParams
from lakehouse.platform.errors import LakehouseError

log = logging.getLogger(__name__)

NUMERIC_FEATURES = (
    "tenure_days", "days_since_last_order", "orders_total", "orders_7d", "orders_28d", "lines_28d",
    "distinct_products_28d", "revenue_total", "revenue_28d", "avg_order_value", "sessions_7d",
    "sessions_prev_7d", "sessions_28d", "cart_adds_28d", "product_views_28d",
)  # fmt: skip
# derived from the row's own point-in-time features (no other data): the order rate, the recency in units
# of the customer's usual gap between orders, and the trend of visits
DERIVED_FEATURES = ("order_rate", "recency_in_gaps", "sessions_trend", "sessions_ratio", "orders_trend")
CATEGORICAL = "segment"
MIN_HOLDOUT_ROWS = 30


@dataclass
class ChurnResult:
    model: Any  # the refitted PipelineModel
    kind: str
    params: dict[str, object]
    metrics: dict[str, object]
    baseline_metrics: dict[str, object]
    train_rows: int
    data_from: date
    data_to: date
    cv: list[dict[str, object]] = field(default_factory=list)


def prepare(df: Any) -> Any:
    """Features as doubles (missing counts are 0), the segment as text."""
    from pyspark.sql import functions as F

    cols = [F.coalesce(F.col(c).cast("double"), F.lit(0.0)).alias(c) for c in NUMERIC_FEATURES]
    rate = F.col("orders_total") / F.greatest(F.col("tenure_days"), F.lit(1.0))
    return df.select(
        "customer_id", "cutoff_date", "is_scoring_cutoff", "churned",
        F.coalesce(F.col(CATEGORICAL), F.lit("unknown")).alias(CATEGORICAL), *cols,
    ).select(
        "*",
        rate.alias("order_rate"),
        (F.col("days_since_last_order") * rate).alias("recency_in_gaps"),
        (F.col("sessions_7d") - F.col("sessions_prev_7d")).alias("sessions_trend"),
        (F.col("sessions_7d") / (F.col("sessions_prev_7d") + F.lit(1.0))).alias("sessions_ratio"),
        (F.col("orders_7d") - F.col("orders_28d") / F.lit(4.0)).alias("orders_trend"),
    )  # fmt: skip


def pipeline(kind: str, value: float, params: MLParams) -> Any:
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import GBTClassifier, LogisticRegression
    from pyspark.ml.feature import OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler

    stages: list[Any] = [
        StringIndexer(inputCol=CATEGORICAL, outputCol="segment_idx", handleInvalid="keep"),
        OneHotEncoder(inputCol="segment_idx", outputCol="segment_vec", dropLast=False),
        VectorAssembler(inputCols=[*NUMERIC_FEATURES, *DERIVED_FEATURES, "segment_vec"], outputCol="raw"),
        StandardScaler(inputCol="raw", outputCol="features", withMean=True, withStd=True),
    ]
    if kind == "logistic_regression":
        stages.append(LogisticRegression(labelCol="label", regParam=value, maxIter=50))
    else:
        stages.append(GBTClassifier(labelCol="label", maxDepth=int(value), maxIter=params.gbt_iterations,
                                    seed=params.seed))  # fmt: skip
    return Pipeline(stages=stages)


def candidates(params: MLParams) -> list[tuple[str, float]]:
    return [("logistic_regression", r) for r in params.lr_reg_params] + [
        ("gbt", float(d)) for d in params.gbt_depths
    ]


def param_name(kind: str) -> str:
    return "reg_param" if kind == "logistic_regression" else "max_depth"


def _scored(model: Any, rows: Any) -> tuple[list[float], list[int], list[float]]:
    """(probabilities, labels, recency) of ``rows`` collected to the driver (a cutoff's worth of rows)."""
    out = model.transform(rows).select("probability", "label", "days_since_last_order").collect()
    return ([float(r[0][1]) for r in out], [int(r[1]) for r in out], [float(r[2]) for r in out])


def labelled_rows(features: Any, shuffle_labels: bool, seed: int) -> Any:
    """Labelled rows with a ``label`` column; ``shuffle_labels`` permutes the labels across rows (a sanity
    check: a model trained on them must not pass its gate)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rows = (
        prepare(features)
        .where(F.col("churned").isNotNull())
        .withColumn("label", F.col("churned").cast("double"))
    )
    if not shuffle_labels:
        return rows.cache()
    ordered = rows.withColumn("_i", F.row_number().over(Window.orderBy("customer_id", "cutoff_date")))
    labels = rows.select(F.col("label").alias("_label")).withColumn(
        "_i", F.row_number().over(Window.orderBy(F.rand(seed)))
    )
    return ordered.join(labels, "_i").drop("label", "_i").withColumnRenamed("_label", "label").cache()


def holdout_cutoffs(counts: list[tuple[date, int, int]]) -> list[date]:
    """The last labelled cutoff(s), with enough rows and both classes; ``counts``: (cutoff, rows, churned)."""
    chosen: list[date] = []
    rows = positives = 0
    for cutoff, n, pos in reversed(counts):
        chosen.append(cutoff)
        rows, positives = rows + n, positives + pos
        if rows >= MIN_HOLDOUT_ROWS and 0 < positives < rows:
            break
        if len(chosen) * 3 >= len(counts):
            break
    return sorted(chosen)


def train_churn(features: Any, params: MLParams, shuffle_labels: bool = False) -> ChurnResult:
    from pyspark.sql import functions as F

    rows = labelled_rows(features, shuffle_labels, params.seed)
    counts = [
        (r[0], int(r[1]), int(r[2]))
        for r in rows.groupBy("cutoff_date")
        .agg(F.count("*"), F.sum("label"))
        .orderBy("cutoff_date")
        .collect()
    ]
    if len(counts) < 3:
        raise LakehouseError(
            f"churn: {len(counts)} labelled cutoff(s) in the features, 3 are needed: more days of data?"
        )
    holdout = holdout_cutoffs(counts)
    start = holdout[0]
    test = rows.where(F.col("cutoff_date").isin(holdout))
    train = rows.where(F.col("cutoff_date") < F.lit(start))
    if params.purge_label_overlap:
        # only what was fully known at the holdout's start: label windows ended by then
        known = features.where(F.col("horizon_end_date") <= F.lit(start)).select("customer_id", "cutoff_date")
        known_train = train.join(known, ["customer_id", "cutoff_date"], "left_semi")
        if known_train.select("cutoff_date").distinct().count() >= 2:
            train = known_train
    train = train.cache()
    train_cutoffs = sorted(r[0] for r in train.select("cutoff_date").distinct().collect())

    # cross-validation on time-based folds: fit before a cutoff, validate on it
    folds = train_cutoffs[1:][-params.cv_folds :]
    cv: list[dict[str, object]] = []
    best: tuple[float, str, float] | None = None
    for kind, value in candidates(params):
        scores = []
        for fold in folds:
            fit_rows, val_rows = (
                train.where(F.col("cutoff_date") < F.lit(fold)),
                train.where(F.col("cutoff_date") == F.lit(fold)),
            )
            probabilities, labels, _ = _scored(pipeline(kind, value, params).fit(fit_rows), val_rows)
            fold_auc = auc(probabilities, labels)
            if fold_auc == fold_auc:  # not NaN
                scores.append(fold_auc)
        mean = sum(scores) / len(scores) if scores else float("nan")
        cv.append({"model": kind, param_name(kind): value, "cv_auc": round(mean, 4), "folds": len(scores)})
        if mean == mean and (best is None or mean > best[0]):
            best = (mean, kind, value)
    if best is None:
        best = (float("nan"), "logistic_regression", params.lr_reg_params[0])
    _, kind, value = best

    model = pipeline(kind, value, params).fit(train)
    probabilities, labels, recency = _scored(model, test)
    metrics = {
        "auc": round(auc(probabilities, labels), 4),
        "pr_auc": round(average_precision(probabilities, labels), 4),
        "brier": round(brier(probabilities, labels), 4),
        "reliability": reliability(probabilities, labels),
        "holdout_rows": len(labels),
        "holdout_churn_rate": round(sum(labels) / max(len(labels), 1), 4),
        "holdout_cutoffs": [d.isoformat() for d in holdout],
        "cv": cv,
    }
    baseline = {
        "rule": "score = days_since_last_order",
        "auc": round(auc(recency, labels), 4),
        "pr_auc": round(average_precision(recency, labels), 4),
    }
    final = pipeline(kind, value, params).fit(rows)  # refitted on every labelled row for scoring
    result = ChurnResult(
        model=final, kind=kind,
        params={"model": kind, param_name(kind): value, "gbt_iterations": params.gbt_iterations,
                "cv_folds": len(folds), "train_cutoffs": len(train_cutoffs),
                "purge_label_overlap": params.purge_label_overlap,
                "shuffle_labels": shuffle_labels},
        metrics=metrics, baseline_metrics=baseline, train_rows=train.count(),
        data_from=counts[0][0], data_to=counts[-1][0], cv=cv,
    )  # fmt: skip
    train.unpersist()
    rows.unpersist()
    return result


def feature_names(model: Any, transformed: Any) -> list[str]:
    """Names of the slots of the scaled feature vector; one-hot segment slots are all called ``segment``."""
    attrs = transformed.schema["raw"].metadata["ml_attr"]["attrs"]
    slots = sorted((a["idx"], a["name"]) for group in attrs.values() for a in group)
    return [CATEGORICAL if name.startswith("segment_vec") else name for _, name in slots]


def importances(model: Any) -> list[float]:
    """|weight| of each slot: |coefficient| on standardised features, or the trees' feature importances."""
    last = model.stages[-1]
    if hasattr(last, "coefficients"):
        return [abs(float(c)) for c in last.coefficients.toArray()]
    return [float(v) for v in last.featureImportances.toArray()]


def top_drivers(weights: list[float], values: list[float], names: list[str], n: int = 3) -> str:
    """The ``n`` features with the largest |importance| x |standardised value| (a segment counted once)."""
    contribution: dict[str, float] = {}
    for w, v, name in zip(weights, values, names, strict=True):
        contribution[name] = max(contribution.get(name, 0.0), abs(w) * abs(v))
    ranked = sorted(contribution.items(), key=lambda kv: (-kv[1], kv[0]))
    return ",".join(name for name, _ in ranked[:n])
