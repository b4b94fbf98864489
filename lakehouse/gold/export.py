"""Export marts from the lake to PostgreSQL (schema ``gold_marts``, under the BI views of ``gold``): the
orchestration of one run; each step is a module of this package.

Which models: every model whose dbt config has ``meta: {gold: true}`` (read from the manifest, no list here).
What the manifest also decides: the primary key (``unique_key``, else the column tested ``unique`` and
``not_null``), secondary indexes (columns with a ``relationships`` test: what dashboards join and filter on),
PII columns (tagged ``pii``, replaced by a keyed hash: the raw value never leaves the lake) and the mode:

- **swap** (dimensions, marts): the table is read from its Iceberg files (PyIceberg on the current metadata
  file the catalog names; no rows through Thrift) and streamed batch by batch into ``COPY`` into
  ``gold_load`` (no index yet; the scan overlaps the load and the table is never whole in client memory),
  indexed, reconciled, and swapped into ``gold_marts`` by rename. Views on the table (the dbt-postgres BI
  layer) are re-pointed with ``create or replace view`` in the same transaction, so they keep their grants
  and comments, and a BI query sees the old or the new data, never a half-loaded or missing table. A table
  whose Iceberg snapshot did not change since the last export is left alone.
- **upsert** (incremental models with a ``unique_key`` and a ``_loaded_at`` column, i.e. the order-line fact):
  only rows written since the watermark (``_loaded_at``, kept with the Iceberg snapshot in
  ``gold_marts._export_state``) are read (Iceberg prunes the files of older batches) and merged with
  ``INSERT ... ON CONFLICT``. The first export, a rewritten lake table or a changed schema load it in full.

Everything of one run commits in ONE transaction after reconciliation (row count and a column sum per table,
lake vs gold; a streamed scan must also give the snapshot's own row count from the table metadata): a
mismatch rolls back and leaves the previous gold in place.

The steps, in order: ``manifest`` (which models), ``plan`` (what changed, how it goes), ``stage`` (swaps
loaded into gold_load), ``swap`` (the one transaction, with ``upsert``), on ``lake_scan``, ``pii``,
``pgcopy``, ``reconcile`` and ``state``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from lakehouse import history
from lakehouse.gold.manifest import gold_models
from lakehouse.gold.model import ExportResult, GoldModel, Mode, Plan
from lakehouse.gold.pgsql import one_row, rel
from lakehouse.gold.pii import pii_key
from lakehouse.gold.plan import plan_export
from lakehouse.gold.roles import MARTS_SCHEMA, WRITER, ensure_gold, role_url
from lakehouse.gold.stage import drop_leftovers, drop_staged, stage_swap
from lakehouse.gold.state import ensure_state, read_state
from lakehouse.gold.swap import swap_all
from lakehouse.ml.runs import ensure_tables as ensure_ml_tables
from lakehouse.ml.settings import ML_SCHEMA
from lakehouse.platform.errors import LakehouseError, ServiceUnavailable, first_line
from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL

log = logging.getLogger(__name__)


def export_gold(
    settings: Settings,
    manifest_path: Path | None = None,
    *,
    models: list[GoldModel] | None = None,
    full_refresh: bool = False,
) -> list[ExportResult]:
    """Export every gold model (or ``models``) from the lake into gold_marts, atomically; see module doc."""
    import psycopg

    if models is None:
        models = gold_models(manifest_path or settings.dbt_target_path / "manifest.json")
    ensure_gold(settings)
    url = role_url(settings, WRITER)
    key = pii_key(settings)
    results: list[ExportResult] = []
    try:
        with SparkSQL(settings) as spark, psycopg.connect(url) as conn:
            if any(m.lake_relation.startswith(f"{history.SCHEMA}.") for m in models):
                history.ensure_tables(spark)  # a lake from before the run history, or a run that failed early
            if any(m.lake_relation.startswith(f"{ML_SCHEMA}.") for m in models):
                ensure_ml_tables(spark)  # empty until the first training and scoring
            ensure_state(conn)
            drop_leftovers(conn)
            state = read_state(conn)
            conn.commit()
            plans = [plan_export(spark, conn, m, state, full_refresh, key) for m in models]
            conn.commit()
            swaps = [p for p in plans if p.mode == Mode.SWAP]
            upserts = [p for p in plans if p.mode == Mode.UPSERT]
            staged: list[Plan] = []
            try:
                for plan in swaps:
                    staged.append(stage_swap(conn, plan, url, key))
                reconciled = swap_all(conn, staged, upserts)
            finally:
                drop_staged(conn, [p.model for p in swaps])
            loaded = {p.model.name: p for p in staged}
            for plan in (loaded.get(p.model.name, p) for p in plans):
                name = plan.model.name
                if plan.mode == Mode.UNCHANGED:
                    rec = {"rows": one_row(conn, f"select count(*) from {rel(MARTS_SCHEMA, name)}")[0]}
                else:
                    rec = reconciled[name]
                changed = plan.changed_rows
                seconds = time.monotonic() - plan.started
                results.append(ExportResult(plan.model, rec["rows"], seconds, plan.mode, changed, rec))
                log.info("exported %s (%s): %d rows, %d changed", name, plan.mode, rec["rows"], changed)
            conn.commit()
    except psycopg.OperationalError as exc:
        # the database's operation failed (connection, shutdown, resources), not the SQL or the data
        raise ServiceUnavailable(f"Gold database unreachable: {first_line(str(exc))}") from exc
    except psycopg.Error as exc:
        log.error("gold export failed", exc_info=True)
        raise LakehouseError(f"Gold export failed: {first_line(str(exc))}; gold left unchanged.") from exc
    return results
