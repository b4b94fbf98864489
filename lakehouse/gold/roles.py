"""The gold database's roles, schemas and grants: the one module that says who may do what in gold.

Layout (one PostgreSQL database, embedded or GOLD_DATABASE_URL):

- ``gold``        the BI layer: views with friendly names built by dbt-postgres (models/gold), plus
                  ``anomaly_reviews``, the one table BI users may write (its review status only).
- ``gold_marts``  exact copies of the lake's marts flagged ``meta: {gold: true}`` (lakehouse/gold/export.py),
                  PII replaced by keyed hashes; ``_export_state`` holds the export watermarks.
- ``gold_load``   where the export loads and indexes new tables before swapping them in (empty between runs).

The schema names below (``GOLD_SCHEMA``, ``MARTS_SCHEMA``, ``LOAD_SCHEMA``) are defined here and nowhere else.

Roles: ``gold_writer`` (the pipeline: export and ``dbt --target gold``; owns the three schemas) and
``gold_reader`` (BI tools: ``select`` on ``gold`` only, no access to the other schemas, no temp tables, and
``update`` of ``gold.anomaly_reviews.review_status``/``review_note`` as its only write; every such change is
recorded in ``gold.anomaly_review_history`` by a trigger, the audit trail lakehouse/anomalies/reviews.py
copies into the lake). Their passwords come
from GOLD_WRITER_PASSWORD / GOLD_READER_PASSWORD or are generated once and kept in the data directory.
:func:`ensure_gold` creates or repairs all of it, idempotently, as the database owner.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lakehouse.gold.pgsql import ident, literal, one_row
from lakehouse.platform.errors import LakehouseError, ServiceUnavailable, first_line
from lakehouse.platform.pgurl import PgUrl
from lakehouse.platform.settings import Settings

if TYPE_CHECKING:
    from psycopg import Connection

log = logging.getLogger(__name__)

READER = "gold_reader"
WRITER = "gold_writer"
GOLD_SCHEMA = "gold"
MARTS_SCHEMA = "gold_marts"
LOAD_SCHEMA = "gold_load"
REVIEW_TABLE = "anomaly_reviews"
HISTORY_TABLE = "anomaly_review_history"
# NEW: flagged, not looked at; REVIEWED: looked at, still suspicious; RESOLVED: judged legitimate (the
# baselines count it as normal again). The same values as the lake's anomaly marts.
REVIEW_STATUSES = ("NEW", "REVIEWED", "RESOLVED")
# What BI users may change: the review of an anomaly, nothing else (a column-level grant).
REVIEWER_COLUMNS = ("review_status", "review_note")

_SECRET_FILES = {READER: "gold_reader.password", WRITER: "gold_writer.password"}
_PASSWORD_VARS = {READER: "GOLD_READER_PASSWORD", WRITER: "GOLD_WRITER_PASSWORD"}


def role_password(settings: Settings, role: str) -> str:
    return settings.kept_secret(_PASSWORD_VARS[role], _SECRET_FILES[role])


def role_url(settings: Settings, role: str) -> str:
    """The gold URL with ``role``'s credentials ('owner' is the URL as configured)."""
    if role == "owner":
        return settings.gold_url
    role = {"reader": READER, "writer": WRITER}.get(role, role)
    if role not in _PASSWORD_VARS:
        raise LakehouseError(f"Unknown gold role {role!r}: use reader, writer or owner.")
    return str(PgUrl.parse(settings.gold_url).with_(user=role, password=role_password(settings, role)))


def ensure_gold(settings: Settings) -> None:
    """Create or repair roles, schemas, grants and the review table (idempotent, as the owner URL)."""
    import psycopg

    try:
        with psycopg.connect(settings.gold_url, autocommit=True, connect_timeout=10) as conn:
            _ensure(conn, settings)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise LakehouseError(
            f"The gold database's user may not set up roles ({first_line(str(exc))}): it needs CREATEROLE "
            "and ownership of the database, or create gold_reader/gold_writer yourself (see README)."
        ) from exc
    except psycopg.OperationalError as exc:
        raise ServiceUnavailable(f"Gold database unreachable: {first_line(str(exc))}") from exc


