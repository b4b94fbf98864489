"""Recommendations: ALS with implicit feedback on customer x product interaction strength.

Strength = weighted views + cart adds + purchases (ML_INTERACTION_WEIGHTS) summed over the days. Evaluation
on a time-based holdout: fit on the interactions before the last ``holdout_days``, recommend 10 products
per customer leaving out what they bought in the ``exclude_days`` before the holdout, and compare with the
products they bought in the holdout (those same products left out): precision@10 and NDCG@10, against the
most purchased products under the same rules. The saved model is refitted on every interaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from lakehouse.ml.gates import ranking_metrics
from lakehouse.ml.settings import MLParams
from lakehouse.platform.errors import LakehouseError


@dataclass
class RecsResult:
    model: Any  # PipelineModel: customer indexer, product indexer, ALS
    params: dict[str, object]
    metrics: dict[str, object]
    baseline_metrics: dict[str, object]
    train_rows: int
    data_from: date
    data_to: date


def strengths(interactions: Any, params: MLParams) -> Any:
    """(customer_id, stock_code, strength) summed over the given interactions."""
    from pyspark.sql import functions as F

    w = params.weights
    score = sum(
        (
            F.coalesce(F.col(name).cast("double"), F.lit(0.0)) * F.lit(w[name])
            for name in ("views", "cart_adds", "purchases")
        ),
        F.lit(0.0),
    )
    return (
        interactions.groupBy("customer_id", "stock_code")
        .agg(F.sum(score).alias("strength"))
        .where(F.col("strength") > 0)
    )


def pipeline(params: MLParams) -> Any:
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import StringIndexer
    from pyspark.ml.recommendation import ALS

    return Pipeline(stages=[
        StringIndexer(inputCol="customer_id", outputCol="user", handleInvalid="skip"),
        StringIndexer(inputCol="stock_code", outputCol="item", handleInvalid="skip"),
        ALS(userCol="user", itemCol="item", ratingCol="strength", implicitPrefs=True, rank=params.als_rank,
            regParam=params.als_reg_param, alpha=params.als_alpha, maxIter=params.als_iterations,
            seed=params.seed, coldStartStrategy="drop", nonnegative=True),
    ])  # fmt: skip


def bought_between(interactions: Any, start: date, end: date) -> Any:
    """(customer_id, stock_code) purchased in [start, end)."""
    from pyspark.sql import functions as F

    return (
        interactions.where(
            (F.col("interaction_date") >= F.lit(start)) & (F.col("interaction_date") < F.lit(end))
        )
        .where(F.col("purchases") > 0)
        .select("customer_id", "stock_code")
        .distinct()
    )


def recommend(model: Any, customers: Any, excluded: Any, k: int) -> Any:
    """Top ``k`` (customer_id, rank, stock_code, score) for ``customers`` (a DataFrame with customer_id),
    leaving out ``excluded`` (customer_id, stock_code)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    users_indexer, items_indexer, als = model.stages
    users = users_indexer.transform(customers.select("customer_id").distinct())
    most_excluded = excluded.groupBy("customer_id").count().agg(F.max("count")).collect()[0][0] or 0
    recs = als.recommendForUserSubset(users, k + int(most_excluded))
    items = customers.sparkSession.createDataFrame(
        list(enumerate(items_indexer.labels)), "item int, stock_code string"
    )
    exploded = (
        recs.select("user", F.explode("recommendations").alias("r"))
        .select("user", F.col("r.item").alias("item"), F.col("r.rating").cast("double").alias("score"))
        .join(users.select("user", "customer_id").withColumn("user", F.col("user").cast("int")), "user")
        .join(F.broadcast(items), "item")
        .join(excluded, ["customer_id", "stock_code"], "left_anti")
    )
    rank = F.row_number().over(Window.partitionBy("customer_id").orderBy(F.desc("score"), "stock_code"))
    return (
        exploded.withColumn("rank", rank)
        .where(F.col("rank") <= k)
        .select("customer_id", "rank", "stock_code", "score")
    )


