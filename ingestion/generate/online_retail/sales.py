"""The ordinary invoices: product lines by popularity, distinct products per invoice, a fifth without a
customer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingestion.generate.online_retail.builder import Builder
from ingestion.generate.online_retail.catalogue import Catalogue, Customers, price_cents
from ingestion.generate.online_retail.layout import END, NO_CUSTOMER, START
from ingestion.generate.online_retail.rates import QuirkRates
from ingestion.generate.online_retail.reference import NO_CUSTOMER_COUNTRIES
from ingestion.generate.online_retail.times import draw_times


@dataclass
class Sales:
    """The product lines of the ordinary invoices, before any quirk line is added."""

    inv: np.ndarray  # line -> invoice index (in the builder)
    pos: np.ndarray  # float: order inside the invoice
    prod: np.ndarray
    qty: np.ndarray
    cents: np.ndarray
    ts: np.ndarray  # the invoice's time, per line
    invoices: np.ndarray  # the ordinary invoices' indices
    sizes: np.ndarray  # lines per ordinary invoice
    inv_customer: np.ndarray  # per ordinary invoice
    inv_country: np.ndarray  # per ordinary invoice


def _sizes(rng: np.random.Generator, total: int, mu: float, cap: int) -> np.ndarray:
    """Invoice sizes (lognormal, at least 1, at most cap) that add up to exactly ``total``."""
    if total <= 0:
        return np.zeros(0, np.int64)
    mean = 0.5 + np.exp(mu + 0.5)
    sizes = np.zeros(0, np.int64)
    while sizes.sum() < total:
        more = 1 + np.floor(rng.lognormal(mu, 1.0, int(total / mean * 1.2) + 10)).astype(np.int64)
        sizes = np.concatenate([sizes, np.minimum(more, cap)])
    cut = int(np.searchsorted(np.cumsum(sizes), total))
    sizes = sizes[: cut + 1].copy()
    sizes[-1] -= sizes.sum() - total
    return sizes


def draw_sales(
    rng: np.random.Generator, b: Builder, cat: Catalogue, cust: Customers, n: int, rates: QuirkRates
) -> Sales:
    """Ordinary invoices: product lines, distinct products per invoice, a fifth without customer."""
    anonymous_lines = round(n * rates.missing_customer)
    if rates.missing_customer > 0:
        anonymous_lines = min(max(anonymous_lines, rates.minimum), n - 1)
    anon = _sizes(rng, anonymous_lines, 3.8, max(1, min(700, anonymous_lines // rates.minimum)))
    known = _sizes(rng, n - anonymous_lines, 2.5, 500)
    sizes = np.concatenate([known, anon])
    perm = rng.permutation(len(sizes))
    sizes = sizes[perm]
    anonymous = (np.arange(len(perm)) >= len(known))[perm]
    k = len(sizes)
    who = rng.choice(len(cust.ids), size=k, p=cust.weights)
    known_invoices = np.flatnonzero(~anonymous)
    if len(known_invoices) >= 2 * len(cust.ids):  # a full-size file: every customer buys at least once
        who[rng.choice(known_invoices, size=len(cust.ids), replace=False)] = np.arange(len(cust.ids))
    customer = np.where(anonymous, NO_CUSTOMER, cust.ids[who])
    names = list(NO_CUSTOMER_COUNTRIES)
    p = np.array(list(NO_CUSTOMER_COUNTRIES.values()))
    anon_country = np.array(names, dtype=object)[rng.choice(len(names), size=k, p=p / p.sum())]
    country = np.where(anonymous, anon_country, cust.countries[who])
    ts = draw_times(rng, k)
    ts[np.argmin(ts)], ts[np.argmax(ts)] = START, END  # the file's first and last minutes
    invoices = b.invoices(ts, "", customer, country)
    inv_local = np.repeat(np.arange(k), sizes)
    starts = np.cumsum(sizes) - sizes
    pos = (np.arange(n) - starts[inv_local]).astype(float)
    prod = _products(rng, cat, inv_local, starts, rates.minimum)
    ts = b.inv["ts"][-1][inv_local]
    no_cust = customer[inv_local] == NO_CUSTOMER
    qty = np.where(
        no_cust,
        rng.geometric(0.7, n),
        cat.pack[prod] * rng.geometric(0.6, n) * np.where(rng.random(n) < 0.015, 10, 1),
    ).astype(np.int64)
    cents = price_cents(cat, prod, ts, qty, no_cust)
    desc = np.where(cat.alt_from[prod] <= ts, cat.alt_descriptions[prod], cat.descriptions[prod])
    b.lines(invoices[inv_local], pos, cat.codes[prod], desc, qty, cents * 10, "sale")
    return Sales(
        inv=invoices[inv_local], pos=pos, prod=prod, qty=qty, cents=cents, ts=ts, invoices=invoices,
        sizes=sizes, inv_customer=customer, inv_country=country,
    )  # fmt: skip


def _products(
    rng: np.random.Generator, cat: Catalogue, inv: np.ndarray, starts: np.ndarray, minimum: int
) -> np.ndarray:
    """A product per line by popularity, distinct within an invoice; the special descriptions sold at least
    ``minimum`` times (on the first lines of distinct invoices)."""
    n, p = len(inv), len(cat.codes)
    prod = rng.choice(p, size=n, p=cat.weights)
    fixed = np.zeros(n, bool)
    groups = [g for g in cat.special.values() if len(g)]
    chosen = rng.choice(len(starts), size=min(len(starts), minimum * len(groups)), replace=False)
    for j, first_line in enumerate(starts[chosen]):
        group = groups[j // minimum]
        prod[first_line] = group[j % len(group)]
        fixed[first_line] = True
    for _round in range(30):
        redo = _repeated(inv * p + prod, fixed)
        if not redo.any():
            return prod
        prod[redo] = rng.choice(p, size=int(redo.sum()), p=cat.weights)
    for _round in range(100):  # big invoices of the best sellers: draw the rest uniformly
        redo = _repeated(inv * p + prod, fixed)
        if not redo.any():
            return prod
        prod[redo] = rng.integers(0, p, int(redo.sum()))
    raise RuntimeError("could not draw distinct products per invoice")


def _repeated(keys: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """True for every line whose key an earlier (or fixed) line already has."""
    order = np.lexsort((~fixed, keys))
    sk = keys[order]
    out = np.zeros(len(keys), bool)
    out[order[1:][sk[1:] == sk[:-1]]] = True
    return out
