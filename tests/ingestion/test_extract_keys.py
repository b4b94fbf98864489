"""The pieces of the extraction that need no services: which keys the lake holds alive (read from landed
Parquet files), which source types the query casts to text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.contract import SHOP_TABLES
from ingestion.extract import lake_alive_keys, select_list
from ingestion.manifest import SUCCEEDED, BatchRecord
from ingestion.rawzone import RawZone

TABLE = SHOP_TABLES["order_items"]


def _land(zone: RawZone, batch_id: str, rows: list[tuple[str, str, str]]) -> BatchRecord:
    """A landed batch of order_items rows (order_id, order_item_id, _op) in the raw zone's layout."""
    path = zone.partition_path(TABLE.source, "2026-03-01", batch_id)
    zone.fs.create_dir(path, recursive=True)
    ids, items, ops = zip(*rows, strict=True)
    table = pa.table(
        {
            "order_id": pa.array(ids, pa.string()),
            "order_item_id": pa.array(items, pa.string()),
            "_op": pa.array(ops, pa.string()),
            "_row_number": pa.array(range(1, len(rows) + 1), pa.int64()),
        }
    )
    pq.write_table(table, f"{path}/part-00000.parquet")
    now = datetime(2026, 3, 1, tzinfo=UTC)
    return BatchRecord(
        batch_id, TABLE.source, "f", "c", len(rows), SUCCEEDED, None, now, now, "2026-03-01", path
    )


def test_the_latest_row_per_key_decides_by_batch_then_row(tmp_path: Path) -> None:
    zone = RawZone(str(tmp_path))
    upsert, delete = "upsert", "delete"
    first = _land(
        zone,
        "shop_order_items__000001__start",
        [("o1", "1", upsert), ("o2", "1", upsert), ("o3", "1", upsert)],
    )
    # batch 2: o1 deleted, o2 deleted then back within the batch, a new o4
    second = _land(
        zone,
        "shop_order_items__000002__x",
        [("o1", "1", delete), ("o2", "1", delete), ("o2", "1", upsert), ("o4", "2", upsert)],
    )
    # batch 3: o3 deleted; o1 comes back
    third = _land(zone, "shop_order_items__000003__y", [("o3", "1", "delete"), ("o1", "1", "upsert")])
    alive = lake_alive_keys(zone, TABLE, [third, first, second])  # any order: batch ids decide
    assert sorted(zip(*alive.to_pydict().values(), strict=True)) == [("o1", "1"), ("o2", "1"), ("o4", "2")]
    assert alive.schema.names == list(TABLE.key)
    before = lake_alive_keys(zone, TABLE, [first, second])  # a re-run of batch 3 leaves it out
    assert sorted(before.column("order_id").to_pylist()) == ["o2", "o3", "o4"]
    assert lake_alive_keys(zone, TABLE, []).num_rows == 0


def test_types_arrow_cannot_cast_cheaply_are_made_text_by_the_server() -> None:
    sql = select_list(
        {
            "id": "text",
            "n": "integer",
            "price": "numeric(12,2)",
            "at": "timestamp with time zone",
            "day": "date",
            "doc": "jsonb",
            "tags": "text[]",
        }
    )
    assert (
        sql
        == '"id", "n", "price"::text as "price", "at", "day", "doc"::text as "doc", "tags"::text as "tags"'
    )
