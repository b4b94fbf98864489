"""Reconciliation, in one place: before anything of a run commits, lake and gold must hold the same number of
rows and the same sum of one measure per table; a mismatch raises and leaves the previous gold in place.

- the measure: the first decimal column, else floating, else integer (``sum_column``);
- the lake's totals: of Arrow data (``arrow_totals``, ``RunningTotals`` while a scan streams past), or, when
  the table was only appended to, the last export's totals plus the change's (``appended_totals``);
- gold's totals: counted by PostgreSQL (``pg_totals``), or after an upsert that only added rows, the last
  export's totals plus the added rows' (``plus``, which also serves ``appended_totals``);
- the checks (``check``, ``check_scan``, ``check_merge``) and what a run records of them (``record``);
- ``gold_totals``: a fingerprint of a whole gold, to compare two of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from lakehouse import history
from lakehouse.gold.model import ExportState, GoldModel, Reconciled, Totals
from lakehouse.gold.pgsql import ident, one_row, rel
from lakehouse.gold.roles import MARTS_SCHEMA
from lakehouse.platform.errors import LakehouseError

if TYPE_CHECKING:
    from psycopg import Cursor


def sum_column(schema: pa.Schema, exclude: Iterable[str] = ()) -> str | None:
    """The column whose sum reconciles the table: the first decimal, else float, else integer measure."""
    skip = set(exclude)
    for check_type in (pat.is_decimal, pat.is_floating, pat.is_integer):
        for f in schema:
            if f.name not in skip and not f.name.startswith("_") and check_type(f.type):
                return f.name
    return None


def arrow_totals(data: pa.Table, column: str | None) -> Totals:
    if column is None:
        return data.num_rows, None
    total = pc.sum(data.column(column)).as_py()
    return data.num_rows, total if total is not None else 0


class RunningTotals:
    """The totals of batches counted as they pass (a streamed scan): nothing needs the whole table."""

    def __init__(self, column: str | None) -> None:
        self.column = column
        self.rows = 0
        self.total: Any = None  # Decimal or float, as the column's sums come

    def add(self, data: pa.Table) -> None:
        count, total = arrow_totals(data, self.column)
        self.rows += count
        if total is not None:
            self.total = total if self.total is None else self.total + total

    def totals(self) -> Totals:
        if self.column is None:
            return self.rows, None
        return self.rows, self.total if self.total is not None else 0


def plus(before: tuple[int, str | None], added: Totals) -> Totals:
    """Totals known before (the sum as recorded: text) plus those of rows added since. The recorded sum is
    read as the type of the added one, so a numeric sum stays exact."""
    (rows, total), (added_rows, added_total) = before, added
    if added_total is None or total is None:
        return rows + added_rows, None
    if isinstance(added_total, Decimal):
        return rows + added_rows, Decimal(total) + added_total
    return rows + added_rows, float(total) + added_total


def appended_totals(
    previous: ExportState, changed: pa.Table, column: str | None, lake_rows: int | None
) -> Totals | None:
    """The lake table's totals without reading it, for a table that was only appended to since the last
    export: the totals that export reconciled plus those of the changed rows. Their row count must equal
    ``lake_rows``, the snapshot's own ``total-records`` (table metadata), which proves the watermark scan saw
    every appended row. ``None`` (read the table) when the last export summed another column, or the numbers
    disagree."""
    if previous.rows is None or previous.sum_column != column:
        return None
    if previous.rows + changed.num_rows != lake_rows:
        return None
    delta = (pc.sum(changed.column(column)).as_py() or 0) if column is not None else None
    return plus((previous.rows, previous.sum_value), (changed.num_rows, delta))


def pg_totals(cur: Cursor[Any], table_sql: str, column: str | None) -> Totals:
    total = f"coalesce(sum({ident(column)}), 0)" if column else "null"
    count, value = one_row(cur, f"select count(*), {total} from {table_sql}")
    return count, value


def pg_totals_on_own_connection(url: str, table_sql: str, column: str | None) -> Totals:
    """``pg_totals`` on a connection of its own (to count while another statement runs)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        return pg_totals(cur, table_sql, column)


def _same_totals(lake: Totals, pg: Totals) -> bool:
    if lake[0] != pg[0]:
        return False
    a, b = lake[1], pg[1]
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    return Decimal(a) == Decimal(b)


def _failed(model: GoldModel, detail: str) -> LakehouseError:
    return LakehouseError(f"Reconciliation failed for {model.name}: {detail}; gold left unchanged.")


def record(totals: Totals, column: str | None) -> Reconciled:
    """What a run reports and keeps of a reconciled table."""
    rows, total = totals
    return {"rows": rows, "sum_column": column, "sum": str(total) if total is not None else None}


def check(model: GoldModel, lake: Totals, pg: Totals, column: str | None) -> Reconciled:
    """Gold's totals must be the lake's; returns gold's, as recorded."""
    if not _same_totals(lake, pg):
        raise _failed(
            model, f"lake has {lake[0]} rows (sum {column} = {lake[1]}), gold has {pg[0]} (sum {pg[1]})"
        )
    return record(pg, column)


def check_scan(model: GoldModel, expected: int | None, scanned: int) -> None:
    """A streamed scan must give the snapshot's own live-row count, when the table metadata has one."""
    if expected is not None and scanned != expected:
        raise _failed(model, f"the lake snapshot holds {expected} rows, the scan gave {scanned}")


def check_merge(model: GoldModel, changed: int, merged: int) -> None:
    """An upsert must write every changed row."""
    if merged != changed:
        raise _failed(model, f"{changed} changed rows, {merged} merged")


def gold_totals(url: str) -> dict[str, tuple[Any, ...]]:
    """Per exported table: row count and the sum of every integer and numeric column. A fingerprint to compare
    two golds (a re-run, an embedded and a cluster run) or a gold before and after an event; the run history
    (lakehouse/history.py), which every run adds to, is not part of it."""
    import psycopg

    totals = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = %s "
            "and table_name <> '_export_state' and table_name <> all(%s) order by 1",
            (MARTS_SCHEMA, list(history.TABLES)),
        ).fetchall()
        for (table,) in tables:
            numeric = conn.execute(
                "select column_name from information_schema.columns where table_schema = %s "
                "and table_name = %s and data_type in ('integer', 'bigint', 'numeric', 'smallint') "
                "order by ordinal_position",
                (MARTS_SCHEMA, table),
            ).fetchall()
            sums = "".join(f", sum({ident(c)})" for (c,) in numeric)
            totals[table] = one_row(conn, f"select count(*){sums} from {rel(MARTS_SCHEMA, table)}")
    return totals
