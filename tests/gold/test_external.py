"""GOLD_DATABASE_URL: a second PostgreSQL (same binaries, another port, its own data dir) used only through
its URL, as a foreign server would be. Export, roles and backups work the same as on the embedded one."""

from __future__ import annotations

import shutil

import psycopg
import pytest

from lakehouse import gold
from lakehouse.gold import backup
from lakehouse.platform.settings import load_settings
from lakehouse.services import Postgres
from tests.support.ports import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def foreign_url(lake):
    data_dir = lake.data_dir / "foreign-pg"
    shutil.rmtree(data_dir, ignore_errors=True)  # a fresh server every time
    server = Postgres(load_settings({"LAKEHOUSE_DATA_DIR": str(data_dir), "GOLD_PG_PORT": str(free_port()),
                                     "GOLD_PG_DATABASE": "analytics"}))  # fmt: skip
    server.up()
    try:
        yield server.s.gold_url
    finally:
        server.down()


def test_external_postgres_works_like_the_embedded_one(lake, lakefix, models, foreign_url, tmp_path):
    settings = load_settings(
        {**lake.values, "GOLD_DATABASE_URL": foreign_url, "LAKEHOUSE_DATA_DIR": str(tmp_path / "client"),
         "GOLD_BACKUP_DIR": str(tmp_path / "backups")}
    )  # fmt: skip
    assert not settings.pg_embedded
    lakefix.write_things(8)
    lakefix.merge_lines(0, 50, "b1", "2024-02-01 00:00:00")
    assert {r.rows for r in gold.export_gold(settings, models=models)} == {8, 50}
    lakefix.merge_lines(40, 20, "b2", "2024-02-01 01:00:00", amount_factor=2)
    result = {r.model.name: (r.mode, r.rows) for r in gold.export_gold(settings, models=models)}
    assert result == {"dim_things": ("unchanged", 8), "fct_lines": ("upsert", 60)}
    with psycopg.connect(gold.role_url(settings, gold.READER)) as conn:
        assert conn.execute("select current_database(), current_user").fetchone() == (
            "analytics",
            "gold_reader",
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select count(*) from gold_marts.fct_lines")
    dump = backup.backup(settings)
    backup.restore(settings, "analytics_copy", dump)
    with psycopg.connect(foreign_url.rpartition("/")[0] + "/analytics_copy") as conn:
        assert conn.execute("select count(*) from gold_marts.fct_lines").fetchone() == (60,)
