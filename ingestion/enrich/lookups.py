"""Incremental lookup tables over the Thrift server: only values not seen before are resolved and appended.

``enrich.user_agents``  one row per distinct (trimmed) user agent, parsed with ua-parser
``enrich.ip_countries`` one row per distinct (trimmed) IP address, resolved with iptocc (null when unknown)

Both are Iceberg tables, appended with ``insert into ... values`` in chunks of ``CHUNK_ROWS`` rows or
``CHUNK_CHARS`` characters (each statement is an Iceberg commit: 15,000 new addresses took 9.7 s in chunks
of 500 rows, 2.6 s in one statement); a value is looked up once, including the ones that resolve to
nothing. Runs must not overlap (as for the rest of the pipeline).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ingestion.enrich.ipcountry import country_of
from ingestion.enrich.useragents import parse_user_agent
from lakehouse.platform.sql import SparkSQL, literal

log = logging.getLogger(__name__)

SCHEMA = "enrich"
RAW_SCHEMA = "raw"
EVENTS_TABLE = "clickstream_events"
CHUNK_ROWS = 20_000
CHUNK_CHARS = 2_000_000  # of SQL text per statement, whichever comes first

USER_AGENT_COLUMNS: dict[str, str] = {
    "user_agent": "string",
    "browser_family": "string",
    "browser_version": "string",
    "os_family": "string",
    "os_version": "string",
    "device_family": "string",
    "device_brand": "string",
    "device_model": "string",
    "is_bot": "boolean",
    "parsed_at": "timestamp",
}
IP_COUNTRY_COLUMNS: dict[str, str] = {
    "ip_address": "string",
    "country_id": "string",
    "lookup_source": "string",
    "resolved_at": "timestamp",
}
IP_LOOKUP_SOURCE = "iptocc"


@dataclass(frozen=True)
class LookupCounts:
    new_user_agents: int
    new_ip_addresses: int


def _create_sql(schema: str, table: str, columns: dict[str, str]) -> str:
    cols = ", ".join(f"{name} {typ}" for name, typ in columns.items())
    return f"create table if not exists {schema}.{table} ({cols}) using iceberg"


def ensure_lookup_tables(spark: SparkSQL, schema: str = SCHEMA) -> None:
    """Create the schema and both lookup tables when missing (dbt reads them as sources)."""
    spark.execute(f"create database if not exists {schema}")
    spark.execute(_create_sql(schema, "user_agents", USER_AGENT_COLUMNS))
    spark.execute(_create_sql(schema, "ip_countries", IP_COUNTRY_COLUMNS))


def _new_values(spark: SparkSQL, raw: str, column: str, lookup: str, key: str) -> list[str]:
    rows = spark.query(
        f"select distinct trim(e.{column}) from {raw} as e "
        f"left anti join {lookup} as l on trim(e.{column}) = l.{key} "
        f"where nullif(trim(e.{column}), '') is not null"
    )
    return sorted(r[0] for r in rows)


def _insert(spark: SparkSQL, table: str, columns: dict[str, str], rows: Iterable[Sequence[object]]) -> None:
    types = list(columns.values())
    chunk: list[str] = []
    chars = 0

    def flush() -> None:
        nonlocal chars
        if chunk:
            spark.execute(f"insert into {table} ({', '.join(columns)}) values {', '.join(chunk)}")
            chunk.clear()
            chars = 0

    for row in rows:
        chunk.append("(" + ", ".join(_sql_value(v, t) for v, t in zip(row, types, strict=True)) + ")")
        chars += len(chunk[-1])
        if len(chunk) >= CHUNK_ROWS or chars >= CHUNK_CHARS:
            flush()
    flush()


def _sql_value(value: object, spark_type: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return literal(value, spark_type)


def refresh_lookups(spark: SparkSQL, *, raw_schema: str = RAW_SCHEMA, schema: str = SCHEMA) -> LookupCounts:
    """Append the agents and IP addresses of the landed clickstream that the lookups do not hold yet.

    Call it after clickstream batches land and before ``dbt build``. Safe to call when nothing is new
    (two cheap queries) and before any clickstream has landed (the tables are created empty).
    """
    ensure_lookup_tables(spark, schema)
    if not spark.table_exists(f"{raw_schema}.{EVENTS_TABLE}"):
        return LookupCounts(0, 0)
    raw = f"{raw_schema}.{EVENTS_TABLE}"
    now = datetime.now(UTC)

    agents = _new_values(spark, raw, "user_agent", f"{schema}.user_agents", "user_agent")
    _insert(
        spark,
        f"{schema}.user_agents",
        USER_AGENT_COLUMNS,
        (
            (
                p.user_agent,
                p.browser_family,
                p.browser_version,
                p.os_family,
                p.os_version,
                p.device_family,
                p.device_brand,
                p.device_model,
                p.is_bot,
                now,
            )
            for p in map(parse_user_agent, agents)
        ),
    )

    ips = _new_values(spark, raw, "ip_address", f"{schema}.ip_countries", "ip_address")
    _insert(
        spark,
        f"{schema}.ip_countries",
        IP_COUNTRY_COLUMNS,
        ((ip, country_of(ip), IP_LOOKUP_SOURCE, now) for ip in ips),
    )
    log.info("lookups: %d new user agents, %d new IP addresses", len(agents), len(ips))
    return LookupCounts(new_user_agents=len(agents), new_ip_addresses=len(ips))
