"""The export on tiny Iceberg tables of our own: atomic swaps under a BI query loop, incremental upserts,
reconciliation failures that leave gold alone, identical re-exports, PII never leaving the lake."""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal

import psycopg
import pytest

from lakehouse import gold
from lakehouse.gold import GoldModel, gold_models, lake_scan, pii, reconcile
from lakehouse.platform.errors import LakehouseError

pytestmark = pytest.mark.integration

TABLES = ("dim_things", "fct_lines")


def fingerprint(conn, table: str) -> tuple:
    return conn.execute(
        "select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
        f"from gold_marts.{table} t"
    ).fetchone()


def gold_state(conn) -> dict:
    return {t: fingerprint(conn, t) for t in TABLES}


def test_manifest_drives_keys_indexes_pii_and_mode(models):
    by_name = {m.name: m for m in models}
    assert set(by_name) == {"dim_things", "fct_lines"}  # not_gold is not flagged
    assert by_name["dim_things"].primary_key == ("thing_id",)
    assert by_name["dim_things"].pii_columns == ("customer_name", "email")
    assert not by_name["dim_things"].incremental
    # the lake's partition column leads the gold key (new lines land in one part of the index)
    assert by_name["fct_lines"].primary_key == ("line_month", "line_key")
    assert by_name["fct_lines"].index_columns == ("thing_id",)
    assert by_name["fct_lines"].incremental


def test_manifest_sources_flagged_gold_are_exported_with_the_key_of_their_meta(tmp_path):
    """Tables the pipeline writes itself (the run history in ops) are dbt sources: meta gives key and mode."""

    def source(name: str, meta: dict) -> tuple[str, dict]:
        return f"source.p.ops.{name}", {
            "name": name, "identifier": name, "schema": "ops", "source_name": "ops",
            "config": {"enabled": True, "meta": meta},
        }  # fmt: skip

    sources = dict([
        source("runs", {"gold": True, "incremental": True, "unique_key": ["run_id", "step_no"]}),
        source("keyless", {"gold": True, "incremental": True}),  # no key: no upsert, a swap
        source("not_flagged", {}),
    ])  # fmt: skip
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": {}, "sources": sources}))
    assert gold_models(path) == [
        GoldModel("keyless", "ops.keyless"),
        GoldModel("runs", "ops.runs", ("run_id", "step_no"), incremental=True),
    ]


def test_export_twice_gives_identical_gold_and_incremental_takes_only_changes(lake, lakefix, models, writer):
    lakefix.write_things(20)
    lakefix.merge_lines(0, 300, "b1", "2024-02-01 00:00:00")
    first = {r.model.name: r for r in gold.export_gold(lake, models=models)}
    assert {n: (r.mode, r.rows) for n, r in first.items()} == {
        "dim_things": ("swap", 20), "fct_lines": ("swap", 300),
    }  # fmt: skip
    before = gold_state(writer)

    again = gold.export_gold(lake, models=models)
    assert {r.mode for r in again} == {"unchanged"}
    assert gold_state(writer) == before
    full = gold.export_gold(lake, models=models, full_refresh=True)
    assert {r.mode for r in full} == {"swap"}
    assert gold_state(writer) == before

    # an hourly batch: 50 changed lines and 100 new ones; only those 150 travel
    lakefix.merge_lines(250, 150, "b2", "2024-02-01 01:00:00", amount_factor=3)
    hourly = {r.model.name: r for r in gold.export_gold(lake, models=models)}
    assert (hourly["fct_lines"].mode, hourly["fct_lines"].changed_rows) == ("upsert", 150)
    assert hourly["fct_lines"].rows == 400
    assert hourly["dim_things"].mode == "unchanged"
    lake_rows = writer.execute("select count(*), sum(amount) from gold_marts.fct_lines").fetchone()
    expected = sum(Decimal(str((i % 5 + 1) * 1.5 * (3 if i >= 250 else 1))) for i in range(400))
    assert lake_rows == (400, expected)
    incremental_state = gold_state(writer)
    gold.export_gold(lake, models=models, full_refresh=True)
    assert gold_state(writer) == incremental_state  # incremental == full load
    watermark = writer.execute(
        "select watermark from gold_marts._export_state where table_name = 'fct_lines'"
    ).fetchone()
    assert watermark == ("2024-02-01T01:00:00+00:00",)
    # keys and indexes are in place, the load schema is empty
    indexes = {
        r[0] for r in writer.execute("select indexname from pg_indexes where schemaname = 'gold_marts'")
    }
    assert {"dim_things_pkey", "fct_lines_pkey", "fct_lines_thing_id_idx"} <= indexes
    assert writer.execute("select count(*) from pg_tables where schemaname = 'gold_load'").fetchone() == (0,)


