"""Maintenance flows: gold backups."""

from __future__ import annotations

from prefect import flow, get_run_logger

from lakehouse.config import load_settings


@flow(name="gold-backup")
def gold_backup(keep_days: float | None = None) -> str:
    """`pg_dump` of the gold database (custom format, compressed, named by time), keeping `keep_days` of
    backups (default GOLD_BACKUP_KEEP_DAYS)."""
    from lakehouse import backup

    path = backup.backup(load_settings(), keep_days=keep_days)
    get_run_logger().info("gold backup written to %s", path)
    return str(path)
