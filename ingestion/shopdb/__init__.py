"""The shop's operational database: a PostgreSQL source the lake extracts from (issue 23).

By default a second database ``shop`` on the embedded PostgreSQL, owned by its own role ``shop_app``
(password from SHOP_DB_PASSWORD, else generated once and kept in ``<data dir>/postgres/shop_app.password``);
the gold roles cannot connect to it. SOURCE_DATABASE_URL points at any other server instead (the schema is
created there when absent, no roles). The DDL is ``schema.sql`` (schema ``shop``); ``simulator.py`` makes it
live.

:func:`source_url` is the one place that says where the shop database is; :func:`ensure_database` creates
role, database and schema when absent (idempotent).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakehouse.gold.pgsql import ident, literal, one_row
from lakehouse.platform.errors import LakehouseError, ServiceUnavailable, first_line
from lakehouse.platform.pgurl import PgUrl
from lakehouse.platform.settings import Settings

if TYPE_CHECKING:
    from psycopg import Connection

log = logging.getLogger(__name__)

DATABASE = "shop"
SCHEMA = "shop"
ROLE = "shop_app"
SCHEMA_SQL = Path(__file__).with_name("schema.sql")

# table -> its primary key columns (the extraction's cursor is (updated_at, *key)), in the order of schema.sql
TABLES: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id",),
    "sellers": ("seller_id",),
    "products": ("product_id",),
    "orders": ("order_id",),
    "order_items": ("order_id", "order_item_id"),
    "order_payments": ("order_id", "payment_sequential"),
    "order_reviews": ("review_id",),
    "inventory_movements": ("movement_id",),
    "campaigns": ("campaign_id",),
    "campaign_spend": ("campaign_id", "spend_date"),
    "leads": ("mql_id",),
    "closed_deals": ("mql_id",),
}
# tables whose rows the application deletes for real (the extraction finds them by comparing keys)
HARD_DELETES = ("order_items", "campaign_spend", "leads")
# tables that mark a deleted row instead: table -> the column set when it is deleted
SOFT_DELETES = {"order_reviews": "deleted_at"}


def shop_password(settings: Settings) -> str:
    return settings.kept_secret("SHOP_DB_PASSWORD", "shop_app.password")


def embedded(settings: Settings) -> bool:
    """True when the shop database is ours to create (no SOURCE_DATABASE_URL)."""
    return not settings.get("SOURCE_DATABASE_URL")


def source_url(settings: Settings) -> str:
    """libpq URL of the shop database: SOURCE_DATABASE_URL, else ``shop`` on the gold server as shop_app."""
    if not embedded(settings):
        return settings.get("SOURCE_DATABASE_URL")
    url = PgUrl.parse(settings.gold_url).with_(user=ROLE, password=shop_password(settings), database=DATABASE)
    return str(url)


def ensure_database(settings: Settings) -> bool:
    """Create what is missing: role ``shop_app``, database ``shop`` owned by it (nobody else may connect) and
    schema ``shop`` (schema.sql, once). Idempotent; returns True when it created the schema.

    The role and database are made through the gold server's owner connection; the schema as ``shop_app``,
    so it owns every table. With SOURCE_DATABASE_URL only the schema is created, as that URL's user."""
    import psycopg

    try:
        if embedded(settings):
            owner = str(PgUrl.parse(settings.gold_url).with_(database="postgres"))
            with psycopg.connect(owner, autocommit=True, connect_timeout=10) as conn:
                _ensure_role_and_database(conn, settings)
        with psycopg.connect(source_url(settings), autocommit=True, connect_timeout=10) as conn:
            return _ensure_schema(conn)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise LakehouseError(
            f"Cannot set up the shop database ({first_line(str(exc))}): the gold server's user needs "
            "CREATEROLE and CREATEDB, or set SOURCE_DATABASE_URL to a database you created."
        ) from exc
    except psycopg.OperationalError as exc:
        raise ServiceUnavailable(f"Shop database unreachable: {first_line(str(exc))}") from exc


def _ensure_role_and_database(conn: Connection[Any], settings: Settings) -> None:
    (me,) = one_row(conn, "select current_user")
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (ROLE,)).fetchone()
    verb = "alter" if exists else "create"
    conn.execute(
        f"{verb} role {ROLE} with login nosuperuser nocreatedb nocreaterole noinherit "
        f"password {literal(shop_password(settings))}"
    )
    # the owner hands the database to the role (PostgreSQL 16+ asks for membership)
    conn.execute(f"grant {ROLE} to {ident(me)}")
    if not conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone():
        conn.execute(f"create database {ident(DATABASE)} owner {ROLE}")
        log.info("created database %s owned by %s", DATABASE, ROLE)
    # PUBLIC may connect to a new database by default: nobody but its owner (and superusers) may
    conn.execute(f"revoke all on database {ident(DATABASE)} from public")


def _ensure_schema(conn: Connection[Any]) -> bool:
    (present,) = one_row(conn, "select to_regnamespace(%s) is not null", (SCHEMA,))
    if present:
        return False
    with conn.transaction():
        conn.execute(SCHEMA_SQL.read_text())  # DDL only: sent as one simple query
    log.info("created schema %s (%s)", SCHEMA, SCHEMA_SQL.name)
    return True
