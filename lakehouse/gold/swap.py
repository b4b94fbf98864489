"""The one transaction that publishes a run: upsert the incremental tables, take every lock up front (views
before tables, each wait short and retried), swap the staged tables in by rename, re-point the views on them
(``create or replace view``: they keep their grants and comments) and record the export state. A BI query
sees the old or the new gold, never a mix, and never deadlocks with a swap."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from lakehouse.gold.model import LOCK_ATTEMPTS, LOCK_TIMEOUT_MS, Plan, Reconciled
from lakehouse.gold.pgsql import ident, one_row, rel
from lakehouse.gold.reconcile import check, pg_totals, record
from lakehouse.gold.roles import LOAD_SCHEMA, MARTS_SCHEMA
from lakehouse.gold.stage import index_names, load_name
from lakehouse.gold.state import record_state
from lakehouse.gold.upsert import upsert
from lakehouse.platform.errors import LakehouseError, LockTimeout, first_line

if TYPE_CHECKING:
    from psycopg import Connection, Cursor


class View(NamedTuple):
    oid: int
    schema: str
    name: str
    definition: str
    options: list[str] | None


def dependent_views(cur: Cursor[Any], table_sql: str) -> list[View]:
    """Views on a table (recursively), base first."""
    rows = cur.execute(
        """
        with recursive deps(oid, depth) as (
            select r.ev_class, 1 from pg_depend d join pg_rewrite r on r.oid = d.objid
            where d.classid = 'pg_rewrite'::regclass and d.refobjid = to_regclass(%s)
              and r.ev_class <> to_regclass(%s)
            union
            select r.ev_class, deps.depth + 1 from deps
            join pg_depend d on d.refobjid = deps.oid and d.classid = 'pg_rewrite'::regclass
            join pg_rewrite r on r.oid = d.objid
            where r.ev_class <> deps.oid and deps.depth < 20
        )
        select c.oid, n.nspname, c.relname, c.relkind, pg_get_viewdef(c.oid), c.reloptions, max(deps.depth)
        from deps join pg_class c on c.oid = deps.oid join pg_namespace n on n.oid = c.relnamespace
        group by c.oid, n.nspname, c.relname, c.relkind, c.reloptions
        order by max(deps.depth), n.nspname, c.relname
        """,
        (table_sql, table_sql),
    ).fetchall()
    views = []
    for oid, schema, name, kind, definition, options, _depth in rows:
        if kind != "v":
            raise LakehouseError(
                f"{schema}.{name} (a materialized view) depends on {table_sql}: gold takes plain views only."
            )
        views.append(View(oid, schema, name, definition, options))
    return views


def _exists(cur: Cursor[Any], table_sql: str) -> bool:
    return one_row(cur, "select to_regclass(%s)", (table_sql,))[0] is not None


def _lock_all(conn: Connection[Any], cur: Cursor[Any], targets: list[str]) -> None:
    """Every lock of the swap, views before tables (the order a BI query takes them), each wait short: a BI
    query never waits on a swap that waits on it, so it never deadlocks or fails; the swap retries."""
    import psycopg

    cur.execute(f"set local lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
    for _attempt in range(LOCK_ATTEMPTS):
        try:
            with conn.transaction():  # a savepoint: a timed-out attempt releases what it took
                cur.execute(f"lock table {', '.join(targets)} in access exclusive mode")
            break
        except psycopg.errors.LockNotAvailable:
            time.sleep(0.02 + secrets.randbelow(50) / 1000)
    else:
        raise LockTimeout(
            f"Gold swap gave up after {LOCK_ATTEMPTS} tries: BI queries held the tables all the time."
        )
    cur.execute("set local lock_timeout = 0")


def _repoint(conn: Connection[Any], cur: Cursor[Any], view: View) -> None:
    """The view again, on the table that now has its name (its saved definition, grants and comment)."""
    import psycopg

    with_opts = f" with ({', '.join(view.options)})" if view.options else ""
    statement = f"create or replace view {rel(view.schema, view.name)}{with_opts} as {view.definition}"
    try:
        with conn.transaction():
            cur.execute(statement)
    except psycopg.Error as exc:
        raise LakehouseError(
            f"The BI view {view.schema}.{view.name} does not fit the new columns of the table it reads "
            f"({first_line(str(exc))}); gold left unchanged: adapt models/gold, then run "
            "`dbt build --target gold` after the export."
        ) from exc


def swap_all(conn: Connection[Any], swaps: list[Plan], upserts: list[Plan]) -> dict[str, Reconciled]:
    """One transaction: upsert incremental tables, swap staged ones in, re-point views, record state."""
    reconciled: dict[str, Reconciled] = {}
    with conn.transaction(), conn.cursor() as cur:
        # names in view definitions come out schema-qualified; our own statements qualify everything
        cur.execute("set local search_path = pg_catalog")
        for plan in upserts:
            live = rel(MARTS_SCHEMA, plan.model.name)
            pg = upsert(cur, plan) or pg_totals(cur, live, plan.sum_column)
            reconciled[plan.model.name] = check(plan.model, plan.lake_totals, pg, plan.sum_column)
        views: dict[int, View] = {}
        for plan in swaps:
            for view in dependent_views(cur, rel(MARTS_SCHEMA, plan.model.name)):
                views.setdefault(view.oid, view)
        ordered = list(views.values())
        tables = [rel(MARTS_SCHEMA, p.model.name) for p in swaps]
        targets = [rel(v.schema, v.name) for v in ordered] + [t for t in tables if _exists(cur, t)]
        if targets:
            _lock_all(conn, cur, targets)
        replaced = set()
        for plan in swaps:
            name = plan.model.name
            old, live = f"{name}__old"[:63], rel(MARTS_SCHEMA, name)
            if _exists(cur, live):
                cur.execute(f"alter table {live} rename to {ident(old)}")
                replaced.add(name)
            cur.execute(f"alter table {rel(LOAD_SCHEMA, load_name(plan.model))} set schema {MARTS_SCHEMA}")
        for view in ordered:
            _repoint(conn, cur, view)
        for plan in swaps:
            name = plan.model.name
            if name in replaced:
                cur.execute(f"drop table {rel(MARTS_SCHEMA, f'{name}__old'[:63])}")
            for (load_index, _cols), (final, _c) in zip(
                index_names(plan.model, "__load"), index_names(plan.model, ""), strict=True
            ):
                cur.execute(f"alter index {rel(MARTS_SCHEMA, load_index)} rename to {ident(final)}")
            reconciled[name] = record(plan.lake_totals, plan.sum_column)
        for plan in [*upserts, *swaps]:
            record_state(cur, plan, reconciled[plan.model.name])
    return reconciled
