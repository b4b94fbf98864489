"""The one place where configuration is resolved, typed and validated.

Order: ``load_settings(overrides)``, then environment variables, then an optional ``.env`` file at the
repository root (never overriding the environment), then the defaults. Every variable is read once, by
pydantic-settings, into :class:`LakehouseConfig`: ports, timeouts and sizes are numbers, choices are enums,
flags are booleans. A value that does not fit is a :class:`ConfigError` (one line naming the variable and what
it accepts), raised by :func:`load_settings` before anything starts.

Every other module, ``profiles/profiles.yml`` (through ``env_var()``), the Makefile and the flows read their
settings from here: typed through ``settings.typed.NAME``, as text through ``settings.get(NAME)``;
:func:`Settings.dbt_env` exports them to dbt. The README's configuration table and ``.env.example`` are
generated from the fields (``python -m lakehouse config [--format env]``), so they cannot drift apart.

This module resolves (:class:`Settings`, :func:`load_settings`); the variables, their defaults and meanings
are declared in ``variables``, what each kind of value accepts in ``values``, the generated documentation is
``settings_docs``. Every name is importable from here.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from lakehouse.platform.settings_docs import env_example, markdown_table
from lakehouse.platform.values import (
    ConfigError,
    DbtTarget,
    LogLevel,
    SparkMode,
    ThriftAuth,
    as_text,
    parse_spark_conf,
)
from lakehouse.platform.variables import FIELDS, VARIABLES, LakehouseConfig, accepts

__all__ = [
    "FIELDS",
    "REPO_ROOT",
    "VARIABLES",
    "ConfigError",
    "DbtTarget",
    "LakehouseConfig",
    "LogLevel",
    "Settings",
    "SparkMode",
    "ThriftAuth",
    "accepts",
    "as_text",
    "env_example",
    "load_settings",
    "markdown_table",
    "parse_spark_conf",
]

REPO_ROOT = Path(__file__).resolve().parents[2]


class _FromSources(BaseSettings, LakehouseConfig):
    """:class:`LakehouseConfig` read by pydantic-settings: init arguments (the overrides), then the
    environment, then the ``.env`` file (given per call, as ``_env_file``), then the defaults."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", frozen=True)


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
            # dbt vars read through env_var() in dbt_project.yml
            "LAKEHOUSE_CHURN_HORIZON_DAYS": self.get("LAKEHOUSE_CHURN_HORIZON_DAYS"),
            "LAKEHOUSE_ML_CUTOFF_STEP_DAYS": self.get("LAKEHOUSE_ML_CUTOFF_STEP_DAYS"),
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
        # _env_file is pydantic-settings' own argument, hidden from mypy by the fields' dataclass transform
        typed = _FromSources(_env_file=REPO_ROOT / ".env", **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise _error(exc) from None
    return Settings(typed)
