"""A fix for dbt-spark's Thrift connections, installed before every in-process dbt run (flows/transform.py).

dbt cancels the queries still running when a build stops early (`--fail-fast`, Ctrl-C): from the main
thread it calls `cursor.cancel()` on every open connection, while each connection's worker thread is polling
its own query (`GetOperationStatus`) on the same PyHive Thrift client. A Thrift client is not thread-safe: the
cancel's request and the poll's response interleave on one socket, the reply is read as garbage
(`UnicodeDecodeError`, `TSocket read 0 bytes`), and dbt-spark, which only catches `EnvironmentError` there,
lets it escape. dbt then reports that error instead of the test that failed, and the connection is broken.

The fix: every call on a connection's Thrift client holds a per-connection lock, so a cancel waits for the
poll in flight (milliseconds) and then runs alone; a Thrift error while cancelling or closing a connection
that is going away anyway is logged, not raised.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)

_installed = False


class SerializedClient:
    """A Thrift client whose calls run one at a time (each RPC is a request and its response)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return call


def _tolerant(method, what: str):
    from thrift.Thrift import TException

    def wrapper(self) -> None:
        try:
            method(self)
        except (TException, EOFError, OSError, UnicodeDecodeError) as exc:
            log.debug("ignored while %s a Thrift connection: %s: %s", what, type(exc).__name__, exc)

    return wrapper


def install() -> None:
    """Patch dbt-spark's PyHive connection wrapper (idempotent)."""
    global _installed
    if _installed:
        return
    from dbt.adapters.spark.connections import PyhiveConnectionWrapper

    original_init = PyhiveConnectionWrapper.__init__

    def __init__(self, handle, *args, **kwargs) -> None:
        original_init(self, handle, *args, **kwargs)
        client = getattr(handle, "_client", None)
        if client is not None and not isinstance(client, SerializedClient):
            handle._client = SerializedClient(client)

    PyhiveConnectionWrapper.__init__ = __init__
    PyhiveConnectionWrapper.cancel = _tolerant(PyhiveConnectionWrapper.cancel, "cancelling")
    PyhiveConnectionWrapper.close = _tolerant(PyhiveConnectionWrapper.close, "closing")
    _installed = True
