"""What the ML application is told: the typed settings it uses (gates, holdout, weights), the tables it
reads and writes, and where its files live under ``<data dir>/ml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import Settings
from lakehouse.platform.values import parse_spark_conf

FEATURES_TABLE = "marts.ml_customer_features"
INTERACTIONS_TABLE = "marts.ml_interactions"
ML_SCHEMA = "ml"  # the trainer's lake schema (tables below), read by the gold models
RUNS_TABLE = "training_runs"
CHURN_TABLE = "customer_churn_risk"
RECS_TABLE = "product_recommendations"
CHURN, RECOMMENDATIONS = "churn", "recommendations"
WEIGHT_NAMES = ("views", "cart_adds", "purchases")


def interaction_weights(text: str) -> dict[str, float]:
    """``views=1;cart_adds=3;purchases=5`` -> weights (a name left out weighs 0)."""
    pairs = parse_spark_conf(text)
    unknown = sorted(set(pairs) - set(WEIGHT_NAMES))
    if unknown:
        raise LakehouseError(
            f"ML_INTERACTION_WEIGHTS: unknown name(s) {', '.join(unknown)}; use {', '.join(WEIGHT_NAMES)}."
        )
    try:
        return {name: float(pairs.get(name, 0)) for name in WEIGHT_NAMES}
    except ValueError as exc:
        raise LakehouseError(f"ML_INTERACTION_WEIGHTS: weights must be numbers ({exc}).") from None


@dataclass(frozen=True)
class MLParams:
    """Training and scoring parameters: from the settings, plus model grids that stay in code."""

    auc_floor: float = 0.75
    auc_margin: float = 0.02
    precision_margin: float = 0.01
    holdout_days: int = 7
    exclude_days: int = 7
    weights: dict[str, float] = field(
        default_factory=lambda: {"views": 1.0, "cart_adds": 3.0, "purchases": 5.0}
    )
    features_table: str = FEATURES_TABLE
    interactions_table: str = INTERACTIONS_TABLE
    ml_schema: str = ML_SCHEMA  # where runs and scores go (benchmarks use their own)
    cv_folds: int = 3
    purge_label_overlap: bool = (
        False  # churn: fit only on cutoffs whose label window closed before the holdout
    )
    lr_reg_params: tuple[float, ...] = (0.01, 0.1)
    gbt_depths: tuple[int, ...] = (2, 4)
    gbt_iterations: int = 20
    als_rank: int = 32
    als_reg_param: float = 0.1
    als_alpha: float = 1.0  # measured on the demo: 10 and 40 fell below popularity, 1 beat it by 0.1
    als_iterations: int = 10
    seed: int = 7
    top_k: int = 10

    def table(self, name: str) -> str:
        return f"{self.ml_schema}.{name}"

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> MLParams:
        t = settings.typed
        values: dict[str, object] = {
            "auc_floor": t.ML_CHURN_AUC_FLOOR,
            "auc_margin": t.ML_CHURN_AUC_MARGIN,
            "precision_margin": t.ML_RECS_PRECISION_MARGIN,
            "holdout_days": t.ML_HOLDOUT_DAYS,
            "exclude_days": t.ML_EXCLUDE_DAYS,
            "weights": interaction_weights(t.ML_INTERACTION_WEIGHTS),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def ml_dir(settings: Settings) -> Path:
    return settings.data_dir / "ml"


def model_dir(settings: Settings, model: str, version: str) -> Path:
    """Where a trained model is saved (Spark ML ``save()``): ``<data dir>/ml/models/<model>/<version>``."""
    return ml_dir(settings) / "models" / model / version


def score_dir(settings: Settings, relation: str) -> Path:
    """The Parquet files of a scoring run, registered over Thrift into ``relation`` (``schema.table``)."""
    return ml_dir(settings) / "scores" / relation.replace(".", "__")
