"""Service lines: postage, carriage, manual, bank charges, pads and vouchers inside ordinary invoices;
discounts, refunds, samples, fees, commission, bad debt and the ADJUST/TEST lines on invoices of their own."""

from __future__ import annotations

from typing import Any

import numpy as np

from ingestion.generate.online_retail.builder import Builder
from ingestion.generate.online_retail.catalogue import Customers
from ingestion.generate.online_retail.layout import END, NO_CUSTOMER, START
from ingestion.generate.online_retail.reference import ADJUSTMENTS, CRUK_CUSTOMER, GIFT_VOUCHERS
from ingestion.generate.online_retail.sales import Sales
from ingestion.generate.online_retail.times import draw_times


def _pick(rng: np.random.Generator, primary: np.ndarray, k: int, fallback: np.ndarray) -> np.ndarray:
    """k distinct invoices, from ``primary`` first, then from ``fallback``."""
    first = rng.choice(primary, size=min(k, len(primary)), replace=False)
    rest = k - len(first)
    if rest == 0:
        return first
    pool = np.setdiff1d(fallback, first)
    if len(pool) < rest:
        raise ValueError("too few invoices for the quirks asked: generate more lines")
    return np.concatenate([first, rng.choice(pool, size=rest, replace=False)])


def add_attached_services(rng: np.random.Generator, b: Builder, s: Sales, counts: dict[str, int]) -> None:
    """Service lines inside ordinary invoices: postage, carriage, manual, bank charges, pads, vouchers."""
    known = np.flatnonzero(s.inv_customer != NO_CUSTOMER)
    anon = np.flatnonzero(s.inv_customer == NO_CUSTOMER)
    foreign = np.flatnonzero((s.inv_customer != NO_CUSTOMER) & (s.inv_country != "United Kingdom"))
    irish = np.flatnonzero(
        np.isin(s.inv_country, ["EIRE", "Channel Islands"]) & (s.inv_customer != NO_CUSTOMER)
    )
    everyone = np.arange(len(s.invoices))

    def add(where: np.ndarray, stock: Any, desc: Any, qty: Any, cents: Any, quirk: str) -> None:
        pos = rng.uniform(-0.5, s.sizes[where])
        b.lines(s.invoices[where], pos, stock, desc, qty, np.round(np.asarray(cents, float) * 10), quirk)

    k = counts["postage"]
    add(
        _pick(rng, foreign, k, known),
        "POST",
        "POSTAGE",
        rng.geometric(0.6, k),
        rng.choice([1800, 1800, 1500, 2800, 4000], k),
        "postage",
    )
    k = counts["dotcom_postage"]
    add(
        _pick(rng, anon, k, everyone),
        "DOT",
        "DOTCOM POSTAGE",
        1,
        np.round(np.exp(rng.normal(np.log(2000), 1.0, k))),
        "dotcom_postage",
    )
    k = counts["carriage"]
    add(_pick(rng, irish, k, known), "C2", "CARRIAGE", 1, 5000, "carriage")
    k = counts["manual"] - counts["manual"] // 3
    add(
        _pick(rng, known, k, everyone),
        "M",
        "Manual",
        1,
        np.round(np.exp(rng.normal(np.log(500), 1.3, k))) + 1,
        "manual",
    )
    k = counts["bank_charges"] - counts["bank_charges"] // 3
    add(_pick(rng, foreign, k, known), "BANK CHARGES", "Bank Charges", 1, 1500, "bank_charges")
    k = counts["pads"]
    where = _pick(rng, known, k, everyone)
    b.lines(
        s.invoices[where],
        rng.uniform(-0.5, s.sizes[where]),
        "PADS",
        "PADS TO MATCH ALL CUSHIONS",
        1,
        1,
        "pads",
    )
    k = counts["gift_vouchers"]
    which = rng.integers(0, len(GIFT_VOUCHERS), k)
    vouchers = [GIFT_VOUCHERS[i] for i in which]
    add(
        _pick(rng, anon, k, everyone),
        [v[0] for v in vouchers],
        [v[1] for v in vouchers],
        1,
        [round(v[2] * 100) for v in vouchers],
        "gift_vouchers",
    )


