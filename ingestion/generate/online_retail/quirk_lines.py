"""The quirk lines that are not services: write-offs and unnamed lines at price 0, cancellations (also of a
product before its first sale, and of a huge order), exact duplicates, and the bad rows' masks."""

from __future__ import annotations

import numpy as np

from ingestion.generate.online_retail.builder import Builder
from ingestion.generate.online_retail.catalogue import Catalogue, Customers, price_cents
from ingestion.generate.online_retail.layout import END, NEVER, NO_CUSTOMER, SPLIT, START
from ingestion.generate.online_retail.reference import HUGE_ORDER_CODES, WRITE_OFF_DESCRIPTIONS
from ingestion.generate.online_retail.sales import Sales
from ingestion.generate.online_retail.times import draw_times, later_times


def add_write_offs(rng: np.random.Generator, b: Builder, cat: Catalogue, counts: dict[str, int]) -> None:
    """Products at price 0 without customer: write-offs (negative quantity) and unnamed positive lines."""
    k = counts["write_offs"]
    inv = b.invoices(
        draw_times(rng, k), "", np.full(k, NO_CUSTOMER), np.full(k, "United Kingdom", dtype=object)
    )
    prod = rng.choice(len(cat.codes), size=k, p=cat.weights)
    qty = -np.array(rng.choice([1, 2, 3, 5, 10, 12, 24, 48, 100, 200], k))
    notes = np.array(WRITE_OFF_DESCRIPTIONS, dtype=object)[rng.integers(0, len(WRITE_OFF_DESCRIPTIONS), k)]
    b.lines(inv, 0, cat.codes[prod], notes, qty, 0, "write_offs")
    k = counts["zero_price"]
    inv = b.invoices(
        draw_times(rng, k), "", np.full(k, NO_CUSTOMER), np.full(k, "United Kingdom", dtype=object)
    )
    prod = rng.choice(len(cat.codes), size=k, p=cat.weights)
    b.lines(inv, 0, cat.codes[prod], "", rng.integers(1, 100, k), 0, "zero_price")


def add_cancellations(rng: np.random.Generator, b: Builder, s: Sales, k: int) -> None:
    """C invoices taking back 1-3 lines of an earlier invoice of the same customer, minutes to weeks later."""
    if k == 0:
        return
    candidates = rng.permutation(np.flatnonzero(s.inv_customer != NO_CUSTOMER))
    wants = rng.geometric(0.45, len(candidates))
    starts = np.cumsum(s.sizes) - s.sizes
    picked: list[np.ndarray] = []
    remaining = k
    for j, inv in enumerate(candidates):
        take = int(min(remaining, wants[j], s.sizes[inv]))
        picked.append(starts[inv] + rng.choice(int(s.sizes[inv]), size=take, replace=False))
        remaining -= take
        if remaining == 0:
            break
    if remaining:
        raise ValueError("too few invoices with a customer for the cancellations asked")
    groups = len(picked)
    lines = np.concatenate(picked)
    group_of = np.repeat(np.arange(groups), [len(p) for p in picked])
    source_ts = s.ts[np.array([p[0] for p in picked])]
    ts = later_times(rng, source_ts, 3.0)
    src_inv = s.inv[np.array([p[0] for p in picked])] - s.invoices[0]
    inv = b.invoices(ts, "C", s.inv_customer[src_inv], s.inv_country[src_inv])
    qty = s.qty[lines]
    part = np.where(
        rng.random(len(lines)) < 0.8, qty, np.maximum(1, (qty * rng.random(len(lines))).astype(np.int64))
    )
    desc = b.segments[0]["desc"][lines]
    b.lines(
        inv[group_of],
        s.pos[lines],
        b.segments[0]["stock"][lines],
        desc,
        -part,
        s.cents[lines] * 10,
        "cancellations",
    )


