"""The one place where configuration is resolved.

Order: environment variables, then an optional ``.env`` file at the repository root (never overriding the
environment), then the defaults below. Every other module, ``profiles/profiles.yml`` (through ``env_var()``),
the Makefile and the flows read their settings from here; :func:`Settings.dbt_env` exports them to dbt.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import quote

from dotenv import dotenv_values

REPO_ROOT = Path(__file__).resolve().parent.parent

# name -> (default, description). The README's configuration table is generated from this mapping
# (`python -m lakehouse config`), so documentation and code cannot drift apart.
VARIABLES: dict[str, tuple[str, str]] = {
    "LAKEHOUSE_DATA_DIR": (
        ".lakehouse",
        "Everything the project writes: warehouse, metastore, Postgres data, logs, Prefect home. "
        "Relative paths are relative to the repository.",
    ),
    "LAKEHOUSE_RAW_URI": (
        "",
        "Root of the raw (bronze) zone: a local path or a URI (`s3://`, `hdfs://`, `gs://`); "
        "default `<data dir>/warehouse/raw`.",
    ),
    "LAKEHOUSE_SPARK": (
        "embedded",
        "`embedded` starts a local Spark Thrift Server; `external` uses the one at "
        "SPARK_THRIFT_HOST:SPARK_THRIFT_PORT and starts nothing.",
    ),
    "SPARK_THRIFT_HOST": (
        "127.0.0.1",
        "Host of the Spark Thrift Server (bind address when embedded).",
    ),
    "SPARK_THRIFT_PORT": ("10000", "Port of the Spark Thrift Server."),
    "SPARK_THRIFT_AUTH": (
        "NONE",
        "PyHive auth: NONE or NOSASL (`cluster`), LDAP or CUSTOM (`cluster_ldap`); target "
        "`cluster_kerberos` is KERBEROS.",
    ),
    "SPARK_THRIFT_SSL": ("false", "Use TLS to the Thrift server (cluster targets)."),
    "SPARK_THRIFT_KERBEROS_SERVICE": ("hive", "Kerberos service name (target `cluster_kerberos`)."),
    "SPARK_THRIFT_USER": ("", "User name for the `cluster` target (optional)."),
    "SPARK_THRIFT_PASSWORD": ("", "Password for the `cluster_ldap` target (LDAP/CUSTOM auth)."),
    "SPARK_MASTER": ("local[2]", "Spark master of the embedded server."),
    "SPARK_DRIVER_MEMORY": ("2g", "Driver memory of the embedded server."),
    "SPARK_SHUFFLE_PARTITIONS": (
        "4",
        "spark.sql.shuffle.partitions (few on one machine; AQE coalesces).",
    ),
    "SPARK_UI_PORT": ("4040", "Port of the Spark UI of the embedded server (bound to 127.0.0.1)."),
    "SPARK_EXTRA_CONF": (
        "",
        "Extra Spark settings for the embedded server, `key=value` pairs separated by `;` "
        "(they override the defaults).",
    ),
    "CLUSTER_DIR": (
        "",
        "Data directory of `make cluster-up` (its metastore, warehouse, logs); default `<data dir>/cluster`.",
    ),
    "CLUSTER_WORKERS": ("2", "Workers of the local standalone cluster (each its own JVM)."),
    "CLUSTER_WORKER_CORES": ("1", "Cores each worker offers."),
    "CLUSTER_WORKER_MEMORY": ("1g", "Memory each worker offers (its executor gets this minus overhead)."),
    "CLUSTER_MASTER_PORT": ("7077", "Port of the standalone master (`spark://127.0.0.1:<port>`)."),
    "CLUSTER_MASTER_UI_PORT": ("8080", "Web UI of the master; workers take the next ports."),
    "CLUSTER_THRIFT_PORT": ("10001", "Port of the Thrift server submitted to the local cluster."),
    "CLUSTER_UI_PORT": ("4041", "Spark UI (and REST API) of that Thrift server."),
    "ICEBERG_JAR": (
        "",
        "Path of an Iceberg Spark runtime jar; default: the jar of the "
        "`snowpark-connect-deps-iceberg` wheel.",
    ),
    "ICEBERG_PACKAGES": (
        "",
        "Maven coordinates for spark.jars.packages instead of a jar (needs Maven access), e.g. "
        "`org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.9.2`.",
    ),
    "SPARK_START_TIMEOUT": ("180", "Seconds to wait for the Thrift server to answer."),
    "GOLD_DATABASE_URL": (
        "",
        "libpq URL of an existing PostgreSQL for the gold schema; when set, no PostgreSQL is started.",
    ),
    "GOLD_PG_HOST": ("127.0.0.1", "Listen address of the embedded PostgreSQL."),
    "GOLD_PG_PORT": ("15432", "TCP port of the embedded PostgreSQL."),
    "GOLD_PG_USER": ("lakehouse", "Owner role of the embedded PostgreSQL."),
    "GOLD_PG_PASSWORD": (
        "",
        "Password of that role; default: generated on first start and kept in "
        "`<data dir>/postgres/password` (mode 600).",
    ),
    "GOLD_PG_DATABASE": ("lakehouse", "Database holding the `gold` schema."),
    "PG_START_TIMEOUT": ("60", "Seconds to wait for PostgreSQL to answer."),
    "GOLD_WRITER_PASSWORD": (
        "",
        "Password of `gold_writer` (the pipeline's role: export and `dbt --target gold`); default: "
        "generated once and kept in `<data dir>/postgres/gold_writer.password` (mode 600).",
    ),
    "GOLD_READER_PASSWORD": (
        "",
        "Password of `gold_reader` (read-only role for BI tools, `make gold-url`); default: generated "
        "once and kept in `<data dir>/postgres/gold_reader.password` (mode 600).",
    ),
    "GOLD_PII_KEY": (
        "",
        "Secret key of the HMAC that replaces PII columns (tagged `pii` in dbt) in gold; default: "
        "generated once and kept in `<data dir>/postgres/pii.key` (mode 600).",
    ),
    "GOLD_BACKUP_DIR": ("", "Where `make backup` writes `pg_dump` files; default `<data dir>/backups`."),
    "GOLD_BACKUP_KEEP_DAYS": ("7", "Backups older than this many days are deleted by `make backup`."),
    "ALERT_SMTP_HOST": ("", "SMTP server for anomaly alerts; unset: alerts are only logged."),
    "ALERT_SMTP_PORT": ("587", "Its port."),
    "ALERT_SMTP_STARTTLS": ("true", "Upgrade the SMTP connection with STARTTLS (`true`/`false`)."),
    "ALERT_SMTP_USER": ("", "SMTP login (optional)."),
    "ALERT_SMTP_PASSWORD": ("", "SMTP password (with ALERT_SMTP_USER)."),
    "ALERT_SMTP_SENDER": ("lakehouse@localhost", "From address of the alerts."),
    "ALERT_SMTP_RECIPIENTS": ("", "Comma-separated recipients of the alerts."),
    "ALERT_MAX_ROWS": ("50", "Flags listed per table in an alert e-mail (the rest are counted)."),
    "SUPERSET_PORT": ("8088", "Port of `make dashboard` (Apache Superset, bound to 127.0.0.1)."),
    "SUPERSET_ADMIN_USER": ("admin", "Superset's admin user."),
    "SUPERSET_ADMIN_PASSWORD": (
        "",
        "Its password; default: generated once, printed by the first `make dashboard` and kept in "
        "`<data dir>/superset/admin.password` (mode 600).",
    ),
    "SUPERSET_SECRET_KEY": (
        "",
        "Key Superset signs sessions and encrypts stored credentials with; default: generated once and "
        "kept in `<data dir>/superset/secret_key` (mode 600).",
    ),
    "SUPERSET_START_TIMEOUT": ("180", "Seconds to wait for Superset's `/health` to answer."),
    "DBT_TARGET": (
        "local",
        "dbt target for the lake: `local` (embedded), `cluster`, `cluster_kerberos` or `cluster_ldap`.",
    ),
    "DBT_SCHEMA": ("analytics", "Default dbt schema on Spark (custom schemas are used as named)."),
}


def _as_path(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path)


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Build with :func:`load_settings`."""

    values: dict[str, str] = field(repr=False)

    def get(self, name: str) -> str:
        return self.values[name]

    # ---------- paths
    @cached_property
    def data_dir(self) -> Path:
        return _as_path(self.get("LAKEHOUSE_DATA_DIR"))

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def warehouse_dir(self) -> Path:
        return self.data_dir / "warehouse"

    @property
    def cluster_dir(self) -> Path:
        return _as_path(self.get("CLUSTER_DIR")) if self.get("CLUSTER_DIR") else self.data_dir / "cluster"

    @property
    def metastore_dir(self) -> Path:
        return self.data_dir / "metastore_db"

    @property
    def pg_root(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def superset_home(self) -> Path:
        return self.data_dir / "superset"

    @property
    def prefect_home(self) -> Path:
        return self.data_dir / "prefect"

    @property
    def dbt_target_path(self) -> Path:
        return self.data_dir / "dbt" / "target"

    @property
    def dbt_log_path(self) -> Path:
        return self.data_dir / "dbt" / "logs"

    # ---------- spark
    @property
    def spark_embedded(self) -> bool:
        return self.get("LAKEHOUSE_SPARK").lower() != "external"

    @property
    def thrift_host(self) -> str:
        return self.get("SPARK_THRIFT_HOST")

    @property
    def thrift_port(self) -> int:
        return int(self.get("SPARK_THRIFT_PORT"))

    @property
    def extra_spark_conf(self) -> dict[str, str]:
        pairs = [p.strip() for p in self.get("SPARK_EXTRA_CONF").split(";") if p.strip()]
        conf = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep:
                raise ValueError(f"SPARK_EXTRA_CONF entry {pair!r} is not key=value")
            conf[key.strip()] = value.strip()
        return conf

    # ---------- postgres
    @property
    def pg_embedded(self) -> bool:
        return not self.get("GOLD_DATABASE_URL")

    @property
    def pg_port(self) -> int:
        return int(self.get("GOLD_PG_PORT"))

    @property
    def pg_password_file(self) -> Path:
        return self.pg_root / "password"

    @property
    def pg_password(self) -> str:
        """The embedded server's password: from the environment, else generated once and kept."""
        if self.get("GOLD_PG_PASSWORD"):
            return self.get("GOLD_PG_PASSWORD")
        if self.pg_password_file.exists():
            return self.pg_password_file.read_text().strip()
        self.pg_root.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(18)
        fd = os.open(self.pg_password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(password + "\n")
        return password

    def kept_secret(self, variable: str, filename: str, directory: Path | None = None) -> str:
        """``variable`` from the environment, else a secret generated once and kept (mode 600) in
        ``directory`` (default ``<data dir>/postgres``)."""
        if self.get(variable):
            return self.get(variable)
        directory = directory or self.pg_root
        path = directory / filename
        if path.exists():
            return path.read_text().strip()
        directory.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(18)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process generated it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(secret + "\n")
        return secret

    @property
    def backup_dir(self) -> Path:
        return (
            _as_path(self.get("GOLD_BACKUP_DIR"))
            if self.get("GOLD_BACKUP_DIR")
            else self.data_dir / "backups"
        )

    @property
    def gold_url(self) -> str:
        """libpq URL of the gold database (external or embedded)."""
        if not self.pg_embedded:
            return self.get("GOLD_DATABASE_URL")
        user = quote(self.get("GOLD_PG_USER"), safe="")
        password = quote(self.pg_password, safe="")
        host, port, db = self.get("GOLD_PG_HOST"), self.pg_port, self.get("GOLD_PG_DATABASE")
        return f"postgresql://{user}:{password}@{host}:{port}/{db}"

    # ---------- dbt
    def dbt_env(self) -> dict[str, str]:
        """Environment for dbt (and every child process): what profiles.yml reads through env_var()."""
        from urllib.parse import unquote, urlparse

        url = urlparse(self.gold_url)
        env = {
            "DBT_PROFILES_DIR": str(REPO_ROOT / "profiles"),
            "DBT_PROJECT_DIR": str(REPO_ROOT),
            "DBT_TARGET": self.get("DBT_TARGET"),
            "DBT_TARGET_PATH": str(self.dbt_target_path),
            "DBT_LOG_PATH": str(self.dbt_log_path),
            "DBT_SCHEMA": self.get("DBT_SCHEMA"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "SPARK_THRIFT_HOST": self.thrift_host,
            "SPARK_THRIFT_PORT": str(self.thrift_port),
            "SPARK_THRIFT_AUTH": self.get("SPARK_THRIFT_AUTH"),
            "SPARK_THRIFT_USER": self.get("SPARK_THRIFT_USER"),
            "SPARK_THRIFT_PASSWORD": self.get("SPARK_THRIFT_PASSWORD"),
            "SPARK_THRIFT_SSL": self.get("SPARK_THRIFT_SSL"),
            "SPARK_THRIFT_KERBEROS_SERVICE": self.get("SPARK_THRIFT_KERBEROS_SERVICE"),
            "GOLD_PG_HOST": url.hostname or "127.0.0.1",
            "GOLD_PG_PORT": str(url.port or 5432),
            "GOLD_PG_USER": unquote(url.username or ""),
            "GOLD_PG_PASSWORD": unquote(url.password or ""),
            "GOLD_PG_DATABASE": (url.path or "/").lstrip("/") or "postgres",
            # the `gold` dbt target connects as the pipeline's writer role (lakehouse/gold.py)
            "GOLD_WRITER_PASSWORD": self.kept_secret("GOLD_WRITER_PASSWORD", "gold_writer.password"),
            "PREFECT_HOME": str(self.prefect_home),
            "LAKEHOUSE_DATA_DIR": str(self.data_dir),
        }
        return env


def load_settings(overrides: dict[str, str] | None = None) -> Settings:
    """Resolve settings: ``overrides`` > environment > ``.env`` > defaults."""
    dotenv_file = REPO_ROOT / ".env"
    from_file = {k: v for k, v in dotenv_values(dotenv_file).items() if v is not None}
    values = {}
    for name, (default, _doc) in VARIABLES.items():
        values[name] = os.environ.get(name, from_file.get(name, default))
    values.update(overrides or {})
    return Settings(values)
