"""Source freshness, a step of every transform: `dbt source freshness` on the raw sources that have landed.

When a source last landed comes from the batch manifest (``loaded_at_query`` on ``raw._batches``: the end
of its last succeeded batch), not from a scan of the data. Thresholds are dbt's, per source or table in the
sources YAML (models/staging/*/_*__sources.yml: ``warn_after``, ``error_after``).

- ``pass``: nothing to say.
- ``warn``: the step's line in the run report (and its artifact) names the stale sources; the run goes on.
- ``error``: the run fails here, before the transform and the export, naming the source: gold keeps serving
  the last good state while nobody pretends it is current.
- ``runtime error`` (the check itself failed): reported, not fatal; the build will say if the lake is broken.

A source that has never landed a batch (a lake of order lines only: no clickstream) is not checked: it is
absent, not stale. Every result goes to the run history (flows/history.py, ``ops.source_freshness``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from prefect import get_run_logger, task

from flows.transform import run_dbt
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import REPO_ROOT, Settings, load_settings
from lakehouse.platform.sql import SparkSQL

FATAL, STALE, BROKEN = "error", "warn", "runtime error"


@dataclass
class Freshness:
    checked: int = 0
    stale: list[str] = field(default_factory=list)  # "raw.products 1.6 d" (warn)
    broken: list[str] = field(default_factory=list)  # checks that could not run

    def describe(self) -> str:
        if not self.checked:
            return "no sources landed yet"
        text = f"{self.checked} sources, " + (
            f"stale (warn): {', '.join(self.stale)}" if self.stale else "all fresh"
        )
        return text + (f"; not checked: {', '.join(self.broken)}" if self.broken else "")


def raw_source_tables() -> dict[str, str]:
    """Raw table -> dbt ``source.table``, read from the sources YAML (a table's identifier may differ from its
    dbt name: raw.shop_orders is ``shop.orders``); no dbt parse needed, so it works before the first build."""
    tables = {}
    for path in sorted((REPO_ROOT / "models").rglob("*.yml")):
        for source in (yaml.safe_load(path.read_text()) or {}).get("sources") or []:
            if source.get("schema", source["name"]) != "raw":
                continue
            for table in source.get("tables") or []:
                tables[table.get("identifier", table["name"])] = f"{source['name']}.{table['name']}"
    return tables


def landed_sources(settings: Settings) -> list[str]:
    """dbt selectors of the raw tables declared as dbt sources with at least one succeeded batch (dbt checks
    those whose source declares a freshness)."""
    with SparkSQL(settings) as spark:
        try:
            rows = spark.query("select distinct source from raw._batches where status = 'succeeded'")
        except LakehouseError:
            return []  # no batch manifest: nothing ever landed
    declared = raw_source_tables()
    return sorted(f"source:{declared[table]}" for (table,) in rows if table in declared)


def _age(r: object) -> str:
    age = getattr(r, "age", None)
    return f"{age / 86400:.1f} d" if age is not None else "never"


@task(name="source-freshness")
def check_freshness() -> Freshness:
    """`dbt source freshness` on the landed sources; fails on an error-level staleness (see module doc)."""
    selectors = landed_sources(load_settings())
    result = Freshness()
    if not selectors:
        return result
    # no relation cache: it lists every schema of the project (seconds), and freshness needs none of it
    outcome = run_dbt(["source", "freshness", "--no-populate-cache", "--select", *selectors], check=False)
    result.checked = len(outcome.results)
    fatal = []
    for r in outcome.results:
        name = f"{r.node.source_name}.{r.node.name}"
        status = str(r.status)
        if status == FATAL:
            after = r.node.freshness.error_after
            fatal.append(f"{name} last landed {_age(r)} ago (error after {after.count} {after.period}s)")
        elif status == STALE:
            result.stale.append(f"{name} {_age(r)}")
        elif status == BROKEN:
            result.broken.append(name)
            get_run_logger().warning("source freshness of %s could not be checked: %s", name, r.message)
    if fatal:
        raise LakehouseError(
            "Stale source, the run stops before the build and the export: " + "; ".join(fatal)
        )
    return result
