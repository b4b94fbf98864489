"""A real Spark standalone cluster on this machine, to prove the project runs where executors are elsewhere.

``make cluster-up`` starts a master and ``CLUSTER_WORKERS`` workers (each its own JVM, bounded cores and
memory, all on 127.0.0.1) from the pyspark jars, then a Spark Thrift Server submitted to that master
(``--master spark://127.0.0.1:7077``): the Iceberg runtime on the driver's class path and shipped to the
executors (``--jars``), the same catalog, metastore and warehouse settings as the embedded server
(:func:`lakehouse.services.spark_thrift.spark_conf`), and its own data directory (``CLUSTER_DIR``). The
project then uses it like any external cluster, through environment variables only (``python -m lakehouse
cluster env``): ``LAKEHOUSE_SPARK=external``, ``SPARK_THRIFT_HOST/PORT``, ``DBT_TARGET=cluster``.

``make cluster-down`` stops the Thrift server, the workers (and the executors they launched) and the master,
then makes sure no JVM of the cluster's directory is left.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import Settings, load_settings
from lakehouse.services.process import kill_all, launch, pid_alive, port_in_use, processes_under, why_it_died
from lakehouse.services.runtime import java_binary, spark_env, spark_home
from lakehouse.services.service import Echo, Service, ServiceStatus
from lakehouse.services.spark_thrift import SparkThrift

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
DAEMON_MEMORY = "256m"  # heap of the master and worker daemons themselves (executors are separate JVMs)
START_TIMEOUT = 90.0


def master_url(settings: Settings) -> str:
    return f"spark://{HOST}:{settings.get('CLUSTER_MASTER_PORT')}"


def executor_memory(worker_memory: str) -> str:
    """What an executor may ask of a worker: its memory minus the executor's off-heap overhead (384 MB)."""
    value, unit = int(worker_memory[:-1]), worker_memory[-1].lower()
    mb = value * 1024 if unit == "g" else value
    if mb < 768:
        raise LakehouseError(
            f"CLUSTER_WORKER_MEMORY={worker_memory} is too small: a worker needs at least 768m."
        )
    return f"{mb - 384}m"


def thrift_settings(settings: Settings) -> Settings:
    """The settings of the Thrift server on the cluster: the embedded server's, in the cluster's directory,
    its own ports, the standalone master, and executors sized to the workers."""
    workers, cores = settings.typed.CLUSTER_WORKERS, settings.typed.CLUSTER_WORKER_CORES
    conf = {
        "spark.executor.cores": str(cores),
        "spark.executor.memory": executor_memory(settings.get("CLUSTER_WORKER_MEMORY")),
        "spark.cores.max": str(workers * cores),
        "spark.sql.shuffle.partitions": str(max(2, workers * cores)),
    }
    extra = ";".join(f"{k}={v}" for k, v in conf.items())
    if settings.get("SPARK_EXTRA_CONF"):
        extra += ";" + settings.get("SPARK_EXTRA_CONF")
    return load_settings(
        {
            **settings.values,
            "LAKEHOUSE_DATA_DIR": str(settings.cluster_dir),
            "LAKEHOUSE_SPARK": "embedded",
            "SPARK_THRIFT_HOST": HOST,
            "SPARK_THRIFT_PORT": settings.get("CLUSTER_THRIFT_PORT"),
            "SPARK_UI_PORT": settings.get("CLUSTER_UI_PORT"),
            "SPARK_MASTER": master_url(settings),
            "SPARK_DRIVER_MEMORY": "1g",
            "SPARK_EXTRA_CONF": extra,
        }
    )


def client_env(settings: Settings) -> dict[str, str]:
    """What a user sets to point the project at this cluster, exactly as at a YARN or Kubernetes one."""
    return {
        "LAKEHOUSE_SPARK": "external",
        "SPARK_THRIFT_HOST": HOST,
        "SPARK_THRIFT_PORT": settings.get("CLUSTER_THRIFT_PORT"),
        "SPARK_THRIFT_AUTH": "NONE",
        "DBT_TARGET": "cluster",
    }


