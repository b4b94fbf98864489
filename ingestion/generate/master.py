"""Master-data batches of one day: countries, exchange rates, products, customers (Arrow tables)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow as pa
from faker import Faker

from ingestion.generate import reference as ref
from ingestion.generate.world import NAMES, World


def _dates(world: World, days: np.ndarray) -> pa.Array:
    start = np.datetime64(world.config.start_date, "D")
    return pa.array((start + days.astype("timedelta64[D]")).astype(str))


def countries(world: World, d: int) -> pa.Table:
    rows = [c for c, intro in zip(ref.COUNTRIES, world.country_intro, strict=True) if intro <= d]
    cols = ("country_id", "country_name", "continent", "region_code", "currency")
    return pa.table({name: [r[i] for r in rows] for i, name in enumerate(cols)})


def exchange_rates(world: World, d: int) -> pa.Table:
    n = len(world.currencies)
    return pa.table(
        {
            "currency": world.currencies.tolist(),
            "rate_date": [world.day(d).isoformat()] * n,
            "quote_currency": ["GBP"] * n,
            "rate": [f"{x:.6f}" for x in world.rates[d]],
        }
    )


def products(world: World, d: int) -> pa.Table:
    """The full catalogue published on the morning of day ``d``, with the prices in effect."""
    idx = world.products_on(d)
    pence = world.prices[d, idx]
    price = np.char.add(
        np.char.add((pence // 100).astype(str), "."), np.char.zfill((pence % 100).astype(str), 2)
    )
    return pa.table(
        {
            "stock_code": pa.array(world.stock_codes[idx]),
            "description": pa.array(world.descriptions[idx]),
            "category": pa.array(world.categories[idx]),
            "unit_price": pa.array(price),
            "price_date": _dates(world, world.price_dates[d, idx]),
        }
    )


def customer_names(world: World) -> tuple[list[str], list[str]]:
    """Names and e-mail addresses (PII) from Faker, seeded: the same for the same seed."""
    fake = Faker("en_GB")
    fake.seed_instance(int(np.random.SeedSequence([world.config.seed, NAMES]).generate_state(1)[0]))
    names, emails = [], []
    for cid in world.customer_ids:
        first, last = fake.first_name(), fake.last_name()
        names.append(f"{first} {last}")
        emails.append(f"{first}.{last}.{cid}@{fake.free_email_domain()}".lower())
    return names, emails


def customers(world: World, d: int, names: tuple[list[str], list[str]]) -> pa.Table:
    """Every customer registered by day ``d`` with their segment and country as of that day."""
    idx = world.customers_on(d)
    start = world.config.start_date
    updated = [
        (start + timedelta(days=int(u))).isoformat() + f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
        for u, s in zip(world.updated[d, idx], world.registered_seconds[idx], strict=True)
    ]
    return pa.table(
        {
            "customer_id": pa.array(world.customer_ids[idx].astype(str)),
            "customer_name": [names[0][i] for i in idx],
            "email": [names[1][i] for i in idx],
            "country_id": pa.array(world.country_ids[world.countries[d, idx]]),
            "segment": pa.array(np.array(ref.SEGMENTS)[world.segments[d, idx]]),
            "registration_date": _dates(world, world.registered[idx]),
            "updated_at": updated,
        }
    )
