"""Streaming benchmark: Kafka -> raw batches (the consumer of ``python -m ingestion consume``), and the
latency from produce to the lake.

Prints `name: value unit` lines:
  stream_events                        clickstream events published (BENCH_STREAM_EVENTS, default 400,000)
  stream_parse_events_per_second       message values -> contract columns (pyarrow.json), alone
  stream_first_batch_seconds           the first micro-batch on a new lake (2,000 events): the server's
                                       warm-up (first manifest merge, first Iceberg commits), paid once
  stream_landing_events_per_second     then the consumer's steady state (ingestion.stream.consume: a
                                       micro-batch is parsed and registered while the next is fetched):
                                       fetch, parse, Parquet, register, commit; from the first message to
                                       the last commit (goal: 50,000 or more on 2 cores)
  stream_landing_lake_side_events_per_second   the same events over the micro-batches' land + register +
                                       commit time alone (without waiting for the broker's fetches)
  stream_landing_batch_seconds         the mean micro-batch: land + register + commit
  stream_produce_to_lake_seconds       a small batch published while the consumer runs: from its send to
                                       its registration in raw._batches (STREAM_BATCH_SECONDS 2 here)
  stream_small_batch_seconds           that micro-batch's landing + commit: nearly all of it the fixed cost of
                                       registration (manifest MERGEs, partitions), paid once per micro-batch
  stream_produce_to_gold_seconds       `python -m flows stream` (debounce 2 s): 1,000 events published,
                                       landed, transformed (the stream refresh flow: what reads the landed
                                       source) and exported; from the newest event's produce time to the
                                       end of the export. A lake without a recorded build first gets one
                                       refresh run (what a deployment's first scheduled run leaves); the
                                       first stream cycle is not counted: this is the second
                                       (BENCH_STREAM_GOLD=0 skips the phase)
  stream_transform_cycle_seconds       that cycle's stream refresh flow alone (goal: latency under it
                                       plus 10 s)

Needs the project venv. Starts its own Spark Thrift Server and PostgreSQL (benchmarks/_bench_env.py) and its
own embedded Kafka broker (BENCH_KAFKA_PORT, default 19592), lands into the raw schema of that data
directory. The broker is Tansu in memory (the only Kafka that installs here): on a real Kafka cluster the
fetch side is faster, the landing side (parse, Parquet, registration) is the same.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["KAFKA_EMBEDDED_PORT"] = os.environ.get("BENCH_KAFKA_PORT", "19592")
os.environ.pop("KAFKA_BOOTSTRAP_SERVERS", None)
import json

from _bench_env import keep_services  # the services of the benchmarks (sets the environment)

from ingestion.contract import SOURCES
from ingestion.generate import GeneratorConfig, build_world, clickstream
from ingestion.publish import ensure_topics, send
from ingestion.stream import Cycle, StreamReport, consume, parse_messages
from lakehouse import services
from lakehouse.platform.settings import Settings, load_settings
from lakehouse.services.kafka import EmbeddedKafka

EVENTS = int(os.environ.get("BENCH_STREAM_EVENTS", "400000"))


def emit(name: str, value: float, unit: str) -> None:
    text = f"{value:,.0f}" if unit in ("events", "events/s") else f"{value:.2f}"
    print(f"{name}: {text} {unit}", flush=True)


def events(n: int, seed: int = 26) -> list[bytes]:
    """``n`` generated clickstream events as JSON; another ``seed`` gives other event ids."""
    out: list[bytes] = []
    day = 0
    while len(out) < n:
        config = GeneratorConfig(seed=seed + 1000 * day, days=1, sessions_per_day=max(100, n // 11))
        world = build_world(config)
        out += [json.dumps(e).encode() for e in clickstream.sessions(world, 0)]
        day += 1
    return out[:n]


def batched_producer(settings: Settings) -> object:
    """A batching producer: fast enough to fill the topic before the consumer starts. (The embedded broker
    then reports a wrong high watermark, which a consumer group reading from committed offsets never uses.)"""
    from confluent_kafka import Producer

    from lakehouse.services.kafka import client_conf

    return Producer(client_conf(settings, **{"linger.ms": 20, "batch.num.messages": 10000,
                                            "queue.buffering.max.messages": 1_000_000}))  # fmt: skip


def consume_all(settings: Settings, values: list[bytes]) -> StreamReport:
    """``values`` published to the clickstream topic, then consumed (micro-batches of up to 200,000 messages)
    until the topic is idle."""
    send(settings, (("clickstream_events", None, v) for v in values), prod=batched_producer(settings))
    return consume(settings, sources=("clickstream_events",), batch_seconds=30, batch_messages=200_000,
                   idle_stop=5)  # fmt: skip


def landing(settings: Settings, values: list[bytes]) -> None:
    t0 = time.perf_counter()
    parse_messages(values, list(range(len(values))), SOURCES["clickstream_events"])
    emit("stream_parse_events_per_second", len(values) / (time.perf_counter() - t0), "events/s")

    # a running consumer's steady state: a new lake's first landing pays the server's warm-up once (its first
    # manifest merge and Iceberg commits, seconds), so a small micro-batch lands first, timed on its own
    warm = consume_all(settings, events(2000, seed=7000))
    emit("stream_first_batch_seconds", warm.cycles[0].seconds, "s")
    # the consumer of `python -m ingestion consume`: a micro-batch lands while the next is fetched
    report = consume_all(settings, values)
    cycles = report.cycles
    received = report.messages
    assert report.first_message_at is not None and received == len(values), f"received {received}"
    seconds = max(c.landed_at for c in cycles) - report.first_message_at
    emit("stream_landing_events_per_second", len(values) / seconds, "events/s")
    lake_side = sum(c.seconds for c in cycles)
    emit("stream_landing_lake_side_events_per_second", len(values) / lake_side, "events/s")
    emit("stream_landing_batch_seconds", statistics.mean(c.seconds for c in cycles), "s")


def produce_to_lake(settings: Settings) -> None:
    """A consumer runs; 1,000 events are published at once; seconds until their batch is registered."""
    stop = threading.Event()
    landed: list[Cycle] = []
    worker = threading.Thread(
        target=consume, args=(settings,),
        kwargs={"sources": ("clickstream_events",), "batch_seconds": 2, "stop": stop,
                "on_cycle": landed.append},
    )  # fmt: skip
    worker.start()
    time.sleep(8)  # the group join (about 4 s on the embedded broker)
    values = events(1000, seed=6000)
    sent = time.time()
    send(settings, (("clickstream_events", None, v) for v in values))
    deadline = time.monotonic() + 120
    while sum(c.messages for c in landed) < len(values) and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    worker.join()
    assert landed, "nothing landed"
    emit("stream_produce_to_lake_seconds", landed[-1].landed_at - sent, "s")
    emit("stream_small_batch_seconds", landed[-1].seconds, "s")


def produce_to_gold(settings: Settings) -> None:
    """Two cycles of the stream flow, each after 1,000 events; the second is the steady state."""
    import flows  # noqa: F401  (exports the settings before Prefect is imported)
    from flows import changes, console
    from flows.pipeline import refresh_run
    from flows.stream import TransformCycle, stream, stream_refresh_run

    console.activate(settings.log_dir)
    if not (changes.state_dir(settings) / changes.MANIFEST).is_file():
        refresh_run(wait_for_lock_seconds=600)  # a deployment's first scheduled run: the build state
    cycles: list[TransformCycle] = []
    cycled = threading.Event()

    def publisher() -> None:
        time.sleep(8)  # the group join
        for n in range(2):
            send(settings, (("clickstream_events", None, v) for v in events(1000, seed=7000 + n)))
            while len(cycles) <= n:
                cycled.wait(1)

    def done(line: str) -> None:
        print(f"# {line}", flush=True)

    def refresh(landed: set[str]) -> float:
        return stream_refresh_run(landed, wait_for_lock_seconds=600)

    threading.Thread(target=publisher, daemon=True).start()
    stream(settings, refresh, debounce=2, max_wait=30, echo=done, max_cycles=2,
           on_transformed=lambda c: (cycles.append(c), cycled.set()))  # fmt: skip
    last = cycles[-1]
    assert last.newest_latency is not None
    emit("stream_produce_to_gold_seconds", last.newest_latency, "s")
    emit("stream_transform_cycle_seconds", last.transform_seconds, "s")


def main() -> None:
    run = uuid.uuid4().hex[:8]
    names = {"KAFKA_TOPIC_CLICKSTREAM_EVENTS": f"bench-clicks-{run}", "KAFKA_GROUP_ID": f"bench-{run}",
             "KAFKA_TOPIC_ORDER_LINES": f"bench-lines-{run}"}  # fmt: skip
    os.environ.update(names)
    settings = load_settings(names)
    services.up(settings, echo=lambda _msg: None)
    broker = EmbeddedKafka(settings)
    broker.up()
    try:
        ensure_topics(settings, ("clickstream_events",), partitions=2)
        emit("stream_events", EVENTS, "events")
        landing(settings, events(EVENTS))
        later = load_settings({**names, "KAFKA_TOPIC_CLICKSTREAM_EVENTS": f"bench-latency-{run}"})
        ensure_topics(later, ("clickstream_events",), partitions=2)
        produce_to_lake(later)
        if os.environ.get("BENCH_STREAM_GOLD", "1") == "1":
            gold = load_settings({**names, "KAFKA_TOPIC_CLICKSTREAM_EVENTS": f"bench-gold-{run}",
                                  "KAFKA_GROUP_ID": f"bench-gold-{run}"})  # fmt: skip
            ensure_topics(gold, ("clickstream_events",), partitions=2)
            os.environ.update(KAFKA_TOPIC_CLICKSTREAM_EVENTS=gold.typed.KAFKA_TOPIC_CLICKSTREAM_EVENTS,
                              KAFKA_GROUP_ID=gold.typed.KAFKA_GROUP_ID)  # fmt: skip
            produce_to_gold(gold)
    finally:
        if not keep_services():
            broker.down()
            services.down(settings, echo=lambda _msg: None)


if __name__ == "__main__":
    main()
