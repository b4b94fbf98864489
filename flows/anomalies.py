"""Anomaly steps: copy the analysts' reviews from gold into the lake before detection, alert after it.

Detection itself is part of every transform (the dbt models tagged `anomalies`); the `detect-and-alert` flow
(flows/pipeline.py) runs just that part on demand, e.g. after a round of reviews.
"""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.retry import TRANSIENT_RETRIES
from lakehouse.anomalies import alerts, reviews
from lakehouse.platform.settings import load_settings


@task(name="pull-reviews", **TRANSIENT_RETRIES)
def pull_reviews() -> int:
    """Review changes made in gold since the last run, into the lake (the baselines learn from them)."""
    return reviews.pull_reviews(load_settings())


@task(name="publish-anomalies", **TRANSIENT_RETRIES)
def publish_anomalies() -> int:
    """Every exported flag gets its review row in gold.anomaly_reviews (NEW); reviews are kept."""
    return reviews.publish_anomalies(load_settings())


@task(name="alert-anomalies", **TRANSIENT_RETRIES)
def alert_anomalies() -> alerts.Alert:
    """One alert with the flags not alerted yet: e-mail (when SMTP is configured) and a table artifact."""
    settings = load_settings()
    alert = alerts.alert_new_anomalies(settings)
    logger = get_run_logger()
    if alert.count:
        create_table_artifact(
            table=alert.table(), key="new-anomalies",
            description=f"{alert.count} new anomalies ("
            + (f"mailed to {', '.join(alert.delivered_to)}" if alert.delivered_to else "not mailed: no SMTP")
            + ")",
        )  # fmt: skip
        logger.info("%d new anomalies alerted", alert.count)
    else:
        create_markdown_artifact(markdown="No new anomalies.", key="new-anomalies")
    return alert


def describe_alert(alert: alerts.Alert) -> str:
    kinds = ", ".join(f"{len(rows)} {kind}" for kind, rows in alert.flags.items()) or "none"
    where = f"mailed to {len(alert.delivered_to)} recipient(s)" if alert.delivered_to else "logged"
    return f"{alert.count} new anomalies ({kinds}); {where}" if alert.count else "no new anomalies"
