"""Configuration: one typed source, overrides over environment over .env over defaults."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from argparse import Namespace

import pytest

from lakehouse.platform import settings as config
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import (
    VARIABLES,
    ConfigError,
    DbtTarget,
    Settings,
    SparkMode,
    ThriftAuth,
    load_settings,
)


def test_defaults_bind_to_loopback_and_live_under_the_data_dir(monkeypatch, tmp_path):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)  # no .env there
    s = load_settings()
    assert s.thrift_host == "127.0.0.1"
    assert s.get("GOLD_PG_HOST") == "127.0.0.1"
    assert s.data_dir == tmp_path / ".lakehouse"
    for path in (s.warehouse_dir, s.metastore_dir, s.pg_root, s.log_dir, s.prefect_home, s.dbt_target_path):
        assert path.is_relative_to(s.data_dir)


def test_environment_wins_over_dotenv_file(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("SPARK_THRIFT_PORT=12345\nSPARK_DRIVER_MEMORY=3g\n")
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("SPARK_THRIFT_PORT", "23456")
    monkeypatch.delenv("SPARK_DRIVER_MEMORY", raising=False)
    s = load_settings()
    assert s.thrift_port == 23456
    assert s.get("SPARK_DRIVER_MEMORY") == "3g"


def test_relative_data_dir_is_relative_to_the_repository(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("LAKEHOUSE_DATA_DIR", "elsewhere/data")
    assert load_settings().data_dir == tmp_path / "elsewhere" / "data"


def test_extra_spark_conf_is_parsed_and_rejects_garbage_when_loaded(monkeypatch):
    monkeypatch.setenv("SPARK_EXTRA_CONF", "spark.a=1; spark.b = x=y ;")
    assert load_settings().extra_spark_conf == {"spark.a": "1", "spark.b": "x=y"}
    monkeypatch.setenv("SPARK_EXTRA_CONF", "spark.a")
    with pytest.raises(ConfigError, match=r"^SPARK_EXTRA_CONF='spark.a' is not valid: .*not key=value"):
        load_settings()


def test_generated_gold_password_is_kept_private_and_stable(monkeypatch, tmp_path):
    monkeypatch.setenv("LAKEHOUSE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("GOLD_PG_PASSWORD", raising=False)
    monkeypatch.delenv("GOLD_DATABASE_URL", raising=False)
    first = load_settings().pg_password
    assert len(first) >= 20
    assert load_settings().pg_password == first
    mode = stat.S_IMODE(load_settings().pg_password_file.stat().st_mode)
    assert mode == 0o600


def test_gold_url_comes_from_gold_database_url_when_set(monkeypatch):
    monkeypatch.setenv("GOLD_DATABASE_URL", "postgresql://bi:s%40cret@db.example:6543/shop")
    s = load_settings()
    assert not s.pg_embedded
    env = s.dbt_env()
    assert (env["GOLD_PG_HOST"], env["GOLD_PG_PORT"], env["GOLD_PG_DATABASE"]) == (
        "db.example",
        "6543",
        "shop",
    )
    assert (env["GOLD_PG_USER"], env["GOLD_PG_PASSWORD"]) == ("bi", "s@cret")


def test_spark_conf_sizes_for_one_machine_and_accepts_overrides(monkeypatch):
    from lakehouse.services import spark_conf

    monkeypatch.setenv("SPARK_EXTRA_CONF", "spark.sql.shuffle.partitions=64")
    conf = spark_conf(load_settings())
    assert conf["spark.sql.adaptive.enabled"] == "true"
    assert conf["spark.sql.shuffle.partitions"] == "64"
    assert conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert conf["spark.sql.catalog.spark_catalog"] == "org.apache.iceberg.spark.SparkSessionCatalog"


@pytest.mark.parametrize(
    ("target", "env", "auth", "kerberos", "ssl"),
    [
        ("cluster", {}, "NONE", None, False),
        ("cluster", {"SPARK_THRIFT_SSL": "true", "SPARK_THRIFT_AUTH": "NOSASL"}, "NOSASL", None, True),
        ("cluster_kerberos", {"SPARK_THRIFT_KERBEROS_SERVICE": "spark"}, "KERBEROS", "spark", False),
        ("cluster_ldap", {"SPARK_THRIFT_USER": "me", "SPARK_THRIFT_PASSWORD": "pw"}, "LDAP", None, False),
    ],
)
def test_cluster_targets_render_what_pyhive_accepts(monkeypatch, target, env, auth, kerberos, ssl):
    """dbt renders each cluster target from the environment alone; PyHive takes a Kerberos service name in
    KERBEROS mode only, and `as_bool` accepts only Python literals (both broke the first cluster run)."""
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context

    for name in ("SPARK_THRIFT_AUTH", "SPARK_THRIFT_SSL", "SPARK_THRIFT_KERBEROS_SERVICE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SPARK_THRIFT_HOST", "thrift.example.internal")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    set_from_args(Namespace(), {})  # what dbt's runner does first: default flags
    set_invocation_context(dict(os.environ))  # env_var() reads the invocation's environment
    raw = read_profile(str(config.REPO_ROOT / "profiles"))
    profile = Profile.from_raw_profiles(raw, "lakehouse", ProfileRenderer({}), target_override=target)
    creds = profile.credentials
    assert (creds.host, creds.auth, creds.kerberos_service_name, creds.use_ssl) == (
        "thrift.example.internal", auth, kerberos, ssl,
    )  # fmt: skip
    assert (creds.kerberos_service_name is not None) == (creds.auth == "KERBEROS")


# ---------- typed values and one-line errors
@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No project variable in the environment and no `.env` file (REPO_ROOT is a fresh folder)."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    return tmp_path


def test_values_are_typed_and_read_back_as_text(clean_env, monkeypatch):
    monkeypatch.setenv("GOLD_PG_PORT", "25432")
    monkeypatch.setenv("SPARK_THRIFT_SSL", "yes")
    monkeypatch.setenv("LAKEHOUSE_SPARK", "EXTERNAL")  # choices ignore case
    monkeypatch.setenv("SPARK_THRIFT_AUTH", "ldap")
    s = load_settings()
    t = s.typed
    assert (t.GOLD_PG_PORT, t.SPARK_THRIFT_PORT, t.PG_START_TIMEOUT, t.SPARK_START_TIMEOUT) == (
        25432,
        10000,
        60,
        180.0,
    )
    assert (t.SPARK_THRIFT_SSL, t.ALERT_SMTP_STARTTLS) == (True, True)
    assert (t.LAKEHOUSE_SPARK, t.SPARK_THRIFT_AUTH, t.DBT_TARGET) == (
        SparkMode.EXTERNAL, ThriftAuth.LDAP, DbtTarget.LOCAL,
    )  # fmt: skip
    assert not s.spark_embedded and s.pg_port == 25432
    # as text, the way profiles.yml and child processes read it
    assert (s.get("GOLD_PG_PORT"), s.get("SPARK_THRIFT_SSL"), s.get("SPARK_START_TIMEOUT")) == (
        "25432",
        "true",
        "180",
    )
    assert (s.get("LAKEHOUSE_SPARK"), s.get("SPARK_THRIFT_AUTH")) == ("external", "LDAP")
    assert s.dbt_env()["SPARK_THRIFT_SSL"] == "true"
    assert s.values["GOLD_PG_PORT"] == "25432"
    with pytest.raises(KeyError):
        s.get("NO_SUCH_VARIABLE")


BOOL = "true or false (also yes/no, on/off, 1/0)"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("GOLD_PG_PORT", "x", "an integer (TCP port 1-65535)"),
        ("SPARK_THRIFT_PORT", "70000", "an integer (TCP port 1-65535)"),
        ("LAKEHOUSE_SPARK", "extrenal", "one of embedded, external"),
        ("DBT_TARGET", "prod", "one of local, cluster, cluster_kerberos, cluster_ldap"),
        ("SPARK_THRIFT_AUTH", "BASIC", "one of NONE, NOSASL, LDAP, CUSTOM, KERBEROS"),
        ("SPARK_THRIFT_SSL", "maybe", BOOL),
        ("ALERT_SMTP_STARTTLS", "", BOOL),
        ("SPARK_START_TIMEOUT", "soon", "a number of seconds greater than 0"),
        ("PG_START_TIMEOUT", "0", "a whole number of seconds, at least 1"),
        ("CLUSTER_WORKERS", "two", "a whole number, at least 1"),
        ("SPARK_DRIVER_MEMORY", "2GB", "a JVM memory size in megabytes or gigabytes, such as 512m or 2g"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable_and_what_it_accepts(
    clean_env, monkeypatch, name, value, expected
):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == f"{name}={value!r} is not valid: expected {expected}"
    assert isinstance(caught.value, LakehouseError)


def test_every_bad_value_is_reported_on_the_same_line(clean_env, monkeypatch):
    monkeypatch.setenv("GOLD_PG_PORT", "x")
    monkeypatch.setenv("LAKEHOUSE_SPARK", "extrenal")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert "LAKEHOUSE_SPARK='extrenal'" in message and "GOLD_PG_PORT='x'" in message


def test_dotenv_file_is_below_the_environment_and_validated_too(clean_env, monkeypatch):
    (clean_env / ".env").write_text(
        "GOLD_PG_PORT=16000\nSPARK_UI_PORT=4999\nLAKEHOUSE_SPARK=external\nOTHER_TOOL=1\n"
    )
    monkeypatch.setenv("GOLD_PG_PORT", "17000")
    s = load_settings()
    assert (s.pg_port, s.typed.SPARK_UI_PORT, s.spark_embedded) == (17000, 4999, False)
    (clean_env / ".env").write_text("SPARK_UI_PORT=four\n")
    with pytest.raises(ConfigError, match=r"^SPARK_UI_PORT='four' is not valid"):
        load_settings()


def test_overrides_win_over_environment_and_dotenv(clean_env, monkeypatch):
    (clean_env / ".env").write_text("GOLD_PG_PORT=16000\nDBT_TARGET=cluster\n")
    monkeypatch.setenv("GOLD_PG_PORT", "17000")
    s = load_settings({"GOLD_PG_PORT": "18000", "SPARK_THRIFT_SSL": True})
    assert (s.pg_port, s.typed.DBT_TARGET, s.typed.SPARK_THRIFT_SSL) == (18000, DbtTarget.CLUSTER, True)
    # the idiom of the tests and the cluster module: a loaded settings' values, some replaced
    again = load_settings({**s.values, "SPARK_THRIFT_PORT": "10500"})
    assert (again.pg_port, again.thrift_port, again.typed.DBT_TARGET) == (18000, 10500, DbtTarget.CLUSTER)
    with pytest.raises(ConfigError, match="GOLD_PG_PORT='x' is not valid"):
        load_settings({"GOLD_PG_PORT": "x"})
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings({"GOLD_PG_PROT": "5432"})


def test_settings_from_a_mapping_are_validated_and_ignore_the_environment(clean_env, monkeypatch):
    monkeypatch.setenv("GOLD_PG_PORT", "17000")
    s = Settings({"SPARK_THRIFT_PORT": "10500"})
    assert (s.thrift_port, s.pg_port) == (10500, 15432)
    with pytest.raises(ConfigError, match="SPARK_THRIFT_PORT='x' is not valid"):
        Settings({"SPARK_THRIFT_PORT": "x"})


# ---------- documentation generated from the same fields
def test_every_variable_is_documented_with_its_default_and_what_it_accepts():
    readme = (config.REPO_ROOT / "README.md").read_text()
    example = (config.REPO_ROOT / ".env.example").read_text()
    for name, field in config.LakehouseConfig.model_fields.items():
        assert field.description and field.description.endswith((".", ")")), name
        default, _doc = VARIABLES[name]
        assert f"| `{name}` |" in readme, f"{name} missing from the README table (python -m lakehouse config)"
        assert f"\n#{name}={default}\n" in example, f"{name} missing from .env.example"
        if field.annotation is not str:
            assert config.accepts(name) != "text", name


def test_env_example_is_current():
    from click.testing import CliRunner

    from lakehouse.cli import main

    printed = CliRunner().invoke(main, ["config", "--format", "env"]).output
    assert printed == config.env_example()
    assert printed == (config.REPO_ROOT / ".env.example").read_text(), (
        "regenerate: python -m lakehouse config --format env > .env.example"
    )
    assert all(line == "" or line.startswith("#") for line in printed.splitlines())  # all commented out


# ---------- the command lines: one line, no traceback, also when the error happens at import
@pytest.mark.parametrize("command", [["flows", "run"], ["lakehouse", "status"], ["ingestion", "generate"]])
def test_a_bad_value_stops_each_command_line_with_one_line(tmp_path, command):
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update(LAKEHOUSE_DATA_DIR=str(tmp_path / "data"), GOLD_PG_PORT="x")
    res = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=config.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: GOLD_PG_PORT='x' is not valid: expected an integer (TCP port 1-65535)"], (
        res.stderr
    )
    assert not (tmp_path / "data").exists()  # nothing was started or written
