"""Gate logic, risk bands and the metrics behind them (no Spark): expected values worked out by hand."""

from __future__ import annotations

import math

import pytest

from lakehouse.ml.gates import (
    auc,
    average_precision,
    brier,
    churn_gate,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics,
    recommendations_gate,
    reliability,
    risk_band,
)
from lakehouse.ml.settings import interaction_weights
from lakehouse.platform.errors import LakehouseError


def test_churn_gate_needs_the_floor_and_the_margin_over_recency():
    assert churn_gate(0.80, 0.70, floor=0.75, margin=0.02).passed
    assert churn_gate(0.75, 0.73, floor=0.75, margin=0.02).passed  # both bounds inclusive
    below_floor = churn_gate(0.74, 0.50, floor=0.75, margin=0.02)
    assert not below_floor.passed and "floor" in below_floor.reason
    no_margin = churn_gate(0.90, 0.89, floor=0.75, margin=0.02)
    assert not no_margin.passed and "recency" in no_margin.reason
    assert not churn_gate(math.nan, 0.5, floor=0.75, margin=0.02).passed  # one-class holdout


def test_recommendations_gate_needs_the_margin_over_popularity():
    assert recommendations_gate(0.20, 0.10, margin=0.01).passed
    assert not recommendations_gate(0.105, 0.10, margin=0.01).passed
    assert not recommendations_gate(0.0, 0.0, margin=0.0).passed  # recommending nothing right is no model
    assert "popularity" in recommendations_gate(0.05, 0.10, margin=0.01).reason


@pytest.mark.parametrize(
    ("probability", "band"),
    [(0.0, "low"), (0.2999, "low"), (0.3, "medium"), (0.5999, "medium"), (0.6, "high"), (1.0, "high")],
)
def test_risk_bands(probability, band):
    assert risk_band(probability) == band


def test_auc_counts_pairs_and_ties_half():
    # positives scored 0.9 and 0.4, negatives 0.4 and 0.1: pairs (0.9>0.4, 0.9>0.1, 0.4=0.4, 0.4>0.1) = 3.5/4
    assert auc([0.9, 0.4, 0.4, 0.1], [1, 1, 0, 0]) == pytest.approx(3.5 / 4)
    assert auc([0.1, 0.9], [1, 0]) == 0.0
    assert math.isnan(auc([0.1, 0.2], [1, 1]))


def test_average_precision_brier_and_reliability():
    # ranking 1,0,1: precision at the positives 1/1 and 2/3
    assert average_precision([0.9, 0.8, 0.7], [1, 0, 1]) == pytest.approx((1 + 2 / 3) / 2)
    assert brier([1.0, 0.0, 0.5], [1, 0, 0]) == pytest.approx(0.25 / 3)
    bins = reliability([0.1, 0.15, 0.9, 1.0], [0, 1, 1, 1], bins=5)
    assert bins == [
        {"bin": 0.0, "rows": 2, "predicted": 0.125, "observed": 0.5},
        {"bin": 0.8, "rows": 2, "predicted": 0.95, "observed": 1.0},
    ]


def test_ranking_metrics():
    recommended = ["a", "b", "c"]
    assert precision_at_k(recommended, {"a", "c"}, k=10) == pytest.approx(0.2)
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at_k(recommended, {"a", "c"}, k=10) == pytest.approx((1 + 1 / math.log2(4)) / ideal)
    metrics = ranking_metrics({"u": recommended, "v": ["x"]}, {"u": {"a"}, "v": {"y"}, "w": set()})
    assert metrics["customers"] == 2  # w bought nothing new: not evaluated
    assert metrics["precision_at_10"] == pytest.approx(0.05)


def test_interaction_weights():
    assert interaction_weights("views=1;cart_adds=3;purchases=5") == {
        "views": 1,
        "cart_adds": 3,
        "purchases": 5,
    }
    assert interaction_weights("purchases=1") == {"views": 0, "cart_adds": 0, "purchases": 1}
    with pytest.raises(LakehouseError, match="unknown"):
        interaction_weights("likes=2")
