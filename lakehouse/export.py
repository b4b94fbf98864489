"""Export marts from the lake to the `gold` schema in PostgreSQL: the one export module.

How: every model whose dbt config has ``meta: {gold: true}`` is read straight from its Iceberg files
(PyIceberg on the table's current metadata file, which the Thrift server names; no rows fetched through
Thrift), loaded with ``COPY`` into a table in a load schema, reconciled (row count) against the lake, then
swapped into ``gold`` in one transaction: a BI query sees the old or the new table, never a half-loaded one.
"""

from __future__ import annotations

import io
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.types as pat

from lakehouse.config import Settings
from lakehouse.errors import LakehouseError
from lakehouse.sql import SparkSQL

log = logging.getLogger(__name__)

GOLD_SCHEMA = "gold"
LOAD_SCHEMA = "gold_load"
COPY_CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class GoldModel:
    name: str  # the table name in gold
    lake_relation: str  # schema.table in the lake


@dataclass(frozen=True)
class ExportResult:
    model: GoldModel
    rows: int
    seconds: float


def gold_models(manifest_path: Path) -> list[GoldModel]:
    """Models flagged ``meta: {gold: true}`` in the dbt manifest (not a hard-coded list)."""
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError as exc:
        raise LakehouseError(f"No dbt manifest at {manifest_path}: run `dbt build` first.") from exc
    models = []
    for node in manifest["nodes"].values():
        if node["resource_type"] not in ("model", "snapshot", "seed"):
            continue
        meta = {**node.get("meta", {}), **node.get("config", {}).get("meta", {})}
        if meta.get("gold") and node.get("config", {}).get("enabled", True):
            name = node.get("alias") or node["name"]
            models.append(GoldModel(name=name, lake_relation=f"{node['schema']}.{name}"))
    return sorted(models, key=lambda m: m.name)


def current_metadata_file(spark: SparkSQL, relation: str) -> str:
    """The table's current metadata JSON, as the catalog knows it (never guessed from file names)."""
    path = spark.scalar(f"select file from {relation}.metadata_log_entries order by timestamp desc limit 1")
    if not path:
        raise LakehouseError(f"{relation} has no Iceberg metadata: is it an Iceberg table?")
    return path


def read_lake_table(spark: SparkSQL, relation: str) -> pa.Table:
    from pyiceberg.table import StaticTable

    return StaticTable.from_metadata(current_metadata_file(spark, relation)).scan().to_arrow()


def pg_type(dtype: pa.DataType) -> str:
    if pat.is_string(dtype) or pat.is_large_string(dtype):
        return "text"
    if pat.is_boolean(dtype):
        return "boolean"
    if pat.is_int8(dtype) or pat.is_int16(dtype):
        return "smallint"
    if pat.is_int32(dtype):
        return "integer"
    if pat.is_int64(dtype):
        return "bigint"
    if pat.is_float32(dtype):
        return "real"
    if pat.is_float64(dtype):
        return "double precision"
    if pat.is_decimal(dtype):
        return f"numeric({dtype.precision},{dtype.scale})"
    if pat.is_date(dtype):
        return "date"
    if pat.is_timestamp(dtype):
        return "timestamptz" if dtype.tz else "timestamp"
    if pat.is_binary(dtype) or pat.is_large_binary(dtype):
        return "bytea"
    raise LakehouseError(f"No PostgreSQL type for Arrow type {dtype}")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_arrow(cur, table_sql: str, data: pa.Table) -> None:
    """COPY an Arrow table as CSV (NULL = unquoted empty field, empty string = quoted "")."""
    columns = ", ".join(_ident(c) for c in data.column_names)
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    with cur.copy(f"copy {table_sql} ({columns}) from stdin (format csv)") as copy:
        for batch in data.to_batches(max_chunksize=COPY_CHUNK_ROWS):
            buf = io.BytesIO()
            pacsv.write_csv(pa.Table.from_batches([batch], schema=data.schema), buf, options)
            copy.write(buf.getvalue())


def load_and_swap(conn, model: GoldModel, data: pa.Table) -> None:
    """Load into gold_load, check the count, then swap into gold in one transaction."""
    gold = f"{_ident(GOLD_SCHEMA)}.{_ident(model.name)}"
    staged = f"{_ident(LOAD_SCHEMA)}.{_ident(model.name)}"
    columns = ",\n  ".join(f"{_ident(f.name)} {pg_type(f.type)}" for f in data.schema)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(f"create schema if not exists {_ident(LOAD_SCHEMA)}")
        cur.execute(f"create schema if not exists {_ident(GOLD_SCHEMA)}")
        cur.execute(f"drop table if exists {staged}")
        cur.execute(f"create table {staged} (\n  {columns}\n)")
        copy_arrow(cur, staged, data)
        loaded = cur.execute(f"select count(*) from {staged}").fetchone()[0]
        if loaded != data.num_rows:
            raise LakehouseError(
                f"Reconciliation failed for {model.name}: lake has {data.num_rows} rows, "
                f"gold load has {loaded}; gold left unchanged."
            )
        cur.execute(f"drop table if exists {gold}")
        cur.execute(f"alter table {staged} set schema {_ident(GOLD_SCHEMA)}")


def export_gold(settings: Settings, manifest_path: Path | None = None) -> list[ExportResult]:
    import psycopg

    manifest_path = manifest_path or settings.dbt_target_path / "manifest.json"
    models = gold_models(manifest_path)
    results = []
    try:
        with SparkSQL(settings) as spark, psycopg.connect(settings.gold_url) as conn:
            for model in models:
                start = time.monotonic()
                data = read_lake_table(spark, model.lake_relation)
                load_and_swap(conn, model, data)
                results.append(ExportResult(model, data.num_rows, time.monotonic() - start))
                log.info("exported %s: %d rows", model.name, data.num_rows)
    except psycopg.OperationalError as exc:
        raise LakehouseError(f"Gold database unreachable: {str(exc).splitlines()[0]}") from exc
    return results
