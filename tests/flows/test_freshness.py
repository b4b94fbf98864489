"""Which dbt sources the freshness step checks: every raw table the ingestion lands (files, the shop database)
is a dbt source declaring a freshness, found by its raw table name even where the dbt name differs."""

from __future__ import annotations

import yaml

from flows.freshness import raw_source_tables
from ingestion.contract import SOURCES
from lakehouse.platform.settings import REPO_ROOT


def _freshness_of(selector: str) -> dict:
    source_name, table_name = selector.split(".")
    for path in (REPO_ROOT / "models").rglob("*.yml"):
        for source in (yaml.safe_load(path.read_text()) or {}).get("sources") or []:
            if source["name"] != source_name:
                continue
            for table in source.get("tables") or []:
                if table["name"] == table_name:
                    own = (table.get("config") or {}).get("freshness") or {}
                    return {**(source.get("config") or {}).get("freshness", {}), **own}
    return {}


def test_every_landed_raw_table_is_a_dbt_source_with_a_freshness():
    tables = raw_source_tables()
    assert tables["shop_orders"] == "shop.orders" and tables["order_lines"] == "raw.order_lines"
    for name in SOURCES:
        assert name in tables, f"raw.{name} is landed but no dbt source declares it"
        freshness = _freshness_of(tables[name])
        assert freshness.get("warn_after") and freshness.get("error_after"), tables[name]
