"""The embedded Kafka broker service: started only on request, on 127.0.0.1, ours by its PID file and cluster
id, stopped with its port freed; commands that need it while it is down stop with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import Settings
from lakehouse.services.kafka import EmbeddedKafka, check_reachable
from lakehouse.services.process import port_answers, port_in_use
from lakehouse.services.service import State
from tests.support.ports import free_port


def test_embedded_broker_starts_on_request_answers_on_loopback_and_stops(tmp_path: Path):
    port = free_port()  # beside the session's broker (LAKEHOUSE_TEST_KAFKA_PORT)
    settings = Settings({"LAKEHOUSE_DATA_DIR": str(tmp_path / "data"), "KAFKA_EMBEDDED_PORT": port})
    broker = EmbeddedKafka(settings)
    assert broker.status().state is State.STOPPED
    with pytest.raises(LakehouseError, match="python -m lakehouse kafka up"):
        check_reachable(settings)  # never started implicitly
    try:
        assert broker.up().startswith("started")
        assert port_answers("127.0.0.1", port)
        assert broker.status().state is State.RUNNING
        assert broker.up().startswith("already running")
        proc = broker.process()
        assert proc is not None and f"tcp://127.0.0.1:{port}" in " ".join(proc.cmdline())
        check_reachable(settings)
        other = EmbeddedKafka(Settings({"LAKEHOUSE_DATA_DIR": str(tmp_path / "data"),
                                         "KAFKA_EMBEDDED_PORT": free_port()}))  # fmt: skip
        with pytest.raises(LakehouseError, match="another port"):
            other.up()
    finally:
        assert broker.down().startswith("stopped")
    assert not port_in_use("127.0.0.1", port)
    assert broker.status().state is State.STOPPED


def test_an_external_kafka_is_never_started_or_checked_here():
    settings = Settings({"KAFKA_BOOTSTRAP_SERVERS": "kafka.example.internal:9092"})
    assert EmbeddedKafka(settings).status().state is State.EXTERNAL
    check_reachable(settings)  # left to the client, which retries and reports
