"""Backups of the gold database: `pg_dump` custom format (compressed), named by time, kept for N days.

``backup`` dumps the whole gold database (all schemas but ``gold_load``, which is empty between runs) into
``<backup dir>/gold-<database>-<UTC time>.dump`` (written under a temporary name, renamed when complete) and
deletes backups older than the retention. ``restore`` restores a chosen backup (or the newest) into a database
that must not exist yet, so a restore never overwrites the live gold; point BI tools at it, or rename it.
Works the same for the embedded server and GOLD_DATABASE_URL (the binaries are PostgreSQL 18's).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lakehouse.gold.roles import LOAD_SCHEMA
from lakehouse.platform.errors import LakehouseError, first_line
from lakehouse.platform.pgurl import PgUrl
from lakehouse.platform.settings import Settings
from lakehouse.services import pg_bin_dir

log = logging.getLogger(__name__)

STAMP = "%Y%m%dT%H%M%SZ"
NAME = re.compile(r"^gold-(?P<db>.+)-(?P<stamp>\d{8}T\d{6}Z)\.dump$")


def _libpq_env(url: str) -> tuple[dict[str, str], str]:
    """Connection settings as PG* variables (no password on a command line), and the database name."""
    pg = PgUrl.parse(url)
    return {**os.environ, **pg.libpq_env()}, pg.database


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    log.info("running %s", " ".join(cmd))
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    log.info("%s rc=%s stderr=%s", what, res.returncode, res.stderr)
    if res.returncode != 0:
        raise LakehouseError(f"{what} failed: {first_line(res.stderr or res.stdout)}")


def list_backups(settings: Settings) -> list[tuple[datetime, Path]]:
    """Backups in the backup directory, oldest first."""
    found = []
    for path in settings.backup_dir.glob("gold-*.dump"):
        match = NAME.match(path.name)
        if match:
            found.append((datetime.strptime(match["stamp"], STAMP).replace(tzinfo=UTC), path))
    return sorted(found)


def backup(settings: Settings, now: datetime | None = None, keep_days: float | None = None) -> Path:
    """Dump the gold database, then delete backups older than the retention (``keep_days``, default
    GOLD_BACKUP_KEEP_DAYS). Returns the new file."""
    now = now or datetime.now(UTC)
    env, db = _libpq_env(settings.gold_url)
    settings.backup_dir.mkdir(parents=True, exist_ok=True)
    target = settings.backup_dir / f"gold-{db}-{now.strftime(STAMP)}.dump"
    partial = target.with_suffix(".dump.partial")
    cmd = [str(pg_bin_dir() / "pg_dump"), "--format=custom", "--compress=6"]
    cmd.append(f"--exclude-schema={LOAD_SCHEMA}")
    _run([*cmd, f"--file={partial}", "--dbname", db], env, "pg_dump")
    partial.rename(target)
    prune(settings, now, keep_days)
    return target


def prune(settings: Settings, now: datetime | None = None, keep_days: float | None = None) -> list[Path]:
    """Delete backups older than ``keep_days`` (default GOLD_BACKUP_KEEP_DAYS), by the time in their name."""
    now = now or datetime.now(UTC)
    keep = timedelta(days=settings.typed.GOLD_BACKUP_KEEP_DAYS if keep_days is None else float(keep_days))
    removed = []
    for stamp, path in list_backups(settings):
        if now - stamp > keep:
            path.unlink()
            removed.append(path)
    return removed


def restore(settings: Settings, database: str, backup_file: Path | None = None) -> Path:
    """Restore ``backup_file`` (default: the newest) into the new database ``database``."""
    import psycopg
    from psycopg import sql

    if backup_file is None:
        backups = list_backups(settings)
        if not backups:
            raise LakehouseError(f"No backups in {settings.backup_dir}: run `make backup` first.")
        backup_file = backups[-1][1]
    if not backup_file.is_file():
        raise LakehouseError(f"Backup {backup_file} does not exist.")
    env, _db = _libpq_env(settings.gold_url)
    admin = str(PgUrl.parse(settings.gold_url).with_(database="postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone():
            raise LakehouseError(
                f"Database {database!r} already exists: restore into a new name (a restore never overwrites)."
            )
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    cmd = [str(pg_bin_dir() / "pg_restore"), "--exit-on-error", "--no-password", "--dbname", database]
    try:
        _run([*cmd, str(backup_file)], env, "pg_restore")
    except LakehouseError:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(database)))
        raise
    return backup_file
