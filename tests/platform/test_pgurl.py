"""lakehouse.platform.pgurl: the one parser and writer of PostgreSQL URLs (our logic, no server needed)."""

from __future__ import annotations

import psycopg
import pytest

from lakehouse.platform.pgurl import PgUrl


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://gold_reader:p%40ss%3Aw%2Frd@127.0.0.1:15432/lakehouse",
        "postgresql://u:pw@[::1]:5433/analytics?sslmode=require",
        "postgresql://u@db.example.com:5432/my%20db",
    ],
)
def test_a_url_parses_into_what_libpq_reads_and_writes_back_unchanged(url):
    parsed = PgUrl.parse(url)
    assert str(parsed) == url
    libpq = psycopg.conninfo.conninfo_to_dict(url)  # libpq's own reading of the same URL
    assert (parsed.host, str(parsed.port), parsed.user, parsed.database) == (
        libpq["host"], libpq["port"], libpq["user"], libpq["dbname"]
    )  # fmt: skip
    assert parsed.password == libpq.get("password", "")


def test_changing_a_part_keeps_the_others_and_the_query():
    url = PgUrl.parse(
        "postgresql://owner:secret@h.example:6543/gold?sslmode=verify-full&sslrootcert=%2Fca.pem"
    )
    admin = url.with_(database="postgres")
    assert (
        str(admin)
        == "postgresql://owner:secret@h.example:6543/postgres?sslmode=verify-full&sslrootcert=%2Fca.pem"
    )
    reader = url.with_(user="gold_reader", password="a b/c")
    assert psycopg.conninfo.conninfo_to_dict(str(reader))["password"] == "a b/c"
    assert str(url.with_(password="")).startswith("postgresql://owner@h.example:6543/gold?")
    assert str(url.with_(scheme="postgresql+psycopg2")).startswith("postgresql+psycopg2://owner:secret@")


def test_libpq_environment_carries_credentials_and_ssl_settings():
    env = PgUrl.parse("postgresql://u:pw@h:5433/d?sslmode=require&application_name=x").libpq_env()
    assert env == {"PGHOST": "h", "PGPORT": "5433", "PGUSER": "u", "PGPASSWORD": "pw", "PGSSLMODE": "require"}
    assert PgUrl.parse("postgresql://u@h/d").libpq_env()["PGPASSWORD"] == ""  # overrides an inherited one


def test_what_a_url_leaves_out_takes_libpqs_defaults():
    url = PgUrl.parse("postgresql://")
    assert (url.host, url.port, url.database) == ("127.0.0.1", 5432, "postgres")
