"""The Spark Thrift Server with Iceberg: its Spark settings, its SPARK_CONF_DIR (hive-site.xml naming the
Derby metastore, log4j2), the spark-submit command, and the service that starts, reuses and stops it.
"""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path
from xml.sax.saxutils import escape

import psutil

from lakehouse.platform.errors import LakehouseError, first_line
from lakehouse.platform.settings import Settings
from lakehouse.services.process import launch, port_answers, port_in_use
from lakehouse.services.runtime import iceberg_jar, java_binary, spark_env, spark_home
from lakehouse.services.service import LakehouseService, ServiceStatus, State

log = logging.getLogger(__name__)

THRIFT_MAIN_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"


def spark_conf(settings: Settings) -> dict[str, str]:
    """Spark settings of the embedded Thrift server: one machine by default, overridable."""
    data = settings.data_dir
    conf = {
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        "spark.sql.catalog.spark_catalog": "org.apache.iceberg.spark.SparkSessionCatalog",
        "spark.sql.catalog.spark_catalog.type": "hive",
        # Each Thrift session (each dbt thread) has its own catalog; with Iceberg's table cache one of them
        # can read a table as it was up to 30 s before another session rewrote it (a review status missed by
        # the anomaly merge, seen in CI). Every query loads the table's current metadata instead.
        "spark.sql.catalog.spark_catalog.cache-enabled": "false",
        "spark.sql.warehouse.dir": str(settings.warehouse_dir),
        # The metastore's database is in hive-site.xml (spark_conf_dir), not here: Spark's Hive client and
        # Iceberg's must see the same DataNucleus settings, or each switch between them builds a new
        # persistence manager factory and drops the other (72 per build on a small lake, each with its own
        # Derby pool and a full GC on finalization).
        "spark.lakehouse.metastore": str(settings.metastore_dir),  # tells our server from others (process())
        # The embedded Derby metastore has no HIVE_LOCKS table; the pipeline keeps runs from overlapping.
        "spark.hadoop.iceberg.engine.hive.lock-enabled": "false",
        "spark.hadoop.hive.metastore.schema.verification": "false",
        # Iceberg mirrors a table's schema into the metastore on every commit; Hive's default refuses a commit
        # whose column at some position changed type, so a model that gains a column in the middle (a new
        # version of the project on an existing lake) could not be replaced. Iceberg checks schemas itself.
        "spark.hadoop.hive.metastore.disallow.incompatible.col.type.changes": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": settings.get("SPARK_SHUFFLE_PARTITIONS"),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.port": settings.get("SPARK_UI_PORT"),
        "spark.local.dir": str(data / "spark-tmp"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={data / 'derby'} -Duser.timezone=UTC",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        # spark.buffer.pageSize stays Spark's default: 1 MB pages (tried for small jobs) are still humongous
        # G1 objects at a 2 GB heap (1 MB regions), each taking two regions, and the incremental merge into a
        # 2M-line fact ran out of heap (benchmarks/bench_warehouse.py); with the default it passes.
    }
    if not settings.get("SPARK_MASTER").startswith("local"):
        # executors run in their own JVMs: they need the same clock settings as the driver
        conf["spark.executor.extraJavaOptions"] = "-Duser.timezone=UTC"
    if settings.get("ICEBERG_PACKAGES"):
        conf["spark.jars.packages"] = settings.get("ICEBERG_PACKAGES")
    conf.update(settings.extra_spark_conf)
    return conf


HIVE_SITE = """<?xml version="1.0"?>
<configuration>
  <property>
    <name>javax.jdo.option.ConnectionURL</name>
    <value>jdbc:derby:;databaseName={metastore};create=true</value>
  </property>
  <property>
    <name>datanucleus.schema.autoCreateAll</name>
    <value>true</value>
  </property>
</configuration>
"""


# Spark's own default layout, at SPARK_LOG_LEVEL (WARN: INFO wrote ~60,000 lines per build of a small lake);
# the Thrift server's statement log stays at INFO (one line per statement received).
LOG4J2 = """rootLogger.level = {level}
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{{yy/MM/dd HH:mm:ss}} %p %c{{1}}: %m%n%ex
logger.thriftserver.name = org.apache.spark.sql.hive.thriftserver.SparkExecuteStatementOperation
logger.thriftserver.level = info
logger.thriftstart.name = org.apache.spark.sql.hive.thriftserver.HiveThriftServer2
logger.thriftstart.level = info
logger.hiveconf.name = org.apache.hadoop.hive.conf.HiveConf
logger.hiveconf.level = error
# a few lines each time the metastore's DataNucleus factory is built: once per start (see spark_conf)
logger.datanucleus.name = DataNucleus.Persistence
logger.datanucleus.level = info
"""


def spark_conf_dir(settings: Settings) -> Path:
    """SPARK_CONF_DIR of the embedded server: a hive-site.xml naming the Derby metastore, read by Spark's Hive
    client and by Iceberg's Hive catalog alike."""
    conf_dir = settings.data_dir / "spark-conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    (conf_dir / "hive-site.xml").write_text(HIVE_SITE.format(metastore=escape(str(settings.metastore_dir))))
    (conf_dir / "log4j2.properties").write_text(LOG4J2.format(level=settings.get("SPARK_LOG_LEVEL").lower()))
    return conf_dir


def spark_command(settings: Settings) -> list[str]:
    cmd = [
        str(spark_home() / "bin" / "spark-submit"),
        "--master", settings.get("SPARK_MASTER"),
        "--name", "lakehouse-thrift-server",
        "--driver-memory", settings.get("SPARK_DRIVER_MEMORY"),
    ]  # fmt: skip
    if not settings.get("ICEBERG_PACKAGES"):
        # --driver-class-path, not --jars: the SQL extensions fail under the Thrift server otherwise.
        cmd += ["--driver-class-path", str(iceberg_jar(settings))]
        if not settings.get("SPARK_MASTER").startswith("local"):
            cmd += ["--jars", str(iceberg_jar(settings))]  # shipped to the executors by the driver
    for key, value in spark_conf(settings).items():
        cmd += ["--conf", f"{key}={value}"]
    cmd += [
        "--class", THRIFT_MAIN_CLASS, "spark-internal",
        "--hiveconf", f"hive.server2.thrift.bind.host={settings.thrift_host}",
        "--hiveconf", f"hive.server2.thrift.port={settings.thrift_port}",
        "--hiveconf", "hive.server2.async.exec.threads=8",
        "--hiveconf", "hive.server2.async.exec.keepalive.time=600",
    ]  # fmt: skip
    return cmd


class SparkThrift(LakehouseService):
    name = "spark-thrift"

    def __init__(self, settings: Settings):
        self.s = settings
        self.pid_file = settings.run_dir / "spark-thrift.pid"
        self.log_file = settings.log_dir / "spark-thrift.log"
        # The data dir in the command line tells our server from any other Thrift server.
        self.marker = str(settings.metastore_dir)

    @property
    def endpoint(self) -> str:
        return f"{self.s.thrift_host}:{self.s.thrift_port}"

    @property
    def external(self) -> bool:
        return not self.s.spark_embedded

    def answers(self, timeout: float = 30) -> bool:
        """A real query, not just an open port: the metastore is up when `show databases` works."""
        from pyhive import hive

        try:
            conn = hive.connect(host=self.s.thrift_host, port=self.s.thrift_port, username="lakehouse")
            try:
                cur = conn.cursor()
                cur.execute("show databases")
                cur.fetchall()
            finally:
                conn.close()
            return True
        except Exception as exc:
            log.debug("thrift not answering yet: %s", first_line(str(exc)))
            return False

    def external_up(self) -> str:
        self.preflight()
        return f"external at {self.endpoint}"

    def reuse(self, proc: psutil.Process) -> None:
        if not self._wait_ready(proc, time.monotonic() + self.s.typed.SPARK_START_TIMEOUT):
            raise LakehouseError(f"Spark Thrift Server (pid {proc.pid}) runs but does not answer.")

    def start(self) -> int:
        java = self.preflight()
        for d in (
            self.s.run_dir,
            self.s.log_dir,
            self.s.warehouse_dir,
            self.s.data_dir / "spark-tmp",
        ):
            d.mkdir(parents=True, exist_ok=True)
        env = spark_env(java)
        env["SPARK_CONF_DIR"] = str(spark_conf_dir(self.s))
        env.pop("PYSPARK_SUBMIT_ARGS", None)
        popen = launch(spark_command(self.s), self.log_file, self.pid_file, self.s.data_dir, env)
        deadline = time.monotonic() + self.s.typed.SPARK_START_TIMEOUT
        if not self._wait_ready(psutil.Process(popen.pid), deadline, popen):
            reason = self.give_up(popen, grace=self.grace)
            raise LakehouseError(
                f"Spark Thrift Server did not start ({reason}); see {self.log_file} or run `make logs`."
            )
        return popen.pid

    def preflight(self) -> str:
        """Checks that need no start: Java present, jar found, port free. Returns the java binary."""
        if self.external:
            if not port_answers(self.s.thrift_host, self.s.thrift_port, timeout=5):
                raise LakehouseError(
                    f"External Spark Thrift Server {self.endpoint} is unreachable "
                    "(LAKEHOUSE_SPARK=external): check SPARK_THRIFT_HOST/SPARK_THRIFT_PORT."
                )
            return ""
        if self.process() is not None:
            return ""
        java = java_binary()
        if not self.s.get("ICEBERG_PACKAGES"):
            iceberg_jar(self.s)
        if port_in_use(self.s.thrift_host, self.s.thrift_port):
            raise LakehouseError(
                f"Port {self.endpoint} is already in use by another program: stop it or set "
                "SPARK_THRIFT_PORT to a free port."
            )
        return java

    def _wait_ready(
        self, proc: psutil.Process, deadline: float, popen: subprocess.Popen | None = None
    ) -> bool:
        while time.monotonic() < deadline:
            if popen is not None and popen.poll() is not None:
                return False
            if not proc.is_running():
                return False
            if port_answers(self.s.thrift_host, self.s.thrift_port) and self.answers():
                return True
            time.sleep(1)
        return False

    def external_status(self) -> ServiceStatus:
        state = State.EXTERNAL if port_answers(self.s.thrift_host, self.s.thrift_port) else State.UNREACHABLE
        return ServiceStatus(self.name, state, self.endpoint)
