"""Tiny Iceberg tables of our own (schema ``gold_test``) and a tiny manifest: the export is tested without the
dbt build of the warehouse. ``lakefix.write_*`` change the lake the way dbt would (overwrite a dimension,
merge a batch into the fact with a new ``_loaded_at``)."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from lakehouse import gold
from lakehouse.gold import GoldModel, gold_models

SCHEMA = "gold_test"


def manifest(tmp: Path) -> Path:
    """The parts of a dbt manifest the export reads: gold flags, unique_key, tests, pii tags."""

    def test(name: str, model: str, column: str) -> tuple[str, dict]:
        uid = f"test.p.{name}_{model}_{column}"
        return uid, {
            "resource_type": "test", "name": uid, "column_name": column, "attached_node": f"model.p.{model}",
            "test_metadata": {"name": name}, "depends_on": {"nodes": [f"model.p.{model}"]},
        }  # fmt: skip

    nodes = {
        "model.p.dim_things": {
            "resource_type": "model", "name": "dim_things", "alias": "dim_things", "schema": SCHEMA,
            "config": {"enabled": True, "materialized": "table", "meta": {"gold": True}},
            "columns": {"customer_name": {"tags": ["pii"]}, "email": {"tags": ["pii"]}},
        },
        "model.p.fct_lines": {
            "resource_type": "model", "name": "fct_lines", "alias": "fct_lines", "schema": SCHEMA,
            "config": {"enabled": True, "materialized": "incremental", "meta": {"gold": True},
                       "unique_key": ["line_key", "line_month"], "partition_by": ["line_month"]},
            "columns": {},
        },
        "model.p.not_gold": {
            "resource_type": "model", "name": "not_gold", "alias": "not_gold", "schema": SCHEMA,
            "config": {"enabled": True, "materialized": "table", "meta": {}}, "columns": {},
        },
    }  # fmt: skip
    for name, model, column in [
        ("unique", "dim_things", "thing_id"),
        ("not_null", "dim_things", "thing_id"),
        ("relationships", "fct_lines", "thing_id"),
    ]:
        uid, node = test(name, model, column)
        nodes[uid] = node
    path = tmp / "manifest.json"
    path.write_text(json.dumps({"nodes": nodes}))
    return path


class LakeFixture:
    def __init__(self, spark):
        self.spark = spark

    def reset(self) -> None:
        self.spark.execute(f"create database if not exists {SCHEMA}")
        self.spark.execute(f"drop table if exists {SCHEMA}.dim_things")
        self.spark.execute(f"drop table if exists {SCHEMA}.fct_lines")
        self.spark.execute(
            f"create table {SCHEMA}.dim_things (thing_id string, customer_name string, email string, "
            "price decimal(10,2), is_active boolean) using iceberg"
        )
        self.spark.execute(
            f"create table {SCHEMA}.fct_lines (line_key string, line_month string, thing_id string, "
            "quantity bigint, amount decimal(18,2), invoice_ts timestamp, _batch_id string, "
            "_loaded_at timestamp) "
            "using iceberg partitioned by (line_month)"
        )

    def write_things(self, n: int, price_offset: int = 0) -> None:
        self.spark.execute(
            f"insert overwrite {SCHEMA}.dim_things select concat('T', id), concat('Name ', id), "
            f"concat('user', id, '@example.com'), cast(id + {price_offset} + 0.25 as decimal(10,2)), "
            "id % 2 = 0 "
            f"from range({n})"
        )

    def merge_lines(self, start: int, n: int, batch: str, loaded_at: str, amount_factor: int = 1) -> None:
        """Lines start..start+n as dbt's merge writes them: new and changed rows get the run's _loaded_at."""
        self.spark.execute(
            f"merge into {SCHEMA}.fct_lines t using (select concat('L', id) as line_key, "
            f"concat('2024-0', cast(id % 3 + 1 as string)) as line_month, concat('T', id % 7) as thing_id, "
            f"id % 5 + 1 as quantity, cast((id % 5 + 1) * 1.5 * {amount_factor} as decimal(18,2)) as amount, "
            "timestamp '2024-01-01 10:00:00' + make_interval(0, 0, 0, 0, 0, 0, id) as invoice_ts, "
            f"'{batch}' as _batch_id, timestamp '{loaded_at}' as _loaded_at "
            f"from range({start}, {start + n})) s "
            "on t.line_key = s.line_key and t.line_month = s.line_month "
            "when matched then update set * when not matched then insert *"
        )

    def append_lines(self, start: int, n: int, batch: str, loaded_at: str) -> None:
        """Lines start..start+n appended (an Iceberg append snapshot, no merge)."""
        self.spark.execute(
            f"insert into {SCHEMA}.fct_lines select concat('L', id), "
            f"concat('2024-0', cast(id % 3 + 1 as string)), concat('T', id % 7), id % 5 + 1, "
            "cast((id % 5 + 1) * 1.5 as decimal(18,2)), "
            "timestamp '2024-01-01 10:00:00' + make_interval(0, 0, 0, 0, 0, 0, id), "
            f"'{batch}', timestamp '{loaded_at}' from range({start}, {start + n})"
        )


@pytest.fixture
def lakefix(spark, tmp_path):
    fix = LakeFixture(spark)
    fix.reset()
    fix.manifest = manifest(tmp_path)
    return fix


@pytest.fixture
def models(lakefix) -> list[GoldModel]:
    return gold_models(lakefix.manifest)


@pytest.fixture
def fresh_gold(lake, pg):
    """An empty gold: no exported tables, no views, no watermarks (roles and schemas in place)."""
    gold.ensure_gold(lake)
    for schema in ("gold", "gold_marts", "gold_load"):
        pg.execute(f"drop schema if exists {schema} cascade")
    gold.ensure_gold(lake)
    yield lake


@pytest.fixture
def writer(fresh_gold):
    with psycopg.connect(gold.role_url(fresh_gold, gold.WRITER), autocommit=True) as conn:
        yield conn


@pytest.fixture
def reader(fresh_gold):
    with psycopg.connect(gold.role_url(fresh_gold, gold.READER), autocommit=True) as conn:
        yield conn
