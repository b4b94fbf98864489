"""What the dbt manifest says to export: the models (and source tables) flagged ``meta: {gold: true}``, with
their primary key (``unique_key``, else the column tested ``unique`` and ``not_null``), secondary indexes
(columns with a ``relationships`` test: what dashboards join and filter on), PII columns (tagged ``pii``)
and whether they are upserted (incremental with a key). No list of models in code."""

from __future__ import annotations

import json
from pathlib import Path

from lakehouse.gold.model import GoldModel
from lakehouse.platform.errors import LakehouseError


def gold_models(manifest_path: Path) -> list[GoldModel]:
    """Models flagged ``meta: {gold: true}`` in the dbt manifest, with keys, indexes and PII from it."""
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError as exc:
        raise LakehouseError(f"No dbt manifest at {manifest_path}: run `dbt build` first.") from exc
    tests: dict[str, list[tuple[str, str]]] = {}  # node id -> [(test name, column)]
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("column_name"):
            continue
        test_name = (node.get("test_metadata") or {}).get("name", "")
        for dep in node.get("depends_on", {}).get("nodes", [])[-1:]:  # the tested model comes last
            tests.setdefault(node.get("attached_node") or dep, []).append((test_name, node["column_name"]))
    models = []
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] not in ("model", "snapshot", "seed"):
            continue
        config = node.get("config", {})
        meta = {**node.get("meta", {}), **config.get("meta", {})}
        if not meta.get("gold") or not config.get("enabled", True):
            continue
        name = node.get("alias") or node["name"]
        node_tests = tests.get(uid, [])
        unique_key = config.get("unique_key")
        if isinstance(unique_key, str):
            unique_key = [unique_key]
        if not unique_key:
            unique = {c for t, c in node_tests if t == "unique"}
            not_null = {c for t, c in node_tests if t == "not_null"}
            unique_key = sorted(unique & not_null)[:1]
        # the lake's partition columns lead the key, as in the lake: new lines (recent months) then land in
        # a narrow part of the index instead of on every page of it
        partitions = config.get("partition_by") or []
        partitions = [partitions] if isinstance(partitions, str) else list(partitions)
        pk = tuple(sorted(unique_key or (), key=lambda c: (c not in partitions, (unique_key or []).index(c))))
        indexed = sorted({c for t, c in node_tests if t == "relationships"} - set(pk[:1]))
        columns = node.get("columns", {})
        pii = tuple(sorted(c for c, col in columns.items() if "pii" in (col.get("tags") or [])))
        incremental = config.get("materialized") == "incremental" and bool(pk)
        models.append(GoldModel(name, f"{node['schema']}.{name}", pk, tuple(indexed), pii, incremental))
    models += _gold_sources(manifest)
    return sorted(models, key=lambda m: m.name)


def _gold_sources(manifest: dict) -> list[GoldModel]:
    """Source tables flagged ``meta: {gold: true}`` (tables the pipeline writes itself, e.g. the run history
    in ``ops``): key and mode from their meta (``unique_key``, ``incremental``): they have no model config."""
    models = []
    for source in manifest.get("sources", {}).values():
        meta = {
            **source.get("source_meta", {}),
            **source.get("meta", {}),
            **source.get("config", {}).get("meta", {}),
        }
        if not meta.get("gold") or not source.get("config", {}).get("enabled", True):
            continue
        name = source.get("identifier") or source["name"]
        key = meta.get("unique_key") or []
        pk = tuple([key] if isinstance(key, str) else key)
        incremental = bool(meta.get("incremental")) and bool(pk)
        models.append(GoldModel(name, f"{source['schema']}.{name}", pk, (), (), incremental))
    return models
