"""Shared fixtures: the real services, started once per test session.

Tests run against their own data directory and ports (never the ones of `make run`), so a test session can
start, stop and break its services freely. Override with LAKEHOUSE_TEST_DATA_DIR, LAKEHOUSE_TEST_THRIFT_PORT,
LAKEHOUSE_TEST_PG_PORT, LAKEHOUSE_TEST_UI_PORT and LAKEHOUSE_TEST_KAFKA_PORT (e.g. to run two sessions side by
side).
Set LAKEHOUSE_TEST_KEEP_SERVICES=1 to leave them running after the session (faster local iterations).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Must happen before lakehouse.platform.settings is used anywhere: every process the tests start inherits it.
os.environ["LAKEHOUSE_DATA_DIR"] = os.environ.get(
    "LAKEHOUSE_TEST_DATA_DIR", str(REPO / ".lakehouse" / "pytest")
)
os.environ["SPARK_THRIFT_PORT"] = os.environ.get("LAKEHOUSE_TEST_THRIFT_PORT", "10100")
os.environ["GOLD_PG_PORT"] = os.environ.get("LAKEHOUSE_TEST_PG_PORT", "15532")
os.environ["SPARK_UI_PORT"] = os.environ.get("LAKEHOUSE_TEST_UI_PORT", "4140")
os.environ["KAFKA_EMBEDDED_PORT"] = os.environ.get("LAKEHOUSE_TEST_KAFKA_PORT", "19192")
os.environ.pop("KAFKA_BOOTSTRAP_SERVERS", None)  # the tests use their own embedded broker
os.environ["SPARK_THRIFT_HOST"] = "127.0.0.1"
os.environ["LAKEHOUSE_SPARK"] = "embedded"
os.environ["DBT_TARGET"] = "local"
os.environ.pop("GOLD_DATABASE_URL", None)
os.environ.pop("GOLD_PG_PASSWORD", None)

from lakehouse import services  # noqa: E402
from lakehouse.platform.errors import setup_logging  # noqa: E402
from lakehouse.platform.settings import Settings, load_settings  # noqa: E402
from tests.support.reference import REFERENCE_SIZES, lake_state  # noqa: E402


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


@pytest.fixture(scope="session")
def kafka_broker(settings: Settings):
    """The embedded Kafka-protocol broker (Tansu, in memory) on LAKEHOUSE_TEST_KAFKA_PORT, for the session.
    Tests give their topics and group unique names: a kept broker still holds earlier sessions' messages."""
    from lakehouse.services.kafka import EmbeddedKafka

    broker = EmbeddedKafka(settings)
    broker.up()
    yield broker
    if os.environ.get("LAKEHOUSE_TEST_KEEP_SERVICES") != "1":
        broker.down()


@pytest.fixture
def spark(lake: Settings):
    """A Thrift SQL client on the session's Spark Thrift Server."""
    from lakehouse.platform.sql import SparkSQL

    with SparkSQL(lake) as client:
        yield client


@pytest.fixture
def pg(lake: Settings):
    """A psycopg connection (autocommit) to the session's gold database."""
    import psycopg

    with psycopg.connect(lake.gold_url, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def empty_lake_and_gold(lake: Settings):
    """A function that drops every lake schema the pipeline builds, the raw files and the gold schemas: what a
    whole-pipeline story calls to start from nothing, whatever other modules left behind."""
    from functools import partial

    from tests.support.reference import empty_lake_and_gold as empty

    return partial(empty, lake)


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium, installed with apt-get first when missing (before anything else starts)."""
    from tests.support.browser import ensure_chromium

    return ensure_chromium()


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect API for the whole session: flows run in-process under Prefect's test harness."""
    from prefect.testing.utilities import prefect_test_harness

    import flows  # noqa: F401  (exports the project settings first)

    with prefect_test_harness(server_startup_timeout=120):
        yield


@dataclass(frozen=True)
class ReferenceRun:
    report: object  # flows.report.RunReport
    lake: dict[str, tuple]  # lake_state() after the run
    gold: dict[str, tuple]  # lakehouse.gold.gold_totals() after the run


@pytest.fixture(scope="session")
def reference_run(lake: Settings, empty_lake_and_gold, prefect_harness) -> ReferenceRun:
    """The pipeline flow run once with REFERENCE_SIZES from an empty lake and gold, in-process: the state
    the whole-pipeline stories compare with (the flows' fault tests converge to it, the cluster run must
    equal it). Run once per session, whichever module asks first; the lake is left in that state."""
    from flows.pipeline import pipeline
    from lakehouse.gold import gold_totals

    empty_lake_and_gold()
    report = pipeline(**REFERENCE_SIZES)
    return ReferenceRun(report, lake_state(lake), gold_totals(lake.gold_url))


def pytest_sessionstart(session) -> None:
    import time

    session.config._lakehouse_started = time.monotonic()


def pytest_sessionfinish(session, exitstatus) -> None:
    """Record how long the session took (benchmarks/bench_cycle.py prints the last whole-suite figure)."""
    import json
    import time

    started = getattr(session.config, "_lakehouse_started", None)
    if started is None or getattr(session.config, "workerinput", None) is not None:
        return
    record = {
        "seconds": round(time.monotonic() - started, 1),
        "args": [str(a) for a in session.config.args],
        "whole_suite": not session.config.option.keyword
        and not session.config.option.markexpr
        and [str(a) for a in session.config.args] == [str(a) for a in session.config.getini("testpaths")],
        "collected": session.testscollected,
        "failed": session.testsfailed,
        "exit_status": int(exitstatus),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path = Path(os.environ["LAKEHOUSE_DATA_DIR"]) / "last_test_session.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
