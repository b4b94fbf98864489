"""Configuration: one source, environment over .env over defaults."""

from __future__ import annotations

import os
import stat
from argparse import Namespace

import pytest

from lakehouse import config
from lakehouse.config import VARIABLES, load_settings


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


def test_extra_spark_conf_is_parsed_and_rejects_garbage(monkeypatch):
    monkeypatch.setenv("SPARK_EXTRA_CONF", "spark.a=1; spark.b = x=y ;")
    assert load_settings().extra_spark_conf == {"spark.a": "1", "spark.b": "x=y"}
    monkeypatch.setenv("SPARK_EXTRA_CONF", "spark.a")
    with pytest.raises(ValueError, match="not key=value"):
        _ = load_settings().extra_spark_conf


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
