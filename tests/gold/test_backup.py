"""Back up gold, change it, restore the backup into a fresh database: the data comes back; retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from lakehouse import gold
from lakehouse.gold import backup
from lakehouse.platform.errors import LakehouseError

pytestmark = pytest.mark.integration


def contents(url: str) -> list:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select 'things', count(*), md5(string_agg(t::text, '|' order by t::text)) "
            "from gold_marts.dim_things t "
            "union all select 'lines', count(*), md5(string_agg(l::text, '|' order by l::text)) "
            "from gold_marts.fct_lines l"
        ).fetchall()


def test_backup_change_restore_compare(
    lake, lakefix, models, writer, pg, tmp_path, monkeypatch, prefect_harness
):
    """The backup is taken by the nightly deployment's flow, with the deployment's parameters (issue 19: it
    crashed on every run with a TypeError that no test saw)."""
    from flows.deployments import deployments
    from flows.maintenance import gold_backup

    monkeypatch.setenv("GOLD_BACKUP_DIR", str(tmp_path / "backups"))
    settings = type(lake)({**lake.values, "GOLD_BACKUP_DIR": str(tmp_path / "backups")})
    lakefix.write_things(10)
    lakefix.merge_lines(0, 100, "b1", "2024-02-01 00:00:00")
    gold.export_gold(settings, models=models)
    original = contents(settings.gold_url)

    # an old backup past the retention, and one within it
    (tmp_path / "backups").mkdir()
    now = datetime.now(UTC)
    old = tmp_path / "backups" / f"gold-x-{(now - timedelta(days=8)):%Y%m%dT%H%M%SZ}.dump"
    recent = tmp_path / "backups" / f"gold-x-{(now - timedelta(days=6)):%Y%m%dT%H%M%SZ}.dump"
    old.write_bytes(b"old")
    recent.write_bytes(b"recent")
    (nightly,) = [d for d in deployments() if d.name == "gold-backup-daily"]
    monkeypatch.setenv("GOLD_BACKUP_KEEP_DAYS", "7")
    dump = Path(gold_backup(**nightly.parameters))
    assert dump.stat().st_size > 0 and dump.read_bytes()[:5] == b"PGDMP"
    assert not old.exists() and recent.exists()
    assert [p for _t, p in backup.list_backups(settings)][-1] == dump

    writer.execute("delete from gold_marts.fct_lines where line_month = '2024-01'")
    writer.execute("update gold_marts.dim_things set price = 0")
    assert contents(settings.gold_url) != original

    pg.execute("drop database if exists gold_restored")
    try:
        backup.restore(settings, "gold_restored")  # the newest backup
        restored_url = settings.gold_url.rpartition("/")[0] + "/gold_restored"
        assert contents(restored_url) == original
        with pytest.raises(LakehouseError, match="already exists"):
            backup.restore(settings, "gold_restored", dump)
    finally:
        pg.execute("drop database if exists gold_restored with (force)")
