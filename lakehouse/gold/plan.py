"""Planning a model's export: read what changed in the lake since the last export and decide how the model
reaches gold (``Mode``), before anything is loaded.

- **unchanged**: same Iceberg snapshot and same columns as the last export: left alone;
- **upsert**: an incremental model whose lake table only grew or merged rows since the last export: the rows
  loaded after the watermark are read now (Iceberg prunes older files), PII masked, with the lake's totals
  to reconcile against (worked out from the change when the table was only appended to);
- **swap** otherwise (first export, full refresh, new columns, a rewritten or deleted-from table): the whole
  snapshot is streamed into COPY when the plan is carried out.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lakehouse.gold import lake_scan, reconcile
from lakehouse.gold.model import WATERMARK_COLUMN, ExportState, GoldModel, Mode, Plan
from lakehouse.gold.pgcopy import pg_type, table_columns
from lakehouse.gold.pgsql import rel
from lakehouse.gold.pii import mask_pii
from lakehouse.gold.roles import MARTS_SCHEMA
from lakehouse.platform.sql import SparkSQL

if TYPE_CHECKING:
    from psycopg import Connection


def plan_export(
    spark: SparkSQL,
    conn: Connection[Any],
    model: GoldModel,
    state: dict[str, ExportState],
    full_refresh: bool,
    key: bytes,
) -> Plan:
    """Read what changed in the lake for ``model`` and decide how it reaches gold."""
    started = time.monotonic()
    metadata_file = lake_scan.current_metadata_file(spark, model.lake_relation)
    table = lake_scan.static_table(metadata_file)
    snapshot = table.current_snapshot()
    snapshot_id = snapshot.snapshot_id if snapshot else None
    previous = state.get(model.name)
    lake_schema = table.schema().as_arrow()
    with conn.cursor() as cur:
        gold_cols = table_columns(cur, rel(MARTS_SCHEMA, model.name))
    schema_same = [(f.name, pg_type(f.type)) for f in lake_schema] == gold_cols
    exists = bool(gold_cols)
    plan = Plan(model, metadata_file, snapshot_id, Mode.SWAP, lake_schema, started)
    if not full_refresh and exists and schema_same and previous and previous.snapshot_id == snapshot_id:
        return replace(plan, mode=Mode.UNCHANGED, new_watermark=previous.watermark)
    column = reconcile.sum_column(lake_schema, model.primary_key)
    incremental_ok = (
        model.incremental
        and not full_refresh
        and exists
        and schema_same
        and previous is not None
        and previous.watermark is not None
        and WATERMARK_COLUMN in lake_schema.names
        and snapshot is not None
        and lake_scan.descends_from(table, snapshot, previous.snapshot_id)
        and not lake_scan.removed_rows_since(table, snapshot, previous.snapshot_id)
    )
    if not incremental_ok or previous is None:  # (previous is known when incremental_ok: for mypy)
        # a swap streams the whole table into COPY (stage_swap): counted, summed and masked on the way
        scan = table.scan(snapshot_id=snapshot_id) if snapshot_id else None
        return replace(plan, sum_column=column, scan=scan, expected_rows=lake_scan.snapshot_rows(snapshot))
    return _upsert_plan(replace(plan, mode=Mode.UPSERT, sum_column=column), table, snapshot, previous, key)


def _upsert_plan(plan: Plan, table: Any, snapshot: Any, previous: ExportState, key: bytes) -> Plan:
    """The rows loaded since the watermark, masked, and the lake's totals to reconcile the merge against."""
    column, model = plan.sum_column, plan.model
    changed = f"{WATERMARK_COLUMN} > '{previous.watermark}'"
    data = table.scan(row_filter=changed, snapshot_id=plan.snapshot_id).to_arrow()
    lake_totals = None
    if lake_scan.only_appended_since(table, snapshot, previous.snapshot_id):
        lake_totals = reconcile.appended_totals(previous, data, column, lake_scan.snapshot_rows(snapshot))
    if lake_totals is None:
        # the whole lake table's totals at the same snapshot: one column, for the reconciliation
        probe = column or model.primary_key[0]
        probed = table.scan(selected_fields=(probe,), snapshot_id=plan.snapshot_id).to_arrow()
        lake_totals = reconcile.arrow_totals(probed, column)
    gold_before = None  # gold's totals before the merge, when the last export reconciled the same column
    if previous.rows is not None and previous.sum_column == column:
        gold_before = (previous.rows, previous.sum_value)
    masked = mask_pii(data, model.pii_columns, key)
    return replace(
        plan,
        watermark=previous.watermark,
        data=masked,
        changed_rows=masked.num_rows,
        lake_totals=lake_totals,
        new_watermark=lake_scan.watermark(lake_scan.newest_load(data), previous.watermark),
        gold_before=gold_before,
    )
