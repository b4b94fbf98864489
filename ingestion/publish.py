"""The producer side of the streaming demo (``python -m ingestion publish``): the generator's clickstream
events and order lines, one JSON object per message, to their topics at a chosen rate.

Keys keep related messages in one partition, in order: the session id for clickstream events, the invoice
number for order lines. ``--duplicates`` sends a share of the messages twice (a producer retrying),
``--poison`` adds messages that are not JSON: the lake keeps each event once and quarantines the poison.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ingestion.generate.config import GeneratorConfig
from ingestion.stream import STREAM_SOURCES, topics
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import Settings
from lakehouse.services.kafka import check_reachable, client_conf, embedded

log = logging.getLogger(__name__)
KEYS = {"clickstream_events": "session_id", "order_lines": "invoice_no"}
Message = tuple[str, bytes | None, bytes]  # source, key, value


def ensure_topics(settings: Settings, sources: Iterable[str] = STREAM_SOURCES, partitions: int = 2) -> None:
    """Create the sources' topics when absent (a Kafka that forbids it keeps its own; a warning then)."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(client_conf(settings))
    existing = set(admin.list_topics(timeout=10).topics)
    wanted = [t for t, src in topics(settings, tuple(sources)).items() if t not in existing]
    if not wanted:
        return
    new = [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in wanted]
    futures = admin.create_topics(new)
    for topic, future in futures.items():
        try:
            future.result(timeout=30)
            log.info("created topic %s (%d partitions)", topic, partitions)
        except KafkaException as exc:
            err = exc.args[0]
            if err.code() != KafkaError.TOPIC_ALREADY_EXISTS:
                log.warning("could not create topic %s: %s", topic, err.str())


def producer(settings: Settings) -> Any:
    """A producer for the configured Kafka. The embedded broker (Tansu 0.6) reports a wrong high watermark
    for a batch of several records, so it gets one record per request; a real Kafka batches."""
    from confluent_kafka import Producer

    one_per_batch = {"batch.num.messages": 1, "linger.ms": 0} if embedded(settings) else {"linger.ms": 20}
    return Producer(client_conf(settings, **{"enable.idempotence": False, **one_per_batch}), logger=log)


@dataclass
class PublishReport:
    sent: dict[str, int] = field(default_factory=dict)  # topic -> messages
    seconds: float = 0.0

    @property
    def messages(self) -> int:
        return sum(self.sent.values())

    def summary(self) -> str:
        per_topic = ", ".join(f"{t}: {n:,}" for t, n in self.sent.items())
        rate = self.messages / self.seconds if self.seconds else 0
        return f"published {self.messages:,} message(s) in {self.seconds:.1f} s ({rate:,.0f}/s): {per_topic}"


def send(
    settings: Settings, messages: Iterable[Message], *, rate: float | None = None, prod: Any = None
) -> PublishReport:
    """Send ``messages`` (source, key, value) to the sources' topics, at most ``rate`` per second."""
    check_reachable(settings)
    topic_of = {src: topic for topic, src in topics(settings).items()}
    prod = prod or producer(settings)
    report = PublishReport()
    failures: list[str] = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            failures.append(err.str())

    began = time.monotonic()
    for n, (src, key, value) in enumerate(messages, start=1):
        topic = topic_of[src]
        while True:
            try:
                prod.produce(topic, value=value, key=key, on_delivery=delivered)
                break
            except BufferError:  # the local queue is full: let it drain
                prod.poll(0.1)
        report.sent[topic] = report.sent.get(topic, 0) + 1
        if n % 1000 == 0:
            prod.poll(0)
        if rate:
            ahead = n / rate - (time.monotonic() - began)
            if ahead > 0:
                prod.poll(min(ahead, 0.5))
                time.sleep(max(0.0, n / rate - (time.monotonic() - began)))
    left = prod.flush(60)
    report.seconds = time.monotonic() - began
    if left or failures:
        raise LakehouseError(
            f"{left + len(failures)} message(s) not delivered" + (f": {failures[0]}" if failures else "")
        )
    return report


def generated_messages(
    config: GeneratorConfig,
    sources: Iterable[str] = STREAM_SOURCES,
    *,
    duplicates: float = 0.0,
    poison: int = 0,
) -> Iterator[Message]:
    """The generator's days as messages, day by day (that day's order lines, then its clickstream); a share
    ``duplicates`` of them sent again right after, ``poison`` non-JSON messages spread over the topics."""
    from ingestion.generate import build_world, clickstream, orders

    wanted = set(sources)
    world = build_world(config)
    r = np.random.default_rng(config.seed + 26)
    lines = orders.hourly_batches(world) if "order_lines" in wanted else iter(())
    pending = next(lines, None)
    poison_left = poison
    for d in range(config.days):
        day: list[tuple[str, dict[str, Any]]] = []
        while pending is not None and pending[0] == d:
            day += [("order_lines", row) for row in pending[2].to_pylist()]
            pending = next(lines, None)
        if "clickstream_events" in wanted and config.sessions_per_day:
            day += [("clickstream_events", e) for e in clickstream.sessions(world, d)]
        again = r.random(len(day)) < duplicates
        for (src, row), twice in zip(day, again, strict=True):
            key = row.get(KEYS[src])
            msg = (src, None if key is None else str(key).encode(), json.dumps(row).encode())
            yield msg
            if twice:
                yield msg
        while poison_left > 0 and (d == config.days - 1 or r.random() < 0.5):
            src = sorted(wanted)[poison_left % len(wanted)]
            yield src, None, f"not json #{poison_left} {{".encode()
            poison_left -= 1
