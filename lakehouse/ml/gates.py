"""Quality gates and the small arithmetic around them, in plain Python (unit-tested without Spark): the
metrics computed on collected predictions, whether a model may be published and why, and risk bands."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

HIGH_RISK, MEDIUM_RISK = 0.6, 0.3


@dataclass(frozen=True)
class Gate:
    passed: bool
    reason: str


def churn_gate(auc: float, baseline_auc: float, floor: float, margin: float) -> Gate:
    """Publish a churn model only if its holdout AUC meets ``floor`` and beats the recency rule by
    ``margin``."""
    if not auc >= floor:  # also refuses NaN (a holdout with one class)
        return Gate(False, f"AUC {auc:.3f} below the floor {floor:.3f}")
    if not auc >= baseline_auc + margin:
        return Gate(False, f"AUC {auc:.3f} not {margin:.3f} above the recency rule's {baseline_auc:.3f}")
    return Gate(
        True, f"AUC {auc:.3f} >= floor {floor:.3f} and recency rule {baseline_auc:.3f} + {margin:.3f}"
    )


def recommendations_gate(precision: float, baseline_precision: float, margin: float) -> Gate:
    """Publish a recommendation model only if its precision@k beats popularity's by ``margin``."""
    if not precision >= baseline_precision + margin or precision <= 0:
        return Gate(
            False,
            f"precision@10 {precision:.3f} not {margin:.3f} above popularity's {baseline_precision:.3f}",
        )
    return Gate(True, f"precision@10 {precision:.3f} >= popularity {baseline_precision:.3f} + {margin:.3f}")


def risk_band(probability: float) -> str:
    if probability >= HIGH_RISK:
        return "high"
    if probability >= MEDIUM_RISK:
        return "medium"
    return "low"


# ---------- classification metrics on collected (score, label) pairs
def auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count half); NaN when a class is missing."""
    pairs = sorted(zip(scores, labels, strict=True))
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return math.nan
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid_rank = (i + 1 + j) / 2  # average 1-based rank of the tied block
        rank_sum += mid_rank * sum(label for _, label in pairs[i:j])
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def average_precision(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the precision-recall curve as average precision (the mean precision at each positive)."""
    ranked = sorted(zip(scores, labels, strict=True), key=lambda p: -p[0])
    positives = sum(labels)
    if not positives:
        return math.nan
    hits, total = 0, 0.0
    for position, (_, label) in enumerate(ranked, start=1):
        if label:
            hits += 1
            total += hits / position
    return total / positives


def brier(probabilities: Sequence[float], labels: Sequence[int]) -> float:
    return sum((p - y) ** 2 for p, y in zip(probabilities, labels, strict=True)) / max(len(labels), 1)


def reliability(
    probabilities: Sequence[float], labels: Sequence[int], bins: int = 5
) -> list[dict[str, float]]:
    """Calibration table: per probability bin, rows, mean predicted probability and observed churn rate."""
    table = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        members = [(p, y) for p, y in zip(probabilities, labels, strict=True)
                   if lo <= p < hi or (b == bins - 1 and p == 1.0)]  # fmt: skip
        if members:
            table.append({
                "bin": round(lo, 2),
                "rows": len(members),
                "predicted": round(sum(p for p, _ in members) / len(members), 4),
                "observed": round(sum(y for _, y in members) / len(members), 4),
            })  # fmt: skip
    return table


# ---------- ranking metrics
def precision_at_k(recommended: Sequence[str], relevant: set[str], k: int = 10) -> float:
    return len([item for item in recommended[:k] if item in relevant]) / k


def ndcg_at_k(recommended: Sequence[str], relevant: set[str], k: int = 10) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, item in enumerate(recommended[:k]) if item in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def ranking_metrics(
    recommendations: dict[str, list[str]], relevant: dict[str, set[str]], k: int = 10
) -> dict[str, float]:
    """Mean precision@k and NDCG@k over the customers with something relevant."""
    users = [u for u, items in relevant.items() if items]
    if not users:
        return {"precision_at_10": 0.0, "ndcg_at_10": 0.0, "customers": 0}
    precision = sum(precision_at_k(recommendations.get(u, []), relevant[u], k) for u in users) / len(users)
    ndcg = sum(ndcg_at_k(recommendations.get(u, []), relevant[u], k) for u in users) / len(users)
    return {"precision_at_10": round(precision, 4), "ndcg_at_10": round(ndcg, 4), "customers": len(users)}
