"""Training, gates and scoring end to end: the ML application's own Spark reading the feature tables'
Iceberg files, the Thrift server recording runs and loading the scores.

The feature tables are a small synthetic shop (tests/ml/synthetic.py, the contract's columns, computed from
simulated orders and visits by the contract's definitions), so these tests need no dbt build; expected
values are computed here from that input. The tests run in order: the second needs the first's published
model, the third scores with it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from lakehouse import ml
from lakehouse.ml.churn import DERIVED_FEATURES, NUMERIC_FEATURES
from lakehouse.ml.runs import published_version
from lakehouse.ml.settings import CHURN, RECOMMENDATIONS, ml_dir, model_dir
from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL
from tests.ml.lake import FIXTURE_SCHEMA, load_shop
from tests.ml.synthetic import Shop, simulate

# a small grid: the defaults' model kinds, fewer candidates and folds (test time is a budget)
TEST_GRID = {
    "lr_reg_params": (0.01,), "gbt_depths": (3,), "gbt_iterations": 10, "cv_folds": 2,
    "als_rank": 16, "als_iterations": 5,
}  # fmt: skip


@dataclass
class MLLake:
    settings: Settings
    params: ml.MLParams
    shop: Shop
    published: dict[str, str]


@pytest.fixture(scope="module")
def ml_lake(lake: Settings) -> Iterator[MLLake]:
    with SparkSQL(lake) as sql:
        sql.execute("drop database if exists ml cascade")
    shutil.rmtree(ml_dir(lake), ignore_errors=True)
    shop = simulate()
    features, interactions = load_shop(lake, shop)
    params = ml.MLParams.from_settings(
        lake, features_table=features, interactions_table=interactions, **TEST_GRID
    )
    yield MLLake(lake, params, shop, {})
    with SparkSQL(lake) as sql:  # leave the lake as found: other modules' ml sources start empty
        for schema in ("ml", FIXTURE_SCHEMA):
            sql.execute(f"drop database if exists {schema} cascade")
    shutil.rmtree(ml_dir(lake), ignore_errors=True)


def test_1_train_publishes_both_models_past_their_gates(ml_lake: MLLake):
    s, params = ml_lake.settings, ml_lake.params
    nothing = ml.score(s, params)  # before any training: says so, fails nothing
    assert nothing.churn_version is None and "no published model" in nothing.summary()

    report = ml.train(s, params=params)
    churn, recs = report.outcome(CHURN), report.outcome(RECOMMENDATIONS)
    assert churn.published and recs.published, report.summary()
    assert churn.metrics["auc"] >= 0.75
    assert churn.metrics["auc"] >= churn.baseline_metrics["auc"] + 0.02
    assert recs.metrics["precision_at_10"] > recs.baseline_metrics["precision_at_10"]
    for outcome in (churn, recs):
        assert (model_dir(s, outcome.model, outcome.version) / "metadata").is_dir()  # Spark ML save()
        ml_lake.published[outcome.model] = outcome.version
    with SparkSQL(s) as sql:
        rows = sql.query(
            "select model, model_version, gate_passed, published, train_rows, data_from, data_to, metrics "
            "from ml.training_runs order by model"
        )
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (CHURN, churn.version, True, True), (RECOMMENDATIONS, recs.version, True, True),
    ]  # fmt: skip
    labelled = [r for r in ml_lake.shop.features.to_pylist() if r["churned"] is not None]
    assert rows[0][5] == min(r["cutoff_date"] for r in labelled).isoformat()
    assert rows[0][6] == max(r["cutoff_date"] for r in labelled).isoformat()
    assert '"auc"' in rows[0][7] and '"ndcg_at_10"' in rows[1][7]


def test_2_shuffled_labels_are_refused_and_the_previous_model_stays(ml_lake: MLLake):
    s = ml_lake.settings
    report = ml.train(s, shuffle_labels=True, params=ml_lake.params, models=(CHURN,))
    churn = report.outcome(CHURN)
    assert not churn.published, report.summary()
    assert churn.in_use == ml_lake.published[CHURN]
    with SparkSQL(s) as sql:
        assert published_version(sql, CHURN) == ml_lake.published[CHURN]
        last = sql.query(f"select gate_passed, published, gate_reason, params from ml.training_runs "
                         f"where model_version = '{churn.version}'")  # fmt: skip
    assert last[0][:2] == (False, False) and last[0][2] == churn.reason
    assert '"shuffle_labels": true' in last[0][3]


def test_3_score_writes_one_churn_row_per_customer_and_ten_new_products(ml_lake: MLLake):
    s, shop = ml_lake.settings, ml_lake.shop
    report = ml.score(s, ml_lake.params)
    assert report.churn_version == ml_lake.published[CHURN]

    features = shop.features.to_pylist()
    scoring = {r["customer_id"]: r["cutoff_date"] for r in features if r["is_scoring_cutoff"]}
    interactions = shop.interactions.to_pylist()
    last = max(r["interaction_date"] for r in interactions)
    recent_start = last + timedelta(days=1 - ml_lake.params.exclude_days)
    bought_recently = {(r["customer_id"], r["stock_code"]) for r in interactions
                       if r["purchases"] > 0 and r["interaction_date"] >= recent_start}  # fmt: skip
    with SparkSQL(s) as sql:
        risk = sql.query("select customer_id, cutoff_date, churn_probability, risk_band, top_drivers, "
                         "model_version from ml.customer_churn_risk")  # fmt: skip
        recs = sql.query(
            "select customer_id, rank, stock_code, score, model_version from ml.product_recommendations"
        )

    assert len(risk) == len(scoring) == report.churn_rows
    assert {r[0]: r[1] for r in risk} == {c: d.isoformat() for c, d in scoring.items()}
    names = {*NUMERIC_FEATURES, *DERIVED_FEATURES, "segment"}
    for _cid, _d, probability, band, drivers, version in risk:
        assert 0 <= probability <= 1
        assert band == ("high" if probability >= 0.6 else "medium" if probability >= 0.3 else "low")
        assert len(drivers.split(",")) == 3 and set(drivers.split(",")) <= names
        assert version == ml_lake.published[CHURN]

    per_customer: dict[str, list[tuple[int, str, float]]] = {}
    for cid, rank, code, score, version in recs:
        assert version == ml_lake.published[RECOMMENDATIONS]
        assert (cid, code) not in bought_recently
        per_customer.setdefault(cid, []).append((rank, code, score))
    assert set(per_customer) == {r["customer_id"] for r in interactions}
    for items in per_customer.values():
        items.sort()
        assert [rank for rank, _, _ in items] == list(range(1, 11))
        assert len({code for _, code, _ in items}) == 10
        assert [score for _, _, score in items] == sorted((score for _, _, score in items), reverse=True)
