"""How gold writes SQL for PostgreSQL: quoted identifiers, schema-qualified relations and string literals (for
statements that take no bound parameters, such as DDL), and the one row of a query that always returns one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg import Connection, Cursor


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def rel(schema: str, name: str) -> str:
    return f"{ident(schema)}.{ident(name)}"


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def one_row(
    db: Connection[Any] | Cursor[Any], sql: str, params: Sequence[Any] | None = None
) -> tuple[Any, ...]:
    """The row of a query that returns exactly one (an aggregate, ``to_regclass``, ``current_user``)."""
    row = db.execute(sql, params).fetchone()
    if row is None:
        raise RuntimeError(f"no row from a query that always returns one: {sql}")
    return tuple(row)
