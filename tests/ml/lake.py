"""Put the synthetic feature tables into the lake as Iceberg tables (through the Thrift server)."""

from __future__ import annotations

import shutil

import pyarrow.parquet as pq

from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL
from tests.ml.synthetic import Shop

FIXTURE_SCHEMA = "ml_fixture"


def load_shop(settings: Settings, shop: Shop) -> tuple[str, str]:
    """Write ``shop``'s tables as ``ml_fixture.ml_customer_features`` / ``ml_interactions``; their names."""
    names = []
    with SparkSQL(settings) as sql:
        sql.execute(f"create database if not exists {FIXTURE_SCHEMA}")
        for name, table in (("ml_customer_features", shop.features), ("ml_interactions", shop.interactions)):
            folder = settings.data_dir / "ml_fixture" / name
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            pq.write_table(table, folder / "part-0.parquet")
            relation = f"{FIXTURE_SCHEMA}.{name}"
            sql.execute(f"drop table if exists {relation}")
            sql.execute(f"create table {relation} using iceberg as select * from parquet.`{folder}`")
            names.append(relation)
    return names[0], names[1]