def _ensure(conn: Connection[Any], settings: Settings) -> None:
    db, me = one_row(conn, "select current_database(), current_user")
    for role in (WRITER, READER):
        password = literal(role_password(settings, role))
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
        verb = "alter" if exists else "create"
        conn.execute(
            f"{verb} role {role} with login nosuperuser nocreatedb nocreaterole noinherit password {password}"
        )
    # the owner must be able to hand objects to the writer (PostgreSQL 16+ asks for membership)
    conn.execute(f"grant {WRITER} to {ident(me)}")
    stmts = [
        # nobody but the named roles connects; nobody creates temp tables unless granted
        f"revoke all on database {ident(db)} from public",
        f"grant connect, temporary, create on database {ident(db)} to {WRITER}",
        f"grant connect on database {ident(db)} to {READER}",
        f"revoke all on schema public from {READER}",
    ]
    for schema in (GOLD_SCHEMA, MARTS_SCHEMA, LOAD_SCHEMA):
        stmts += [
            f"create schema if not exists {schema} authorization {WRITER}",
            f"alter schema {schema} owner to {WRITER}",
            f"revoke all on schema {schema} from public",
        ]
    stmts += [
        f"grant usage on schema {GOLD_SCHEMA} to {READER}",
        f"grant select on all tables in schema {GOLD_SCHEMA} to {READER}",
        # views dbt creates later (as the writer) are readable at once
        f"alter default privileges for role {WRITER} in schema {GOLD_SCHEMA} "
        f"grant select on tables to {READER}",
        f"alter default privileges for role {WRITER} revoke execute on functions from public",
    ]
    for stmt in stmts:
        conn.execute(stmt)
    _ensure_review_table(conn)
    log.info("gold roles, schemas and grants in place (database %s)", db)


def _ensure_review_table(conn: Connection[Any]) -> None:
    """The anomaly review table, its audit trail, and the narrow grant that lets BI users review.

    Rows are written by the pipeline (writer) with ``insert ... on conflict do nothing`` so a review survives
    re-exports; readers may only update ``review_status`` and ``review_note``. A trigger stamps who and when
    and appends the change (from, to, note) to the history table, which readers may read but not write:
    its function runs with the writer's rights (security definer), the only way a reader's update reaches it.
    """
    table = f"{GOLD_SCHEMA}.{REVIEW_TABLE}"
    history = f"{GOLD_SCHEMA}.{HISTORY_TABLE}"
    statuses = ", ".join(literal(s) for s in REVIEW_STATUSES)
    conn.execute(f"""
        create table if not exists {table} (
            anomaly_id text primary key,
            anomaly_type text not null,
            detected_at timestamptz not null,
            review_status text not null default 'NEW' check (review_status in ({statuses})),
            review_note text,
            reviewed_by text,
            reviewed_at timestamptz
        )""")
    conn.execute(f"""
        create table if not exists {history} (
            event_id bigint generated always as identity primary key,
            anomaly_id text not null,
            anomaly_type text not null,
            from_status text,
            to_status text not null,
            note text,
            changed_by text not null,
            changed_at timestamptz not null
        )""")
    conn.execute(f"""
        create or replace function {GOLD_SCHEMA}.stamp_anomaly_review() returns trigger
        language plpgsql security definer set search_path = pg_catalog as $$
        begin
            if new.review_status is not distinct from old.review_status
               and new.review_note is not distinct from old.review_note then
                return new;
            end if;
            new.reviewed_by := session_user;
            new.reviewed_at := now();
            insert into {history}
                (anomaly_id, anomaly_type, from_status, to_status, note, changed_by, changed_at)
            values (new.anomaly_id, new.anomaly_type, old.review_status, new.review_status, new.review_note,
                    new.reviewed_by, new.reviewed_at);
            return new;
        end $$""")
    conn.execute(f"drop trigger if exists stamp_review on {table}")
    conn.execute(
        f"create trigger stamp_review before update of {', '.join(REVIEWER_COLUMNS)} on {table} "
        f"for each row execute function {GOLD_SCHEMA}.stamp_anomaly_review()"
    )
    for obj in (f"table {table}", f"table {history}", f"function {GOLD_SCHEMA}.stamp_anomaly_review()"):
        conn.execute(f"alter {obj} owner to {WRITER}")
    conn.execute(f"comment on table {table} is 'Anomalies and their review; BI users may set review_status.'")
    conn.execute(f"comment on table {history} is 'Every change of an anomaly review: who, when, from, to.'")
    conn.execute(f"revoke all on {table}, {history} from {READER}")
    conn.execute(f"grant select, update ({', '.join(REVIEWER_COLUMNS)}) on {table} to {READER}")
    conn.execute(f"grant select on {history} to {READER}")
