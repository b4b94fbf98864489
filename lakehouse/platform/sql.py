"""SQL over the Spark Thrift Server: the only way our Python code touches the metastore.

Embedded Derby admits one JVM, so ingestion, export and tests never open a SparkSession of their own: they
send SQL to the Thrift server named by the configuration (embedded or a cluster's).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential

from lakehouse.platform.errors import (
    ConnectionLost,
    LakehouseError,
    ServiceUnavailable,
    first_line,
    is_connection_fault,
)
from lakehouse.platform.settings import Settings

log = logging.getLogger(__name__)

# backslash first: the escapes the others add must not be escaped again
_ESCAPES = (("\\", "\\\\"), ("'", "\\'"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def literal(value: object, spark_type: str = "string") -> str:
    """A Spark SQL literal of ``value`` (the text exactly, newlines included), typed so that an all-null
    column still has its type. The one place our Python writes a value into Spark SQL."""
    if value is None:
        return f"cast(null as {spark_type})"
    if isinstance(value, datetime):
        return f"timestamp'{value.strftime('%Y-%m-%d %H:%M:%S.%f')}Z'"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    for char, escaped in _ESCAPES:
        text = text.replace(char, escaped)
    return f"'{text}'"


def spark_error_message(exc: BaseException) -> str:
    """The first line of Spark's error, not the tens of KB of Java stack PyHive carries."""
    status = getattr(exc.args[0], "status", None) if exc.args else None
    message = getattr(status, "errorMessage", None) or str(exc)
    line = first_line(message)
    # "Error running query: [CODE] org.apache...AnalysisException: [CODE] text" -> "[CODE] text"
    for marker in ("AnalysisException: ", "ParseException: ", "SparkException: ", "Exception: "):
        if marker in line:
            return line.split(marker, 1)[1]
    return line.removeprefix("Error running query: ")


class SparkSQL:
    """A small client: ``execute`` for statements, ``query`` for rows. One connection, reused."""

    def __init__(self, settings: Settings, schema: str = "default") -> None:
        self.settings = settings
        self.schema = schema
        self._conn: Any = None  # a PyHive connection

    @retry(
        retry=retry_if_exception(is_connection_fault),  # refused or reset while the server (re)starts
        stop=stop_after_delay(60),
        wait=wait_exponential(multiplier=0.5, max=5),
        reraise=True,
    )
    def _connect(self) -> Any:
        from pyhive import hive

        s = self.settings
        kwargs: dict[str, Any] = {
            "host": s.thrift_host,
            "port": s.thrift_port,
            "username": s.get("SPARK_THRIFT_USER") or "lakehouse",
            "database": self.schema,
        }
        auth = s.get("SPARK_THRIFT_AUTH")
        if auth and auth != "NONE":
            kwargs["auth"] = auth
            if auth in ("LDAP", "CUSTOM"):
                kwargs["password"] = s.get("SPARK_THRIFT_PASSWORD")
            if auth == "KERBEROS":
                kwargs["kerberos_service_name"] = s.get("SPARK_THRIFT_KERBEROS_SERVICE")
        return hive.connect(**kwargs)

    @property
    def conn(self) -> Any:
        if self._conn is None:
            try:
                self._conn = self._connect()
            except Exception as exc:
                log.error("thrift connection failed", exc_info=True)
                raise ServiceUnavailable(
                    f"Cannot reach the Spark Thrift Server at {self.settings.thrift_host}:"
                    f"{self.settings.thrift_port} ({first_line(str(exc))}): run `make up`."
                ) from exc
        return self._conn

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        """A cursor, closed after use; a transport that breaks meanwhile raises ``ConnectionLost``."""
        try:
            cur = self.conn.cursor()
            try:
                yield cur
            finally:
                cur.close()
        except Exception as exc:
            if isinstance(exc, LakehouseError) or not is_connection_fault(exc):
                raise
            log.error("thrift connection lost", exc_info=True)
            raise ConnectionLost(
                f"Lost the connection to the Spark Thrift Server at {self.settings.thrift_host}:"
                f"{self.settings.thrift_port} ({first_line(str(exc))}): is it still running (`make status`)?"
            ) from exc

    def _run(self, sql: str, fetch: bool) -> list[tuple]:
        from pyhive.exc import Error as HiveError

        # long statements (multi-row inserts of the lookups) are shortened: the log is for reading
        log.info("spark sql: %s", sql if len(sql) <= 400 else f"{sql[:400]} ... ({len(sql):,} chars)")
        with self._cursor() as cur:
            try:
                cur.execute(sql)
                return cur.fetchall() if fetch else []
            except HiveError as exc:
                log.error("spark sql failed: %s\n%s", sql, exc)
                raise LakehouseError(f"Spark SQL failed: {spark_error_message(exc)}") from exc

    def execute(self, sql: str) -> None:
        self._run(sql, fetch=False)

    def query(self, sql: str) -> list[tuple]:
        return self._run(sql, fetch=True)

    def table_exists(self, relation: str) -> bool:
        """Whether ``schema.table`` (a table or a view) exists: asked, not tried (a failed statement is logged
        as an error with the server's whole stack)."""
        schema, table = relation.split(".")
        if not self.query(f"show databases like '{schema}'"):
            return False
        return any(row[1] == table for row in self.query(f"show tables in {schema} like '{table}'"))

    def scalar(self, sql: str) -> Any:
        rows = self.query(sql)
        return rows[0][0] if rows else None

    def columns(self, sql: str) -> Sequence[str]:
        with self._cursor() as cur:
            cur.execute(sql)
            return [d[0] for d in cur.description or []]

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def __enter__(self) -> SparkSQL:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