def popular(train: Any, customers: Any, excluded: Any, k: int) -> dict[str, list[str]]:
    """The popularity baseline: the most purchased products (then most interacted) per customer, minus
    ``excluded``."""
    from pyspark.sql import functions as F

    ranked = [
        r[0]
        for r in train.groupBy("stock_code")
        .agg(F.sum("purchases").alias("p"), F.sum("views").alias("v"))
        .orderBy(F.desc("p"), F.desc("v"), "stock_code")
        .limit(k + 200)
        .collect()
    ]
    skip: dict[str, set[str]] = {}
    for row in excluded.collect():
        skip.setdefault(row[0], set()).add(row[1])
    out = {}
    for row in customers.collect():
        cust = row[0]
        out[cust] = [p for p in ranked if p not in skip.get(cust, set())][:k]
    return out


def as_lists(recs: Any) -> dict[str, list[str]]:
    out: dict[str, list[tuple[int, str]]] = {}
    for row in recs.collect():
        out.setdefault(row["customer_id"], []).append((row["rank"], row["stock_code"]))
    return {c: [s for _, s in sorted(items)] for c, items in out.items()}


def train_recommendations(interactions: Any, params: MLParams) -> RecsResult:
    from pyspark.sql import functions as F

    bounds = interactions.agg(F.min("interaction_date"), F.max("interaction_date")).collect()[0]
    first, last = bounds[0], bounds[1]
    if first is None:
        raise LakehouseError("recommendations: the interactions table is empty")
    holdout_start = last - timedelta(days=params.holdout_days - 1)
    if first >= holdout_start:  # ALS cannot fit on nothing, and nothing could be evaluated
        raise LakehouseError(
            f"recommendations: interactions from {first} to {last}, all in the {params.holdout_days}-day "
            "holdout: more days of data?"
        )
    train = interactions.where(F.col("interaction_date") < F.lit(holdout_start)).cache()
    train_strength = strengths(train, params).cache()
    model = pipeline(params).fit(train_strength)

    excluded = bought_between(
        interactions, holdout_start - timedelta(days=params.exclude_days), holdout_start
    )
    bought = bought_between(interactions, holdout_start, last + timedelta(days=1))
    relevant_rows = bought.join(excluded, ["customer_id", "stock_code"], "left_anti")
    # evaluated: customers the model knows (seen before the holdout) who bought something new in it
    known = train_strength.select("customer_id").distinct()
    relevant_rows = relevant_rows.join(known, "customer_id", "left_semi").cache()
    customers = relevant_rows.select("customer_id").distinct()
    relevant: dict[str, set[str]] = {}
    for row in relevant_rows.collect():
        relevant.setdefault(row[0], set()).add(row[1])

    k = params.top_k
    excluded_eval = excluded.join(customers, "customer_id", "left_semi").cache()
    metrics: dict[str, object] = {
        **ranking_metrics(as_lists(recommend(model, customers, excluded_eval, k)), relevant, k)
    }
    baseline: dict[str, object] = {
        **ranking_metrics(popular(train, customers, excluded_eval, k), relevant, k)
    }
    baseline["rule"] = "most purchased products before the holdout"
    metrics["holdout_start"] = holdout_start.isoformat()
    train_rows = train_strength.count()

    final = pipeline(params).fit(strengths(interactions, params))
    result = RecsResult(
        model=final,
        params={"rank": params.als_rank, "reg_param": params.als_reg_param, "alpha": params.als_alpha,
                "max_iter": params.als_iterations, "weights": params.weights,
                "holdout_days": params.holdout_days,
                "exclude_days": params.exclude_days, "top_k": k},
        metrics=metrics, baseline_metrics=baseline, train_rows=train_rows, data_from=first, data_to=last,
    )  # fmt: skip
    for df in (train, train_strength, relevant_rows, excluded_eval):
        df.unpersist()
    return result
