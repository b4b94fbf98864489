"""Transient faults are retried with backoff; data and SQL errors fail at once."""

from __future__ import annotations

import socket
import threading

import psycopg
import pytest
from tenacity import stop_after_attempt

from flows.retry import TRANSIENT_RETRIES, is_transient
from lakehouse import services
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import load_settings
from lakehouse.platform.sql import SparkSQL


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_postgres_connection_is_transient():
    with pytest.raises(psycopg.OperationalError) as info:
        psycopg.connect(f"postgresql://x:y@127.0.0.1:{closed_port()}/z", connect_timeout=3)
    assert is_transient(info.value)


def test_unreachable_thrift_server_is_transient(monkeypatch):
    monkeypatch.setenv("SPARK_THRIFT_PORT", str(closed_port()))
    client = SparkSQL(load_settings())
    # one attempt: this test is about the classification, not the client's own reconnect loop
    client._connect = SparkSQL._connect.retry_with(stop=stop_after_attempt(1)).__get__(client)
    with pytest.raises(LakehouseError) as info:
        client.execute("select 1")
    assert is_transient(info.value)


@pytest.mark.integration
def test_sql_errors_are_not_transient(spark, pg):
    with pytest.raises(LakehouseError) as spark_err:
        spark.execute("select * from no_such_schema.no_such_table")
    assert not is_transient(spark_err.value)
    with pytest.raises(psycopg.errors.SyntaxError) as pg_err:
        pg.execute("selec 1")
    assert not is_transient(pg_err.value)
    with pytest.raises(psycopg.errors.UndefinedTable) as pg_missing:
        pg.execute("select * from no_such_table")
    assert not is_transient(pg_missing.value)


@pytest.mark.integration
def test_task_retries_through_a_real_postgres_outage(lake, prefect_harness):
    from prefect import flow, task

    attempts = []

    @task(**TRANSIENT_RETRIES)
    def ask_gold() -> int:
        attempts.append(1)
        with psycopg.connect(lake.gold_url, connect_timeout=3) as conn:
            return conn.execute("select 42").fetchone()[0]

    @flow
    def outage_flow() -> int:
        return ask_gold()

    pg = services.Postgres(lake)
    pg.down()
    restart = threading.Timer(3.0, pg.up)
    restart.start()
    try:
        assert outage_flow() == 42
    finally:
        restart.join()
        pg.up()
    assert len(attempts) >= 2


@pytest.mark.integration
def test_task_does_not_retry_sql_errors(lake, prefect_harness):
    from prefect import flow, task

    attempts = []

    @task(**TRANSIENT_RETRIES)
    def broken_query() -> None:
        attempts.append(1)
        with psycopg.connect(lake.gold_url) as conn:
            conn.execute("select * from no_such_table")

    @flow
    def sql_error_flow() -> None:
        broken_query()

    with pytest.raises(psycopg.errors.UndefinedTable):
        sql_error_flow()
    assert attempts == [1]
