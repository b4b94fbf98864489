"""The ML application's Spark and its way to the lake.

It is a Spark application of its own (``ML_SPARK_MASTER``, default ``local[2]``) with an in-memory catalog:
the embedded Derby metastore admits one JVM, the Thrift server's. So it never opens the metastore. It asks
the Thrift server for a table's current Iceberg metadata file and reads that file with the Iceberg runtime
on its class path (falling back to PyIceberg, then Parquet, if that fails), and it writes its results as
Parquet files that the Thrift server then loads into Iceberg tables (``insert overwrite ... select ... from
parquet.`<dir>```), as the ingestion does.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lakehouse.gold.lake_scan import current_metadata_file, static_table
from lakehouse.ml.settings import ml_dir
from lakehouse.platform.errors import LakehouseError, first_line
from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL
from lakehouse.services.runtime import iceberg_jar

log = logging.getLogger(__name__)


def ml_spark_conf(settings: Settings) -> dict[str, str]:
    """Spark settings of the ML application: UTC, no UI, its scratch space under ``<data dir>/ml``."""
    data = ml_dir(settings)
    conf = {
        "spark.app.name": "lakehouse-ml",
        "spark.master": settings.get("ML_SPARK_MASTER"),
        "spark.driver.memory": settings.get("ML_DRIVER_MEMORY"),
        "spark.sql.catalogImplementation": "in-memory",  # never the Derby metastore: one JVM only
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.sql.shuffle.partitions": settings.get("SPARK_SHUFFLE_PARTITIONS"),
        "spark.sql.adaptive.enabled": "true",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.local.dir": str(data / "spark-tmp"),
        "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    }
    if settings.get("ICEBERG_PACKAGES"):
        conf["spark.jars.packages"] = settings.get("ICEBERG_PACKAGES")
    else:
        jar = str(iceberg_jar(settings))
        conf["spark.driver.extraClassPath"] = jar
        if not settings.get("ML_SPARK_MASTER").startswith("local"):
            conf["spark.jars"] = jar  # shipped to the executors (as the cluster's Thrift server does)
    if not settings.get("ML_SPARK_MASTER").startswith("local"):
        conf["spark.executor.extraJavaOptions"] = "-Duser.timezone=UTC"
    return conf


@contextmanager
def ml_session(settings: Settings) -> Iterator[Any]:
    """A SparkSession of the ML application, stopped on exit (its JVM too)."""
    from pyspark.sql import SparkSession

    ml_dir(settings).mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder
    for key, value in ml_spark_conf(settings).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(settings.get("SPARK_LOG_LEVEL"))
    try:
        yield spark
    finally:
        spark.stop()


def read_lake_table(spark: Any, sql: SparkSQL, relation: str, settings: Settings) -> Any:
    """``relation`` as a DataFrame of the ML application, read from its current Iceberg metadata file."""
    if not sql.table_exists(relation):
        raise LakehouseError(
            f"{relation} does not exist: build the ML features first (dbt models tagged `ml`)."
        )
    metadata = current_metadata_file(sql, relation)
    try:
        return spark.read.format("iceberg").load(metadata)
    except Exception as exc:  # the runtime jar missing or refusing the file: go through PyIceberg
        log.warning(
            "iceberg read of %s failed (%s); reading it with pyiceberg", relation, first_line(str(exc))
        )
    import pyarrow.parquet as pq

    extract = ml_dir(settings) / "extracts" / relation.replace(".", "__")
    shutil.rmtree(extract, ignore_errors=True)
    extract.mkdir(parents=True)
    pq.write_table(static_table(metadata).scan().to_arrow(), extract / "part-0.parquet")
    return spark.read.parquet(str(extract))


def register_parquet(sql: SparkSQL, relation: str, columns: str, path: str) -> None:
    """Replace the rows of Iceberg table ``relation`` (created with ``columns`` if missing) by the Parquet
    files at ``path``, over the Thrift server."""
    schema = relation.split(".")[0]
    sql.execute(f"create database if not exists {schema}")
    sql.execute(f"create table if not exists {relation} ({columns}) using iceberg")
    names = ", ".join(col.split()[0] for col in columns.split(","))
    sql.execute(f"insert overwrite {relation} select {names} from parquet.`{path}`")