def test_appended_batches_reconcile_from_the_change_and_a_missed_row_fails(
    lake, lakefix, models, writer, monkeypatch
):
    fact = [m for m in models if m.name == "fct_lines"]
    lakefix.append_lines(0, 300, "b1", "2024-02-01 00:00:00")
    gold.export_gold(lake, models=fact)
    lakefix.append_lines(300, 40, "b2", "2024-02-01 01:00:00")
    lakefix.append_lines(340, 10, "b3", "2024-02-01 02:00:00")

    def no_table_scan(*_args):  # append-only since the last export: the lake table is not read in full
        raise AssertionError("the whole lake table was read")

    monkeypatch.setattr(reconcile, "arrow_totals", no_table_scan)
    (hourly,) = gold.export_gold(lake, models=fact)
    assert (hourly.mode, hourly.changed_rows, hourly.rows) == ("upsert", 50, 350)
    expected = sum(Decimal(str((i % 5 + 1) * 1.5)) for i in range(350))
    assert Decimal(hourly.reconciled["sum"]) == expected
    assert writer.execute("select count(*), sum(amount) from gold_marts.fct_lines").fetchone() == (
        350,
        expected,
    )
    monkeypatch.undo()

    # a row appended behind the watermark escapes the change scan: the snapshot's record count disagrees,
    # the whole table is counted, the run fails and gold stays as it was; a full refresh repairs it
    before = fingerprint(writer, "fct_lines")
    lakefix.append_lines(350, 5, "late", "2024-01-15 00:00:00")
    lakefix.append_lines(355, 5, "b4", "2024-02-01 03:00:00")
    with pytest.raises(LakehouseError, match=r"Reconciliation failed for fct_lines: lake has 360 rows"):
        gold.export_gold(lake, models=fact)
    assert fingerprint(writer, "fct_lines") == before
    (repaired,) = gold.export_gold(lake, models=fact, full_refresh=True)
    assert (repaired.mode, repaired.rows) == ("swap", 360)


def test_pii_is_hashed_and_never_reaches_gold(lake, lakefix, models, writer):
    lakefix.write_things(5)
    gold.export_gold(lake, models=[m for m in models if m.name == "dim_things"])
    rows = writer.execute(
        "select customer_name, email from gold_marts.dim_things order by thing_id"
    ).fetchall()
    flat = [v for row in rows for v in row]
    assert all(len(v) == 32 and "@" not in v and "Name" not in v for v in flat)
    assert len(set(flat)) == 10  # distinct values stay distinct: countable and joinable
    key = pii.pii_key(lake)
    assert (
        rows[0][1]
        == pii.mask_pii(__import__("pyarrow").table({"email": ["user0@example.com"]}), ["email"], key)
        .column("email")[0]
        .as_py()
    )


def test_failed_reconciliation_keeps_previous_gold(lake, lakefix, models, writer, monkeypatch):
    lakefix.write_things(10)
    lakefix.merge_lines(0, 100, "b1", "2024-02-01 00:00:00")
    gold.export_gold(lake, models=models)
    before = gold_state(writer)
    lakefix.write_things(12, price_offset=100)
    lakefix.merge_lines(90, 20, "b2", "2024-02-01 01:00:00", amount_factor=2)

    real = reconcile.arrow_totals

    def lake_has_one_more_row(data, column):  # gold and lake disagree, as after a lost COPY chunk
        count, total = real(data, column)
        return count + 1, total

    monkeypatch.setattr(reconcile, "arrow_totals", lake_has_one_more_row)
    with pytest.raises(LakehouseError, match=r"Reconciliation failed for dim_things.*gold left unchanged"):
        gold.export_gold(lake, models=models)
    assert gold_state(writer) == before
    # the fact alone (upsert path): its mismatch is found inside the transaction and rolled back
    with pytest.raises(LakehouseError, match="Reconciliation failed for fct_lines"):
        gold.export_gold(lake, models=[m for m in models if m.name == "fct_lines"])
    assert gold_state(writer) == before
    assert writer.execute("select count(*) from pg_tables where schemaname = 'gold_load'").fetchone() == (0,)
    state = writer.execute("select table_name, rows from gold_marts._export_state order by 1").fetchall()
    assert state == [("dim_things", 10), ("fct_lines", 100)]

    monkeypatch.setattr(reconcile, "arrow_totals", real)
    result = {r.model.name: r.rows for r in gold.export_gold(lake, models=models)}
    assert result == {"dim_things": 12, "fct_lines": 110}


