"""Shared fixtures: the real services, started once per test session.

Tests run against their own data directory and ports (never the ones of `make run`), so a test session can
start, stop and break its services freely. Override with LAKEHOUSE_TEST_DATA_DIR, LAKEHOUSE_TEST_THRIFT_PORT,
LAKEHOUSE_TEST_PG_PORT and LAKEHOUSE_TEST_UI_PORT (e.g. to run two sessions side by side).
Set LAKEHOUSE_TEST_KEEP_SERVICES=1 to leave them running after the session (faster local iterations).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Must happen before lakehouse.config is used anywhere: every process the tests start inherits it.
os.environ["LAKEHOUSE_DATA_DIR"] = os.environ.get(
    "LAKEHOUSE_TEST_DATA_DIR", str(REPO / ".lakehouse" / "pytest")
)
os.environ["SPARK_THRIFT_PORT"] = os.environ.get("LAKEHOUSE_TEST_THRIFT_PORT", "10100")
os.environ["GOLD_PG_PORT"] = os.environ.get("LAKEHOUSE_TEST_PG_PORT", "15532")
os.environ["SPARK_UI_PORT"] = os.environ.get("LAKEHOUSE_TEST_UI_PORT", "4140")
os.environ["SPARK_THRIFT_HOST"] = "127.0.0.1"
os.environ["LAKEHOUSE_SPARK"] = "embedded"
os.environ["DBT_TARGET"] = "local"
os.environ.pop("GOLD_DATABASE_URL", None)
os.environ.pop("GOLD_PG_PASSWORD", None)

from lakehouse import services  # noqa: E402
from lakehouse.config import Settings, load_settings  # noqa: E402
from lakehouse.errors import setup_logging  # noqa: E402


@pytest.fixture(scope="session")
def settings() -> Settings:
    s = load_settings()
    setup_logging(s.log_dir)
    return s


@pytest.fixture(scope="session")
def lake(settings: Settings):
    """The embedded Spark Thrift Server and PostgreSQL, up for the whole session."""
    services.up(settings, echo=lambda _msg: None)
    yield settings
    if os.environ.get("LAKEHOUSE_TEST_KEEP_SERVICES") != "1":
        services.down(settings, echo=lambda _msg: None)


@pytest.fixture
def spark(lake: Settings):
    """A Thrift SQL client on the session's Spark Thrift Server."""
    from lakehouse.sql import SparkSQL

    with SparkSQL(lake) as client:
        yield client


@pytest.fixture
def pg(lake: Settings):
    """A psycopg connection (autocommit) to the session's gold database."""
    import psycopg

    with psycopg.connect(lake.gold_url, autocommit=True) as conn:
        yield conn


LAKE_SCHEMAS = ("raw", "staging", "intermediate", "snapshots", "marts", "seeds", "enrich", "analytics", "ops")


@pytest.fixture(scope="session")
def empty_lake_and_gold(lake: Settings):
    """A function that drops every lake schema the pipeline builds, the raw files and the gold schemas: what a
    whole-pipeline story calls to start from nothing, whatever other modules left behind."""
    import shutil

    import psycopg

    from lakehouse.sql import SparkSQL

    def empty() -> None:
        with SparkSQL(lake) as spark:
            for schema in LAKE_SCHEMAS:
                spark.execute(f"drop database if exists {schema} cascade")
        shutil.rmtree(lake.warehouse_dir / "raw", ignore_errors=True)
        with psycopg.connect(lake.gold_url, autocommit=True) as conn:
            for schema in ("gold", "gold_marts", "gold_load"):
                conn.execute(f"drop schema if exists {schema} cascade")

    return empty
