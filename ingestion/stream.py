"""Kafka topics -> raw batches, exactly once into the lake (``python -m ingestion consume``).

A consumer group (confluent-kafka, any Kafka) reads one topic per source (KAFKA_TOPIC_CLICKSTREAM_EVENTS,
KAFKA_TOPIC_ORDER_LINES) and lands a micro-batch every STREAM_BATCH_SECONDS or STREAM_BATCH_MESSAGES, through
the same :class:`~ingestion.land.Lander` as files: one raw batch per topic partition and micro-batch, the same
contract (string columns, ``_extra``, lineage), the same manifest.

Exactly once into the lake:

- the batch id is a function of (topic, partition, first offset):
  ``<source>__<topic>__p<partition>__o<first offset, 12 digits>``; ``_source_file`` is
  ``kafka://<topic>/<partition>/<first offset>-<last offset>`` and ``_row_number`` is
  ``offset - first offset + 1`` (the offset of every row is in the lake);
- offsets are committed to Kafka (synchronously) only after the batches are registered as ``succeeded`` in
  ``raw._batches``. A consumer that dies in between re-reads from the last committed offset: the same first
  offset gives the same batch id, which the Lander replaces (or skips, when the content is the same), never
  duplicates;
- partitions taken away by a rebalance drop what was buffered for them (not committed: the new owner reads
  it again from the committed offset).

Poison messages never block a partition: a value that is not a JSON object lands as a row whose business
columns are null and whose ``_extra`` keeps the payload (``{"_kafka_value": "..."}``); a message lacking
fields lands with nulls there. Staging then quarantines such rows with their reason, like bad rows of a file.

Parsing is vectorised: the values of a batch are joined into JSON lines and read by ``pyarrow.json`` (all
columns as strings); only a batch that holds a poison message, a non-string value or an unknown field is
parsed message by message (measured: README, "Streaming ingestion").
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

import pyarrow as pa
import pyarrow.json as pajson

from ingestion import catalog
from ingestion.conform import Lineage, conform, normalise
from ingestion.contract import EXTRA_COLUMN, SOURCES, Source
from ingestion.land import BatchInput, Lander, LandReport
from ingestion.rawzone import RawZone, default_raw_uri
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.runlock import pipeline_lock
from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL
from lakehouse.services.kafka import check_reachable, client_conf

log = logging.getLogger(__name__)

STREAM_SOURCES = ("clickstream_events", "order_lines")
RAW_VALUE_KEY = "_kafka_value"  # the payload of a message that is not a JSON object, in `_extra`
_OFFSET = "__kafka_offset"  # hidden columns of a stream chunk, taken out by conform_stream_chunk
_EXTRA = "__kafka_extra"
_JSON_BLOCK = 1 << 22  # pyarrow.json block size: several blocks parse on several threads
LOCK_WAIT_SECONDS = 3600  # a landing waits this long for a pipeline run (a transform) to finish


def topics(settings: Settings, sources: tuple[str, ...] = STREAM_SOURCES) -> dict[str, str]:
    """topic -> source, from the settings (KAFKA_TOPIC_<SOURCE>)."""
    out = {}
    for src in sources:
        name = f"KAFKA_TOPIC_{src.upper()}"
        if name not in settings.values:
            raise LakehouseError(f"source {src!r} has no topic setting ({name}): it cannot be streamed")
        out[settings.get(name)] = src
    return out


# ---------------------------------------------------------------------------------------------- parsing
def _text(value: Any) -> str | None:
    """A JSON value as the text a string column keeps: strings as they are, numbers as written."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _parse_fast(values: list[bytes | None], source: Source) -> pa.Table | None:
    """Every value a JSON object of string (or null) fields the contract knows: one pyarrow.json read of
    the values as JSON lines. None when any message needs the careful path."""
    if any(v is None or b"\n" in v or b"\r" in v for v in values):
        return None
    schema = pa.schema([(c, pa.string()) for c in source.columns])
    options = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
    try:
        table = pajson.read_json(
            io.BytesIO(b"\n".join(v for v in values if v is not None)),
            read_options=pajson.ReadOptions(block_size=_JSON_BLOCK),
            parse_options=options,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table if table.num_rows == len(values) else None


def _parse_careful(values: list[bytes | None], source: Source) -> tuple[dict[str, list], list[str | None]]:
    """Message by message: contract columns by normalised name, other fields and unreadable payloads in
    ``_extra``. Numbers keep their text as written (parsed as strings)."""
    by_norm = {normalise(c): c for c in source.columns}
    cols: dict[str, list] = {c: [None] * len(values) for c in source.columns}
    extra: list[str | None] = [None] * len(values)
    for i, raw in enumerate(values):
        try:
            obj = json.loads(raw, parse_int=str, parse_float=str) if raw is not None else None
        except ValueError:  # not JSON, or not UTF-8
            obj = None
        if not isinstance(obj, dict):
            text = raw.decode("utf-8", "backslashreplace") if raw is not None else None
            extra[i] = json.dumps({RAW_VALUE_KEY: text}, ensure_ascii=False, separators=(",", ":"))
            continue
        unknown = {}
        for key, value in obj.items():
            col = by_norm.get(normalise(str(key)))
            if col is not None and cols[col][i] is None:
                cols[col][i] = _text(value)
            else:
                unknown[key] = _text(value)
        if unknown:
            extra[i] = json.dumps(unknown, ensure_ascii=False, separators=(",", ":"))
    return cols, extra


def parse_messages(values: list[bytes | None], offsets: list[int], source: Source) -> pa.RecordBatch:
    """Message values -> a chunk for :func:`conform_stream_chunk`: the contract's columns as strings, the
    ``_extra`` JSON of each row and its offset."""
    table = _parse_fast(values, source)
    if table is not None:
        arrays = [table.column(c).combine_chunks() for c in source.columns]
        extra = pa.nulls(len(values), pa.string())
    else:
        cols, extra_list = _parse_careful(values, source)
        arrays = [pa.array(cols[c], pa.string()) for c in source.columns]
        extra = pa.array(extra_list, pa.string())
    names = [*source.columns, _EXTRA, _OFFSET]
    return pa.RecordBatch.from_arrays([*arrays, extra, pa.array(offsets, pa.int64())], names=names)


def conform_stream_chunk(
    chunk: pa.RecordBatch, source: Source, lineage: Lineage, first_row: int, *, first_offset: int
) -> pa.RecordBatch:
    """:func:`conform` for a stream chunk: ``_extra`` from the parser, ``_row_number`` from the offsets."""
    out = conform(chunk.select(list(source.columns)), source, lineage, first_row)
    row_numbers = pa.array(chunk.column(_OFFSET).to_numpy() - first_offset + 1, pa.int64())
    names = out.schema.names
    columns = list(out.columns)
    columns[names.index(EXTRA_COLUMN)] = chunk.column(_EXTRA)
    columns[names.index("_row_number")] = row_numbers
    return pa.RecordBatch.from_arrays(columns, schema=out.schema)


# ---------------------------------------------------------------------------------------------- batches
@dataclass
class PartitionBuffer:
    """Messages of one topic partition waiting to land."""

    topic: str
    partition: int
    source: str
    offsets: list[int] = field(default_factory=list)
    values: list[bytes | None] = field(default_factory=list)
    produced_ms: list[int] = field(default_factory=list)

    @property
    def first(self) -> int:
        return self.offsets[0]

    @property
    def last(self) -> int:
        return self.offsets[-1]

    @property
    def batch_id(self) -> str:
        return batch_id(self.source, self.topic, self.partition, self.first)

    @property
    def file(self) -> str:
        return f"kafka://{self.topic}/{self.partition}/{self.first}-{self.last}"

    def checksum(self) -> str:
        digest = hashlib.sha256(f"{self.file}\n{len(self.offsets)}\n".encode())
        lengths = [-1 if v is None else len(v) for v in self.values]  # nulls and boundaries count too
        digest.update(json.dumps(lengths).encode())
        digest.update(b"".join(v for v in self.values if v is not None))
        return digest.hexdigest()

    def to_input(self) -> BatchInput:
        src = SOURCES[self.source]
        values, offsets = self.values, self.offsets

        def chunks() -> Iterator[pa.RecordBatch]:
            yield parse_messages(values, offsets, src)

        shape = partial(conform_stream_chunk, first_offset=self.first)
        return BatchInput(self.source, self.batch_id, self.file, self.checksum(), chunks, conform=shape)


def batch_id(source: str, topic: str, partition: int, first_offset: int) -> str:
    """The batch id of the micro-batch of ``topic``/``partition`` that starts at ``first_offset``."""
    return f"{source}__{topic}__p{partition}__o{first_offset:012d}"


@dataclass
class Cycle:
    """One micro-batch landed: what it held and how late it was."""

    report: LandReport
    messages: int
    seconds: float  # landing and commit
    landed_at: float  # epoch seconds, after the commit
    oldest_produced: float | None  # epoch seconds of the oldest message's Kafka timestamp
    newest_produced: float | None = None  # ... and of the newest

    @property
    def lag_seconds(self) -> float | None:
        return None if self.oldest_produced is None else self.landed_at - self.oldest_produced


@dataclass
class Landed:
    """Micro-batches registered in the lake, their offsets not committed yet."""

    buffers: list[PartitionBuffer]
    report: LandReport
    began: float  # time.monotonic() when the landing began


@dataclass
class StreamReport:
    cycles: list[Cycle] = field(default_factory=list)
    first_message_at: float | None = None  # epoch seconds: when the first message was fetched

    @property
    def messages(self) -> int:
        return sum(c.messages for c in self.cycles)

    @property
    def batches(self) -> int:
        return sum(len(c.report.succeeded) for c in self.cycles)

    def summary(self) -> str:
        skipped = sum(len(c.report.skipped) for c in self.cycles)
        return (
            f"landed {self.messages:,} message(s) in {len(self.cycles)} micro-batch(es): "
            f"{self.batches} raw batch(es), {skipped} already landed"
        )


# ---------------------------------------------------------------------------------------------- consumer
class StreamConsumer:
    """The consumer loop: buffer per partition, land, then commit. One instance, one thread."""

    def __init__(
        self,
        settings: Settings,
        spark: SparkSQL,
        *,
        sources: tuple[str, ...] = STREAM_SOURCES,
        raw_uri: str | None = None,
        batch_seconds: float | None = None,
        batch_messages: int | None = None,
    ):
        from confluent_kafka import Consumer

        self.settings = settings
        self.topics = topics(settings, sources)
        self.batch_seconds = batch_seconds or settings.typed.STREAM_BATCH_SECONDS
        self.batch_messages = batch_messages or settings.typed.STREAM_BATCH_MESSAGES
        zone = RawZone(raw_uri or default_raw_uri(settings))
        with pipeline_lock(settings, wait_seconds=LOCK_WAIT_SECONDS):
            catalog.ensure_lake(spark, zone)
        self.lander = Lander(spark, zone, progress=False)
        self.buffers: dict[tuple[str, int], PartitionBuffer] = {}
        self.pending = 0
        self.started: float | None = None  # when the oldest buffered message arrived
        conf = client_conf(
            settings,
            **{
                "group.id": settings.typed.KAFKA_GROUP_ID,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                # a dead consumer's partitions move on within seconds (Kafka's minimum session timeout)
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 500,
                "enable.partition.eof": False,
                # a landing may wait for a pipeline run to release the lake (README, "Streaming ingestion")
                "max.poll.interval.ms": 900_000,
            },
        )
        self.consumer = Consumer(conf, logger=log)
        self.assigned_at: float | None = None  # when the group gave this consumer its partitions
        self.consumer.subscribe(
            list(self.topics), on_assign=self._assigned, on_revoke=self._revoked, on_lost=self._revoked
        )

    def _assigned(self, _consumer: Any, partitions: list[Any]) -> None:
        self.assigned_at = time.monotonic()
        log.info("assigned %s", ", ".join(f"{tp.topic}/{tp.partition}" for tp in partitions) or "nothing")

    def _revoked(self, _consumer: Any, partitions: list[Any]) -> None:
        for tp in partitions:
            dropped = self.buffers.pop((tp.topic, tp.partition), None)
            if dropped is not None:
                self.pending -= len(dropped.offsets)
                log.info("partition %s/%s revoked: %d buffered message(s) left to its next owner",
                         tp.topic, tp.partition, len(dropped.offsets))  # fmt: skip

    def poll(self, timeout: float) -> int:
        """Fetch what is there (up to the batch size); returns how many messages arrived."""
        from confluent_kafka import KafkaError

        room = max(1, min(10_000, self.batch_messages - self.pending))
        messages = self.consumer.consume(num_messages=room, timeout=timeout)
        n = 0
        for m in messages:
            err = m.error()
            if err is not None:
                if err.fatal():
                    raise LakehouseError(f"Kafka: {err.str()}")
                if err.code() != KafkaError._PARTITION_EOF:
                    log.warning("Kafka: %s", err.str())
                continue
            topic, partition, offset = cast(str, m.topic()), cast(int, m.partition()), cast(int, m.offset())
            buf = self.buffers.get((topic, partition))
            if buf is None:
                buf = self.buffers[(topic, partition)] = PartitionBuffer(topic, partition, self.topics[topic])
            buf.offsets.append(offset)
            buf.values.append(m.value())
            buf.produced_ms.append(m.timestamp()[1])
            n += 1
        if n and self.started is None:
            self.started = time.monotonic()
        self.pending += n
        return n

    def due(self) -> bool:
        if not self.pending:
            return False
        assert self.started is not None
        return self.pending >= self.batch_messages or time.monotonic() - self.started >= self.batch_seconds

    def take(self) -> list[PartitionBuffer]:
        """What is buffered, handed over for landing; the buffers start again (the next micro-batch of a
        partition starts after the last offset taken)."""
        buffers = [b for b in self.buffers.values() if b.offsets]
        self.buffers.clear()
        self.pending, self.started = 0, None
        return buffers

    def flush(self, after_landing: Callable[[LandReport], None] | None = None) -> Cycle | None:
        """Land every buffered partition as one raw batch each, then commit their offsets."""
        landed = self.land(self.take(), after_landing)
        return None if landed is None else self.commit(landed)

    def land(
        self, buffers: list[PartitionBuffer], after_landing: Callable[[LandReport], None] | None = None
    ) -> Landed | None:
        """Land ``buffers`` (one raw batch each, registered together: one manifest write and one statement
        of partitions per source); no Kafka call, so it may run in another thread than :meth:`poll`, which
        then commits (:meth:`commit`; one landing in flight at a time keeps the commits in order)."""
        if not buffers:
            return None
        began = time.monotonic()
        # the lake has one writer at a time (Iceberg on Derby, no locks): wait for a pipeline run to end
        with pipeline_lock(self.settings, wait_seconds=LOCK_WAIT_SECONDS):
            report = self.lander.land([b.to_input() for b in buffers], ensure=False)
        if after_landing is not None:
            after_landing(report)
        return Landed(buffers, report, began)

    def commit(self, landed: Landed) -> Cycle:
        """Commit the offsets of the batches registered by :meth:`land` (in the polling thread)."""
        from confluent_kafka import KafkaException, TopicPartition

        buffers, report = landed.buffers, landed.report
        produced = [ms for b in buffers for ms in b.produced_ms if ms > 0]
        failed = {o.batch_id for o in report.failed}
        done = [b for b in buffers if b.batch_id not in failed]
        if done:
            offsets = [TopicPartition(b.topic, b.partition, b.last + 1) for b in done]
            try:
                self.consumer.commit(offsets=offsets, asynchronous=False)
            except KafkaException as exc:  # e.g. the group moved the partitions on while we waited
                log.warning("offsets not committed (%s): the new owner lands the same batch ids again, "
                            "which replaces them", exc.args[0].str())  # fmt: skip
        messages = sum(len(b.offsets) for b in buffers)
        if failed:
            raise LakehouseError(
                f"{len(failed)} stream batch(es) failed to land (not committed: they are read again): "
                + "; ".join(f"{o.batch_id}: {o.error}" for o in report.failed)
            )
        return Cycle(report, messages, time.monotonic() - landed.began, time.time(),
                     min(produced) / 1000 if produced else None,
                     max(produced) / 1000 if produced else None)  # fmt: skip

    def close(self) -> None:
        self.consumer.close()


def consume(
    settings: Settings,
    *,
    sources: tuple[str, ...] = STREAM_SOURCES,
    raw_uri: str | None = None,
    batch_seconds: float | None = None,
    batch_messages: int | None = None,
    idle_stop: float | None = None,
    max_seconds: float | None = None,
    stop: threading.Event | None = None,
    on_cycle: Callable[[Cycle], None] | None = None,
    after_landing: Callable[[LandReport], None] | None = None,
) -> StreamReport:
    """Consume the sources' topics and land micro-batches until ``stop`` is set, ``max_seconds`` have
    passed, or (``idle_stop``) no message came for that many seconds; what is buffered then lands before
    the consumer leaves its group. A micro-batch is parsed, written and registered in a landing thread
    while the next one is fetched (one landing in flight: its offsets are committed before the next's).
    ``on_cycle`` sees every landed micro-batch (the stream flow triggers the transform from it);
    ``after_landing`` runs between landing and commit (tests kill the process there)."""
    check_reachable(settings)
    report = StreamReport()
    stop = stop or threading.Event()
    began = last_message = time.monotonic()
    with SparkSQL(settings) as spark, ThreadPoolExecutor(1, thread_name_prefix="stream-landing") as lands:
        loop = StreamConsumer(settings, spark, sources=sources, raw_uri=raw_uri, batch_seconds=batch_seconds,
                              batch_messages=batch_messages)  # fmt: skip
        landing: Future[Landed | None] | None = None  # the micro-batch being landed while the next is fetched

        def landed() -> None:
            """Wait for the landing in flight, then commit its offsets here (the polling thread); its
            failure stops the consumer: nothing after it commits."""
            nonlocal landing
            if landing is None:
                return
            result, landing = landing.result(), None
            if result is not None:
                cycle = loop.commit(result)
                report.cycles.append(cycle)
                if on_cycle is not None:
                    on_cycle(cycle)

        try:
            while not stop.is_set():
                if landing is not None and landing.done():
                    landed()
                now = time.monotonic()
                if max_seconds is not None and now - began >= max_seconds:
                    break
                if idle_stop is not None and not loop.pending and landing is None:
                    if loop.assigned_at is not None:
                        if now - max(last_message, loop.assigned_at) >= idle_stop:
                            break
                    elif now - began >= max(60.0, idle_stop):
                        raise LakehouseError(
                            f"no partition of {', '.join(loop.topics)} assigned to group "
                            f"{settings.typed.KAFKA_GROUP_ID} within {max(60.0, idle_stop):.0f} s"
                        )
                if loop.poll(timeout=0.5):
                    last_message = time.monotonic()
                    if report.first_message_at is None:
                        report.first_message_at = time.time()
                if loop.due() or (loop.pending and idle_stop is not None
                                  and time.monotonic() - last_message >= min(idle_stop, 1.0)):  # fmt: skip
                    landed()  # one landing in flight at most: offsets are committed in order
                    landing = lands.submit(loop.land, loop.take(), after_landing)
            landed()
            landing = lands.submit(loop.land, loop.take(), after_landing)
            landed()
        finally:
            if landing is not None:
                landing.cancel()
                wait([landing])
            loop.close()
    return report


def kill_after_landing(n: int) -> Callable[[LandReport], None]:
    """A crash hook (tests): SIGKILL this process after the ``n``-th landing, before its offsets are
    committed, the worst moment for exactly-once."""
    count = {"landed": 0}

    def hook(_report: LandReport) -> None:
        count["landed"] += 1
        if count["landed"] >= n:
            log.warning("killing the consumer after landing %d micro-batch(es), before the commit", n)
            logging.shutdown()
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


__all__ = ["Cycle", "StreamConsumer", "StreamReport", "batch_id", "consume", "parse_messages", "topics"]


def graceful_stop(echo: Callable[[str], None]) -> threading.Event:
    """An event set by SIGTERM or a first Ctrl-C, so the landing (or refresh) in progress finishes;
    a second Ctrl-C stops now. SIGINT is handled also when started in the background, where it is ignored."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def interrupted(*_: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        echo("stopping after the landing in progress (Ctrl-C again to stop now)")
        stop.set()

    signal.signal(signal.SIGINT, interrupted)
    return stop
