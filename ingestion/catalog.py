"""Registration of raw tables and batch partitions in the metastore, through the Thrift server.

Statements are grouped: one ``add partition`` (or ``drop partition``) per table for all the batches
of a run, because every statement costs a round trip to Spark.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingestion import manifest
from ingestion.contract import SOURCES, Source
from ingestion.rawzone import RawZone
from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL, literal


@dataclass(frozen=True)
class Partition:
    source: str
    ingest_date: str
    batch_id: str
    location: str

    def spec(self) -> str:
        return (
            f"partition (ingest_date={literal(self.ingest_date, 'string')}, "
            f"batch_id={literal(self.batch_id, 'string')})"
        )


def ensure_tables(spark: SparkSQL, zone: RawZone, schema: str, sources: set[str]) -> set[str]:
    """Create the schema (located at the raw zone root), the manifest, its history and missing tables; add
    the columns the contract gained since a table was created (a lake made by an older version keeps
    working). Returns the names of the schema's tables and views before this call."""
    spark.execute(f"create database if not exists {schema} location '{zone.location(zone.root)}'")
    existing = {row[1] for row in spark.query(f"show tables in {schema}")}
    for table in (manifest.TABLE, manifest.HISTORY):
        if table not in existing:
            spark.execute(manifest.create_sql(schema, table))
    for name in sorted(sources):
        src = SOURCES[name]
        if name in existing:
            _add_new_columns(spark, schema, src)
            continue
        spark.execute(
            f"create table if not exists {schema}.{name} ({src.table_ddl_columns()}) using parquet "
            f"partitioned by (ingest_date, batch_id) "
            f"location '{zone.location(zone.table_path(name))}'"
        )
    return existing


def _add_new_columns(spark: SparkSQL, schema: str, src: Source) -> None:
    """``alter table add columns`` for business columns of the contract the table lacks (Parquet files
    written before simply read them as null)."""
    have = {
        row[0]
        for row in spark.query(f"describe {schema}.{src.name}")
        if row[0] and not row[0].startswith("#")
    }
    missing = [c for c in src.columns if c not in have]
    if missing:
        cols = ", ".join(f"`{c}` string" for c in missing)
        spark.execute(f"alter table {schema}.{src.name} add columns ({cols})")


def ensure_lake(spark: SparkSQL, zone: RawZone, schema: str = "raw") -> None:
    """Every table a ``dbt build`` reads exists, empty until something lands in it: the raw tables of the
    contract and the manifest, the enrich lookups and the review events. Called by ``make up`` (services
    up) and by every landing, so any subset of sources builds (a lake of imported files only, of master
    data only, or of nothing)."""
    from ingestion.enrich.lookups import ensure_lookup_tables
    from lakehouse.anomalies.reviews import ensure_lake_table

    ensure_tables(spark, zone, schema, set(SOURCES))
    if schema == "raw":  # the pipeline's lake (a landing into another schema is a test's or a sandbox's)
        ensure_lookup_tables(spark)
        ensure_lake_table(spark)


def ensure_lake_of(settings: Settings) -> None:
    """:func:`ensure_lake` on the configured Thrift server and raw zone."""
    from ingestion.rawzone import default_raw_uri

    with SparkSQL(settings) as spark:
        ensure_lake(spark, RawZone(default_raw_uri(settings)))


def drop_partitions(spark: SparkSQL, schema: str, source: str, partitions: list[Partition]) -> None:
    if partitions:
        specs = ", ".join(p.spec() for p in partitions)
        spark.execute(f"alter table {schema}.{source} drop if exists {specs}")


def add_partitions(spark: SparkSQL, schema: str, source: str, partitions: list[Partition]) -> None:
    if partitions:
        specs = " ".join(f"{p.spec()} location {literal(p.location, 'string')}" for p in partitions)
        spark.execute(f"alter table {schema}.{source} add if not exists {specs}")
