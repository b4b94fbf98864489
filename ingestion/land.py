"""Landing: source rows -> Parquet in the raw zone -> partitions in Hive -> the batch manifest.

One input is one batch. A run (:meth:`Lander.land`):

1. skips inputs whose (source, checksum) already landed successfully, refuses two inputs with one batch id
   (and, with ``restate=False``, inputs that would replace a landed batch with other content);
2. records every remaining batch as ``running`` in ``raw._batches`` (unless the caller records only the
   outcomes: an extraction, whose batch a crash simply re-extracts);
3. writes each batch in chunks to ``<raw>/_staging/``; a file that cannot be read, is empty or lacks a
   required column fails its batch alone (nothing of it is registered, the other batches go on);
4. for batch ids landed before: drops their old partitions and files (re-running a batch id replaces it);
5. moves the staged files to ``<raw>/<source>/ingest_date=.../batch_id=.../`` and adds the partitions,
   one statement per table;
6. records the outcomes in ``raw._batches``.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
from tqdm import tqdm  # type: ignore[import-untyped]

from ingestion import catalog, manifest
from ingestion.conform import Lineage, conform
from ingestion.contract import LANDING_ORDER, SOURCES, Source, source
from ingestion.manifest import FAILED, RUNNING, SUCCEEDED, BatchRecord
from ingestion.rawzone import RawZone, default_raw_uri
from ingestion.readers import BadFile
from lakehouse.platform.errors import LakehouseError, first_line
from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL

log = logging.getLogger(__name__)

SKIPPED = "skipped"
BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
DEFAULT_ROWS_PER_FILE = 2_000_000
DEFAULT_SCHEMA = "raw"


@dataclass
class BatchInput:
    """One batch to land: where its rows come from and how to recognise it again."""

    source: str
    batch_id: str
    file: str
    checksum: str
    chunks: Callable[[], Iterator[pa.RecordBatch]]
    # a batch derived from another file may hold no rows (a file without customer ids derives no customers)
    allow_empty: bool = False
    # shapes a chunk into the raw contract (default: conform.conform); a stream batch brings its own, which
    # keeps the Kafka offsets as row numbers and the payloads it could not read in `_extra`
    conform: Callable[[pa.RecordBatch, Source, Lineage, int], pa.RecordBatch] = conform


@dataclass
class Outcome:
    batch_id: str
    source: str
    file: str
    status: str
    rows: int = 0
    error: str | None = None


@dataclass
class LandReport:
    outcomes: list[Outcome] = field(default_factory=list)

    def _with(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def succeeded(self) -> list[Outcome]:
        return self._with(SUCCEEDED)

    @property
    def failed(self) -> list[Outcome]:
        return self._with(FAILED)

    @property
    def skipped(self) -> list[Outcome]:
        return self._with(SKIPPED)

    @property
    def rows(self) -> int:
        return sum(o.rows for o in self.succeeded)

    def summary(self) -> str:
        return (
            f"landed {len(self.succeeded)} batch(es), {self.rows:,} rows; "
            f"skipped {len(self.skipped)}; failed {len(self.failed)}"
        )


def check_batch_id(batch_id: str) -> str:
    if not BATCH_ID.match(batch_id):
        raise LakehouseError(
            f"invalid batch id {batch_id!r}: use letters, digits, '_', '.', '-' (at most 128)"
        )
    return batch_id


@dataclass
class _Staged:
    item: BatchInput
    record: BatchRecord
    staged_path: str | None = None


class Lander:
    """Lands batches into the raw zone and registers them through the Thrift server."""

    def __init__(
        self,
        spark: SparkSQL,
        zone: RawZone,
        ingest_date: str | None = None,
        rows_per_file: int = DEFAULT_ROWS_PER_FILE,
        progress: bool | None = None,
        schema: str = DEFAULT_SCHEMA,
    ):
        self.spark = spark
        self.schema = schema
        self.zone = zone
        self.ingest_date = ingest_date or datetime.now(UTC).strftime("%Y-%m-%d")
        self.rows_per_file = rows_per_file
        self.progress = progress
        self._held: set[str] = set()
        self._write: Callable[[list[BatchRecord], set[str]], None] | None = None

    # ------------------------------------------------------------------------------------------ plan
    def _plan(
        self, inputs: list[BatchInput], previous: dict[str, BatchRecord], force: bool, restate: bool = True
    ) -> tuple[list[BatchInput], list[Outcome]]:
        seen_ids: set[str] = set()
        for item in inputs:
            source(item.source)
            check_batch_id(item.batch_id)
            if item.batch_id in seen_ids:
                raise LakehouseError(f"batch id {item.batch_id!r} is given twice in one run")
            seen_ids.add(item.batch_id)
        landed = {(r.source, r.checksum): r.batch_id for r in previous.values() if r.status == SUCCEEDED}
        if not restate:
            succeeded = {r.batch_id: r.checksum for r in previous.values() if r.status == SUCCEEDED}
            other = [i.batch_id for i in inputs if succeeded.get(i.batch_id, i.checksum) != i.checksum]
            if other:
                raise LakehouseError(
                    f"{len(other)} batch(es) of another dataset already landed under the same ids "
                    f"(e.g. {other[0]}): start this one on a clean lake "
                    "(`make clean`, or another LAKEHOUSE_DATA_DIR)"
                )
        todo, skipped = [], []
        for item in inputs:
            key = (item.source, item.checksum)
            if key in landed and not force:
                reason = f"same content already landed as batch {landed[key]}"
                skipped.append(Outcome(item.batch_id, item.source, item.file, SKIPPED, 0, reason))
                continue
            landed[key] = item.batch_id
            todo.append(item)
        return todo, skipped

    # ------------------------------------------------------------------------------------------ stage
    def _stage(self, staged: _Staged) -> None:
        item, record = staged.item, staged.record
        src = SOURCES[item.source]
        lineage = Lineage(item.batch_id, item.file, record.started_at)
        path = self.zone.staging_path(item.source, item.batch_id, uuid.uuid4().hex[:12])
        counter = {"next": 1}

        def conformed() -> Iterable[pa.RecordBatch]:
            for chunk in item.chunks():
                out = item.conform(chunk, src, lineage, counter["next"])
                counter["next"] += chunk.num_rows
                yield out

        try:
            rows, _files = self.zone.write_chunks(path, src.file_schema, conformed(), self.rows_per_file)
            if rows == 0 and not item.allow_empty:
                raise BadFile("no data rows")
        except BadFile as exc:
            self.zone.remove_dir(path)
            self._fail(staged, str(exc))
            return
        except Exception as exc:  # an unexpected reader error still fails only this batch
            log.exception("batch %s failed", item.batch_id)
            self.zone.remove_dir(path)
            self._fail(staged, f"{type(exc).__name__}: {first_line(str(exc))}")
            return
        staged.staged_path = path
        record.rows = rows

    def _fail(self, staged: _Staged, reason: str) -> None:
        log.warning("batch %s (%s) failed: %s", staged.item.batch_id, staged.item.file, reason)
        staged.record.status = FAILED
        staged.record.error = reason
        staged.record.rows = None

    # ------------------------------------------------------------------------------------------ register
    def _register(
        self,
        batches: list[_Staged],
        previous: dict[str, BatchRecord],
        registered: Callable[[], set[str]] | None = None,
    ) -> None:
        old_parts: dict[str, list[catalog.Partition]] = {}
        for b in batches:
            old = previous.get(b.item.batch_id)
            if old is not None and old.source in SOURCES:
                path = self.zone.partition_path(old.source, old.ingest_date, old.batch_id)
                part = catalog.Partition(old.source, old.ingest_date, old.batch_id, path)
                old_parts.setdefault(old.source, []).append(part)
        for src, parts in old_parts.items():
            catalog.drop_partitions(self.spark, self.schema, src, parts)
            for part in parts:
                self.zone.remove_dir(part.location)

        # partitions the caller added ahead (a new batch id's, while its rows streamed): not added again
        ahead = registered() if registered is not None else set()
        new_parts: dict[str, list[catalog.Partition]] = {}
        for b in batches:
            if b.staged_path is None:
                continue
            final = self.zone.partition_path(b.item.source, self.ingest_date, b.item.batch_id)
            self.zone.publish(b.staged_path, final)
            b.record.location = self.zone.location(final)
            if b.item.batch_id in ahead and b.item.batch_id not in previous:
                continue
            part = catalog.Partition(b.item.source, self.ingest_date, b.item.batch_id, b.record.location)
            new_parts.setdefault(b.item.source, []).append(part)
        for src, parts in new_parts.items():
            catalog.add_partitions(self.spark, self.schema, src, parts)

    # ------------------------------------------------------------------------------------------ run
    def land(
        self,
        inputs: list[BatchInput],
        force: bool = False,
        restate: bool = True,
        ensure: bool = True,
        record_running: bool = True,
        previous: Callable[[], list[BatchRecord]] | None = None,
        registered: Callable[[], set[str]] | None = None,
        record: Callable[[list[BatchRecord], set[str]], None] | None = None,
    ) -> LandReport:
        """Land ``inputs`` (one batch each); see the module docstring for the steps. ``restate=False``
        refuses, before anything is written, an input that would replace a landed batch's content (a
        corrected file is a restatement; another generated dataset under the same batch ids is not).
        ``ensure=False`` when the caller has just run :func:`catalog.ensure_lake` itself.
        ``record_running=False``: one manifest write (the outcomes) instead of two.
        For a caller that does its bookkeeping on a second connection while the rows stream (an
        extraction): ``previous`` gives the manifest rows of the inputs' batch ids (with ``force``,
        ``restate`` and no ``running`` rows, asked for only when registering), ``registered`` the batch ids
        whose partitions it added, ``record`` writes the outcomes (default :func:`manifest.write`)."""
        inputs = sorted(inputs, key=lambda i: LANDING_ORDER.index(source(i.source).name))
        self._write = record
        if ensure:
            catalog.ensure_lake(self.spark, self.zone, self.schema)
        later = previous if previous is not None and force and restate and not record_running else None
        if later is not None:  # nothing is skipped or refused with force and restate: read when registering
            prior: dict[str, BatchRecord] = {}
        elif previous is not None:
            prior = {r.batch_id: r for r in previous()}
        else:
            # the rows the plan looks at: the inputs' batch ids and checksums (not the whole manifest)
            ids, sums = [i.batch_id for i in inputs], [i.checksum for i in inputs]
            prior = {r.batch_id: r for r in manifest.read(self.spark, self.schema, ids, sums)}
        self._held = set(prior)  # inputs' ids the manifest holds: merged; the others appended
        todo, skipped = self._plan(inputs, prior, force, restate)
        report = LandReport(list(skipped))
        for o in skipped:
            log.info("batch %s skipped: %s", o.batch_id, o.error)
        if not todo:
            return report

        now = datetime.now(UTC)
        batches = [
            _Staged(
                item,
                BatchRecord(
                    item.batch_id,
                    item.source,
                    item.file,
                    item.checksum,
                    None,
                    RUNNING,
                    None,
                    now,
                    None,
                    self.ingest_date,
                    None,
                ),
            )
            for item in todo
        ]
        if record_running:
            self._record(batches)

        for b in tqdm(batches, desc="landing", unit="batch", disable=self.progress is False):
            b.record.started_at = datetime.now(UTC)
            self._stage(b)
            b.record.finished_at = datetime.now(UTC)

        if later is not None:
            prior = {r.batch_id: r for r in later()}
            self._held = set(prior)
        try:
            self._register(batches, prior, registered)
        except LakehouseError as exc:
            for b in batches:
                if b.record.status == RUNNING:
                    self._fail(b, f"registration failed: {exc}")
            self._record(batches)
            raise
        for b in batches:
            if b.record.status == RUNNING:
                b.record.status = SUCCEEDED
                b.record.finished_at = datetime.now(UTC)
        self._record(batches)
        report.outcomes += [
            Outcome(
                b.item.batch_id,
                b.item.source,
                b.item.file,
                b.record.status,
                b.record.rows or 0,
                b.record.error,
            )
            for b in batches
        ]
        return report

    def _record(self, batches: list[_Staged]) -> None:
        records = [b.record for b in batches]
        if self._write is not None:
            self._write(records, self._held)
        else:
            manifest.write(self.spark, self.schema, records, self._held)
        self._held |= {b.record.batch_id for b in batches}


def land_inputs(
    settings: Settings,
    inputs: list[BatchInput],
    *,
    raw_uri: str | None = None,
    ingest_date: str | None = None,
    force: bool = False,
    restate: bool = True,
    progress: bool | None = None,
) -> LandReport:
    """Land ``inputs`` through the configured Thrift server into the raw zone (``raw_uri``, default
    LAKEHOUSE_RAW_URI or <warehouse>/raw): what every command and flow that lands files runs."""
    with SparkSQL(settings) as spark:
        zone = RawZone(raw_uri or default_raw_uri(settings))
        lander = Lander(spark, zone, ingest_date=ingest_date, progress=progress)
        return lander.land(inputs, force=force, restate=restate)
