"""The plain data of a gold export, at the bottom of the package: what a gold model is, what the last export
recorded for it, what this run plans for it, the totals it reconciles and what it reports; and the numbers
that size a run. No I/O here: every step of the export imports these, none of them imports a step."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import pyarrow as pa

WATERMARK_COLUMN = "_loaded_at"
COPY_CHUNK_ROWS = 100_000
SCAN_PREFETCH_FILES = 2  # data files read ahead of the COPY: bounds the export's memory, keeps COPY fed
PARALLEL_INDEX_MIN_ROWS = 200_000  # above this, the key and indexes are built at once, one connection each
LOCK_TIMEOUT_MS = 200  # the swap never waits longer for a BI query: it retries instead (no deadlocks)
LOCK_ATTEMPTS = 150

Sum: TypeAlias = Decimal | float | None  # a column's sum: numeric, floating, or no column summed
Totals: TypeAlias = tuple[int, Sum]  # (rows, sum of the reconciling column): what lake and gold must agree on
Reconciled: TypeAlias = dict[str, Any]  # {"rows", "sum_column", "sum"}: reported and kept in the export state


class Mode(StrEnum):
    """How a model reaches gold in a run."""

    SWAP = "swap"  # loaded whole into gold_load, then swapped in by rename
    UPSERT = "upsert"  # only the rows changed since the watermark, merged on the primary key
    UNCHANGED = "unchanged"  # the lake snapshot did not change since the last export: left alone


@dataclass(frozen=True)
class GoldModel:
    name: str  # the table name in gold_marts (the model's alias)
    lake_relation: str  # schema.table in the lake
    primary_key: tuple[str, ...] = ()
    index_columns: tuple[str, ...] = ()
    pii_columns: tuple[str, ...] = ()
    incremental: bool = False  # upsert changed rows (needs a primary key)


@dataclass(frozen=True)
class ExportState:
    """What the last export of a table recorded (a row of ``gold_marts._export_state``)."""

    snapshot_id: int | None
    watermark: str | None
    mode: str
    rows: int | None
    sum_column: str | None
    sum_value: str | None


@dataclass(frozen=True)
class Plan:
    """What a run does with one model, decided before anything is loaded. Steps that learn more (the staging
    of a swap counts the rows it streamed) return a new plan; none changes one."""

    model: GoldModel
    metadata_file: str
    snapshot_id: int | None
    mode: Mode
    lake_schema: pa.Schema
    started: float  # time.monotonic() when planning began: the model's export time counts from here
    sum_column: str | None = None
    watermark: str | None = None  # an upsert reads the rows loaded after this
    data: pa.Table | None = None  # the changed rows of an upsert (small: read before loading)
    scan: Any = None  # a swap's PyIceberg scan: streamed into COPY, never held whole in memory
    expected_rows: int | None = None  # the snapshot's own live-row count (table metadata), when it has one
    changed_rows: int = 0
    lake_totals: Totals = (0, None)
    new_watermark: str | None = None
    gold_before: tuple[int, str | None] | None = None  # (rows, sum) reconciled by the last export


@dataclass
class ExportResult:
    model: GoldModel
    rows: int  # rows in gold after the export
    seconds: float
    mode: Mode = Mode.SWAP
    changed_rows: int = 0  # rows loaded or upserted in this run
    reconciled: Reconciled = field(default_factory=dict)