def add_orphan_cancellations(
    rng: np.random.Generator, b: Builder, cat: Catalogue, cust: Customers, s: Sales, k: int
) -> None:
    """Cancellations of a product before its first sale in the file: alternately in the II file's first
    weeks and in the old layout's (from 2010-12-01), each of another product."""
    if k == 0:
        return
    unnamed = [seg["stock"] for seg in b.segments if seg["quirk"].size and seg["quirk"][0] == "zero_price"]
    used = np.isin(cat.codes, [*HUGE_ORDER_CODES, *(np.concatenate(unnamed) if unnamed else [])])
    firsts = {start: _first_sales(cat, s, start) for start in (START, SPLIT)}
    for j in range(k):
        window_start = START if j % 2 == 0 else SPLIT
        first = firsts[window_start]
        ok = (first < NEVER) & (first >= window_start + np.timedelta64(2, "D")) & ~used
        if not ok.any():
            raise ValueError("too few lines for an orphan cancellation")
        prod = int(rng.choice(np.flatnonzero(ok)))
        used[prod] = True
        ts = draw_times(rng, 1, window_start, first[prod] - np.timedelta64(1, "m"))
        who = int(rng.choice(len(cust.ids), p=cust.weights))
        qty = int(cat.pack[prod])
        cents = price_cents(cat, np.array([prod]), ts, np.array([qty]), np.array([False]))
        inv = b.invoices(ts, "C", np.array([cust.ids[who]]), np.array([cust.countries[who]], dtype=object))
        b.lines(inv, 0, [cat.codes[prod]], [cat.descriptions[prod]], -qty, cents * 10, "orphan_cancellations")


def _first_sales(cat: Catalogue, s: Sales, since: np.datetime64) -> np.ndarray:
    """Per product, the time of its first sale from ``since`` on (NEVER when it has none)."""
    first = np.full(len(cat.codes), NEVER)
    window = s.ts >= since
    np.minimum.at(first, s.prod[window], s.ts[window])
    return first


def add_huge_orders(rng: np.random.Generator, b: Builder, cat: Catalogue, cust: Customers, k: int) -> None:
    """A huge order (tens of thousands of units) and its cancellation minutes later (as 80995 in 2011)."""
    pairs = k // 2
    if not pairs:
        return
    prods = np.flatnonzero(np.isin(cat.codes, HUGE_ORDER_CODES))
    prod = prods[np.arange(pairs) % len(prods)]
    ts = draw_times(rng, pairs, START, END - np.timedelta64(30, "m"))
    who = rng.choice(len(cust.ids), size=pairs, p=cust.weights)
    qty = rng.integers(50_000, 81_000, pairs)
    cents = np.round(cat.base_cents[prod] * 0.8).astype(np.int64)
    order = b.invoices(ts, "", cust.ids[who], cust.countries[who])
    later = ts + rng.integers(1, 20, pairs).astype("timedelta64[m]")
    cancel = b.invoices(later, "C", cust.ids[who], cust.countries[who])
    for inv, sign in ((order, 1), (cancel, -1)):
        b.lines(inv, 0, cat.codes[prod], cat.descriptions[prod], sign * qty, cents * 10, "huge_orders")


def add_duplicates(rng: np.random.Generator, b: Builder, s: Sales, k: int) -> np.ndarray:
    """Exact copies of k sale lines, later in the same invoice; returns the copied lines."""
    if k == 0:
        return np.zeros(0, np.int64)
    lines = rng.choice(len(s.inv), size=k, replace=False)
    sale = b.segments[0]
    size = s.sizes[s.inv[lines] - s.invoices[0]]
    pos = s.pos[lines] + rng.uniform(0.01, np.maximum(0.02, size - s.pos[lines]))
    b.lines(
        s.inv[lines],
        pos,
        sale["stock"][lines],
        sale["desc"][lines],
        s.qty[lines],
        s.cents[lines] * 10,
        "duplicates",
    )
    return lines


def bad_row_masks(
    rng: np.random.Generator, s: Sales, dup_sources: np.ndarray, counts: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Masks over the sale lines: an empty date, a quantity written as "" or "n/a" (never a copied line)."""
    n = len(s.inv)
    blank = np.zeros(n, bool)
    qtext = np.full(n, None, dtype=object)
    d, q = counts["bad_dates"], counts["bad_quantities"]
    if d + q == 0:
        return blank, qtext
    pool = np.setdiff1d(np.arange(n), dup_sources)
    chosen = rng.choice(pool, size=d + q, replace=False)
    blank[chosen[:d]] = True
    bad_q = chosen[d:]
    qtext[bad_q[: q - q // 2]] = ""
    qtext[bad_q[q - q // 2 :]] = "n/a"
    return blank, qtext
