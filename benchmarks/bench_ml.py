"""ML training and scoring time: prints `name: value unit` lines (make bench).

On the demo's feature tables (`marts.ml_customer_features`, `marts.ml_interactions`, built by `make run`) and
on 10 times its customers (every feature and interaction row copied 10 times under new customer ids), each
copied into schema `bench_ml`, where the runs and scores of the benchmark also go (the lake's own `ml`
schema and its published models are not touched). Full default grids (ML_* settings). Needs the services
(`make up`) and the demo features; without them it says so and prints nothing else.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lakehouse import ml
from lakehouse.ml.settings import FEATURES_TABLE, INTERACTIONS_TABLE
from lakehouse.platform.errors import setup_logging
from lakehouse.platform.settings import load_settings
from lakehouse.platform.sql import SparkSQL

SCHEMA = "bench_ml"
COPIES = 10


def copy_table(sql: SparkSQL, source: str, target: str, copies: int) -> int:
    """``source`` copied ``copies`` times into ``target``, copy n > 0 with customer ids suffixed ``~n``."""
    columns = [c.split(".")[-1] for c in sql.columns(f"select * from {source} limit 0")]
    select = ", ".join(
        "case when r = 0 then customer_id else concat(customer_id, '~', r) end as customer_id"
        if c == "customer_id" else c
        for c in columns
    )  # fmt: skip
    sql.execute(f"drop table if exists {target}")
    sql.execute(
        f"create table {target} using iceberg as select {select} "
        f"from {source} cross join (select explode(sequence(0, {copies - 1})) as r)"
    )
    return int(sql.scalar(f"select count(*) from {target}"))


def main() -> None:
    settings = load_settings()
    setup_logging(settings.log_dir)
    with SparkSQL(settings) as sql:
        if not (sql.table_exists(FEATURES_TABLE) and sql.table_exists(INTERACTIONS_TABLE)):
            print("ml: no demo features in the lake (run `make run` first): skipped", file=sys.stderr)
            return
        sql.execute(f"create database if not exists {SCHEMA}")
        sizes = {}
        for label, copies in (("demo", 1), ("10x", COPIES)):
            features = f"{SCHEMA}.features_{label.replace('10x', 'x10')}"
            interactions = f"{SCHEMA}.interactions_{label.replace('10x', 'x10')}"
            sizes[label] = (
                copy_table(sql, FEATURES_TABLE, features, copies),
                copy_table(sql, INTERACTIONS_TABLE, interactions, copies),
                int(sql.scalar(f"select count(distinct customer_id) from {features}")),
            )
    for label in ("demo", "10x"):
        suffix = label.replace("10x", "x10")
        params = ml.MLParams.from_settings(
            settings,
            features_table=f"{SCHEMA}.features_{suffix}",
            interactions_table=f"{SCHEMA}.interactions_{suffix}",
            ml_schema=f"{SCHEMA}_{suffix}",
        )
        feature_rows, interaction_rows, customers = sizes[label]
        print(f"ml_{label}_customers: {customers} customers")
        print(f"ml_{label}_feature_rows: {feature_rows} rows")
        print(f"ml_{label}_interaction_rows: {interaction_rows} rows")
        began = time.monotonic()
        report = ml.train(settings, params=params)
        print(f"ml_{label}_train: {time.monotonic() - began:.1f} s")
        for outcome in report.outcomes:
            key = "auc" if outcome.model == "churn" else "precision_at_10"
            verdict = "published" if outcome.published else "refused"
            baseline = outcome.baseline_metrics[key]
            value = outcome.metrics[key]
            print(f"ml_{label}_{outcome.model}_{key}: {value} (baseline {baseline}, {verdict})")
        began = time.monotonic()
        scored = ml.score(settings, params)
        print(f"ml_{label}_score: {time.monotonic() - began:.1f} s ({scored.churn_rows} churn rows, "
              f"{scored.recommendation_rows} recommendation rows)")  # fmt: skip


if __name__ == "__main__":
    main()