class Daemon(Service):
    """A master or worker JVM started with ``spark-class``, known by its PID file and its command line."""

    grace = 20

    def __init__(self, name: str, main_class: str, args: list[str], marker: str, ui_port: int, dir: Path):
        self.name = name
        self.main_class = main_class
        self.args = args
        self.marker = marker  # a path in its command line: tells our daemon from any other
        self.ui_port = ui_port
        self.dir = dir
        self.pid_file = dir / "run" / f"{name}.pid"
        self.log_file = dir / "logs" / f"{name}.log"

    def start(self, java: str) -> int:
        proc = self.process()
        if proc is not None:
            return proc.pid
        if port_in_use(HOST, self.ui_port):
            raise LakehouseError(f"Port {HOST}:{self.ui_port} ({self.name} UI) is in use by another program.")
        for sub in ("run", "logs"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        env = spark_env(java) | {"SPARK_DAEMON_MEMORY": DAEMON_MEMORY, "SPARK_NO_DAEMONIZE": "1"}
        cmd = [str(spark_home() / "bin" / "spark-class"), self.main_class, *self.args]
        return launch(cmd, self.log_file, self.pid_file, self.dir, env).pid

    def describe(self, proc: psutil.Process) -> str:
        return f"pid {proc.pid}, UI http://{HOST}:{self.ui_port}"


class Cluster:
    def __init__(self, settings: Settings):
        self.s = settings
        self.dir = settings.cluster_dir
        self.thrift = SparkThrift(thrift_settings(settings))
        master_port, ui_port = (
            settings.get("CLUSTER_MASTER_PORT"),
            settings.typed.CLUSTER_MASTER_UI_PORT,
        )
        conf_file = self.dir / "conf" / "daemons.conf"
        self.master = Daemon(
            "master", "org.apache.spark.deploy.master.Master",
            ["--host", HOST, "--port", master_port, "--webui-port", str(ui_port),
             "--properties-file", str(conf_file)],
            str(conf_file), ui_port, self.dir,
        )  # fmt: skip
        self.workers: list[Daemon] = []
        for i in range(1, settings.typed.CLUSTER_WORKERS + 1):
            work = self.dir / "work" / f"worker-{i}"
            args = [
                "--host", HOST, "--cores", settings.get("CLUSTER_WORKER_CORES"),
                "--memory", settings.get("CLUSTER_WORKER_MEMORY"), "--webui-port", str(ui_port + i),
                "--work-dir", str(work), "--properties-file", str(conf_file), master_url(settings),
            ]  # fmt: skip
            self.workers.append(
                Daemon(
                    f"worker-{i}",
                    "org.apache.spark.deploy.worker.Worker",
                    args,
                    str(work),
                    ui_port + i,
                    self.dir,
                )
            )

    @property
    def master_ui(self) -> str:
        return f"http://{HOST}:{self.master.ui_port}"

    def master_state(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.master_ui}/json/", timeout=5) as resp:
            return json.load(resp)

    def alive_workers(self) -> int:
        try:
            return sum(1 for w in self.master_state().get("workers", []) if w.get("state") == "ALIVE")
        except OSError:
            return 0

    def up(self, echo: Echo = print) -> None:
        java = java_binary()
        (self.dir / "conf").mkdir(parents=True, exist_ok=True)
        # daemons bind to 127.0.0.1 (SPARK_LOCAL_IP) and keep no history of finished apps on disk
        (self.dir / "conf" / "daemons.conf").write_text(
            "spark.master.rest.enabled false\nspark.worker.cleanup.enabled true\n"
        )
        if self.master.process() is None and port_in_use(HOST, self.s.typed.CLUSTER_MASTER_PORT):
            raise LakehouseError(
                f"Port {HOST}:{self.s.get('CLUSTER_MASTER_PORT')} is in use by another program: "
                "stop it or set CLUSTER_MASTER_PORT."
            )
        self.thrift.preflight()
        pid = self.master.start(java)
        echo(f"master: pid {pid}, {master_url(self.s)}, UI {self.master_ui}")
        self._wait(self._master_answers, "the master", self.master, pid)
        for worker in self.workers:
            pid = worker.start(java)
            echo(f"{worker.name}: pid {pid}, UI http://{HOST}:{worker.ui_port}")
        self._wait(lambda: self.alive_workers() >= len(self.workers), "the workers", self.workers[-1], pid)
        echo(f"spark-thrift: {self.thrift.up()} (master {master_url(self.s)})")
        echo('point the project at it with: eval "$(python -m lakehouse cluster env)"')

    def _master_answers(self) -> bool:
        try:
            self.master_state()
            return True
        except OSError:
            return False

    def _wait(self, ready: Callable[[], bool], what: str, daemon: Daemon, pid: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if ready():
                return
            if not pid_alive(pid):  # not daemon.process(): its command line is empty while bash execs java
                break
            time.sleep(1)
        reason = why_it_died(daemon.log_file)
        self.down(echo=lambda _m: None)
        raise LakehouseError(
            f"The cluster did not start: {what} did not come up ({reason}); see {daemon.log_file}."
        )

    def down(self, echo: Echo = print) -> None:
        echo(f"spark-thrift: {self.thrift.down()}")
        for worker in reversed(self.workers):
            echo(f"{worker.name}: {worker.stop()}")
        echo(f"master: {self.master.stop()}")
        strays = kill_all(self.leftover_jvms(), grace=20)
        if strays:
            echo(f"stopped {strays} leftover JVM(s) of {self.dir}")

    def leftover_jvms(self) -> list[psutil.Process]:
        """Java processes started from the cluster's directory (command line or working directory)."""
        return processes_under(str(self.dir), jvms_only=True)

    def status(self) -> list[ServiceStatus]:
        return [self.master.status(), *(w.status() for w in self.workers), self.thrift.status()]

    def log_files(self) -> dict[str, Path]:
        return {d.name: d.log_file for d in (self.master, *self.workers)} | {
            "spark-thrift": self.thrift.log_file
        }
