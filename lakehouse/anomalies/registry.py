"""The anomaly types the warehouse detects, in one registry: the alert e-mail (lakehouse/anomalies/alerts.py)
and the review loop (lakehouse/anomalies/reviews.py) both read it. A new detector adds its mart here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnomalyType:
    name: str  # the value of anomaly_type in gold's reviews and the alert log
    mart: str  # the lake mart in `marts` and its gold copy in `gold_marts`, one row per flag (anomaly_id)
    title: str  # the heading of its section in an alert
    columns: tuple[tuple[str, str], ...]  # what an alert shows of a flag: (column, heading)


ANOMALY_TYPES: tuple[AnomalyType, ...] = (
    AnomalyType(
        name="order_line_quantity",
        mart="anomalies",
        title="Order lines far above the product's usual quantity",
        columns=(
            ("invoice_ts", "invoice time"),
            ("invoice_no", "invoice"),
            ("stock_code", "product"),
            ("customer_id", "customer"),
            ("country_id", "country"),
            ("quantity", "quantity"),
            ("median_quantity", "median"),
            ("threshold_quantity", "threshold"),
            ("z_score", "z-score"),
        ),
    ),
    AnomalyType(
        name="country_daily_revenue",
        mart="anomalies_country_revenue",
        title="Days of unusual revenue per country",
        columns=(
            ("invoice_date", "day"),
            ("country_id", "country"),
            ("revenue_gbp", "revenue GBP"),
            ("median_revenue_gbp", "median"),
            ("threshold_revenue_gbp", "threshold"),
            ("z_score", "z-score"),
        ),
    ),
)
BY_NAME = {t.name: t for t in ANOMALY_TYPES}
