"""Kafka -> lake -> marts, exactly once, on a real broker (the embedded Tansu), Spark/Iceberg and dbt.

One story: the generator's clickstream events and order lines are published with duplicates and poison
messages; a consumer process lands its first micro-batch and is killed (SIGKILL) before it commits its
offsets; more messages arrive; a second consumer re-reads from the committed offsets (none), re-lands the
same batch ids (replaced, not duplicated) and the rest. Every expected figure comes from what was published.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter

import pytest

from ingestion.enrich import refresh_lookups
from ingestion.generate import DirtRates, GeneratorConfig, generate_dataset
from ingestion.inputs import file_inputs
from ingestion.land import land_inputs
from ingestion.publish import ensure_topics, generated_messages, send
from ingestion.stream import consume
from lakehouse.platform.settings import Settings, load_settings
from lakehouse.platform.sql import SparkSQL
from tests.support.warehouse import run_dbt

pytestmark = pytest.mark.integration

CONFIG = GeneratorConfig(
    seed=26, days=1, products=40, customers=80, lines_per_day=300, sessions_per_day=150,
    dirt=DirtRates(bot_sessions=0.1),
)  # fmt: skip
BUILD = ["build", "--select", "+path:models/marts/clickstream", "path:tests/dbt/clickstream",
         "--indirect-selection", "cautious", "--exclude-resource-type", "unit_test"]  # fmt: skip
POISON = [
    ("clickstream_events", b"s-poison", b"<html>not json</html>"),
    ("clickstream_events", None, b'{"event_id": "poison-no-time", "session_id": "s-poison"}'),
    ("order_lines", None, b"\x00\x01 binary junk"),
]


@pytest.fixture(scope="module")
def stream(lake: Settings, kafka_broker, empty_lake_and_gold, tmp_path_factory) -> Settings:
    """An empty lake with the generated master data landed, and topics and a group of this run's own."""
    empty_lake_and_gold()
    files = generate_dataset(CONFIG, tmp_path_factory.mktemp("src"), progress=False)
    master = [str(f) for f in files if f.parent.name not in ("order_lines", "clickstream_events")]
    assert land_inputs(lake, file_inputs(master), progress=False).failed == []
    run = uuid.uuid4().hex[:8]
    names = {
        "KAFKA_TOPIC_CLICKSTREAM_EVENTS": f"clicks-{run}",
        "KAFKA_TOPIC_ORDER_LINES": f"lines-{run}",
        "KAFKA_GROUP_ID": f"lake-{run}",
    }
    os.environ.update(names)  # the consumer processes and dbt inherit them
    settings = load_settings(names)
    ensure_topics(settings, partitions=2)
    yield settings
    for name in names:
        os.environ.pop(name, None)


def _consumer_process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ingestion", "consume", *args],
        capture_output=True, text=True, env=os.environ.copy(), timeout=300,
    )  # fmt: skip


def _committed(settings: Settings) -> dict[tuple[str, int], int]:
    from confluent_kafka import Consumer, TopicPartition

    from lakehouse.services.kafka import client_conf

    c = Consumer(client_conf(settings, **{"group.id": settings.typed.KAFKA_GROUP_ID}))
    try:
        topics = (settings.typed.KAFKA_TOPIC_CLICKSTREAM_EVENTS, settings.typed.KAFKA_TOPIC_ORDER_LINES)
        parts = [TopicPartition(t, p) for t in topics for p in (0, 1)]
        return {(tp.topic, tp.partition): tp.offset for tp in c.committed(parts, timeout=10)}
    finally:
        c.close()


def _json(value: bytes) -> dict | None:
    try:
        obj = json.loads(value)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def test_killed_between_landing_and_commit_every_event_lands_exactly_once(stream: Settings):
    messages = list(generated_messages(CONFIG, duplicates=0.05))
    half = len(messages) // 2
    first, rest = messages[:half] + POISON[:1], POISON[1:] + messages[half:]
    published = Counter(src for src, _k, _v in first + rest)
    events = [_json(v) for src, _k, v in first + rest if src == "clickstream_events"]
    event_ids = [e["event_id"] for e in events if e is not None]
    assert len(event_ids) > len(set(event_ids)) > 1000  # duplicates among a few thousand events

    # 1. a consumer lands what is there, and dies before its commit
    send(stream, first)
    killed = _consumer_process("--batch-seconds", "2", "--idle-stop", "20", "--kill-after-landing", "1")
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    with SparkSQL(stream) as spark:
        landed = spark.query("select batch_id, rows from raw._batches where status = 'succeeded' "
                             "and file like 'kafka://%'")  # fmt: skip
    assert landed and sum(r[1] for r in landed) <= len(first)  # landed ...
    assert set(_committed(stream).values()) == {-1001}  # ... and nothing committed (OFFSET_INVALID)

    # 2. more messages; a new consumer starts from the committed offsets (none): same batch ids again
    send(stream, rest)
    report = consume(stream, batch_seconds=2, idle_stop=4)
    assert report.messages == len(first) + len(rest)
    relanded = {o.batch_id for c in report.cycles for o in c.report.outcomes}
    assert {r[0] for r in landed} <= relanded  # replaced (or skipped when the same), never added
    committed = _committed(stream)
    assert sum(committed.values()) == len(first) + len(rest)  # every partition committed up to its end

    with SparkSQL(stream) as spark:
        # the raw tables hold every published message once: (partition, offset) unique, counts as sent
        for src in ("clickstream_events", "order_lines"):
            offsets = (
                "split(_source_file, '/')[3], "
                "cast(split(split(_source_file, '/')[4], '-')[0] as bigint) + _row_number - 1"
            )
            total, unique = spark.query(
                f"select count(*), count(distinct {offsets}) from raw.{src} where _source_file like 'kafka://%'"
            )[0]
            assert total == unique == published[src], src
        poison_rows = spark.query(
            "select _extra from raw.order_lines where _extra like '%_kafka_value%'"
        )  # fmt: skip
        assert len(poison_rows) == 1 and "binary junk" in poison_rows[0][0]
        statuses = spark.query("select status, count(*) from raw._batches group by status")
        assert dict(statuses).keys() == {"succeeded"}

        # 3. the incremental clickstream models: each event once, the poison quarantined, every batch closed
        refresh_lookups(spark)
        run_dbt(*BUILD)
        fact, distinct_fact = spark.query("select count(*), count(distinct event_id) from marts.fct_events")[
            0
        ]
        bots = spark.scalar("select count(*) from marts.mart_bot_events")
        assert fact == distinct_fact
        quarantined = spark.query(
            "select event_id, failure_reasons from marts.quarantine_clickstream_events order by event_id"
        )
        assert len(quarantined) == 2
        assert quarantined[0][0] is None and "missing_event_id" in quarantined[0][1]
        assert quarantined[1][0] == "poison-no-time" and "unreadable_event_time" in quarantined[1][1]
        good_ids = set(event_ids) - {"poison-no-time"}
        assert fact + bots == len(good_ids)
        ledger = spark.query(
            "select sum(landed_events), sum(duplicate_events), sum(quarantined_events), "
            "max(unreconciled_events), min(unreconciled_events), count(*) "
            "from marts.audit_clickstream_reconciliation"
        )[0]
        clickstream_batches = spark.scalar(
            "select count(*) from raw._batches where source = 'clickstream_events'"
        )
        duplicates = len(event_ids) - len(set(event_ids))
        assert ledger == (published["clickstream_events"], duplicates, 2, 0, 0, clickstream_batches)
