"""Anomaly detection fixtures: a lake holding only the small fact (tests/support/anomaly_fact.py)."""

from __future__ import annotations

import pytest

from lakehouse.platform.sql import SparkSQL
from tests.support.anomaly_fact import reset_lake


@pytest.fixture(scope="module")
def anomaly_lake(lake):
    """A lake holding only that small fact (and the review events table, empty)."""
    from lakehouse.anomalies.reviews import ensure_lake_table

    with SparkSQL(lake) as spark:
        reset_lake(spark)
        ensure_lake_table(spark)
        yield spark
