"""Staging a swap: ``gold_load.<name>`` created and filled from the lake stream by ``COPY``, its key and
indexes built, analyzed, reconciled and committed (BI never reads gold_load); and gold_load emptied, after a
run or what a killed run left there."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lakehouse.gold.lake_scan import LakeStream, watermark
from lakehouse.gold.model import PARALLEL_INDEX_MIN_ROWS, GoldModel, Plan
from lakehouse.gold.pgcopy import columns_sql, copy_batches
from lakehouse.gold.pgsql import ident, rel
from lakehouse.gold.reconcile import check, check_scan, pg_totals_on_own_connection
from lakehouse.gold.roles import LOAD_SCHEMA

if TYPE_CHECKING:
    from psycopg import Connection, Cursor

log = logging.getLogger(__name__)


class PhaseClock:
    """Seconds per phase, for the log: where an export's time goes."""

    def __init__(self) -> None:
        self.laps: list[tuple[str, float]] = []
        self.last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps.append((name, now - self.last))
        self.last = now

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.laps)


def load_name(model: GoldModel) -> str:
    return f"{model.name}"


def index_names(model: GoldModel, tag: str) -> list[tuple[str, tuple[str, ...]]]:
    """(name, columns) of the primary key and each index; ``tag`` makes load-time names unique."""
    base = model.name[:40]
    names = []
    if model.primary_key:
        names.append((f"{base}{tag}_pkey", model.primary_key))
    for col in model.index_columns:
        names.append((f"{base}{tag}_{col[:20]}_idx", (col,)))
    return names


def stage_swap(conn: Connection[Any], plan: Plan, url: str, key: bytes) -> Plan:
    """Create, fill, index and analyze ``gold_load.<name>`` (committed; BI never reads gold_load); returns the
    plan with the totals, row count and watermark of what was loaded.

    The table is created and filled in one transaction (``COPY ... FREEZE``; with ``wal_level=minimal``, the
    embedded server's setting, that writes no WAL), then its key and indexes are built, concurrently on
    separate connections for big tables: load first, index after."""
    model = plan.model
    staged = rel(LOAD_SCHEMA, load_name(model))
    stream = LakeStream(plan, key)
    clock = PhaseClock()
    with conn.cursor() as cur:
        cur.execute(f"drop table if exists {staged}")
        conn.commit()
        cur.execute(f"create table {staged} (\n  {columns_sql(stream.schema, model.primary_key)}\n)")
        copy_batches(cur, staged, stream.schema, stream.batches(), freeze=True)
        clock.lap("scan+copy")
        conn.commit()
        clock.lap("commit")
        loaded = replace(
            plan,
            lake_totals=stream.totals(),
            changed_rows=stream.rows,
            new_watermark=watermark(stream.newest, plan.watermark),
        )
        check_scan(model, plan.expected_rows, stream.rows)
        build_indexes(url, cur, model, parallel=stream.rows >= PARALLEL_INDEX_MIN_ROWS)
        conn.commit()  # the key's constraint took an exclusive lock: released before another session reads
        clock.lap("indexes")
        # the totals on another connection while ANALYZE samples (a read does not wait on it)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gold-count") as pool:
            counting = pool.submit(pg_totals_on_own_connection, url, staged, plan.sum_column)
            cur.execute(f"analyze {staged}")
            in_gold = counting.result()
        clock.lap("analyze+count")
    check(model, loaded.lake_totals, in_gold, plan.sum_column)
    conn.commit()
    log.info("staged %s: %d rows, %s", model.name, stream.rows, clock)
    return loaded


def build_indexes(url: str, cur: Cursor[Any], model: GoldModel, *, parallel: bool) -> None:
    """The primary key (a unique index, then attached as the constraint) and the secondary indexes of the
    load table; with ``parallel``, each index on its own connection (CREATE INDEX takes a SHARE lock, so
    they run side by side)."""
    import psycopg

    table = rel(LOAD_SCHEMA, load_name(model))
    statements = []
    for i, (name, cols) in enumerate(index_names(model, "__load")):
        unique = "unique " if i == 0 and model.primary_key else ""
        collist = ", ".join(ident(c) for c in cols)
        statements.append(f"create {unique}index {ident(name)} on {table} ({collist})")
    memory = "set maintenance_work_mem = '256MB'"
    if parallel and len(statements) > 1:

        def build(statement: str) -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(memory)
                conn.execute("set max_parallel_maintenance_workers = 0")
                conn.execute(statement)

        with ThreadPoolExecutor(max_workers=len(statements), thread_name_prefix="gold-index") as pool:
            for built in [pool.submit(build, st) for st in statements]:
                built.result()  # every build ends before the pool does; the first error is raised
    else:
        cur.execute(memory)
        for statement in statements:
            cur.execute(statement)
    if model.primary_key:
        pkey = ident(index_names(model, "__load")[0][0])
        cur.execute(f"alter table {table} add constraint {pkey} primary key using index {pkey}")


def drop_leftovers(conn: Connection[Any]) -> None:
    """A run killed mid-export (or a crashed server) can leave load tables behind: gold_load is scratch
    space of the one export that runs at a time (runs never overlap), so whatever is there is stale."""
    rows = conn.execute("select tablename from pg_tables where schemaname = %s", (LOAD_SCHEMA,)).fetchall()
    with conn.cursor() as cur:
        for (table,) in rows:
            log.info("dropping %s.%s left by an interrupted export", LOAD_SCHEMA, table)
            cur.execute(f"drop table if exists {rel(LOAD_SCHEMA, table)}")


def drop_staged(conn: Connection[Any], models: list[GoldModel]) -> None:
    """Nothing stays in gold_load, whether the swap happened or failed."""
    conn.rollback()
    with conn.cursor() as cur:
        for model in models:
            cur.execute(f"drop table if exists {rel(LOAD_SCHEMA, load_name(model))}")
    conn.commit()
