"""The anomaly review loop between gold (where analysts review) and the lake (where detection learns).

- :func:`publish_anomalies` (after each export): every flag exported to ``gold_marts`` gets its row in
  ``gold.anomaly_reviews`` (status NEW), the table BI users may update (status and note only). Existing
  rows are never touched, so a review survives every re-export.
- Each update there is recorded by a trigger in ``gold.anomaly_review_history`` (who, when, from, to;
  lakehouse/gold/roles.py).
- :func:`pull_reviews` (before each detection run): copies the history rows the lake does not have yet into
  the Iceberg table ``raw.anomaly_review_events`` (append-only, one INSERT = one Iceberg commit, so a killed
  run leaves nothing half-copied and the next run copies what is missing). dbt derives the current status
  per anomaly from it (int_anomalies__review_status), and the baselines leave out flags still under review.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from lakehouse import gold
from lakehouse.anomalies.registry import ANOMALY_TYPES
from lakehouse.gold import GOLD_SCHEMA, HISTORY_TABLE, MARTS_SCHEMA, REVIEW_TABLE
from lakehouse.gold.pgsql import one_row
from lakehouse.platform.errors import LakehouseError, first_line
from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL, literal

log = logging.getLogger(__name__)

LAKE_TABLE = "raw.anomaly_review_events"
LAKE_COLUMNS: dict[str, str] = {
    "event_id": "bigint",
    "anomaly_id": "string",
    "anomaly_type": "string",
    "from_status": "string",
    "to_status": "string",
    "note": "string",
    "changed_by": "string",
    "changed_at": "timestamp",
    "_synced_at": "timestamp",
}
INSERT_CHUNK = 500


def ensure_lake_table(spark: SparkSQL) -> None:
    """The lake side of the review loop (dbt reads it as the source ``reviews.anomaly_review_events``)."""
    spark.execute("create database if not exists raw")
    cols = ", ".join(f"{name} {typ}" for name, typ in LAKE_COLUMNS.items())
    spark.execute(f"create table if not exists {LAKE_TABLE} ({cols}) using iceberg")


def pull_reviews(settings: Settings) -> int:
    """Copy review changes made in gold into the lake; returns how many were new. Idempotent."""
    import psycopg

    with SparkSQL(settings) as spark:
        ensure_lake_table(spark)
        known = {int(r[0]) for r in spark.query(f"select event_id from {LAKE_TABLE}")}
        gold.ensure_gold(settings)
        try:
            with psycopg.connect(gold.role_url(settings, gold.WRITER), connect_timeout=10) as conn:
                rows = conn.execute(
                    f"select event_id, anomaly_id, anomaly_type, from_status, to_status, note, changed_by, "
                    f"changed_at from {GOLD_SCHEMA}.{HISTORY_TABLE} order by event_id"
                ).fetchall()
        except psycopg.OperationalError as exc:
            raise LakehouseError(f"Gold database unreachable: {first_line(str(exc))}") from exc
        new = [r for r in rows if r[0] not in known]
        if not new:
            return 0
        synced_at = datetime.now(UTC)
        types = list(LAKE_COLUMNS.values())
        values = [
            "(" + ", ".join(literal(v, t) for v, t in zip((*r, synced_at), types, strict=True)) + ")"
            for r in new
        ]
        # one statement, one Iceberg commit: all of them or none (a very long history goes in chunks,
        # each chunk again all-or-nothing; a rerun copies what is still missing)
        for i in range(0, len(values), INSERT_CHUNK):
            spark.execute(f"insert into {LAKE_TABLE} values {', '.join(values[i : i + INSERT_CHUNK])}")
    log.info("copied %d anomaly review change(s) from gold into %s", len(new), LAKE_TABLE)
    return len(new)


def publish_anomalies(settings: Settings) -> int:
    """Give every exported flag its review row in gold (status NEW); returns how many rows were added."""
    import psycopg

    added = 0
    with psycopg.connect(gold.role_url(settings, gold.WRITER)) as conn, conn.transaction():
        for mart, anomaly_type in ((t.mart, t.name) for t in ANOMALY_TYPES):  # gold copies of the lake marts
            if one_row(conn, "select to_regclass(%s)", (f"{MARTS_SCHEMA}.{mart}",))[0] is None:
                continue
            cur = conn.execute(
                f"insert into {GOLD_SCHEMA}.{REVIEW_TABLE} (anomaly_id, anomaly_type, detected_at) "
                f"select anomaly_id, %s, detected_at from {MARTS_SCHEMA}.{mart} "
                "on conflict (anomaly_id) do nothing",
                (anomaly_type,),
            )
            added += cur.rowcount
    log.info("%d new anomalies open for review in %s.%s", added, GOLD_SCHEMA, REVIEW_TABLE)
    return added
