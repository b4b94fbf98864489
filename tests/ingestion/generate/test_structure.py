"""The learnable structure the ML models are meant to find (pure logic, no services).

Churning customers neither order nor visit from their leave day on, and thin out before it; customers buy
and view mostly from their buy-together group.
"""

from __future__ import annotations

import contextlib
import itertools
from collections import Counter
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest

from ingestion.generate import DirtRates, GeneratorConfig, World, build_world, clickstream, orders
from ingestion.generate.world import NEVER

CONFIG = GeneratorConfig(
    seed=5, days=20, products=200, customers=300, lines_per_day=1_500, sessions_per_day=150
)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(CONFIG)


@pytest.fixture(scope="module")
def lines(world: World) -> pa.Table:
    return pa.concat_tables([t.select(list(orders.COLUMNS)) for _d, _h, t in orders.hourly_batches(world)])


def _line_days(world: World, t: pa.Table) -> np.ndarray:
    """Day number of every line; lines with a non-canonical date (dirt) get -1."""
    start = np.datetime64(world.config.start_date, "D")
    out = np.full(t.num_rows, -1, dtype=np.int64)
    for i, text in enumerate(t.column("invoice_date").to_pylist()):
        if len(text) == 19 and text[4] == "-" and text[10] == " ":
            with contextlib.suppress(ValueError):  # a garbage date of canonical shape stays -1
                out[i] = int((np.datetime64(text[:10], "D") - start) / np.timedelta64(1, "D"))
    return out


def _index(world: World) -> dict[str, int]:
    return {str(c): i for i, c in enumerate(world.customer_ids)}


def test_a_quarter_of_customers_churn_some_inside_the_period(world: World) -> None:
    churners = world.leave_day < NEVER
    assert 0.18 < churners.mean() < 0.32
    inside = world.leave_day[churners] < world.days
    assert 0.3 < inside.mean() < 0.9
    assert world.leave_day[churners].min() >= 0.25 * world.days


def test_activity_thins_out_before_the_leave_day_and_stops_on_it(world: World) -> None:
    c = int(np.flatnonzero(world.leave_day == world.leave_day[world.leave_day < NEVER].max())[0])
    leave = int(world.leave_day[c])
    rates = [float(world.activity(d)[c]) for d in range(leave - 9, leave + 3)]
    assert rates[:3] == [1.0, 1.0, 1.0]  # 9, 8 and 7 days before
    assert all(a > b for a, b in itertools.pairwise(rates[2:9]))
    assert rates[8] == pytest.approx(0.2)  # the last day
    assert rates[9:] == [0.0, 0.0, 0.0]


def test_churners_have_no_order_line_from_their_leave_day(world: World, lines: pa.Table) -> None:
    index = _index(world)
    days = _line_days(world, lines)
    customers = lines.column("customer_id").to_pylist()
    after = [
        (cid, int(d))
        for cid, d in zip(customers, days, strict=True)
        if cid and d >= world.leave_day[index[cid]]
    ]
    assert after == []
    # ... and they did order before it: the leave day is a change in behaviour, not silence all along
    leavers = {i for i in range(len(world.customer_ids)) if world.leave_day[i] < world.days}
    ordered_before = {index[c] for c in customers if c and index[c] in leavers}
    assert len(ordered_before) > 0.5 * len(leavers)


def test_churners_orders_thin_out_in_their_last_week(world: World, lines: pa.Table) -> None:
    index = _index(world)
    days = _line_days(world, lines)
    invoices = set()
    for cid, inv, d in zip(
        lines.column("customer_id").to_pylist(), lines.column("invoice_no").to_pylist(), days, strict=True
    ):
        if cid and d >= 0 and world.leave_day[index[cid]] < world.days:
            left = int(world.leave_day[index[cid]]) - int(d)
            invoices.add((inv, cid, "last_week" if left <= 6 else "before" if left <= 13 else "older"))
    per = Counter(kind for _i, _c, kind in invoices)
    assert per["last_week"] < 0.8 * per["before"]


def test_churners_have_no_logged_in_session_from_their_leave_day(world: World) -> None:
    index = _index(world)
    seen_before = 0
    for d in range(world.days):
        users = {e["user_id"] for e in clickstream.sessions(world, d)}
        known = [index[u] for u in users if u in index]
        assert all(d < world.leave_day[i] for i in known), d
        seen_before += sum(1 for i in known if world.leave_day[i] < world.days)
    assert seen_before > 0


def test_customers_buy_from_their_group_well_above_chance(world: World, lines: pa.Table) -> None:
    index = _index(world)
    product = {str(s): i for i, s in enumerate(world.stock_codes)}
    pairs = [
        (index[c], product[s])
        for c, s in zip(
            lines.column("customer_id").to_pylist(), lines.column("stock_code").to_pylist(), strict=True
        )
        if c and s in product
    ]
    cust = np.array([p[0] for p in pairs])
    prod = np.array([p[1] for p in pairs])
    inside = np.mean(world.customer_group[cust] == world.product_group[prod])
    chance = np.mean(
        world.customer_group[np.random.default_rng(0).permutation(cust)] == world.product_group[prod]
    )
    assert inside > 0.4  # GROUP_SHARE 0.6, less what the one-line-per-product rule moves
    assert inside > 3 * chance


def test_logged_in_visitors_view_their_group_well_above_chance(world: World) -> None:
    index = _index(world)
    product = {str(s): i for i, s in enumerate(world.stock_codes)}
    cust, prod = [], []
    for d in range(3):
        for e in clickstream.sessions(world, d):
            if e["user_id"] in index and e["event_type"] == "view" and e["product_id"]:
                cust.append(index[str(e["user_id"])])
                prod.append(product[str(e["product_id"])])
    c, p = np.array(cust), np.array(prod)
    inside = np.mean(world.customer_group[c] == world.product_group[p])
    chance = np.mean(world.customer_group[np.random.default_rng(0).permutation(c)] == world.product_group[p])
    assert inside > 0.4  # GROUP_SHARE 0.6 of the product views
    assert inside > 3 * chance


def test_one_line_per_product_per_invoice_survives_the_groups(world: World) -> None:
    clean = build_world(replace(CONFIG, days=3, dirt=DirtRates.clean()))
    t = pa.concat_tables([b.select(list(orders.COLUMNS)) for _d, _h, b in orders.hourly_batches(clean)])
    keys = list(zip(t.column("invoice_no").to_pylist(), t.column("stock_code").to_pylist(), strict=True))
    assert len(keys) == len(set(keys))
