"""The simulated shop: products, prices, customers and rates for every day, as numpy arrays.

Day ``d`` is ``start_date + d``. Master data is published every morning for days ``0..days`` (the
last one is the morning after the last order day, so late-arriving products and countries do arrive).
All randomness comes from ``numpy.random.default_rng([seed, stream, ...])``: the same seed gives the
same shop, whatever is generated from it.

Learnable structure (stream ``ML``, so the other streams draw as before): products fall into buy-together
groups and every customer has an affinity group, from which a share of its order lines and product views
come; a churn-prone segment of customers leaves on a given day, their orders and visits thinning out over
the week before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from ingestion.generate import reference as ref
from ingestion.generate.config import GeneratorConfig

# Independent random streams (so that e.g. more sessions do not change the orders).
PRODUCTS, PRICES, CUSTOMERS, RATES, ORDERS, CLICKS, NAMES, DRIFT, LOGS, ML = range(10)
LATE_PRODUCT_SHARE = 0.1
# ---------- learnable structure (stream ML)
PRODUCT_GROUPS = 20  # buy-together groups (fewer for small catalogues: at least ~10 products each)
GROUP_SHARE = 0.6  # share of an identified customer's order lines and product views from its group
CHURN_SHARE = 0.25  # customers who leave on their leave day
THIN_DAYS = 7  # their orders and visits thin out linearly over these days before it ...
THIN_FLOOR = 0.2  # ... down to this share of the usual rate on the last day
NEVER = np.iinfo(np.int32).max  # leave day of customers who stay


def pick(r: np.random.Generator, candidates: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """``size`` draws from ``candidates`` with probability proportional to ``weights[candidates]``."""
    w = weights[candidates]
    cum = np.cumsum(w)
    return candidates[
        np.searchsorted(cum, r.random(size) * cum[-1], side="right").clip(0, len(candidates) - 1)
    ]


def rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


@dataclass
class World:
    config: GeneratorConfig
    # countries (reference order)
    country_ids: np.ndarray
    country_intro: np.ndarray  # first master-data day that lists the country
    # products
    stock_codes: np.ndarray
    descriptions: np.ndarray
    categories: np.ndarray
    product_intro: np.ndarray
    product_weight: np.ndarray
    prices: np.ndarray  # (days + 1, products) price in effect on each day, pence
    price_dates: np.ndarray  # (days + 1, products) day number the price took effect (may be back-dated)
    # customers
    customer_ids: np.ndarray
    registered: np.ndarray  # day number of registration (negative: before the period)
    registered_seconds: np.ndarray  # second of the day of registration
    customer_weight: np.ndarray
    countries: np.ndarray  # (days + 1, customers) index into country_ids
    segments: np.ndarray  # (days + 1, customers) index into SEGMENTS
    updated: np.ndarray  # (days + 1, customers) day number of the last change
    # exchange rates
    currencies: np.ndarray
    rates: np.ndarray  # (days + 1, currencies)
    # learnable structure
    product_group: np.ndarray  # buy-together group of each product
    customer_group: np.ndarray  # affinity group of each customer
    leave_day: np.ndarray  # day from which a churning customer neither orders nor visits (NEVER: stays)

    @property
    def days(self) -> int:
        return self.config.days

    def day(self, d: int) -> date:
        return self.config.start_date + timedelta(days=int(d))

    def products_on(self, d: int) -> np.ndarray:
        return np.flatnonzero(self.product_intro <= d)

    def customers_on(self, d: int) -> np.ndarray:
        return np.flatnonzero(self.registered <= d)

    def activity(self, d: int) -> np.ndarray:
        """Each customer's order and visit rate on day ``d`` as a share of its usual one (0 once left)."""
        left = (self.leave_day - d).astype(np.float64)  # days until leaving, 0 on the leave day
        ramp = THIN_FLOOR + (1.0 - THIN_FLOOR) * (left - 1.0) / (THIN_DAYS - 1)
        return np.where(left >= 1, np.clip(ramp, THIN_FLOOR, 1.0), 0.0)

    def group_products(self, catalogue: np.ndarray) -> dict[int, np.ndarray]:
        """The products of ``catalogue`` by buy-together group."""
        groups = self.product_group[catalogue]
        return {int(g): catalogue[groups == g] for g in np.unique(groups)}


