"""Upsert: the changed rows of an incremental table merged into ``gold_marts.<name>`` on its primary key
(``INSERT ... ON CONFLICT``), inside the run's one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakehouse.gold.model import Plan, Totals
from lakehouse.gold.pgcopy import copy_arrow
from lakehouse.gold.pgsql import ident, one_row, rel
from lakehouse.gold.reconcile import check_merge, plus
from lakehouse.gold.roles import MARTS_SCHEMA

if TYPE_CHECKING:
    from psycopg import Cursor


def upsert(cur: Cursor[Any], plan: Plan) -> Totals | None:
    """Merge the changed rows into gold_marts.<name> on the primary key (INSERT ... ON CONFLICT).

    Every changed row must be written. Returns the table's totals after the merge, worked out from the change
    alone when it only added rows and the last export's reconciled totals are known: those plus the rows
    added. ``None`` (rows were replaced, or no totals): the caller counts the whole table."""
    model, data = plan.model, plan.data
    if data is None:
        raise ValueError(f"the upsert plan of {model.name} carries no changed rows")
    target = rel(MARTS_SCHEMA, model.name)
    changes = ident(f"_changes_{model.name}")
    cur.execute(f"create temp table {changes} (like {target}) on commit drop")
    if data.num_rows:
        copy_arrow(cur, changes, data)
    cols = [ident(c) for c in data.column_names]
    keys = ", ".join(ident(c) for c in model.primary_key)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c.strip('"') not in model.primary_key)
    written, inserted = one_row(
        cur,
        f"with merged as (insert into {target} ({', '.join(cols)}) select {', '.join(cols)} from {changes} "
        f"order by {keys} on conflict ({keys}) do update set {updates} "  # key order: index pages in turn
        "returning (xmax = 0) as inserted) "  # xmax 0: a new row version, not an update of one
        "select count(*), count(*) filter (where inserted) from merged",
    )
    check_merge(model, data.num_rows, written)
    column, before = plan.sum_column, plan.gold_before
    if before is None or inserted != written:
        return None
    measure = f"coalesce(sum({ident(column)}), 0)" if column else "null"
    added = one_row(cur, f"select count(*), {measure} from {changes}")
    return plus(before, (added[0], added[1]))
