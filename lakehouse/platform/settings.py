"""The one place where configuration is resolved, typed and validated.

Order: ``load_settings(overrides)``, then environment variables, then an optional ``.env`` file at the
repository root (never overriding the environment), then the defaults below. Every variable is read once, by
pydantic-settings, into :class:`LakehouseConfig`: ports, timeouts and sizes are numbers, choices are enums,
flags are booleans. A value that does not fit is a :class:`ConfigError` (one line naming the variable and what
it accepts), raised by :func:`load_settings` before anything starts.

Every other module, ``profiles/profiles.yml`` (through ``env_var()``), the Makefile and the flows read their
settings from here: typed through ``settings.typed.NAME``, as text through ``settings.get(NAME)``;
:func:`Settings.dbt_env` exports them to dbt. The README's configuration table and ``.env.example`` are
generated from the fields (``python -m lakehouse config [--format env]``), so they cannot drift apart.
"""

from __future__ import annotations

import os
import secrets
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from lakehouse.platform.errors import LakehouseError

REPO_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(LakehouseError, ValueError):
    """A configuration value that cannot be used; the message names the variable and what it accepts."""


# ---------- value types: what each kind of variable accepts, in words (the second half of an error)
class Accepts:
    """Marker in a type's metadata: what a variable of that type accepts, as shown to the user."""

    def __init__(self, text: str) -> None:
        self.text = text


class Choice(StrEnum):
    """A closed set of values, matched without regard to case (``EXTERNAL`` is ``external``)."""

    @classmethod
    def _missing_(cls, value: object) -> Choice | None:
        if isinstance(value, str):
            for member in cls:
                if member.value.lower() == value.strip().lower():
                    return member
        return None


class SparkMode(Choice):
    EMBEDDED = "embedded"
    EXTERNAL = "external"


class DbtTarget(Choice):
    LOCAL = "local"
    CLUSTER = "cluster"
    CLUSTER_KERBEROS = "cluster_kerberos"
    CLUSTER_LDAP = "cluster_ldap"


class LogLevel(Choice):
    ERROR = "ERROR"
    WARN = "WARN"
    INFO = "INFO"
    DEBUG = "DEBUG"


class ThriftAuth(Choice):
    """The ``auth`` modes PyHive accepts."""

    NONE = "NONE"
    NOSASL = "NOSASL"
    LDAP = "LDAP"
    CUSTOM = "CUSTOM"
    KERBEROS = "KERBEROS"


def parse_spark_conf(text: str) -> dict[str, str]:
    """``key=value`` pairs separated by ``;`` (SPARK_EXTRA_CONF) as a dict."""
    conf = {}
    for pair in (p.strip() for p in text.split(";")):
        if not pair:
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"entry {pair!r} is not key=value")
        conf[key.strip()] = value.strip()
    return conf


def _check_spark_conf(text: str) -> str:
    parse_spark_conf(text)
    return text


Port = Annotated[int, Field(ge=1, le=65535), Accepts("an integer (TCP port 1-65535)")]
Count = Annotated[int, Field(ge=1), Accepts("a whole number, at least 1")]
Rows = Annotated[int, Field(ge=0), Accepts("a whole number, 0 or more")]
Seconds = Annotated[float, Field(gt=0), Accepts("a number of seconds greater than 0")]
WholeSeconds = Annotated[int, Field(ge=1), Accepts("a whole number of seconds, at least 1")]
Days = Annotated[float, Field(ge=0), Accepts("a number of days, 0 or more")]
Flag = Annotated[bool, Accepts("true or false (also yes/no, on/off, 1/0)")]
Memory = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[0-9]+[mMgG]$"),
    Accepts("a JVM memory size in megabytes or gigabytes, such as 512m or 2g"),
]
SparkConf = Annotated[
    str,
    AfterValidator(_check_spark_conf),
    Accepts("`key=value` pairs separated by `;`"),
]


