"""Retries with backoff for transient faults only, chosen by the exception's type.

A refused or reset connection to the Thrift server or PostgreSQL, a service still starting, or tables that BI
queries hold is worth retrying; a data or SQL error is not: it fails at once, with its message. Our code
raises the first kind as ``TransientError`` where it knows the fault (lakehouse/platform/errors.py); a task
that calls a client library itself meets that library's connection errors, which ``is_connection_fault``
knows by type (and PostgreSQL's SQLSTATE class), never by their text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prefect.tasks import exponential_backoff

from lakehouse.platform.errors import TransientError, is_connection_fault


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_transient(exc: BaseException | None) -> bool:
    """True when ``exc`` (or what caused it) is a transient fault, not a data or SQL error."""
    return any(isinstance(err, TransientError) or is_connection_fault(err) for err in _chain(exc))


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
