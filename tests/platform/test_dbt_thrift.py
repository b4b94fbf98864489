"""lakehouse.dbt_thrift against the real Thrift server: dbt's cancel from another thread while a query polls.

This is what `dbt build --fail-fast` does when a test fails while other nodes still run (it once turned the
flows' failing-test story into a bare `TSocket read 0 bytes`).
"""

from __future__ import annotations

import threading
import time

import pytest

from lakehouse import dbt_thrift
from lakehouse.sql import SparkSQL

pytestmark = pytest.mark.integration

# A query that runs for a while without using the CPU: one task sleeping on the executor.
SLOW_QUERY = "select java_method('java.lang.Thread', 'sleep', bigint(20000))"


def cancel_while_polling(lake, cancels: int = 20, wait: float = 60) -> dict[str, BaseException]:
    """Start SLOW_QUERY on a dbt-spark connection wrapper that polls without pause, cancel it from this
    thread (as dbt does, ``cancels`` times: repeated cancels are harmless), close it; return what raised.
    A query thread still running ``wait`` seconds later fails the assertion."""
    from dbt.adapters.spark.connections import PyhiveConnectionWrapper

    wrapper = PyhiveConnectionWrapper(SparkSQL(lake)._connect(), poll_interval=0, query_retries=0)
    wrapper.cursor()
    raised: dict[str, BaseException] = {}

    def run() -> None:
        try:
            wrapper.execute(SLOW_QUERY)
        except BaseException as exc:
            raised["query"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    time.sleep(1.5)  # the query runs, its thread polls
    try:
        for _ in range(cancels):
            wrapper.cancel()
            time.sleep(0.01)
    except BaseException as exc:
        raised["cancel"] = exc
    worker.join(timeout=wait)
    assert not worker.is_alive(), "the cancelled query kept running"
    try:
        wrapper.close()
    except BaseException as exc:
        raised["close"] = exc
    return raised


def test_cancel_from_another_thread_stops_the_query_and_leaves_the_connection_sane(lake):
    dbt_thrift.install()
    dbt_thrift.install()  # idempotent
    t0 = time.monotonic()
    raised = cancel_while_polling(lake)
    assert time.monotonic() - t0 < 15, "the cancel did not stop the query"
    assert set(raised) == {"query"}, raised
    assert "CANCELED" in str(raised["query"]), raised["query"]
    with SparkSQL(lake) as spark:  # the server is fine afterwards
        assert spark.query("select 1") == [(1,)]