def test_a_scan_short_of_the_snapshot_row_count_fails(lake, lakefix, models, writer, monkeypatch):
    # a swap streams the table into COPY; the rows it sent must be the snapshot's own count (table metadata)
    dims = [m for m in models if m.name == "dim_things"]
    lakefix.write_things(10)
    gold.export_gold(lake, models=dims)
    before = fingerprint(writer, "dim_things")
    lakefix.write_things(12, price_offset=100)
    real = lake_scan.snapshot_rows
    monkeypatch.setattr(lake_scan, "snapshot_rows", lambda snapshot: real(snapshot) + 1)
    with pytest.raises(LakehouseError, match=r"the lake snapshot holds 13 rows, the scan gave 12;"):
        gold.export_gold(lake, models=dims)
    assert fingerprint(writer, "dim_things") == before
    assert writer.execute("select count(*) from pg_tables where schemaname = 'gold_load'").fetchone() == (0,)


def test_bi_query_loop_never_fails_nor_sees_partial_data(lake, lakefix, models, writer, reader):
    lakefix.write_things(20)
    lakefix.merge_lines(0, 1000, "b1", "2024-02-01 00:00:00")
    gold.export_gold(lake, models=models)
    # the BI layer: views over the exported tables, owned by the writer as dbt-postgres makes them
    writer.execute(
        "create view gold.things as select thing_id, price from gold_marts.dim_things where price >= 0"
    )
    writer.execute(
        "create view gold.lines as select l.line_key, l.amount, t.price from gold_marts.fct_lines l "
        "left join gold_marts.dim_things t using (thing_id)"
    )
    writer.execute(
        "create view gold.line_totals as select count(*) as n, sum(amount) as amount from gold.lines"
    )
    writer.execute("comment on view gold.things is 'Things, for BI.'")

    query = (
        "select (select count(*) from gold.things), (select sum(price) from gold.things), "
        "(select n from gold.line_totals), (select amount from gold.line_totals)"
    )
    seen, errors, stop = set(), [], threading.Event()

    def bi_loop() -> None:
        with psycopg.connect(gold.role_url(lake, gold.READER), autocommit=True) as conn:
            while not stop.is_set():
                try:
                    seen.add(conn.execute(query).fetchone())
                except psycopg.Error as exc:
                    errors.append(str(exc))

    seen.add(reader.execute(query).fetchone())
    thread = threading.Thread(target=bi_loop)
    thread.start()
    try:
        versions = [(25, "b2", "2024-02-01 01:00:00"), (20, "b3", "2024-02-01 02:00:00")]
        for things, batch, loaded_at in versions:
            lakefix.write_things(things, price_offset=things)
            lakefix.merge_lines(900, 200, batch, loaded_at, amount_factor=things)
            gold.export_gold(lake, models=models)
            time.sleep(0.3)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert errors == []
    final = reader.execute(query).fetchone()
    expected = set()
    for state in (0, 25, 20):
        n_things = 20 if state in (0, 20) else 25
        price = sum(Decimal(i + state) + Decimal("0.25") for i in range(n_things))
        n_lines = 1000 if state == 0 else 1100
        amount = sum(
            Decimal(str((i % 5 + 1) * 1.5 * (state if i >= 900 and state else 1))) for i in range(n_lines)
        )
        expected.add((n_things, price, n_lines, amount))
    assert final in expected
    assert seen <= expected, seen - expected  # only whole versions, never a mix or a half-loaded table
    assert len(seen) >= 2
    # the views survived the swaps with their comment and grants
    assert reader.execute("select obj_description('gold.things'::regclass)").fetchone() == (
        "Things, for BI.",
    )
