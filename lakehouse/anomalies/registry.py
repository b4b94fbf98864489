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
    gold_view: str  # the BI view of its flags in schema `gold`, with their live review status
    severity: str = "z_score"  # the mart's column an alert lists its flags by, largest first


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
        gold_view="order_line_anomalies",
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
        gold_view="country_revenue_anomalies",
    ),
    AnomalyType(
        name="volume",
        mart="anomalies_volume",
        title="Batches far off their source's usual row count at that hour",
        columns=(
            ("batch_id", "batch"),
            ("source", "source"),
            ("hour_of_day", "hour"),
            ("volume_change", "change"),
            ("rows", "rows"),
            ("median_rows", "median"),
            ("threshold_rows", "threshold"),
            ("deviation_factor", "times usual"),
        ),
        gold_view="volume_anomalies",
        severity="deviation_factor",
    ),
    AnomalyType(
        name="site_incident",
        mart="anomalies_site_incidents",
        title="Site incidents: minutes of unusual server-error rate",
        columns=(
            ("incident_start", "start"),
            ("incident_end", "end"),
            ("minutes", "minutes"),
            ("requests", "requests"),
            ("server_errors", "5xx"),
            ("peak_error_rate", "peak error rate"),
            ("threshold_error_rate", "threshold"),
        ),
        gold_view="site_incidents",
        severity="peak_error_rate",
    ),
)
BY_NAME = {t.name: t for t in ANOMALY_TYPES}
