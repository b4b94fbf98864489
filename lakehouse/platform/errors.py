"""Errors the user is meant to read: one line, with what to do. Full detail goes to the log file. The
transient ones (a service down or starting, a connection lost, tables held) have types of their own, so that
a retry can choose them by type."""

from __future__ import annotations

import logging
from pathlib import Path


class LakehouseError(Exception):
    """An expected failure. ``str(err)`` is the one-line message shown to the user."""


class TransientError(LakehouseError):
    """A fault of the moment, not of the data or the SQL: a service down, starting or restarting, a connection
    that broke, tables that other sessions hold. The same call may succeed later: the flows' retry policy
    (flows/retry.py) retries exactly these, and the connection faults of client libraries
    (``is_connection_fault``)."""


class ServiceUnavailable(TransientError):
    """A service (the Spark Thrift Server, the gold database) cannot be reached or takes no connections."""


class ConnectionLost(TransientError):
    """A connection that was open broke during a statement (the server stopped, the network reset it)."""


class LockTimeout(TransientError):
    """Other sessions held what a statement must lock for longer than it waits (BI queries during a swap)."""


# PostgreSQL's SQLSTATEs of a server going away or not there yet: admin shutdown, crash shutdown, starting up
_SERVER_GOING = ("57P01", "57P02", "57P03")


def is_connection_fault(exc: BaseException) -> bool:
    """Whether ``exc``, raised by a socket or a client library (Thrift, psycopg), is a fault of the
    connection: refused, reset, timed out, closed by a server that stops, or a server still starting. Never an
    error of a statement's SQL or data: PostgreSQL reports those with SQLSTATEs outside the classes taken
    here."""
    if isinstance(
        exc, ConnectionError | TimeoutError
    ):  # refused, reset, aborted, broken pipe; socket timeouts
        return True
    from psycopg import OperationalError
    from thrift.transport.TTransport import TTransportException

    if isinstance(exc, TTransportException):
        return True
    if isinstance(exc, OperationalError):
        # no SQLSTATE: the client never had or lost its connection; class 08: a connection exception
        state = exc.sqlstate
        return state is None or state.startswith("08") or state in _SERVER_GOING
    return False


def first_line(text: str, limit: int = 300) -> str:
    """The first meaningful line of a (possibly huge) error text, e.g. a PyHive/Java stack."""
    for line in str(text).splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return "(no message)"


def setup_logging(log_dir: Path, name: str = "lakehouse") -> Path:
    """Log everything to ``<log_dir>/<name>.log``; the console gets only what we print."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"{name}.log"
    root = logging.getLogger()
    if not any(getattr(h, "baseFilename", None) == str(log_file) for h in root.handlers):
        handler = logging.FileHandler(log_file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore", "pyhive", "thrift", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return log_file
