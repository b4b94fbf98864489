"""Incremental extraction of the shop database (ingestion/extract.py) on the real PostgreSQL and Spark.

Rounds of application changes (inserts, updates of many rows sharing one updated_at, soft and hard deletes),
each followed by an extraction into a lake schema of this module's own; after each, the lake's current rows
(last row per key by batch order, deletes removed) equal the source table exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ingestion import extract
from ingestion.contract import SHOP_TABLES
from ingestion.rawzone import RawZone

pytestmark = pytest.mark.integration

SCHEMA = "shop_extract_test"
TABLES = [SHOP_TABLES[n] for n in ("order_items", "order_reviews", "leads")]
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ISO = '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\''


@pytest.fixture(scope="module")
def shop(lake):
    """The shop database (ingestion.shopdb), its extracted tables emptied; a lake schema of our own."""
    from ingestion.shopdb import ensure_database, source_url

    ensure_database(lake)
    url = source_url(lake)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("alter table shop.leads drop column if exists score")
        conn.execute(f"truncate {', '.join('shop.' + t.name for t in TABLES)}")
    yield url
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("alter table shop.leads drop column if exists score")


@pytest.fixture(scope="module")
def run(shop, lake, tmp_path_factory):
    """``run()`` extracts TABLES once into SCHEMA (a raw zone under a temporary folder)."""
    from lakehouse.platform.sql import SparkSQL

    zone = RawZone(str(tmp_path_factory.mktemp("raw")))
    with SparkSQL(lake) as spark:
        spark.execute(f"drop database if exists {SCHEMA} cascade")

        def _run(key_check_every: int = 1) -> dict[str, extract.TableResult]:
            report = extract.run_extraction(spark, zone, shop, TABLES, key_check_every, schema=SCHEMA)
            return {r.table: r for r in report.results}

        _run.spark = spark  # type: ignore[attr-defined]
        yield _run
        spark.execute(f"drop database if exists {SCHEMA} cascade")


def source_rows(url: str, table: str) -> set[tuple]:
    """The source's live rows as the raw contract writes them (text, timestamps ISO UTC)."""
    t = SHOP_TABLES[table]
    with psycopg.connect(url) as conn:
        types = dict(
            conn.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'shop' and table_name = %s",
                (table,),
            ).fetchall()
        )
        cols = [
            f"to_char({c} at time zone 'UTC', {ISO})" if types[c].startswith("timestamp") else f"{c}::text"
            for c in t.columns
        ]
        live = " where deleted_at is null" if t.soft_delete else ""
        return set(conn.execute(f"select {', '.join(cols)} from shop.{table}{live}").fetchall())


def lake_rows(spark, table: str) -> set[tuple]:
    """The lake's current rows: the last per key by batch, then row number; deletes removed."""
    t = SHOP_TABLES[table]
    keys = ", ".join(t.key)
    rows = spark.query(
        f"select {', '.join(t.columns)} from (select *, row_number() over (partition by {keys} "
        f"order by batch_id desc, _row_number desc) as rn from {SCHEMA}.{t.source}) "
        "where rn = 1 and _op = 'upsert'"
    )
    return set(rows)


def assert_lake_equals_source(run, shop) -> None:
    for t in TABLES:
        expected = source_rows(shop, t.name)
        assert lake_rows(run.spark, t.name) == expected, t.name


def sql(url: str, *statements: str, args: tuple = ()) -> None:
    with psycopg.connect(url) as conn:  # one transaction, as an application writes
        for s in statements:
            n = s.count("%s")
            conn.execute(s, args[:1] * n if len(args) == 1 else args[:n])


