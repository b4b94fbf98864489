"""A small synthetic shop with learnable structure, as the two ML feature tables of the contract
(``marts.ml_customer_features``, ``marts.ml_interactions``), computed here from simulated orders, sessions and
events by the contract's definitions.

Planted: customers of the ``fading`` segment leave at some day, and their visits thin out in the two weeks
before (orders do not), so the sessions trend predicts churn beyond recency; every customer prefers one group
of products, so collaborative filtering beats popularity.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

import pyarrow as pa

START = date(2026, 1, 1)
GROUPS, GROUP_SIZE = 6, 10


@dataclass(frozen=True)
class Shop:
    features: pa.Table
    interactions: pa.Table


FEATURES_SCHEMA = pa.schema([
    ("customer_id", pa.string()), ("cutoff_date", pa.date32()), ("is_scoring_cutoff", pa.bool_()),
    ("segment", pa.string()), ("country_id", pa.string()), ("tenure_days", pa.int32()),
    ("days_since_last_order", pa.int32()), ("orders_total", pa.int64()), ("orders_7d", pa.int64()),
    ("orders_28d", pa.int64()), ("lines_28d", pa.int64()), ("distinct_products_28d", pa.int64()),
    ("revenue_total", pa.float64()), ("revenue_28d", pa.float64()), ("avg_order_value", pa.float64()),
    ("sessions_7d", pa.int64()), ("sessions_prev_7d", pa.int64()), ("sessions_28d", pa.int64()),
    ("cart_adds_28d", pa.int64()), ("product_views_28d", pa.int64()), ("horizon_end_date", pa.date32()),
    ("churned", pa.int32()),
])  # fmt: skip
INTERACTIONS_SCHEMA = pa.schema([
    ("customer_id", pa.string()), ("stock_code", pa.string()), ("interaction_date", pa.date32()),
    ("views", pa.int64()), ("cart_adds", pa.int64()), ("purchases", pa.int64()), ("quantity", pa.int64()),
])  # fmt: skip


def product(group: int, i: int) -> str:
    return f"P{group}{i:02d}"


def simulate(customers: int = 200, days: int = 63, step: int = 3, horizon: int = 7, seed: int = 5) -> Shop:
    rng = random.Random(seed)
    orders: dict[str, list[tuple[int, list[str], float]]] = {}  # customer -> (day, products, revenue)
    sessions: dict[str, list[int]] = {}
    carts: dict[str, list[int]] = {}
    views: dict[str, list[int]] = {}
    segment: dict[str, str] = {}
    touch: dict[
        tuple[str, str, int], list[int]
    ] = {}  # (customer, product, day) -> [views, carts, purchases, qty]

    def pick(group: int) -> str:
        if rng.random() < 0.8:
            return product(group, rng.randrange(GROUP_SIZE))
        return product(rng.randrange(GROUPS), rng.randrange(3))  # a few products popular everywhere

    for n in range(customers):
        cid = f"C{n:04d}"
        fading = n % 3 == 0
        segment[cid] = "fading" if fading else "regular"
        group = rng.randrange(GROUPS)
        start = rng.randrange(0, 10)
        leave = rng.randrange(days - 25, days + 10) if fading else rng.randrange(days, days + 300)
        rate = 0.45 if fading else rng.uniform(0.2, 0.5)
        orders[cid], sessions[cid], carts[cid], views[cid] = [], [], [], []
        for day in range(start, min(leave, days)):
            thinning = fading and leave - day <= 21
            if rng.random() < (0.05 if thinning else 0.6):
                sessions[cid].append(day)
                for _ in range(rng.randint(1, 3)):
                    p = pick(group)
                    views[cid].append(day)
                    t = touch.setdefault((cid, p, day), [0, 0, 0, 0])
                    t[0] += 1
                    if rng.random() < 0.3:
                        carts[cid].append(day)
                        t[1] += 1
            if rng.random() < rate:
                lines = [pick(group) for _ in range(rng.randint(1, 3))]
                revenue = 0.0
                for p in lines:
                    qty = rng.randint(1, 4)
                    revenue += qty * 2.5
                    t = touch.setdefault((cid, p, day), [0, 0, 0, 0])
                    t[2] += 1
                    t[3] += qty
                orders[cid].append((day, lines, revenue))

    order_days = [d for os in orders.values() for d, _, _ in os]
    first_day, last_day = min(order_days), max(order_days)
    cutoffs = [(d, False) for d in range(first_day + step, last_day + 1, step)] + [(last_day + 1, True)]
    rows = []
    for cid in sorted(orders):
        os = orders[cid]
        for d, scoring in cutoffs:
            before = [o for o in os if o[0] < d]
            if not before:
                continue
            in_28 = [o for o in before if o[0] >= d - 28]
            revenue_total = sum(o[2] for o in before)
            labelled = d + horizon <= last_day + 1
            churned = int(not any(d <= o[0] < d + horizon for o in os)) if labelled else None
            rows.append({
                "customer_id": cid, "cutoff_date": START + timedelta(days=d), "is_scoring_cutoff": scoring,
                "segment": segment[cid], "country_id": "GB", "tenure_days": d - before[0][0],
                "days_since_last_order": d - before[-1][0], "orders_total": len(before),
                "orders_7d": len([o for o in before if o[0] >= d - 7]), "orders_28d": len(in_28),
                "lines_28d": sum(len(o[1]) for o in in_28),
                "distinct_products_28d": len({p for o in in_28 for p in o[1]}),
                "revenue_total": revenue_total, "revenue_28d": sum(o[2] for o in in_28),
                "avg_order_value": revenue_total / len(before),
                "sessions_7d": len([s for s in sessions[cid] if d - 7 <= s < d]),
                "sessions_prev_7d": len([s for s in sessions[cid] if d - 14 <= s < d - 7]),
                "sessions_28d": len([s for s in sessions[cid] if d - 28 <= s < d]),
                "cart_adds_28d": len([s for s in carts[cid] if d - 28 <= s < d]),
                "product_views_28d": len([s for s in views[cid] if d - 28 <= s < d]),
                "horizon_end_date": START + timedelta(days=d + horizon), "churned": churned,
            })  # fmt: skip
    interactions = [
        {"customer_id": c, "stock_code": p, "interaction_date": START + timedelta(days=d), "views": t[0],
         "cart_adds": t[1], "purchases": t[2], "quantity": t[3]}
        for (c, p, d), t in sorted(touch.items())
    ]  # fmt: skip
    return Shop(
        pa.Table.from_pylist(rows, FEATURES_SCHEMA), pa.Table.from_pylist(interactions, INTERACTIONS_SCHEMA)
    )