class LakehouseConfig(BaseModel):
    """Every setting of the project, typed. Field order is the order of the README table and
    ``.env.example``; each field's description is its documentation there."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    LAKEHOUSE_DATA_DIR: str = Field(
        ".lakehouse",
        description=(
            "Everything the project writes: warehouse, metastore, Postgres data, logs, Prefect home. "
            "Relative paths are relative to the repository."
        ),
    )
    LAKEHOUSE_RAW_URI: str = Field(
        "",
        description=(
            "Root of the raw (bronze) zone: a local path or a URI (`s3://`, `hdfs://`, `gs://`); "
            "default `<data dir>/warehouse/raw`."
        ),
    )
    LAKEHOUSE_SPARK: SparkMode = Field(
        SparkMode.EMBEDDED,
        description=(
            "`embedded` starts a local Spark Thrift Server; `external` uses the one at "
            "SPARK_THRIFT_HOST:SPARK_THRIFT_PORT and starts nothing."
        ),
    )
    SPARK_THRIFT_HOST: str = Field(
        "127.0.0.1",
        description=("Host of the Spark Thrift Server (bind address when embedded)."),
    )
    SPARK_THRIFT_PORT: Port = Field(10000, description="Port of the Spark Thrift Server.")
    SPARK_THRIFT_AUTH: ThriftAuth = Field(
        ThriftAuth.NONE,
        description=(
            "PyHive auth: NONE or NOSASL (`cluster`), LDAP or CUSTOM (`cluster_ldap`); target "
            "`cluster_kerberos` is KERBEROS."
        ),
    )
    SPARK_THRIFT_SSL: Flag = Field(False, description="Use TLS to the Thrift server (cluster targets).")
    SPARK_THRIFT_KERBEROS_SERVICE: str = Field(
        "hive",
        description=("Kerberos service name (target `cluster_kerberos`)."),
    )
    SPARK_THRIFT_USER: str = Field("", description="User name for the `cluster` target (optional).")
    SPARK_THRIFT_PASSWORD: str = Field(
        "",
        description=("Password for the `cluster_ldap` target (LDAP/CUSTOM auth)."),
    )
    SPARK_MASTER: str = Field("local[2]", description="Spark master of the embedded server.")
    SPARK_DRIVER_MEMORY: Memory = Field("2g", description="Driver memory of the embedded server.")
    SPARK_LOG_LEVEL: LogLevel = Field(
        LogLevel.WARN,
        description="Log level of the embedded server's `spark-thrift.log` (statements are always logged).",
    )
    SPARK_SHUFFLE_PARTITIONS: Count = Field(
        4,
        description=("spark.sql.shuffle.partitions (few on one machine; AQE coalesces)."),
    )
    SPARK_UI_PORT: Port = Field(
        4040,
        description=("Port of the Spark UI of the embedded server (bound to 127.0.0.1)."),
    )
    SPARK_EXTRA_CONF: SparkConf = Field(
        "",
        description=(
            "Extra Spark settings for the embedded server, `key=value` pairs separated by `;` (they "
            "override the defaults)."
        ),
    )
    CLUSTER_DIR: str = Field(
        "",
        description=(
            "Data directory of `make cluster-up` (its metastore, warehouse, logs); default `<data "
            "dir>/cluster`."
        ),
    )
    CLUSTER_WORKERS: Count = Field(
        2,
        description=("Workers of the local standalone cluster (each its own JVM)."),
    )
    CLUSTER_WORKER_CORES: Count = Field(1, description="Cores each worker offers.")
    CLUSTER_WORKER_MEMORY: Memory = Field(
        "1g",
        description=("Memory each worker offers (its executor gets this minus overhead)."),
    )
    CLUSTER_MASTER_PORT: Port = Field(
        7077,
        description=("Port of the standalone master (`spark://127.0.0.1:<port>`)."),
    )
    CLUSTER_MASTER_UI_PORT: Port = Field(
        8080,
        description=("Web UI of the master; workers take the next ports."),
    )
    CLUSTER_THRIFT_PORT: Port = Field(
        10001,
        description=("Port of the Thrift server submitted to the local cluster."),
    )
    CLUSTER_UI_PORT: Port = Field(4041, description="Spark UI (and REST API) of that Thrift server.")
    ICEBERG_JAR: str = Field(
        "",
        description=(
            "Path of an Iceberg Spark runtime jar; default: the jar of the "
            "`snowpark-connect-deps-iceberg` wheel."
        ),
    )
    ICEBERG_PACKAGES: str = Field(
        "",
        description=(
            "Maven coordinates for spark.jars.packages instead of a jar (needs Maven access), e.g. "
            "`org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.9.2`."
        ),
    )
    SPARK_START_TIMEOUT: Seconds = Field(
        180.0,
        description=("Seconds to wait for the Thrift server to answer."),
    )
    ICEBERG_SNAPSHOT_RETENTION_HOURS: Annotated[
        float, Field(gt=0), Accepts("a number of hours greater than 0")
    ] = Field(
        168.0,
        description=(
            "Table maintenance keeps Iceberg snapshots this young for time travel (`VERSION AS OF`) and "
            "expires older ones (the newest always stays); orphan files go after this too, never before 24 "
            "hours."
        ),
    )
    MAINTENANCE_EVERY_N_RUNS: Rows = Field(
        48,
        description=(
            "Pipeline runs between two Iceberg table maintenances done at the end of a run (besides the "
            "weekly deployment); `0`: only the weekly one."
        ),
    )
    GOLD_DATABASE_URL: str = Field(
        "",
        description=(
            "libpq URL of an existing PostgreSQL for the gold schema; when set, no PostgreSQL is started."
        ),
    )
    GOLD_PG_HOST: str = Field("127.0.0.1", description="Listen address of the embedded PostgreSQL.")
    GOLD_PG_PORT: Port = Field(15432, description="TCP port of the embedded PostgreSQL.")
    GOLD_PG_USER: str = Field("lakehouse", description="Owner role of the embedded PostgreSQL.")
    GOLD_PG_PASSWORD: str = Field(
        "",
        description=(
            "Password of that role; default: generated on first start and kept in `<data "
            "dir>/postgres/password` (mode 600)."
        ),
    )
    GOLD_PG_DATABASE: str = Field("lakehouse", description="Database holding the `gold` schema.")
    PG_START_TIMEOUT: WholeSeconds = Field(60, description="Seconds to wait for PostgreSQL to answer.")
    GOLD_WRITER_PASSWORD: str = Field(
        "",
        description=(
            "Password of `gold_writer` (the pipeline's role: export and `dbt --target gold`); default: "
            "generated once and kept in `<data dir>/postgres/gold_writer.password` (mode 600)."
        ),
    )
    GOLD_READER_PASSWORD: str = Field(
        "",
        description=(
            "Password of `gold_reader` (read-only role for BI tools, `make gold-url`); default: "
            "generated once and kept in `<data dir>/postgres/gold_reader.password` (mode 600)."
        ),
    )
    GOLD_PII_KEY: str = Field(
        "",
        description=(
            "Secret key of the HMAC that replaces PII columns (tagged `pii` in dbt) in gold; default: "
            "generated once and kept in `<data dir>/postgres/pii.key` (mode 600)."
        ),
    )
    GOLD_BACKUP_DIR: str = Field(
        "",
        description=("Where `make backup` writes `pg_dump` files; default `<data dir>/backups`."),
    )
    GOLD_BACKUP_KEEP_DAYS: Days = Field(
        7.0,
        description=("Backups older than this many days are deleted by `make backup`."),
    )
    ALERT_SMTP_HOST: str = Field(
        "",
        description=("SMTP server for anomaly alerts; unset: alerts are only logged."),
    )
    ALERT_SMTP_PORT: Port = Field(587, description="Its port.")
    ALERT_SMTP_STARTTLS: Flag = Field(
        True,
        description=("Upgrade the SMTP connection with STARTTLS (`true`/`false`)."),
    )
    ALERT_SMTP_USER: str = Field("", description="SMTP login (optional).")
    ALERT_SMTP_PASSWORD: str = Field("", description="SMTP password (with ALERT_SMTP_USER).")
    ALERT_SMTP_SENDER: str = Field("lakehouse@localhost", description="From address of the alerts.")
    ALERT_SMTP_RECIPIENTS: str = Field("", description="Comma-separated recipients of the alerts.")
    ALERT_MAX_ROWS: Rows = Field(
        50,
        description=("Flags listed per table in an alert e-mail (the rest are counted)."),
    )
    SUPERSET_PORT: Port = Field(
        8088,
        description=("Port of `make dashboard` (Apache Superset, bound to 127.0.0.1)."),
    )
    SUPERSET_ADMIN_USER: str = Field("admin", description="Superset's admin user.")
    SUPERSET_ADMIN_PASSWORD: str = Field(
        "",
        description=(
            "Its password; default: generated once, printed by the first `make dashboard` and kept in "
            "`<data dir>/superset/admin.password` (mode 600)."
        ),
    )
    SUPERSET_SECRET_KEY: str = Field(
        "",
        description=(
            "Key Superset signs sessions and encrypts stored credentials with; default: generated once "
            "and kept in `<data dir>/superset/secret_key` (mode 600)."
        ),
    )
    SUPERSET_START_TIMEOUT: Seconds = Field(
        180.0,
        description=("Seconds to wait for Superset's `/health` to answer."),
    )
    DBT_TARGET: DbtTarget = Field(
        DbtTarget.LOCAL,
        description=(
            "dbt target for the lake: `local` (embedded), `cluster`, `cluster_kerberos` or `cluster_ldap`."
        ),
    )
    DBT_SCHEMA: str = Field(
        "analytics",
        description=("Default dbt schema on Spark (custom schemas are used as named)."),
    )


class _FromSources(BaseSettings, LakehouseConfig):
    """:class:`LakehouseConfig` read by pydantic-settings: init arguments (the overrides), then the
    environment, then the ``.env`` file (given per call, as ``_env_file``), then the defaults."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", frozen=True)


