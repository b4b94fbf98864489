"""Retries with backoff for transient faults only.

A refused or reset connection to the Thrift server or PostgreSQL, or a service still starting, is worth
retrying; a data or SQL error is not: it fails at once, with its message.
"""

from __future__ import annotations

from typing import Any

from prefect.tasks import exponential_backoff

TRANSIENT_MARKERS = (
    "connection refused",
    "connection reset",
    "could not connect",
    "cannot reach the spark thrift server",
    "gold database unreachable",
    "server closed the connection",
    "the database system is starting up",
    "the database system is shutting down",
    "terminating connection due to administrator command",
    "broken pipe",
    "tsocket read 0 bytes",
    "connection timed out",
)


def _chain(exc: BaseException | None):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_transient(exc: BaseException | None) -> bool:
    """True when ``exc`` (or what caused it) is a connection-level fault, not a data or SQL error."""
    from psycopg import errors as pg_errors
    from thrift.transport.TTransport import TTransportException

    for err in _chain(exc):
        if isinstance(err, ConnectionError | TTransportException | pg_errors.AdminShutdown):
            return True
        if isinstance(err, pg_errors.CannotConnectNow):
            return True
        text = str(err).lower()
        if any(marker in text for marker in TRANSIENT_MARKERS) and not isinstance(err, SyntaxError):
            # a psycopg OperationalError or our LakehouseError wrapping one; SQL errors never match
            return isinstance(err, OSError | pg_errors.OperationalError) or type(err).__name__ in (
                "LakehouseError",
                "OperationalError",
            )
    return False


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry only transient faults."""
    exc = state.data if isinstance(state.data, BaseException) else None
    if exc is None:
        try:
            state.result()
        except BaseException as raised:  # the state's stored exception
            exc = raised
    return is_transient(exc)


# Task options for every step that talks to a service: 3 retries after 2, 4 and 8 seconds.
TRANSIENT_RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=2),
    "retry_condition_fn": retry_transient,
}