def _standalone(
    rng: np.random.Generator,
    b: Builder,
    cust: Customers,
    k: int,
    prefix: str,
    *,
    anonymous: bool = False,
    start: np.datetime64 = START,
    end: np.datetime64 = END,
) -> np.ndarray:
    """k one-line invoices of random customers (or none), at random times."""
    if anonymous:
        customer, country = np.full(k, NO_CUSTOMER), np.full(k, "United Kingdom", dtype=object)
    else:
        who = rng.choice(len(cust.ids), size=k, p=cust.weights)
        customer, country = cust.ids[who], cust.countries[who]
    return b.invoices(draw_times(rng, k, start, end), prefix, customer, country)


def add_standalone_services(
    rng: np.random.Generator, b: Builder, cust: Customers, counts: dict[str, int]
) -> None:
    """Service lines on their own invoices: C invoices of discounts, manual refunds, samples, bank charges,
    Amazon fees and CRUK commission, A invoices of bad debt, and the ADJUST/TEST lines."""
    lognormal = lambda centre, sigma, k: np.round(np.exp(rng.normal(np.log(centre), sigma, k))) * 10 + 10  # noqa: E731
    k = counts["discount"]
    b.lines(_standalone(rng, b, cust, k, "C"), 0, "D", "Discount", -1, lognormal(1000, 1.0, k), "discount")
    k = counts["manual"] // 3
    b.lines(_standalone(rng, b, cust, k, "C"), 0, "M", "Manual", -1, lognormal(500, 1.3, k), "manual")
    k = counts["samples"]
    b.lines(_standalone(rng, b, cust, k, "C"), 0, "S", "SAMPLES", -1, lognormal(3000, 0.8, k), "samples")
    k = counts["bank_charges"] // 3
    b.lines(_standalone(rng, b, cust, k, "C"), 0, "BANK CHARGES", "Bank Charges", -1, 15000, "bank_charges")
    k = counts["amazon_fee"]
    fee = rng.integers(100_000, 1_700_000, k) * 10
    b.lines(
        _standalone(rng, b, cust, k, "C", anonymous=True), 0, "AMAZONFEE", "AMAZON FEE", -1, fee, "amazon_fee"
    )
    k = counts["cruk"]
    inv = b.invoices(
        draw_times(rng, k, np.datetime64("2011-08-01T08:00", "m")), "C", np.full(k, CRUK_CUSTOMER),
        np.full(k, "United Kingdom", dtype=object),
    )  # fmt: skip
    b.lines(inv, 0, "CRUK", "CRUK Commission", -1, lognormal(800, 0.8, k), "cruk")
    k = counts["adjustments"]
    which = [ADJUSTMENTS[i % len(ADJUSTMENTS)] for i in range(k)]
    inv = _standalone(rng, b, cust, k, "")
    b.lines(inv, 0, [w[0] for w in which], [w[1] for w in which], 1, lognormal(3000, 1.0, k), "adjustments")
    _bad_debt(rng, b, counts["bad_debt"])


def _bad_debt(rng: np.random.Generator, b: Builder, k: int) -> None:
    """A invoices in threes, the same minute: one positive and two negative adjustments of one amount."""
    groups = k // 3
    if not groups:
        return
    ts = np.repeat(draw_times(rng, groups), 3)
    amount = np.repeat(rng.integers(500_000, 6_000_000, groups), 3) * 10
    sign = np.tile([1, -1, -1], groups)
    inv = b.invoices(ts, "A", np.full(k, NO_CUSTOMER), np.full(k, "United Kingdom", dtype=object))
    b.lines(inv, 0, "B", "Adjust bad debt", 1, amount * sign, "bad_debt")