FIELDS = LakehouseConfig.model_fields


def as_text(value: Any) -> str:
    """The string form of a typed value, as the environment, dbt's profiles and the docs spell it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def accepts(name: str) -> str:
    """What variable ``name`` accepts, in words."""
    field = FIELDS[name]
    for marker in field.metadata:
        if isinstance(marker, Accepts):
            return marker.text
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, Choice):
        return "one of " + ", ".join(member.value for member in annotation)
    return "text"


# name -> (default, description), as text: the README's configuration table is generated from it
# (`python -m lakehouse config`), so documentation and code cannot drift apart.
VARIABLES: dict[str, tuple[str, str]] = {
    name: (as_text(field.default), field.description or "") for name, field in FIELDS.items()
}


def _error(exc: ValidationError) -> ConfigError:
    problems = []
    for err in exc.errors(include_url=False):
        name = str(err["loc"][0]) if err["loc"] else "?"
        if name in FIELDS:
            detail = f" ({err['ctx']['error']})" if err["type"] == "value_error" else ""
            problems.append(f"{name}={err.get('input')!r} is not valid: expected {accepts(name)}{detail}")
        else:
            problems.append(f"{name}: {err['msg']}")
    return ConfigError("; ".join(problems))


def _as_path(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path)


@dataclass(frozen=True, init=False)
class Settings:
    """Resolved settings. Build with :func:`load_settings`; ``Settings(mapping)`` validates a mapping of
    variable names to values (the rest take their defaults, the environment is not read)."""

    typed: LakehouseConfig

    def __init__(self, values: LakehouseConfig | Mapping[str, Any]) -> None:
        if not isinstance(values, LakehouseConfig):
            try:
                values = LakehouseConfig.model_validate(dict(values))
            except ValidationError as exc:
                raise _error(exc) from None
        object.__setattr__(self, "typed", values)

    @property
    def values(self) -> dict[str, str]:
        """Every variable as text (a new dict each time: spread it into overrides)."""
        return {name: as_text(getattr(self.typed, name)) for name in FIELDS}

    def get(self, name: str) -> str:
        """Variable ``name`` as text (``str(int)``, ``true``/``false``, an enum's value)."""
        if name not in FIELDS:
            raise KeyError(name)
        return as_text(getattr(self.typed, name))

    # ---------- paths
    @cached_property
    def data_dir(self) -> Path:
        return _as_path(self.typed.LAKEHOUSE_DATA_DIR)

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
        return _as_path(self.typed.CLUSTER_DIR) if self.typed.CLUSTER_DIR else self.data_dir / "cluster"

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
        return self.typed.LAKEHOUSE_SPARK is SparkMode.EMBEDDED

    @property
    def thrift_host(self) -> str:
        return self.typed.SPARK_THRIFT_HOST

    @property
    def thrift_port(self) -> int:
        return self.typed.SPARK_THRIFT_PORT

    @property
    def extra_spark_conf(self) -> dict[str, str]:
        return parse_spark_conf(self.typed.SPARK_EXTRA_CONF)

    # ---------- postgres
    @property
    def pg_embedded(self) -> bool:
        return not self.typed.GOLD_DATABASE_URL

    @property
    def pg_port(self) -> int:
        return self.typed.GOLD_PG_PORT

    @property
    def pg_password_file(self) -> Path:
        return self.pg_root / "password"

    @property
    def pg_password(self) -> str:
        """The embedded server's password: from the environment, else generated once and kept."""
        if self.typed.GOLD_PG_PASSWORD:
            return self.typed.GOLD_PG_PASSWORD
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
            _as_path(self.typed.GOLD_BACKUP_DIR) if self.typed.GOLD_BACKUP_DIR else self.data_dir / "backups"
        )

    @property
    def gold_url(self) -> str:
        """libpq URL of the gold database (external or embedded)."""
        if not self.pg_embedded:
            return self.typed.GOLD_DATABASE_URL
        from lakehouse.platform.pgurl import PgUrl

        typed = self.typed
        return str(PgUrl(typed.GOLD_PG_HOST, self.pg_port, typed.GOLD_PG_USER, self.pg_password,
                         typed.GOLD_PG_DATABASE))  # fmt: skip

    # ---------- dbt
    def dbt_env(self) -> dict[str, str]:
        """Environment for dbt (and every child process): what profiles.yml reads through env_var()."""
        from lakehouse.platform.pgurl import PgUrl

        url = PgUrl.parse(self.gold_url)
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
            "GOLD_PG_HOST": url.host,
            "GOLD_PG_PORT": str(url.port),
            "GOLD_PG_USER": url.user,
            "GOLD_PG_PASSWORD": url.password,
            "GOLD_PG_DATABASE": url.database,
            # the `gold` dbt target connects as the pipeline's writer role (lakehouse/gold/roles.py)
            "GOLD_WRITER_PASSWORD": self.kept_secret("GOLD_WRITER_PASSWORD", "gold_writer.password"),
            "PREFECT_HOME": str(self.prefect_home),
            "LAKEHOUSE_DATA_DIR": str(self.data_dir),
        }
        return env


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Resolve settings: ``overrides`` > environment > ``.env`` > defaults. Raises :class:`ConfigError`
    (one line) for a value a variable does not accept, or an override that names no variable."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(FIELDS))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}: see `python -m lakehouse config`")
    try:
        typed = _FromSources(_env_file=REPO_ROOT / ".env", **overrides)
    except ValidationError as exc:
        raise _error(exc) from None
    return Settings(typed)


# ---------- generated documentation
def markdown_table() -> str:
    """The README's configuration table."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, (default, doc) in VARIABLES.items():
        lines.append(f"| `{name}` | `{default}` | {doc} |" if default else f"| `{name}` | | {doc} |")
    return "\n".join(lines)


def env_example() -> str:
    """``.env.example``: every variable, commented out at its default, with its meaning."""
    lines = [
        "# Configuration of the lakehouse. Copy to `.env` (repository root) and uncomment what you change.",
        "# Order: environment variables > .env > these defaults. Generated from the fields of",
        "# lakehouse/platform/settings.py by `python -m lakehouse config --format env > .env.example`;",
        "# a test keeps it current.",
    ]
    for name, (default, doc) in VARIABLES.items():
        lines.append("")
        lines.extend(textwrap.wrap(doc, 106, initial_indent="# ", subsequent_indent="# "))
        if accepts(name) != "text":
            lines.append(f"# Accepts {accepts(name)}.")
        lines.append(f"#{name}={default}")
    return "\n".join(lines) + "\n"