def build_world(config: GeneratorConfig) -> World:
    seed, days = config.seed, config.days
    # ---------- countries: the last few join the catalogue during the period
    country_ids = np.array([c[0] for c in ref.COUNTRIES])
    country_intro = np.zeros(len(country_ids), dtype=np.int64)
    for i in range(ref.LATE_COUNTRIES):
        country_intro[len(country_ids) - ref.LATE_COUNTRIES + i] = 1 + (i % days)

    # ---------- products
    r = rng(seed, PRODUCTS)
    n = config.products
    numbers = r.choice(np.arange(10_000, 100_000), size=n, replace=False)
    suffix = np.where(r.random(n) < 0.15, r.choice(list("ABCDEFGHJKLMNPRSTW"), size=n), "")
    stock_codes = np.char.add(numbers.astype(str), suffix)
    category_names = np.array(list(ref.THINGS))
    category_idx = r.integers(0, len(category_names), size=n)
    things = np.array([r.choice(ref.THINGS[c]) for c in category_names[category_idx]])
    descriptions = np.char.add(
        np.char.add(np.char.add(r.choice(ref.COLOURS, size=n), " "), r.choice(ref.MATERIALS, size=n)),
        np.char.add(" ", things),
    )
    late = max(days, round(n * LATE_PRODUCT_SHARE)) if n > days else 0
    product_intro = np.zeros(n, dtype=np.int64)
    if late:
        product_intro[-late:] = 1 + (np.arange(late) % days)
    product_weight = r.pareto(1.2, size=n) + 0.05

    # ---------- prices (pence), one row per master-data day
    r = rng(seed, PRICES)
    prices = np.empty((days + 1, n), dtype=np.int64)
    price_dates = np.empty((days + 1, n), dtype=np.int64)
    prices[0] = np.maximum(19, np.round(np.exp(r.normal(1.0, 0.8, size=n)) * 100)).astype(np.int64)
    price_dates[0] = product_intro
    for d in range(1, days + 1):
        prices[d], price_dates[d] = prices[d - 1], price_dates[d - 1]
        changes = (r.random(n) < config.price_change_rate) & (product_intro < d)
        factor = np.exp(r.normal(0.0, 0.08, size=n))
        prices[d, changes] = np.maximum(19, np.round(prices[d - 1, changes] * factor[changes]))
        effective = np.full(n, d)
        back = changes & (r.random(n) < config.dirt.backdated_prices)
        effective[back] = np.maximum(product_intro[back], d - r.integers(1, 4, size=n)[back])
        price_dates[d, changes] = effective[changes]

    # ---------- customers
    r = rng(seed, CUSTOMERS)
    m = config.customers
    customer_ids = np.arange(12_346, 12_346 + m)
    registered = np.where(r.random(m) < 0.9, -r.integers(1, 730, size=m), r.integers(0, days, size=m)).astype(
        np.int64
    )
    registered_seconds = r.integers(0, 86_400, size=m)
    home = country_intro == 0
    weights = np.array([c[5] for c in ref.COUNTRIES]) * home
    weights = weights / weights.sum()
    countries = np.empty((days + 1, m), dtype=np.int64)
    segments = np.empty((days + 1, m), dtype=np.int64)
    updated = np.empty((days + 1, m), dtype=np.int64)
    countries[0] = r.choice(len(country_ids), size=m, p=weights)
    segments[0] = r.choice(len(ref.SEGMENTS), size=m, p=ref.SEGMENT_WEIGHTS)
    updated[0] = registered
    for d in range(1, days + 1):
        countries[d], segments[d], updated[d] = countries[d - 1], segments[d - 1], updated[d - 1]
        change = (r.random(m) < config.customer_change_rate) & (registered < d)
        moves = change & (r.random(m) < 0.3)
        countries[d, moves] = r.choice(len(country_ids), size=m, p=weights)[moves]
        regrade = change & ~moves
        segments[d, regrade] = r.choice(len(ref.SEGMENTS), size=m, p=ref.SEGMENT_WEIGHTS)[regrade]
        updated[d, change] = d
    customer_weight = r.pareto(1.5, size=m) + 0.1

    # ---------- exchange rates: a small random walk per currency
    r = rng(seed, RATES)
    currencies = np.array(sorted(ref.BASE_RATES))
    base = np.array([ref.BASE_RATES[c] for c in currencies])
    steps = np.exp(r.normal(0.0, 0.004, size=(days + 1, len(currencies))))
    steps[0] = 1.0
    rates = base * np.cumprod(steps, axis=0)
    rates[:, currencies == "GBP"] = 1.0

    # ---------- learnable structure: buy-together groups, a churn-prone segment
    r = rng(seed, ML)
    groups = max(1, min(PRODUCT_GROUPS, n // 10))
    product_group = r.integers(0, groups, size=n)
    customer_group = r.integers(0, groups, size=m)
    churns = r.random(m) < CHURN_SHARE
    leave = r.integers(int(np.ceil(0.25 * days)), days + 14, size=m)
    leave_day = np.where(churns, leave, NEVER).astype(np.int64)

    return World(
        config, country_ids, country_intro, stock_codes, descriptions, category_names[category_idx],
        product_intro, product_weight, prices, price_dates, customer_ids, registered,
        registered_seconds, customer_weight, countries, segments, updated, currencies, rates,
        product_group, customer_group, leave_day,
    )  # fmt: skip
