"""Reading the lake for gold: a table's current Iceberg metadata file (as the catalog names it), the static
table on it (PyIceberg, no rows through Thrift), what its snapshots say (live rows, appends, deletes since a
snapshot), and the stream of a swap's scan into COPY: a few files ahead, PII masked, counted as it passes."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.gold.model import COPY_CHUNK_ROWS, SCAN_PREFETCH_FILES, WATERMARK_COLUMN, Plan, Totals
from lakehouse.gold.pii import mask_pii, masked_schema
from lakehouse.gold.reconcile import RunningTotals
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.sql import SparkSQL


def current_metadata_file(spark: SparkSQL, relation: str) -> str:
    """The table's current metadata JSON, as the catalog knows it (never guessed from file names)."""
    path = spark.scalar(f"select file from {relation}.metadata_log_entries order by timestamp desc limit 1")
    if not path:
        raise LakehouseError(f"{relation} has no Iceberg metadata: is it an Iceberg table?")
    return path


def static_table(metadata_file: str) -> Any:
    from pyiceberg.table import StaticTable

    return StaticTable.from_metadata(metadata_file)


def read_lake_table(spark: SparkSQL, relation: str) -> pa.Table:
    return static_table(current_metadata_file(spark, relation)).scan().to_arrow()


def snapshot_rows(snapshot: Any) -> int | None:
    """Live rows of a snapshot from its summary (``total-records``), when no delete files blur the count."""
    summary = snapshot.summary if snapshot is not None else None
    if summary is None or summary.get("total-records") is None:
        return 0 if snapshot is None else None
    deletes = int(summary.get("total-position-deletes", 0)) + int(summary.get("total-equality-deletes", 0))
    return None if deletes else int(summary["total-records"])


def descends_from(table: Any, snapshot: Any, previous_id: int | None) -> bool:
    """Whether snapshot ``previous_id`` is ``snapshot`` or one of its ancestors (not a rewritten table)."""
    from pyiceberg.table.snapshots import ancestors_of

    return any(s.snapshot_id == previous_id for s in ancestors_of(snapshot, table.metadata))


def removed_rows_since(table: Any, snapshot: Any, previous_id: int | None) -> bool:
    """Whether a snapshot after ``previous_id`` removed rows (a ``DELETE``, e.g. a restated batch's previous
    lines): an upsert cannot carry a removal, so the table is swapped whole. A copy-on-write ``MERGE``
    rewrites files but never adds fewer records than it removes; a delete does."""
    from pyiceberg.table.snapshots import ancestors_of

    for current in ancestors_of(snapshot, table.metadata):
        if current.snapshot_id == previous_id:
            return False
        summary = current.summary
        if summary is None:
            return True
        # a count is absent from a snapshot that did not touch it
        deleted, added, delete_files = (
            int(summary.get(name) or 0) for name in ("deleted-records", "added-records", "added-delete-files")
        )
        if summary.operation.value == "delete" or deleted > added or delete_files:
            return True
    return False


def only_appended_since(table: Any, snapshot: Any, previous_id: int | None) -> bool:
    """Whether every snapshot after ``previous_id`` up to ``snapshot`` only appended rows."""
    snapshots = {s.snapshot_id: s for s in table.metadata.snapshots}
    current = snapshot
    while current is not None and current.snapshot_id != previous_id:
        summary = current.summary
        if summary is None or summary.operation.value != "append":
            return False
        current = snapshots.get(current.parent_snapshot_id) if current.parent_snapshot_id else None
    return current is not None


def newest_load(data: pa.Table) -> datetime | None:
    """The newest ``_loaded_at`` of rows read from the lake (None: no rows, or no such column)."""
    if WATERMARK_COLUMN not in data.column_names or not data.num_rows:
        return None
    newest: datetime = pc.max(data.column(WATERMARK_COLUMN)).as_py()
    return newest


def watermark(newest: datetime | None, previous: str | None) -> str | None:
    """The watermark to keep after rows loaded up to ``newest`` (the previous one when none was read)."""
    return newest.isoformat() if newest is not None else previous


def scan_batches(scan: Any, prefetch: int = SCAN_PREFETCH_FILES) -> Iterator[pa.RecordBatch]:
    """The scan's record batches, file by file, reading at most ``prefetch`` files ahead of the consumer.

    PyIceberg's own batch reader submits every file of the scan at once, so a table slower to load than to
    read ends up whole in memory; here memory is bounded by a few data files, whatever the table's size."""
    from pyiceberg.io.pyarrow import ArrowScan

    reader = ArrowScan(scan.table_metadata, scan.io, scan.projection(), scan.row_filter, scan.case_sensitive)
    pending: deque[Future[list[pa.RecordBatch]]] = deque()
    with ThreadPoolExecutor(max_workers=prefetch, thread_name_prefix="lake-scan") as pool:
        for task in scan.plan_files():
            pending.append(pool.submit(lambda t: list(reader.to_record_batches([t])), task))
            if len(pending) > prefetch:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


class LakeStream:
    """The batches of a swap's scan on their way to COPY: PII masked, cast to one schema, and counted,
    summed and watermarked as they pass, so nothing needs the whole table in memory."""

    def __init__(self, plan: Plan, key: bytes) -> None:
        self.plan, self.key = plan, key
        self.schema = masked_schema(plan.lake_schema, plan.model.pii_columns)
        self.counted = RunningTotals(plan.sum_column)
        self.newest: datetime | None = None

    @property
    def rows(self) -> int:
        return self.counted.rows

    def batches(self) -> Iterator[pa.RecordBatch]:
        if self.plan.scan is None:
            return
        for batch in scan_batches(self.plan.scan):
            data = mask_pii(pa.Table.from_batches([batch]), self.plan.model.pii_columns, self.key)
            data = data.cast(self.schema)
            self.counted.add(data)
            newest = newest_load(data)
            if newest is not None and (self.newest is None or newest > self.newest):
                self.newest = newest
            yield from data.to_batches(max_chunksize=COPY_CHUNK_ROWS)

    def totals(self) -> Totals:
        return self.counted.totals()
