"""The shop database on the real embedded PostgreSQL (no Spark): its role and database, a simulation that is
the same for the same seed (also when resumed in another process or after a crash inside an interval), valid
order lifecycles, updated_at moving on every change, deletes where the application deletes."""

from __future__ import annotations

import os

import psycopg
import pytest
from click.testing import CliRunner

from ingestion.shopdb import DATABASE, HARD_DELETES, SCHEMA, TABLES, ensure_database, source_url
from ingestion.shopdb.simulator import IntervalReport, Simulator, fingerprint
from lakehouse import gold
from lakehouse.platform.pgurl import PgUrl
from lakehouse.services import Postgres

pytestmark = pytest.mark.integration

SEED = 11
INTERVALS = 12


@pytest.fixture(scope="module")
def shop(settings):
    """The session's PostgreSQL (started here if it is not running, and then stopped here) with the shop."""
    pg = Postgres(settings)
    started_here = pg.process() is None
    pg.up()
    ensure_database(settings)
    yield settings
    if started_here and os.environ.get("LAKEHOUSE_TEST_KEEP_SERVICES") != "1":
        pg.down()


@pytest.fixture(scope="module")
def simulated(shop) -> list[IntervalReport]:
    """A shop simulated for INTERVALS days from a fresh start; the reports of every interval."""
    with Simulator(source_url(shop), seed=SEED) as sim:
        sim.init(reset=True)
        return list(sim.run(INTERVALS))


def rows(settings, sql: str, params=None) -> list[tuple]:
    with psycopg.connect(source_url(settings)) as conn:
        return conn.execute(sql, params).fetchall()


def test_ensure_database_twice_changes_nothing(shop):
    with Simulator(source_url(shop), seed=SEED) as sim:
        sim.init(reset=True)
        before = sim.fingerprint()
    assert ensure_database(shop) is False
    with psycopg.connect(source_url(shop)) as conn:
        assert fingerprint(conn) == before
        owner = conn.execute(
            "select pg_get_userbyid(datdba) from pg_database where datname = %s", (DATABASE,)
        )
        assert owner.fetchone() == ("shop_app",)
        tables = conn.execute("select tablename, tableowner from pg_tables where schemaname = %s", (SCHEMA,))
        assert {t: o for t, o in tables.fetchall()} == dict.fromkeys(TABLES, "shop_app")


@pytest.mark.parametrize("role", [gold.READER, gold.WRITER])
def test_gold_roles_cannot_reach_the_shop(shop, role):
    gold.ensure_gold(shop)
    url = PgUrl.parse(gold.role_url(shop, role)).with_(database=DATABASE)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(str(url), connect_timeout=5)


def test_the_same_seed_makes_the_same_shop_also_resumed_and_after_a_crash(shop, monkeypatch):
    url = source_url(shop)
    with Simulator(url, seed=SEED) as sim:
        sim.init(reset=True)
        list(sim.run(4))
        in_one_go = sim.fingerprint()
    with Simulator(url, seed=SEED) as sim:
        sim.init(reset=True)
        list(sim.run(2))
    # another process resumes; a crash in the middle of an interval rolls back one phase, the next step
    # resumes at that phase
    real = Simulator._fulfilment
    monkeypatch.setattr(
        Simulator, "_fulfilment", lambda self, tx: (_ for _ in ()).throw(RuntimeError("crash"))
    )
    with Simulator(url) as sim, pytest.raises(RuntimeError, match="crash"):
        sim.step()
    monkeypatch.setattr(Simulator, "_fulfilment", real)
    with Simulator(url) as sim:
        assert (sim.state.step, sim.state.phase) == (2, 4)
        list(sim.run(2))
        assert sim.fingerprint() == in_one_go
    with Simulator(url, seed=SEED + 1) as sim:
        sim.init(reset=True)
        list(sim.run(1))
        other = sim.fingerprint()
    assert other["customers"] != in_one_go["customers"] and other["orders"] != in_one_go["orders"]


