"""Gold: the PostgreSQL copy of the lake's marts that BI tools read, and who may read or write it.

One module per step, each importing only the ones below it:

- ``export``     the orchestration of a run (``export_gold``);
- ``plan``       what changed in the lake and how each model reaches gold; ``stage`` loads swaps into
  gold_load; ``swap`` publishes a run in one transaction, with ``upsert`` for incremental tables;
- ``lake_scan``  reading Iceberg; ``pii`` masking; ``pgcopy`` Arrow into PostgreSQL; ``reconcile`` lake vs
  gold; ``state`` the watermarks; ``manifest`` which models to export;
- ``roles``      roles, schemas and grants; ``pgsql`` quoting; ``model`` the plain data types and constants;
- ``backup``     pg_dump and restore (import it as ``lakehouse.gold.backup``).
"""

from lakehouse.gold.export import export_gold
from lakehouse.gold.manifest import gold_models
from lakehouse.gold.model import ExportResult, GoldModel, Mode
from lakehouse.gold.reconcile import gold_totals
from lakehouse.gold.roles import (
    GOLD_SCHEMA,
    HISTORY_TABLE,
    LOAD_SCHEMA,
    MARTS_SCHEMA,
    READER,
    REVIEW_STATUSES,
    REVIEW_TABLE,
    REVIEWER_COLUMNS,
    WRITER,
    ensure_gold,
    role_password,
    role_url,
)

__all__ = [
    "GOLD_SCHEMA",
    "HISTORY_TABLE",
    "LOAD_SCHEMA",
    "MARTS_SCHEMA",
    "READER",
    "REVIEWER_COLUMNS",
    "REVIEW_STATUSES",
    "REVIEW_TABLE",
    "WRITER",
    "ExportResult",
    "GoldModel",
    "Mode",
    "ensure_gold",
    "export_gold",
    "gold_models",
    "gold_totals",
    "role_password",
    "role_url",
]
