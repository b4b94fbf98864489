"""Registration of raw tables and batch partitions in the metastore, through the Thrift server.

Statements are grouped: one ``add partition`` (or ``drop partition``) per table for all the batches
of a run, because every statement costs a round trip to Spark.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingestion import manifest
from ingestion.contract import SOURCES
from ingestion.manifest import literal
from ingestion.rawzone import RawZone
from lakehouse.sql import SparkSQL


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


def ensure_tables(spark: SparkSQL, zone: RawZone, schema: str, sources: set[str]) -> None:
    """Create the schema (located at the raw zone root), the manifest and missing tables."""
    spark.execute(f"create database if not exists {schema} location '{zone.location(zone.root)}'")
    existing = {row[1] for row in spark.query(f"show tables in {schema}")}
    if manifest.TABLE not in existing:
        spark.execute(manifest.create_sql(schema))
    for name in sorted(sources - existing):
        src = SOURCES[name]
        spark.execute(
            f"create table if not exists {schema}.{name} ({src.table_ddl_columns()}) using parquet "
            f"partitioned by (ingest_date, batch_id) "
            f"location '{zone.location(zone.table_path(name))}'"
        )


def drop_partitions(spark: SparkSQL, schema: str, source: str, partitions: list[Partition]) -> None:
    if partitions:
        specs = ", ".join(p.spec() for p in partitions)
        spark.execute(f"alter table {schema}.{source} drop if exists {specs}")


def add_partitions(spark: SparkSQL, schema: str, source: str, partitions: list[Partition]) -> None:
    if partitions:
        specs = " ".join(f"{p.spec()} location {literal(p.location, 'string')}" for p in partitions)
        spark.execute(f"alter table {schema}.{source} add if not exists {specs}")
