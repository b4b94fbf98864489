"""The products (codes, descriptions, renames, prices drifting per period, pack sizes, popularity) and the
customers (ids, countries, activity), drawn once per seed, and a product's price at a time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingestion.generate.online_retail.layout import END, NEVER, START
from ingestion.generate.online_retail.reference import (
    COLOURS,
    COUNTRY_CUSTOMERS,
    FAMOUS,
    ITEMS,
    PACKS,
    PRICE_PERIODS,
    PRODUCTS,
    SPECIALS,
    STYLES,
)


@dataclass(frozen=True)
class Catalogue:
    """The products, columnar (one row per product)."""

    codes: np.ndarray  # object
    descriptions: np.ndarray  # object
    alt_descriptions: np.ndarray  # object: the name from alt_from on
    alt_from: np.ndarray  # datetime64[m]
    base_cents: np.ndarray  # float
    drift: np.ndarray  # (products, periods) price factors
    pack: np.ndarray  # int64
    bulk: np.ndarray  # bool: cheaper from 12 units
    weights: np.ndarray  # float, sums to 1
    special: dict[str, np.ndarray]  # quirk -> product indices


@dataclass(frozen=True)
class Customers:
    """The customers with an id, columnar; ``weights`` is how often each one orders."""

    ids: np.ndarray  # int64
    countries: np.ndarray  # object
    weights: np.ndarray  # float, sums to 1


def make_catalogue(rng: np.random.Generator, products: int = PRODUCTS) -> Catalogue:
    """The best sellers and the special descriptions first, then made-up products, their prices and packs."""
    fixed = list(FAMOUS) + [p for group in SPECIALS.values() for p in group]
    taken = {code for code, *_ in fixed}
    codes = [code for code, *_ in fixed] + _random_codes(rng, products - len(fixed), taken)
    descs = [d for _c, d, *_ in fixed] + _random_descriptions(
        rng, products - len(fixed), {d for _c, d, *_ in fixed}
    )
    n = len(codes)
    base = np.exp(rng.normal(np.log(250), 0.85, n)).clip(10, 5000)
    base[: len(fixed)] = [p * 100 for _c, _d, p, _k in fixed]
    pack = _packs(rng, base)
    pack[: len(fixed)] = [k for *_x, k in fixed]
    weights = np.exp(rng.normal(0.0, 1.3, n))
    weights[: len(FAMOUS)] = np.sort(weights)[::-1][: len(FAMOUS)] * 4  # the best sellers lead
    changes = np.where(
        rng.random((n, len(PRICE_PERIODS))) < 0.4, rng.normal(0.04, 0.06, (n, len(PRICE_PERIODS))), 0
    )
    drift = np.concatenate([np.ones((n, 1)), np.cumprod(1 + changes, axis=1)], axis=1).clip(0.5, 3)
    descriptions = np.array(descs, dtype=object)
    alt, alt_from = _renames(rng, descriptions)
    first = len(FAMOUS)
    special: dict[str, np.ndarray] = {}
    for name, group in SPECIALS.items():
        special[name] = np.arange(first, first + len(group))
        first += len(group)
    special["description_trailing_space"] = np.array([i for i, d in enumerate(descs) if d.endswith(" ")])
    return Catalogue(
        codes=np.array(codes, dtype=object),
        descriptions=descriptions,
        alt_descriptions=alt,
        alt_from=alt_from,
        base_cents=base,
        drift=drift,
        pack=pack.astype(np.int64),
        bulk=rng.random(n) < 0.5,
        weights=weights / weights.sum(),
        special=special,
    )


def _packs(rng: np.random.Generator, base_cents: np.ndarray) -> np.ndarray:
    tier = np.searchsorted(np.array([upper for upper, *_x in PACKS]), base_cents)
    pack = np.zeros(len(base_cents), np.int64)
    for t, (_upper, sizes, weights) in enumerate(PACKS):
        where = tier == t
        pack[where] = rng.choice(np.array(sizes), size=int(where.sum()), p=np.array(weights))
    return pack


def _random_codes(rng: np.random.Generator, k: int, taken: set[str]) -> list[str]:
    """Five-digit codes, a fifth of them with lettered variants (84029E, 79323P...)."""
    codes: list[str] = []
    seen = set(taken)
    while len(codes) < k:
        band = rng.choice(3, p=[0.6, 0.25, 0.15])
        low, high = ((20000, 24000), (84000, 86000), (10000, 91000))[band]
        base = str(rng.integers(low, high))
        if rng.random() < 0.2:
            letters = rng.choice(list("ABCDEFGLNPSW"), size=rng.integers(2, 5), replace=False)
            variants = [base + str(x) for x in sorted(letters)]
        else:
            variants = [base]
        for code in variants:
            if code not in seen and len(codes) < k and not any(c.startswith(base) for c in taken):
                seen.add(code)
                codes.append(code)
    return codes


def _random_descriptions(rng: np.random.Generator, k: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    seen = set(taken)
    while len(out) < k:
        colour, style, item = (
            COLOURS[rng.integers(len(COLOURS))],
            STYLES[rng.integers(len(STYLES))],
            ITEMS[rng.integers(len(ITEMS))],
        )
        shape = rng.integers(6)
        n = int(rng.choice([3, 4, 6, 10, 12, 20, 24, 72]))
        text = (
            f"{style} {colour} {item}",
            f"{colour} {style} {item}",
            f"SET OF {n} {style} {item}",
            f"PACK OF {n} {style} {item}",
            f"{style} {item}",
            f"{colour} {item}",
        )[shape]
        if text in seen:
            continue
        seen.add(text)
        out.append(text + " " if rng.random() < 0.08 else text)
    return out


def _renames(rng: np.random.Generator, descriptions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """3% of the products get another name from a date on (WHITE ... becomes CREAM ...)."""
    n = len(descriptions)
    alt = descriptions.copy()
    alt_from = np.full(n, NEVER)
    span = (END - START).astype(np.int64)
    for i in np.flatnonzero(rng.random(n) < 0.03):
        words = str(descriptions[i]).split(" ")
        colours = [j for j, w in enumerate(words) if w in COLOURS]
        if not colours:
            continue
        words[colours[0]] = COLOURS[(COLOURS.index(words[colours[0]]) + 1) % len(COLOURS)]
        alt[i] = " ".join(words)
        alt_from[i] = START + np.timedelta64(int(rng.integers(span // 4, span)), "m")
    return alt, alt_from


def make_customers(rng: np.random.Generator) -> Customers:
    """About 5,900 customers with ids in the real range, per country as in the real data."""
    sizes = [k for k, _a in COUNTRY_CUSTOMERS.values()]
    ids = np.sort(rng.choice(np.arange(12346, 18288), size=sum(sizes), replace=False)).astype(np.int64)
    countries = np.repeat(np.array(list(COUNTRY_CUSTOMERS), dtype=object), sizes)
    activity = np.repeat(np.array([a for _k, a in COUNTRY_CUSTOMERS.values()]), sizes)
    order = rng.permutation(len(ids))  # countries are not in id order
    weights = np.exp(rng.normal(0.0, 1.2, len(ids))) * activity[order]
    return Customers(ids=ids, countries=countries[order], weights=weights / weights.sum())


def price_cents(
    cat: Catalogue, prod: np.ndarray, ts: np.ndarray, qty: np.ndarray, no_customer: np.ndarray
) -> np.ndarray:
    """A product's price at a time: drifting per period, cheaper in bulk, dearer (odd cents) on the web."""
    period = np.searchsorted(PRICE_PERIODS, ts, side="right")
    x = cat.base_cents[prod] * cat.drift[prod, period]
    x = np.where(cat.bulk[prod] & (qty >= 12) & ~no_customer, x * 0.85, x)
    cents = np.where(x < 100, np.maximum(1, np.round(x)), np.round(x / 5) * 5)
    return np.where(no_customer, np.round(cents * 1.65), cents).astype(np.int64)
