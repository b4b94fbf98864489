"""Machine learning on the demo's own data, the path a user takes: the pipeline flow (`python -m flows run`,
`make run`) on a month of the generated shop, at a third of the demo's customers and a sixth of its order
lines. Its ML step trains both models on the features dbt built (nothing published yet), publishes them past
their gates and scores; the export puts the scores in gold; the "Churn and recommendations" dashboard renders
them in a browser. Then a training on shuffled churn labels is refused and the published model stays.

Expected values come from the ML application's input (the feature tables `marts.ml_customer_features` and
`marts.ml_interactions`, whose point-in-time correctness the dbt unit tests of test_pipeline's test_1a prove)
and from the settings' gates, never from the trainer's own code. The tests run in order on one lake.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import psycopg
import pytest

from lakehouse import ml
from lakehouse.dashboard import ML_DASHBOARD_SLUG, Superset
from lakehouse.ml.runs import published_version
from lakehouse.ml.settings import CHURN, FEATURES_TABLE, INTERACTIONS_TABLE, RECOMMENDATIONS
from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL
from tests.support.dashboards import assert_all_rendered, charts_of, check, running_superset

pytestmark = pytest.mark.integration

# the demo's month (days, churn horizon 7 and cutoff step 2 are `make run`'s defaults) at smaller sizes
SIZES = {"seed": 42, "days": 30, "lines_per_day": 800, "sessions_per_day": 150, "products": 120,
         "customers": 300, "shop_days": 1}  # fmt: skip
ML_CHARTS = charts_of(ML_DASHBOARD_SLUG)


@dataclass
class DemoLake:
    settings: Settings
    ml_step: str  # the pipeline report's "ml score" line
    published: dict[str, str]  # model -> version in use after the pipeline run


@pytest.fixture(scope="module")
def demo(lake: Settings, empty_lake_and_gold, prefect_harness) -> DemoLake:
    from flows.pipeline import pipeline

    empty_lake_and_gold()
    with SparkSQL(lake) as sql:
        sql.execute("drop database if exists ml cascade")
    report = pipeline(**SIZES)
    steps = {name: result for name, result, _sec in report.steps}
    with SparkSQL(lake) as sql:
        published = {m: published_version(sql, m) for m in (CHURN, RECOMMENDATIONS)}
    return DemoLake(lake, steps["ml score"], {m: v for m, v in published.items() if v})


def _metrics(sql: SparkSQL, model: str) -> dict:
    import json

    rows = sql.query(
        "select gate_passed, published, metrics, baseline_metrics, data_from, data_to, gate_reason "
        f"from ml.training_runs where model = '{model}' order by started_at"
    )
    assert len(rows) == 1, rows
    passed, published, metrics, baseline, data_from, data_to, reason = rows[0]
    return {"passed": passed, "published": published, "metrics": json.loads(metrics),
            "baseline": json.loads(baseline), "from": data_from, "to": data_to, "reason": reason}  # fmt: skip


def test_1_the_pipeline_trains_and_publishes_both_models_past_their_gates(demo: DemoLake):
    s = demo.settings
    params = ml.MLParams.from_settings(s)
    assert "churn published, recommendations published" in demo.ml_step, demo.ml_step
    assert set(demo.published) == {CHURN, RECOMMENDATIONS}
    with SparkSQL(s) as sql:
        churn, recs = _metrics(sql, CHURN), _metrics(sql, RECOMMENDATIONS)
        # the labelled cutoffs of the input: the churn model's data window
        first, last = sql.query(f"select min(cutoff_date), max(cutoff_date) from {FEATURES_TABLE} "
                                "where churned is not null")[0]  # fmt: skip
    for outcome in (churn, recs):
        assert outcome["passed"] and outcome["published"], outcome["reason"]
    # the figures, on the time-based holdout: AUC at the floor (0.75 by default) or above, and past
    # the recency rule by the margin; precision@10 past popularity by its margin
    assert churn["metrics"]["auc"] >= params.auc_floor >= 0.75, churn
    assert churn["metrics"]["auc"] >= churn["baseline"]["auc"] + params.auc_margin, churn
    assert (
        recs["metrics"]["precision_at_10"] >= recs["baseline"]["precision_at_10"] + params.precision_margin
    ), recs
    assert (churn["from"], churn["to"]) == (str(first), str(last))
    holdout = churn["metrics"]["holdout_cutoffs"]
    assert holdout and all(date.fromisoformat(d) > date.fromisoformat(str(first)) for d in holdout)


def test_2_every_customer_is_scored_and_gold_holds_the_scores(demo: DemoLake):
    s = demo.settings
    params = ml.MLParams.from_settings(s)
    with SparkSQL(s) as sql:
        scoring = dict(sql.query(f"select customer_id, cast(cutoff_date as string) from {FEATURES_TABLE} "
                                 "where is_scoring_cutoff"))  # fmt: skip
        last = date.fromisoformat(str(sql.scalar(f"select max(interaction_date) from {INTERACTIONS_TABLE}")))
        recent = last + timedelta(days=1 - params.exclude_days)
        bought_recently = set(sql.query(
            f"select customer_id, stock_code from {INTERACTIONS_TABLE} "
            f"where purchases > 0 and interaction_date >= '{recent.isoformat()}'"
        ))  # fmt: skip
        interacted = {r[0] for r in sql.query(f"select distinct customer_id from {INTERACTIONS_TABLE}")}
        risk = sql.query("select customer_id, cast(cutoff_date as string), churn_probability, risk_band, "
                         "model_version from ml.customer_churn_risk")  # fmt: skip
        recs = sql.query("select customer_id, rank, stock_code, score, model_version "
                         "from ml.product_recommendations")  # fmt: skip

    assert len(risk) == len(scoring) > 100
    assert {r[0]: r[1] for r in risk} == scoring
    for _cid, _cutoff, probability, band, version in risk:
        assert 0 <= probability <= 1
        assert band == ("high" if probability >= 0.6 else "medium" if probability >= 0.3 else "low")
        assert version == demo.published[CHURN]
    per_customer: dict[str, list[tuple[int, str, float]]] = {}
    for cid, rank, code, score, version in recs:
        assert version == demo.published[RECOMMENDATIONS]
        assert (cid, code) not in bought_recently
        per_customer.setdefault(cid, []).append((rank, code, score))
    assert set(per_customer) == interacted
    for items in per_customer.values():
        items.sort()
        assert [rank for rank, _, _ in items] == list(range(1, params.top_k + 1))
        assert len({code for _, code, _ in items}) == params.top_k
        assert [score for _, _, score in items] == sorted((score for _, _, score in items), reverse=True)

    # gold: the same rows, through the export and the BI layer's views
    with psycopg.connect(s.gold_url) as conn:
        gold_risk = conn.execute("select customer_id, cutoff_date::text, churn_probability, risk_band, "
                                 "model_version from gold.churn_risk").fetchall()  # fmt: skip
        gold_recs = conn.execute("select customer_id, rank, stock_code, model_version "
                                 "from gold.product_recommendations").fetchall()  # fmt: skip
        runs = conn.execute("select model, published from gold.ml_training_runs").fetchall()
    assert sorted((r[0], r[1], round(r[2], 9), r[3], r[4]) for r in gold_risk) == sorted(
        (r[0], r[1], round(r[2], 9), r[3], r[4]) for r in risk
    )
    assert sorted(gold_recs) == sorted((r[0], r[1], r[2], r[4]) for r in recs)
    assert sorted(runs) == [(CHURN, True), (RECOMMENDATIONS, True)]


@pytest.fixture(scope="module")
def superset(chromium, demo: DemoLake) -> Iterator[Superset]:
    with running_superset(demo.settings) as server:
        yield server


def test_3_the_churn_and_recommendations_dashboard_renders_the_scores(demo: DemoLake, superset: Superset):
    with SparkSQL(demo.settings) as sql:
        (high,) = sql.query("select count(*) from ml.customer_churn_risk where churn_probability >= 0.6")[0]
    result = check(superset, superset.home / "churn-and-recommendations.png", ML_DASHBOARD_SLUG)

    assert_all_rendered(result, ML_CHARTS, ML_CHARTS)  # every chart has data
    shown = re.search(r"[\d,]+", result.charts["Customers at high churn risk"].text)
    assert shown, f"no number in the chart: {result.charts['Customers at high churn risk'].text!r}"
    assert high > 0 and int(shown.group().replace(",", "")) == high


def test_4_shuffled_labels_are_refused_and_the_published_model_stays(demo: DemoLake):
    s = demo.settings
    # a small grid (the default's model kinds): a refusal needs no search
    params = ml.MLParams.from_settings(
        s, lr_reg_params=(0.01,), gbt_depths=(3,), gbt_iterations=10, cv_folds=2
    )
    report = ml.train(s, shuffle_labels=True, params=params, models=(CHURN,))
    churn = report.outcome(CHURN)
    assert not churn.published, report.summary()
    assert churn.in_use == demo.published[CHURN]
    with SparkSQL(s) as sql:
        assert published_version(sql, CHURN) == demo.published[CHURN]
        (row,) = sql.query(
            "select gate_passed, published, gate_reason, params, metrics from ml.training_runs "
            f"where model_version = '{churn.version}'"
        )
    assert row[:3] == (False, False, churn.reason)
    assert '"shuffle_labels": true' in row[3]
    # a shuffled label carries nothing: the holdout AUC near chance, under the floor
    assert '"auc"' in row[4] and churn.metrics["auc"] < params.auc_floor
    scored = ml.score(s, params)
    assert scored.churn_version == demo.published[CHURN]
