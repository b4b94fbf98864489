"""The export state: per gold table, what its last export took from the lake (snapshot, metadata file,
``_loaded_at`` watermark) and the totals it reconciled, kept in ``gold_marts._export_state`` and written in
the same transaction as the tables, so state and gold never disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakehouse.gold.model import ExportState, Plan, Reconciled
from lakehouse.gold.roles import MARTS_SCHEMA

if TYPE_CHECKING:
    from psycopg import Connection, Cursor

STATE_TABLE = f"{MARTS_SCHEMA}._export_state"


def ensure_state(conn: Connection[Any]) -> None:
    conn.execute(f"""
        create table if not exists {STATE_TABLE} (
            table_name text primary key,
            mode text not null,
            lake_relation text not null,
            snapshot_id bigint,
            metadata_file text,
            watermark text,
            rows bigint not null,
            sum_column text,
            sum_value text,
            exported_at timestamptz not null default now()
        )""")
    conn.commit()


def read_state(conn: Connection[Any]) -> dict[str, ExportState]:
    """The last export of each table, by table name."""
    cur = conn.execute(
        f"select table_name, snapshot_id, watermark, mode, rows, sum_column, sum_value from {STATE_TABLE}"
    )
    return {r[0]: ExportState(*r[1:]) for r in cur.fetchall()}


def record_state(cur: Cursor[Any], plan: Plan, reconciled: Reconciled) -> None:
    cur.execute(
        f"insert into {STATE_TABLE} as s (table_name, mode, lake_relation, snapshot_id, metadata_file, "
        "watermark, rows, sum_column, sum_value, exported_at) "
        "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, now()) on conflict (table_name) do update set "
        "mode = excluded.mode, lake_relation = excluded.lake_relation, "
        "snapshot_id = excluded.snapshot_id, metadata_file = excluded.metadata_file, "
        "watermark = excluded.watermark, rows = excluded.rows, sum_column = excluded.sum_column, "
        "sum_value = excluded.sum_value, exported_at = excluded.exported_at",
        (
            plan.model.name, plan.mode.value, plan.model.lake_relation, plan.snapshot_id, plan.metadata_file,
            plan.new_watermark, reconciled["rows"], reconciled["sum_column"], reconciled["sum"],
        ),
    )  # fmt: skip
