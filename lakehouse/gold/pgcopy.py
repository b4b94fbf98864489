"""Arrow into PostgreSQL: the column type each Arrow type becomes, a table's column list, the columns a table
has, and ``COPY`` of Arrow batches in PostgreSQL's binary format."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.types as pat

from lakehouse.gold.model import COPY_CHUNK_ROWS
from lakehouse.gold.pgsql import ident
from lakehouse.platform.errors import LakehouseError

if TYPE_CHECKING:
    from psycopg import Cursor


def pg_type(dtype: pa.DataType) -> str:
    if pat.is_string(dtype) or pat.is_large_string(dtype):
        return "text"
    if pat.is_boolean(dtype):
        return "boolean"
    if pat.is_int8(dtype) or pat.is_int16(dtype):
        return "smallint"
    if pat.is_int32(dtype):
        return "integer"
    if pat.is_int64(dtype):
        return "bigint"
    if pat.is_float32(dtype):
        return "real"
    if pat.is_float64(dtype):
        return "double precision"
    if pat.is_decimal(dtype):
        return f"numeric({dtype.precision},{dtype.scale})"
    if pat.is_date(dtype):
        return "date"
    if pat.is_timestamp(dtype):
        return "timestamp with time zone" if dtype.tz else "timestamp without time zone"
    if pat.is_binary(dtype) or pat.is_large_binary(dtype):
        return "bytea"
    raise LakehouseError(f"No PostgreSQL type for Arrow type {dtype}")


def columns_sql(schema: pa.Schema, not_null: Iterable[str] = ()) -> str:
    """The column list of a ``create table`` for ``schema``."""
    required = set(not_null)
    return ",\n  ".join(
        f"{ident(f.name)} {pg_type(f.type)}{' not null' if f.name in required else ''}" for f in schema
    )


def table_columns(cur: Cursor[Any], table_sql: str) -> list[tuple[str, str]]:
    """(name, PostgreSQL type) of each column of a table, in order; empty when there is no such table."""
    return cur.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
        "where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped order by a.attnum",
        (table_sql,),
    ).fetchall()


def copy_arrow(cur: Cursor[Any], table_sql: str, data: pa.Table, *, freeze: bool = False) -> None:
    """COPY an Arrow table (see ``copy_batches``)."""
    copy_batches(cur, table_sql, data.schema, data.to_batches(max_chunksize=COPY_CHUNK_ROWS), freeze=freeze)


def copy_batches(
    cur: Cursor[Any],
    table_sql: str,
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    *,
    freeze: bool = False,
) -> None:
    """COPY Arrow batches in PostgreSQL's binary format (pgpq encodes Arrow batches natively): the server
    parses no text, the client formats none. Batches are sent as they come, so a lake scan that produces
    them overlaps the load. ``freeze`` (table created in this transaction) writes rows already frozen, so
    the index builds and first reads that follow set no hint bits."""
    from pgpq import ArrowToPostgresBinaryEncoder

    columns = ", ".join(ident(c) for c in schema.names)
    options = "format binary, freeze" if freeze else "format binary"
    encoder = ArrowToPostgresBinaryEncoder(schema)
    with cur.copy(f"copy {table_sql} ({columns}) from stdin ({options})") as copy:
        copy.write(encoder.write_header())
        for batch in batches:
            copy.write(encoder.write_batch(batch))
        copy.write(encoder.finish())
