"""The shop database's staging, SCD2 dimensions and order status history (issue 23) on the real services.

A fresh lake and a new, small shop (ingestion.shopdb.simulator): three rounds of simulated application
changes (inserts, updates, the simulator's hard and soft deletes), an extraction after each, then a dbt build
of the shop's staging, current-state, dimension and status-history models with their data tests (the scd2
tests included). Every expectation is computed here, straight from the source database.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from ingestion.contract import SHOP_TABLES

pytestmark = pytest.mark.integration

SEED = 7
ROUNDS = (timedelta(days=2), timedelta(days=7), timedelta(days=7))  # statuses skip between extractions
DIMENSIONS = {"customers": "customer_id", "sellers": "seller_id", "products": "product_id"}
# one row each, deleted for real after the simulation (leads as the application does; a customer as no
# application here does, for the dimension's deleted member)
HARD_DELETES = {"leads": "mql_id", "order_items": "order_id", "customers": "customer_id"}
MILESTONES = {
    "created": "purchased_at",
    "approved": "approved_at",
    "shipped": "shipped_at",
    "delivered": "delivered_at",
    "canceled": "canceled_at",
}
SELECTION = [
    *(f"stg_shop__{t}" for t in SHOP_TABLES),
    *(f"int_shop__{t}_current" for t in SHOP_TABLES),
    *(f"dim_shop_{t}" for t in DIMENSIONS),
    "int_shop__order_status_history",
]


def _plain(value: object) -> object:
    """A source value as the lake returns it over Thrift: timestamps naive UTC (the lake's session zone),
    dates as yyyy-MM-dd text (PyHive's rendering of a Spark date)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _source(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return [tuple(_plain(v) for v in row) for row in conn.execute(sql).fetchall()]


@pytest.fixture(scope="module")
def lake_sql(lake):
    """A Thrift client on a lake emptied of what this module writes (the extraction makes raw anew)."""
    from lakehouse.platform.sql import SparkSQL

    with SparkSQL(lake) as client:
        for schema in ("raw", "staging", "intermediate", "marts"):
            client.execute(f"drop database if exists {schema} cascade")
        shutil.rmtree(lake.warehouse_dir / "raw", ignore_errors=True)  # no batches of earlier modules
        yield client


@pytest.fixture(scope="module")
def shop(lake_sql, lake, dbt):
    """The rounds above on a new shop, extracted into the emptied lake after each, then built. Returns the
    source URL and, per dimension, every (key, updated_at) the source showed at an extraction."""
    from ingestion import extract
    from ingestion.shopdb import ensure_database, source_url
    from ingestion.shopdb.simulator import ShopConfig, Simulator

    ensure_database(lake)
    url = source_url(lake)
    small = ShopConfig(customers=150, sellers=12, products=50, signups_per_day=10, orders_per_day=40)
    seen: dict[str, set[tuple]] = {t: set() for t in DIMENSIONS}
    with Simulator(url, seed=SEED, config=small) as sim:
        sim.init(reset=True)
        for i, interval in enumerate(ROUNDS):
            sim.step(interval)
            if i == len(ROUNDS) - 1:  # hard deletes the last extraction must find by key comparison
                with psycopg.connect(url, autocommit=True) as conn:
                    for table, key in HARD_DELETES.items():
                        conn.execute(
                            f"delete from shop.{table} where {key} = (select min({key}) from shop.{table})"
                        )
            report = extract.extract(lake, key_check_every=1)
            assert not report.failed, [r.line() for r in report.failed]
            for table, key in DIMENSIONS.items():
                seen[table] |= set(_source(url, f"select {key}, updated_at from shop.{table}"))
    dbt("build", "--select", *SELECTION, "--indirect-selection", "cautious")
    return url, seen


def test_1_current_state_equals_the_source_after_updates_and_deletes(shop, lake_sql):
    url, _seen = shop
    for table in SHOP_TABLES.values():
        columns = ", ".join(table.columns)
        live = " where deleted_at is null" if table.soft_delete else ""
        expected = set(_source(url, f"select {columns} from shop.{table.name}{live}"))
        got = set(lake_sql.query(f"select {columns} from intermediate.int_shop__{table.name}_current"))
        assert got == expected, f"{table.name}: {len(got - expected)} extra, {len(expected - got)} missing"
    deletes = lake_sql.query(
        "select count_if(is_deleted) from staging.stg_shop__order_items"
        " union all select count_if(is_deleted) from staging.stg_shop__order_reviews"
        " union all select count_if(is_deleted) from staging.stg_shop__leads"
        " union all select count_if(is_deleted) from staging.stg_shop__campaign_spend"
    )
    assert sum(n for (n,) in deletes) > 0  # the delete paths were exercised
    # staging keeps every version landed, typed
    types = "select typeof(price), typeof(shipping_limit_at) from staging.stg_shop__order_items limit 1"
    assert lake_sql.query(types) == [("decimal(12,2)", "timestamp")]
    dates = "select typeof(estimated_delivery_date) from staging.stg_shop__orders limit 1"
    assert lake_sql.query(dates) == [("date",)]


def test_2_scd2_dimensions_hold_one_row_per_version_landed(shop, lake_sql):
    url, seen = shop
    alive = {t: {k for (k,) in _source(url, f"select {k} from shop.{t}")} for t, k in DIMENSIONS.items()}
    for table, key in DIMENSIONS.items():
        rows = lake_sql.query(
            f"select {key}, valid_from, valid_to, is_current, is_deleted from marts.dim_shop_{table}"
        )
        assert {(r[0], r[1]) for r in rows} == seen[table], table
        assert len(rows) == len(seen[table])
        starts: dict[str, list[datetime]] = {}
        for k, valid_from in sorted(seen[table]):
            starts.setdefault(k, []).append(valid_from)
        deleted = {k for k in starts if k not in alive[table]}
        assert len(deleted) == (table == "customers"), table
        expected = {
            (k, s[i], s[i + 1] if i + 1 < len(s) else None, i + 1 == len(s), i + 1 == len(s) and k in deleted)
            for k, s in starts.items()
            for i in range(len(s))
        }
        assert set(rows) == expected, table
    versions = Counter(k for k, _v in seen["customers"])
    assert max(versions.values()) > 1  # address changes landed as versions


def test_3_order_status_history_has_each_status_at_its_milestone(shop, lake_sql):
    url, _seen = shop
    orders = _source(url, f"select order_id, status, {', '.join(MILESTONES.values())} from shop.orders")
    expected = set()
    for order_id, status, *times in orders:
        entered = {s: t for s, t in zip(MILESTONES, times, strict=True) if t is not None}
        assert status in entered
        expected |= {(order_id, s, t, s == status) for s, t in entered.items()}
    got = set(
        lake_sql.query(
            "select order_id, status, entered_at, is_current_status"
            " from intermediate.int_shop__order_status_history"
        )
    )
    assert got == expected
    statuses = {s for _o, s, _t, _c in got}
    assert {"created", "approved", "shipped"} <= statuses


def test_4_a_new_source_column_lands_in_extra_then_in_staging_once_the_model_maps_it(
    shop, lake, lake_sql, tmp_path
):
    """The application adds `leads.score`; the next extraction keeps it in `_extra` (the raw contract does not
    know it); a copy of the project whose staging model maps it, as a user would edit it, builds it typed."""
    from ingestion import extract
    from lakehouse.platform.settings import REPO_ROOT

    url, _seen = shop
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("alter table shop.leads add column score int")
            # no updated_at here: the source's trigger stamps the change, as for any application update
            conn.execute(
                "update shop.leads set score = length(mql_id) % 5 + 1"
                " where mql_id in (select mql_id from shop.leads order by mql_id limit 7)"
            )
        expected = {
            (k, s) for k, s in _source(url, "select mql_id, score from shop.leads where score is not null")
        }
        assert len(expected) == 7

        report = extract.extract(lake, key_check_every=1)
        assert not report.failed, [r.line() for r in report.failed]
        leads = next(r for r in report.results if r.table == "leads")
        assert leads.rows == 7  # only the changed rows
        landed = lake_sql.query(
            f"select mql_id, _extra from raw.shop_leads where batch_id = '{leads.batch_id}'"
        )
        assert {(k, json.loads(extra)["score"]) for k, extra in landed} == {(k, str(s)) for k, s in expected}

        # the user's step: map the new column in the staging model (here in a copy of the project)
        project = tmp_path / "project"
        for part in ("models", "macros", "seeds", "snapshots", "analyses", "tests/dbt"):
            if (REPO_ROOT / part).exists():
                shutil.copytree(REPO_ROOT / part, project / part)
        shutil.copy(REPO_ROOT / "dbt_project.yml", project)
        model = project / "models/staging/shop/stg_shop__leads.sql"
        sql = model.read_text()
        mapped = "        cast(get_json_object(_extra, '$.score') as int) as score,\n        _extra,\n"
        assert sql.count("        _extra,\n") == 1
        model.write_text(sql.replace("        _extra,\n", mapped))
        env = {**os.environ, **lake.dbt_env(), "DBT_PROJECT_DIR": str(project)}
        env |= {"DBT_TARGET_PATH": str(project / "target"), "DBT_LOG_PATH": str(project / "logs")}
        dbt_bin = Path(sys.executable).parent / "dbt"
        proc = subprocess.run(
            [str(dbt_bin), "run", "--select", "stg_shop__leads"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stdout[-3000:]
        got = lake_sql.query(
            "select mql_id, score, typeof(score) from staging.stg_shop__leads where score is not null"
        )
        assert {(k, s) for k, s, _t in got} == expected
        assert {t for _k, _s, t in got} == {"int"}
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("alter table shop.leads drop column if exists score")
