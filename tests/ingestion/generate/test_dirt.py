"""Each dirt flag produces what it claims, and 0 turns it off (pure logic, no services)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest

from ingestion.generate import DirtRates, GeneratorConfig, build_world, clickstream, master, orders
from ingestion.generate.reference import BOT_USER_AGENTS

CANONICAL = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
SHAPES = {
    "dd/MM/yyyy HH:mm": re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$"),
    "MM/dd/yyyy": re.compile(r"^\d{2}/\d{2}/\d{4}$"),
    "iso8601_zone": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$"),
    "epoch_millis": re.compile(r"^\d{13}$"),
}
BASE = {"days": 3, "products": 80, "customers": 200, "lines_per_day": 4000, "sessions_per_day": 200}


def lines(**dirt: float) -> pa.Table:
    config = GeneratorConfig(seed=3, dirt=replace(DirtRates.clean(), **dirt), **BASE)
    world = build_world(config)
    return pa.concat_tables([t.select(list(orders.COLUMNS)) for _d, _h, t in orders.hourly_batches(world)])


def test_clean_data_has_no_dirt() -> None:
    t = lines()
    dates = t.column("invoice_date").to_pylist()
    assert all(CANONICAL.match(d) for d in dates)
    assert min(int(q) for q in t.column("quantity").to_pylist()) >= 1
    assert "" not in t.column("customer_id").to_pylist()
    rows = list(zip(*[t.column(c).to_pylist() for c in t.column_names], strict=True))
    assert len(rows) == len(set(rows)) == 3 * 4000


def test_date_formats_cover_every_format_at_the_rate() -> None:
    dates = lines(date_formats=0.2).column("invoice_date").to_pylist()
    shapes = Counter(next((name for name, rx in SHAPES.items() if rx.match(d)), "canonical") for d in dates)
    assert set(shapes) == {"canonical", *SHAPES}
    assert 0.17 < 1 - shapes["canonical"] / len(dates) < 0.23


def test_other_formats_denote_the_same_instant() -> None:
    from datetime import UTC, datetime

    clean = lines().column("invoice_date").to_pylist()
    dirty = lines(date_formats=0.3).column("invoice_date").to_pylist()
    for c, d in zip(clean, dirty, strict=True):
        if SHAPES["epoch_millis"].match(d):
            assert datetime.fromtimestamp(int(d) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S") == c
        elif SHAPES["iso8601_zone"].match(d):
            parsed = datetime.fromisoformat(d.replace("Z", "+00:00")).astimezone(UTC)
            assert parsed.strftime("%Y-%m-%d %H:%M:%S") == c


def test_bad_dates_are_unparseable() -> None:
    dates = lines(bad_dates=0.05).column("invoice_date").to_pylist()
    bad = [d for d in dates if not CANONICAL.match(d)]
    assert set(bad) <= set(orders.GARBAGE_DATES)
    assert 0.04 < len(bad) / len(dates) < 0.06


def test_bad_quantities_are_zero_or_negative() -> None:
    qty = np.array(lines(bad_quantities=0.05).column("quantity").to_pylist(), dtype=int)
    share = (qty <= 0).mean()
    assert 0.04 < share < 0.06
    assert (qty == 0).any() and (qty < 0).any()


def test_missing_customers() -> None:
    ids = lines(missing_customers=0.1).column("customer_id").to_pylist()
    assert 0.06 < ids.count("") / len(ids) < 0.14


def test_duplicates_within_and_across_batches() -> None:
    config = GeneratorConfig(seed=3, dirt=replace(DirtRates.clean(), duplicates=0.05), **BASE)
    batches = [t for _d, _h, t in orders.hourly_batches(build_world(config))]
    rows = [tuple(r.values()) for t in batches for r in t.to_pylist()]
    extra = len(rows) - len(set(rows))
    assert extra == pytest.approx(0.05 * 3 * 4000, rel=0.1)
    home: dict[tuple, int] = {}
    across = 0
    for i, t in enumerate(batches):
        for r in t.to_pylist():
            key = tuple(r.values())
            if key in home and home[key] != i:
                across += 1
            home.setdefault(key, i)
    assert across > extra * 0.3


def test_late_master_data_arrives_in_a_later_batch() -> None:
    config = GeneratorConfig(seed=3, dirt=replace(DirtRates.clean(), late_master_data=0.02), **BASE)
    world = build_world(config)
    late_products = late_countries = 0
    for d, _h, t in orders.hourly_batches(world):
        known_products = set(master.products(world, d).column("stock_code").to_pylist())
        known_countries = set(master.countries(world, d).column("country_id").to_pylist())
        final_products = set(master.products(world, config.days).column("stock_code").to_pylist())
        final_countries = set(master.countries(world, config.days).column("country_id").to_pylist())
        for code, country in zip(
            t.column("stock_code").to_pylist(), t.column("country_id").to_pylist(), strict=True
        ):
            if code not in known_products:
                assert code in final_products
                late_products += 1
            if country not in known_countries:
                assert country in final_countries
                late_countries += 1
    assert late_products > 0 and late_countries > 0
    total = 3 * 4000
    assert 0.01 < (late_products + late_countries) / total < 0.03
    # and without the flag, every line points at master data already published
    clean = GeneratorConfig(seed=3, dirt=DirtRates.clean(), **BASE)
    world = build_world(clean)
    for d, _h, t in orders.hourly_batches(world):
        assert set(t.column("stock_code").to_pylist()) <= set(
            master.products(world, d).column("stock_code").to_pylist()
        )
        assert set(t.column("country_id").to_pylist()) <= set(
            master.countries(world, d).column("country_id").to_pylist()
        )


@pytest.mark.parametrize("rate", [0.0, 0.5])
def test_schema_drift_adds_an_extra_column_to_a_share_of_batches(rate: float) -> None:
    config = GeneratorConfig(seed=3, dirt=replace(DirtRates.clean(), schema_drift=rate), **BASE)
    batches = [t for _d, _h, t in orders.hourly_batches(build_world(config))]
    drifted = [t for t in batches if t.num_columns > len(orders.COLUMNS)]
    if rate == 0:
        assert drifted == []
    else:
        assert 0.3 < len(drifted) / len(batches) < 0.7
        assert all(set(t.column_names) - set(orders.COLUMNS) <= set(orders.DRIFT_COLUMNS) for t in drifted)


@pytest.mark.parametrize("rate", [0.0, 0.3])
def test_bot_sessions(rate: float) -> None:
    config = GeneratorConfig(seed=3, dirt=replace(DirtRates.clean(), bot_sessions=rate), **BASE)
    world = build_world(config)
    events = [e for d in range(config.days) for e in clickstream.sessions(world, d)]
    sessions: dict[str, list[dict]] = {}
    for e in events:
        sessions.setdefault(e["session_id"], []).append(e)
    bots = [s for s in sessions.values() if s[0]["user_agent"] in BOT_USER_AGENTS]
    if rate == 0:
        assert bots == []
        return
    assert 0.2 < len(bots) / len(sessions) < 0.4
    for s in bots:  # inhuman: many events, under a second apart, never buying
        assert len(s) >= 30 and {e["event_type"] for e in s} == {"view"}
        assert s[-1]["event_time"][:16] <= (s[0]["event_time"][:11] + "23:59")
    humans = [s for s in sessions.values() if s[0]["user_agent"] not in BOT_USER_AGENTS]
    kinds = Counter(e["event_type"] for s in humans for e in s)
    assert kinds["view"] > kinds["add_to_cart"] > kinds["checkout"] >= kinds["purchase"] > 0


@pytest.mark.parametrize("rate", [0.0, 0.5])
def test_backdated_prices(rate: float) -> None:
    config = GeneratorConfig(
        seed=3, price_change_rate=0.2, dirt=replace(DirtRates.clean(), backdated_prices=rate), **BASE
    )
    world = build_world(config)
    backdated = 0
    for d in range(1, config.days + 1):
        before = master.products(world, d - 1).to_pylist()
        old = {p["stock_code"]: p for p in before}
        for p in master.products(world, d).to_pylist():
            o = old.get(p["stock_code"])
            if o and o["unit_price"] != p["unit_price"] and p["price_date"] < world.day(d).isoformat():
                backdated += 1
    assert (backdated > 0) == (rate > 0)
