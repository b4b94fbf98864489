"""`python -m flows stream`, the path a user takes: Kafka -> lake -> marts -> gold, on the embedded broker,
the real Spark/Iceberg, dbt and PostgreSQL.

Clickstream events and order lines are published (a share twice, poison messages among them) before the
flow starts as a process; it lands them, builds what reads the landed sources and exports those marts; once
its cycle lines account for every message it is stopped with SIGTERM and must exit cleanly. Every expected
figure is computed here from what was published.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

import psycopg
import pytest

from ingestion.generate import DirtRates, GeneratorConfig, generate_dataset
from ingestion.inputs import file_inputs
from ingestion.land import land_inputs
from ingestion.publish import ensure_topics, generated_messages, send
from lakehouse.platform.settings import REPO_ROOT, Settings, load_settings
from lakehouse.platform.sql import SparkSQL

pytestmark = pytest.mark.integration

CONFIG = GeneratorConfig(
    seed=27, days=1, products=30, customers=60, lines_per_day=120, sessions_per_day=40, dirt=DirtRates.clean()
)
POISON = [
    ("clickstream_events", b"s-poison", b"<html>not json</html>"),
    ("order_lines", None, b"\x00\x01 binary junk"),
    ("order_lines", None, b'{"invoice_no": "P-1", "stock_code": "X", "quantity": "1"}'),  # no date
]
CYCLE = re.compile(r"cycle (\d+): ([\d,]+) message\(s\).*produce -> gold ([\d.]+) s \(newest\)")


@pytest.fixture(scope="module")
def stream_env(lake: Settings, kafka_broker, empty_lake_and_gold, tmp_path_factory) -> dict[str, str]:
    """An empty lake and gold with the generated master data landed; topics and a group of this run's own."""
    empty_lake_and_gold()
    files = generate_dataset(CONFIG, tmp_path_factory.mktemp("src"), progress=False)
    master = [str(f) for f in files if f.parent.name not in ("order_lines", "clickstream_events")]
    assert land_inputs(lake, file_inputs(master), progress=False).failed == []
    run = uuid.uuid4().hex[:8]
    names = {
        "KAFKA_TOPIC_CLICKSTREAM_EVENTS": f"flow-clicks-{run}",
        "KAFKA_TOPIC_ORDER_LINES": f"flow-lines-{run}",
        "KAFKA_GROUP_ID": f"flow-{run}",
        "STREAM_BATCH_SECONDS": "2",
    }
    ensure_topics(load_settings(names), partitions=2)
    return {**os.environ, **names}


def _json(value: bytes) -> dict | None:
    try:
        obj = json.loads(value)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def _run_flow_until(env: dict[str, str], messages: int, timeout: float) -> tuple[list[str], int]:
    """Start `python -m flows stream`, wait until its cycle lines count ``messages``, SIGTERM it; its
    output lines and exit status."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows", "stream", "--debounce", "1", "--max-wait", "20"], cwd=REPO_ROOT,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if sum(int(m.group(2).replace(",", "")) for m in map(CYCLE.search, list(lines)) if m) >= messages:
                break
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=10)
    return lines, status


def test_flows_stream_takes_every_event_to_the_marts_and_gold_once(stream_env: dict[str, str]) -> None:
    settings = load_settings({k: stream_env[k] for k in ("KAFKA_TOPIC_CLICKSTREAM_EVENTS",
                              "KAFKA_TOPIC_ORDER_LINES", "KAFKA_GROUP_ID")})  # fmt: skip
    messages = list(generated_messages(CONFIG, duplicates=0.03)) + POISON
    published = Counter(src for src, _k, _v in messages)
    events = [e for src, _k, v in messages if src == "clickstream_events" and (e := _json(v)) is not None]
    lines = [e for src, _k, v in messages if src == "order_lines" and (e := _json(v)) and "invoice_date" in e]
    event_ids = [e["event_id"] for e in events]
    line_keys = [tuple(sorted(e.items())) for e in lines]
    assert len(event_ids) > len(set(event_ids)) and len(line_keys) > len(set(line_keys))  # duplicates sent
    send(settings, messages)

    output, status = _run_flow_until(stream_env, len(messages), timeout=600)
    text = "".join(output)
    cycles = [m for m in map(CYCLE.search, output) if m]
    assert sum(int(m.group(2).replace(",", "")) for m in cycles) == len(messages), text
    assert status == 0, text  # SIGTERM: the landing or refresh in progress finishes, then a clean exit
    assert "Traceback" not in text, text
    print(f"\nflows stream: {len(cycles)} cycle(s), produce -> gold {cycles[-1].group(3)} s (newest)")

    with SparkSQL(settings) as spark:
        # raw: every message once, every batch closed
        for src in ("clickstream_events", "order_lines"):
            assert spark.scalar(f"select count(*) from raw.{src}") == published[src], src
        assert dict(spark.query("select status, count(*) from raw._batches group by status")).keys() == {
            "succeeded"
        }
        # clickstream marts: each event id once (a duplicate message is counted, never kept twice)
        facts = "select count(*), count(distinct event_id) from marts.fct_events"
        fact, distinct_fact = spark.query(facts)[0]
        assert fact == distinct_fact == len(set(event_ids))
        quarantined = spark.query("select event_id, failure_reasons from marts.quarantine_clickstream_events")
        assert len(quarantined) == 1 and quarantined[0][0] is None and "missing_event_id" in quarantined[0][1]
        ledger = spark.query(
            "select sum(landed_events), sum(duplicate_events), sum(quarantined_events), "
            "max(unreconciled_events), min(unreconciled_events), count(*) "
            "from marts.audit_clickstream_reconciliation"
        )[0]
        batches = spark.scalar("select count(*) from raw._batches where source = 'clickstream_events'")
        dup_events = len(event_ids) - len(set(event_ids))
        assert ledger == (published["clickstream_events"], dup_events, 1, 0, 0, batches)

        # order-line marts: each line once in the fact, both poison messages quarantined, every batch closed
        fact_lines = spark.scalar("select count(*) from marts.fct_order_lines")
        assert fact_lines == len(set(line_keys))
        quarantine = "select failure_reasons from marts.quarantine_order_lines"
        reasons = sorted(r[0] for r in spark.query(quarantine))
        assert len(reasons) == 2 and any("missing_invoice_no" in r for r in reasons), reasons
        assert any("date_error" in r and "missing_invoice_no" not in r for r in reasons), reasons
        ledger = spark.query(
            "select sum(landed_rows), sum(fact_rows), sum(quarantined_rows), sum(duplicate_rows), "
            "max(unreconciled_rows), min(unreconciled_rows), count(*) from marts.audit_batch_reconciliation"
        )[0]
        batches = spark.scalar("select count(*) from raw._batches where source = 'order_lines'")
        dup_lines = len(line_keys) - len(set(line_keys))
        assert ledger == (published["order_lines"], len(set(line_keys)), 2, dup_lines, 0, 0, batches)

    # gold: the order lines once, the clickstream marts of these sessions
    with psycopg.connect(settings.gold_url) as conn:
        gold_lines = conn.execute("select count(*), sum(quantity) from gold_marts.fct_order_lines").fetchone()
        expected_quantity = sum(int(dict(k)["quantity"]) for k in set(line_keys))
        assert gold_lines == (len(set(line_keys)), expected_quantity)
        sessions = conn.execute("select sum(sessions) from gold_marts.mart_device_usage").fetchone()
        assert sessions is not None and sessions[0] == len({e["session_id"] for e in events})
