"""Machine learning on the lake (issue #25): churn risk and product recommendations with Spark MLlib.

``train(settings)`` trains both models in the ML application's own Spark (``io``), gates them (``gates``)
and records the run (``runs``: ``ml.training_runs``); ``score(settings)`` scores with the published ones
(``score``). The flows and ``python -m lakehouse ml ...`` call these two.
"""

from lakehouse.ml.runs import ensure_tables, published_models
from lakehouse.ml.score import ScoreReport, score
from lakehouse.ml.settings import MLParams
from lakehouse.ml.train import ModelOutcome, TrainReport, train

__all__ = [
    "MLParams", "ModelOutcome", "ScoreReport", "TrainReport", "ensure_tables", "published_models", "score",
    "train",
]  # fmt: skip
