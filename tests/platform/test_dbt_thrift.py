"""lakehouse.platform.dbt_thrift against the real Thrift server: dbt's cancel from another thread while a
query polls.

This is what `dbt build --fail-fast` does when a test fails while other nodes still run (it once turned the
flows' failing-test story into a bare `TSocket read 0 bytes`).
"""

from __future__ import annotations

import re
import threading
import time

import pytest

from lakehouse.platform import dbt_thrift
from lakehouse.platform.sql import SparkSQL

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


def test_polling_starts_fast_and_backs_off_to_the_profile_interval(monkeypatch):
    """A running statement is polled after 20 ms, then at doubling delays up to `poll_interval` (dbt-spark
    alone sleeps a whole `poll_interval` before the second poll). The Thrift cursor is a stand-in that
    reports RUNNING eight times: our loop is the logic under test."""
    from types import SimpleNamespace

    from dbt.adapters.spark.connections import PyhiveConnectionWrapper, ThriftState

    dbt_thrift.install()
    delays: list[float] = []
    monkeypatch.setattr(dbt_thrift, "time", SimpleNamespace(time=time.time, sleep=delays.append))
    states = [ThriftState.RUNNING_STATE] * 8 + [ThriftState.FINISHED_STATE]

    class Cursor:
        def execute(self, sql, bindings, async_):
            assert async_

        def poll(self):
            return SimpleNamespace(operationState=states.pop(0), errorMessage=None)

    wrapper = PyhiveConnectionWrapper(SimpleNamespace(cursor=Cursor), poll_interval=1, query_retries=0)
    wrapper.cursor()
    wrapper.execute("select 1")
    assert delays == [0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1, 1], delays


def _dbt_build_log(lake, tmp_path, *select: str) -> str:
    """`python -m lakehouse dbt build` (the project's dbt, patched) on one thread; returns dbt's debug log
    file, whose lines name their thread."""
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "lakehouse", "dbt", "build", "--threads", "1", "--select", *select,
         "--indirect-selection", "cautious",  # not the relationships tests of facts a fresh lake lacks
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        capture_output=True, text=True, env=os.environ.copy(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return (tmp_path / "logs" / "dbt.log").read_text()


def test_one_thrift_session_per_thread_for_a_whole_build(lake, tmp_path):
    """dbt closes a node's connection when the node ends; patched, the worker thread keeps one Thrift session
    for all its nodes (a model and its tests here). dbt's own threads (the relation listing, the main thread's
    end-of-run queries) may open theirs; what is counted is the sessions of the threads that ran nodes."""
    import collections

    log = _dbt_build_log(lake, tmp_path, "dim_date")
    thread_of = re.compile(r"\[debug\] \[([^\]]+)\]: (.*)")
    nodes: collections.Counter[str] = collections.Counter()
    opens: collections.Counter[str] = collections.Counter()
    for line in log.splitlines():
        if match := thread_of.search(line):
            thread, message = match.groups()
            nodes[thread] += message.startswith("Began running node")
            opens[thread] += message.startswith("Opening a new connection")
    workers = [thread for thread, count in nodes.items() if count]
    assert sum(nodes.values()) >= 3, log[-2000:]  # the model and its data tests
    assert workers and all(opens[thread] <= 1 for thread in workers), (nodes, opens)


class _FakeManager:
    """The part of dbt's connection manager `release` uses (our logic only)."""

    def __init__(self, state: str, broken: bool = False) -> None:
        self.lock = threading.RLock()
        self.conn = type("Conn", (), {})()
        self.conn.state, self.conn.name = state, "model.x"
        self.conn.handle = type("Handle", (), {"broken": broken})()
        self.closed = False

    def get_if_exists(self):
        return self.conn


@pytest.mark.parametrize(
    ("state", "broken", "closed"),
    [("open", False, False), ("open", True, True), ("closed", False, True), ("init", False, True)],
)
def test_release_keeps_only_a_healthy_open_session(state, broken, closed):
    def release(manager) -> None:
        manager.closed = True

    manager = _FakeManager(state, broken)
    dbt_thrift._keeping_session(release)(manager)
    assert manager.closed is closed


def test_a_failed_transport_marks_the_connection_broken_a_sql_error_does_not():
    from dbt_common.exceptions import DbtDatabaseError
    from thrift.transport.TTransport import TTransportException

    def failing(exc):
        def execute(self, sql, bindings=None):
            raise exc

        return dbt_thrift._marking_broken(execute)

    cases = ((TTransportException("TSocket read 0 bytes"), True), (DbtDatabaseError("[PARSE]"), False))
    for exc, broken in cases:
        wrapper = type("Wrapper", (), {})()
        with pytest.raises(type(exc)):
            failing(exc)(wrapper, "select 1")
        assert getattr(wrapper, "broken", False) is broken


def test_a_build_does_not_rebuild_the_metastore_factory(lake, tmp_path):
    """Spark's Hive client and Iceberg's share one DataNucleus factory (hive-site.xml,
    lakehouse/services/spark_thrift.py): when their settings differed, every switch between them built a new
    factory (about 14 for these three views, 72 per build of a small lake), each with its own Derby pool, and
    the old one's finalizer forced a full GC. DataNucleus logs the properties it ignores when it builds one;
    none may appear in a build."""
    from lakehouse import services

    log = services.SparkThrift(lake).log_file
    factory_built = "Persistence: Property datanucleus.cache.level2 unknown"
    before = log.read_text(errors="replace").count(factory_built)
    _dbt_build_log(lake, tmp_path, "stg_raw__countries", "stg_raw__exchange_rates", "stg_raw__customers")
    assert log.read_text(errors="replace").count(factory_built) == before