def test_every_order_has_a_valid_history(simulated, shop):
    statuses = dict(rows(shop, f"select status, count(*) from {SCHEMA}.orders group by 1"))
    assert set(statuses) == {"created", "approved", "shipped", "delivered", "canceled"}
    bad = rows(
        shop,
        f"""
        select order_id, status from {SCHEMA}.orders where not (
            approved_at >= purchased_at is not false and shipped_at >= approved_at is not false
            and delivered_at >= shipped_at is not false and canceled_at >= purchased_at is not false
            and greatest(purchased_at, approved_at, shipped_at, delivered_at, canceled_at) <= updated_at
            and case status
                when 'created' then approved_at is null and shipped_at is null and delivered_at is null
                                    and canceled_at is null
                when 'approved' then approved_at is not null and shipped_at is null and canceled_at is null
                when 'shipped' then shipped_at is not null and approved_at is not null
                                    and delivered_at is null
                                    and canceled_at is null
                when 'delivered' then delivered_at is not null and shipped_at is not null
                                      and approved_at is not null and canceled_at is null
                when 'canceled' then canceled_at is not null and delivered_at is null
            end)""",
    )
    assert bad == []
    # some deliveries are late; reviews come after the order ended; payments add up to the lines
    late = rows(
        shop, f"select count(*) from {SCHEMA}.orders where delivered_at::date > estimated_delivery_date"
    )
    assert late[0][0] > 0
    assert rows(
        shop,
        f"""
        select count(*) from {SCHEMA}.order_reviews r join {SCHEMA}.orders o on o.order_id = r.order_id
        where r.created_at < coalesce(o.delivered_at, o.canceled_at)
            or o.status not in ('delivered', 'canceled')
            or r.answered_at < r.created_at or r.deleted_at < r.created_at""",
    ) == [(0,)]
    assert rows(
        shop,
        f"""
        select count(*) from (select order_id, sum(price + freight_value) as total from {SCHEMA}.order_items
                              group by 1) i
        full join (select order_id, sum(payment_value) as paid from {SCHEMA}.order_payments group by 1) p
            using (order_id)
        where i.total is distinct from p.paid""",
    ) == [(0,)]
    # stock never goes below zero; every approved line left the stock once
    assert rows(
        shop,
        f"""
        select count(*) from (select product_id, sum(quantity) from {SCHEMA}.inventory_movements group by 1
                              having sum(quantity) < 0) x""",
    ) == [(0,)]
    assert rows(
        shop,
        f"""
        select count(*) from {SCHEMA}.order_items i join {SCHEMA}.orders o on o.order_id = i.order_id
        where o.approved_at is not null""",
    ) == rows(
        shop,
        f"""
        select count(*) from {SCHEMA}.inventory_movements where movement_type = 'sale'""",
    )
    kinds = {k for (k,) in rows(shop, f"select distinct movement_type from {SCHEMA}.inventory_movements")}
    assert kinds == {"receipt", "sale", "return", "adjustment"}


def test_every_interval_changes_rows_in_place_and_deletes(simulated, shop):
    total = {t: [0, 0, 0] for t in TABLES}
    for report in simulated:
        for table, c in report.changes.items():
            total[table] = [
                a + b for a, b in zip(total[table], (c.inserted, c.updated, c.deleted), strict=True)
            ]
    for table in TABLES:
        assert total[table][0] > 0, table
    for table in ("customers", "products", "orders", "order_payments", "order_reviews", "campaigns"):
        assert total[table][1] > 0, table
    for table in HARD_DELETES:
        assert total[table][2] > 0, table
    assert {t for t, (_i, _u, d) in total.items() if d} == set(HARD_DELETES)
    assert rows(shop, f"select count(*) > 0 from {SCHEMA}.order_reviews where deleted_at is not null") == [
        (True,)
    ]
    # many rows share a timestamp: one per phase of an interval
    stamps = rows(shop, f"select count(distinct updated_at), count(*) from {SCHEMA}.orders")[0]
    assert stamps[0] <= INTERVALS * 2 + 1 < stamps[1]


def test_updated_at_moves_on_every_update(simulated, shop):
    """A step's changed rows all carry a newer updated_at; an UPDATE that forgets it gets one (trigger)."""
    url = source_url(shop)

    def state() -> dict[str, dict[tuple, tuple[str, object]]]:
        out = {}
        with psycopg.connect(url) as conn:
            for table, key in TABLES.items():
                got = conn.execute(
                    f"select {', '.join(key)}, md5((to_jsonb(t) - 'updated_at')::text), updated_at "
                    f"from {SCHEMA}.{table} t"
                ).fetchall()
                out[table] = {r[: len(key)]: r[len(key) :] for r in got}
        return out

    before = state()
    with Simulator(url) as sim:
        sim.step()
    after = state()
    changed = 0
    for table in TABLES:
        for key, (digest, stamp) in after[table].items():
            old = before[table].get(key)
            if old is not None and old[0] != digest:
                changed += 1
                assert stamp > old[1], (table, key)
            elif old is not None:
                assert stamp == old[1], (table, key)
    assert changed > 0
    with psycopg.connect(url) as conn:
        old, new = conn.execute(
            f"with one as (select order_id, updated_at from {SCHEMA}.orders order by order_id limit 1) "
            f"update {SCHEMA}.orders o set status = o.status from one where o.order_id = one.order_id "
            "returning one.updated_at, o.updated_at"
        ).fetchone()
        assert new > old  # the trigger's clock_timestamp(), not the simulated clock


def test_cli_simulates_one_line_per_interval(shop):
    from ingestion.cli import main

    with Simulator(source_url(shop), seed=SEED) as sim:
        sim.init(reset=True)
    res = CliRunner().invoke(main, ["shop", "simulate", "--intervals", "2", "--interval", "12h"])
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert [line.split()[:2] for line in lines] == [["interval", "1"], ["interval", "2"]]
    assert "orders +" in lines[0] and "2024-01-01 12:00 -> 2024-01-02 00:00" in lines[1]
    res = CliRunner().invoke(main, ["shop", "simulate", "--seed", str(SEED + 1)])
    assert res.exit_code == 1 and f"simulated with seed {SEED}" in res.output