def test_rounds_of_changes_land_exactly_the_source_state(run, shop):
    t1, t2, t3 = (T0 + timedelta(hours=h) for h in (1, 2, 3))
    # round 1: inserts, all rows of a table sharing one updated_at
    sql(
        shop,
        "insert into shop.order_items select 'o' || (g / 3), mod(g, 3) + 1, 'p' || mod(g, 7), "
        "'s' || mod(g, 4), "
        "%s + interval '2 days', (g * 1.25)::numeric(12,2), 3.10, %s from generate_series(0, 59) g",
        "insert into shop.order_reviews select 'r' || g, 'o' || g, 1 + mod(g, 5), 'title ' || g, "
        "case when mod(g, 4) = 0 then null else E'line one\\nsaid \"ok\", ''fine''' end, %s, null, %s, null "
        "from generate_series(0, 19) g",
        "insert into shop.leads select 'm' || g, date '2026-02-01' + g, 'lp' || (mod(g, 3)), 'organic', %s "
        "from generate_series(0, 9) g",
        args=(T0, T0),
    )
    first = run()
    assert {n: (r.status, r.rows, r.deletes) for n, r in first.items()} == {
        "order_items": ("succeeded", 60, 0),
        "order_reviews": ("succeeded", 20, 0),
        "leads": ("succeeded", 10, 0),
    }
    assert first["leads"].batch_id == "shop_leads__000001__start"
    assert first["leads"].cursor == "2026-03-01T09:00:00.000000Z"
    assert_lake_equals_source(run, shop)

    # round 2: many rows updated to one updated_at, hard deletes, soft deletes, an edited review
    sql(
        shop,
        "update shop.order_items set price = price + 1, updated_at = %s where order_item_id = 1",
        "delete from shop.order_items where order_id in ('o3', 'o4')",
        "update shop.order_reviews set deleted_at = %s, updated_at = %s where review_id in ('r1', 'r2')",
        "update shop.order_reviews set comment_message = 'edited', answered_at = %s where review_id = 'r5'",
        "delete from shop.leads where mql_id in ('m1', 'm2')",
        args=(t1,),
    )
    second = run()
    assert (second["order_items"].rows, second["order_items"].deletes) == (18, 6)
    # the soft deletes are rows of the batch (_op = delete); the edit forgot updated_at: the trigger set it
    assert (second["order_reviews"].rows, second["order_reviews"].deletes) == (3, 0)
    assert (second["leads"].rows, second["leads"].deletes) == (0, 2)
    assert second["leads"].batch_id == "shop_leads__000002__20260301T090000.000000Z"
    assert_lake_equals_source(run, shop)

    # round 3: new rows sharing the cursor's updated_at (keys after the cursor's), a deleted key comes back
    sql(
        shop,
        "insert into shop.order_items values ('z1', 1, 'p1', 's1', %s, 9.99, 1.00, %s)",
        "insert into shop.leads values ('m1', '2026-02-20', 'lp9', 'paid', %s)",
        "update shop.leads set origin = 'social', updated_at = %s where mql_id = 'm3'",
        args=(t1, t1),
    )
    third = run()
    assert third["order_items"].rows == 1 and third["leads"].rows == 2
    assert third["order_reviews"].status == "unchanged"
    assert_lake_equals_source(run, shop)

    # round 4: nothing changed: no batch, the cursors stay
    fourth = run()
    assert {r.status for r in fourth.values()} == {"unchanged"}
    assert_lake_equals_source(run, shop)

    # round 5: a crash between landing and the cursor update re-extracts under the same batch id
    sql(shop, "update shop.order_items set freight_value = 5.55, updated_at = %s where order_id = 'o7'",
        args=(t2,))  # fmt: skip
    original = extract.save_cursors

    def crash(*_a, **_k):
        raise RuntimeError("injected crash before the cursor update")

    extract.save_cursors = crash  # type: ignore[assignment]
    try:
        with pytest.raises(RuntimeError, match="injected crash"):
            run()
    finally:
        extract.save_cursors = original
    spark = run.spark
    crashed = spark.query(
        f"select batch_id, status, rows from {SCHEMA}._batches where source = 'shop_order_items'"
    )
    landed = max(crashed)
    assert landed[1:] == ("succeeded", 3)
    cursor = spark.scalar(
        f"select updated_at from {SCHEMA}._extract_cursors where table_name = 'order_items'"
    )
    assert cursor == "2026-03-01T10:00:00.000000Z"  # not moved
    # the other order of the two parallel commits: a cursor row whose batch the manifest lacks is not the
    # cursor (the run writes it at the same time as the manifest row; it counts once that row is there)
    ahead = extract.Cursor(
        "order_items", 99, "2099-01-01T00:00:00.000000Z", '["x", "1"]', "shop_never__000099"
    )
    extract.save_cursors(spark, [ahead], SCHEMA, compact=False)
    assert extract.read_cursors(spark, SCHEMA)["order_items"].updated_at == cursor
    # a lake from an earlier version: its view showed the log's rows whatever the manifest said; the next
    # extraction's check makes it again
    spark.execute(f"drop view {SCHEMA}._extract_cursors")
    spark.execute(
        f"create view {SCHEMA}._extract_cursors as select * from {SCHEMA}.{extract.CURSOR_LOG} where seq = 99"
    )
    extract.ensure_cursor_table(spark, SCHEMA)
    assert (
        spark.scalar(f"select updated_at from {SCHEMA}._extract_cursors where table_name = 'order_items'")
        == cursor
    )
    sql(shop, "update shop.order_items set price = 1.11, updated_at = %s where order_id = 'o8'", args=(t3,))
    again = run()
    assert again["order_items"].batch_id == landed[0]  # the same batch, replaced
    assert again["order_items"].rows == 6 and again["order_items"].cursor == "2026-03-01T12:00:00.000000Z"
    assert spark.scalar(f"select count(*) from {SCHEMA}.shop_order_items where batch_id = '{landed[0]}'") == 6
    assert spark.scalar(f"select count(*) from {SCHEMA}._batches where batch_id = '{landed[0]}'") == 1
    assert_lake_equals_source(run, shop)


def test_a_column_added_to_a_source_table_lands_in_extra(run, shop):
    sql(
        shop,
        "alter table shop.leads add column score int",
        "update shop.leads set score = 7, updated_at = %s where mql_id = 'm5'",
        args=(T0 + timedelta(days=1),),
    )
    result = run()["leads"]
    assert result.rows == 1
    rows = run.spark.query(
        f"select mql_id, _extra from {SCHEMA}.shop_leads where batch_id = '{result.batch_id}'"
    )
    assert rows == [("m5", '{"score":"7"}')]
    assert_lake_equals_source(run, shop)
