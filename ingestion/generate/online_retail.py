"""Files in the two layouts of the public UCI "Online Retail" data sets, with the real data's quirks.

The real files cannot be downloaded here, so tests and the benchmark use look-alikes generated from one set
of canonical order lines (:func:`generate_lines`, deterministic per seed), written in either layout:

- Online Retail II (``online_retail_II.xlsx``, sheets "Year 2009-2010" and "Year 2010-2011", and its UTF-8
  CSV re-export with a byte-order mark): ``Invoice,StockCode,Description,Quantity,InvoiceDate,Price,
  Customer ID,Country``, dates ``2009-12-01 07:45:00``, customer ids as float text ``13085.0``, prices as
  Python floats print them (``18.0``); it covers 2009-12-01 .. 2011-12-09;
- Online Retail (``Online Retail.xlsx``, sheet "Online Retail", and Windows-1252 CSV re-exports):
  ``InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country``, dates
  month-first without leading zeros or seconds (``12/1/2010 8:26``), customer ids as integers, prices as
  Excel prints them (``18``); it holds THE SAME lines as Online Retail II from 2010-12-01 on.

In the workbooks dates are datetime cells, quantities, prices and customer ids numbers (customer ids float
in II, int in the old layout) and invoices and stock codes numbers unless they have letters.

Quirks, as in the real data (rates in :class:`QuirkRates`; each quirk that is on gets at least
``QuirkRates.minimum`` lines, so a few thousand lines still show every one of them):

- about 20% of the product lines on invoices without a customer id (the web shop's "dotcom" invoices:
  big, retail quantities, higher prices with odd cents); about 5,900 customers in 38 countries with the
  UCI names (``EIRE``, ``RSA``, ``USA``, ``Unspecified``, ``European Community``...), 90% United Kingdom;
- about 4,000 products (``85123A``, ``22423``, ``84029E``...), upper-case descriptions, some with a trailing
  space, a comma, double quotes or a non-ASCII character (``£``, ``É``, ``é``: all in Windows-1252), a few
  renamed during the period; prices per product drift over time, lower for bulk quantities;
- cancellations: invoices ``C<number>`` repeating lines of an earlier invoice of the same customer with a
  negative quantity, and cancellations of a product before its first sale in the file (``orphan``);
- bad debt adjustments: invoices ``A<number>``, stock code ``B``, ``Adjust bad debt``, quantity 1, one
  positive price and two negative ones, no customer;
- service lines: ``POST`` (POSTAGE), ``DOT`` (DOTCOM POSTAGE), ``C2`` (CARRIAGE), ``M`` (Manual, also in C
  invoices), ``D`` (Discount, C invoices, quantity -1), ``S`` (SAMPLES, C invoices), ``BANK CHARGES``,
  ``AMAZONFEE`` (C invoices, no customer), ``CRUK`` (CRUK Commission, C invoices), ``PADS`` (price 0.001),
  gift vouchers ``gift_0001_20`` (lower-case code) and ``ADJUST``/``ADJUST2``/``TEST001``/``TEST002``;
- stock write-offs: a product at price 0, negative quantity, no customer, description ``?``, ``damaged``,
  ``check``... on a normal (non-C) invoice; and products at price 0 with an empty description;
- exact duplicates (the same line twice in its invoice) and a huge order cancelled minutes later;
- only with ``bad_rows=True`` (the real files have none): empty InvoiceDate, Quantity empty or ``n/a``.

Writing is vectorised (one ``csv.writer`` pass over precomputed columns): the 1,067,371 lines of the real
Online Retail II file take a few seconds. The workbooks use openpyxl's write-only mode (small files only).
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

II_HEADER = (
    "Invoice",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "Price",
    "Customer ID",
    "Country",
)
OLD_HEADER = (
    "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country",
)  # fmt: skip
II_SHEETS = ("Year 2009-2010", "Year 2010-2011")
OLD_SHEET = "Online Retail"
II_FILE_LINES = 1_067_371  # rows of the real online_retail_II files
START = np.datetime64("2009-12-01T07:45", "m")
END = np.datetime64("2011-12-09T12:50", "m")
SPLIT = np.datetime64("2010-12-01T00:00", "m")  # first day of the old layout, boundary of the II sheets
NO_CUSTOMER = 0
FIRST_INVOICE, LAST_INVOICE = 489_434, 581_587

# ----------------------------------------------------------------------------------------------------- rates


@dataclass(frozen=True)
class QuirkRates:
    """Share of all lines for each quirk (``missing_customer``: of product lines); 0 turns a quirk off.

    A quirk that is on gets at least ``minimum`` lines (A invoices come in threes, huge orders in pairs).
    ``bad_dates`` and ``bad_quantities`` only apply with ``generate_lines(..., bad_rows=True)``.
    """

    missing_customer: float = 0.20
    cancellations: float = 0.02
    orphan_cancellations: float = 0.00002
    duplicates: float = 0.01
    write_offs: float = 0.003
    zero_price: float = 0.0005
    bad_debt: float = 0.000006
    postage: float = 0.002
    dotcom_postage: float = 0.0014
    carriage: float = 0.0003
    manual: float = 0.0013
    discount: float = 0.0002
    samples: float = 0.0001
    bank_charges: float = 0.0001
    amazon_fee: float = 0.00005
    cruk: float = 0.00002
    pads: float = 0.00002
    gift_vouchers: float = 0.00004
    adjustments: float = 0.00005
    huge_orders: float = 0.000002
    bad_dates: float = 0.00002
    bad_quantities: float = 0.00002
    minimum: int = 3

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "minimum" and not 0 <= value <= 1:
                raise ValueError(f"quirk rate {f.name} must be between 0 and 1, got {value}")
        if self.minimum < 1:
            raise ValueError("minimum must be at least 1")

    @classmethod
    def clean(cls) -> QuirkRates:
        """Products only, every line with a customer: no quirk at all."""
        return cls(**{f.name: 0.0 for f in fields(cls) if f.name != "minimum"})


# Quirks that are extra lines (the rest of the lines are sales), in generation order.
LINE_QUIRKS = (
    "cancellations", "orphan_cancellations", "duplicates", "write_offs", "zero_price", "bad_debt",
    "postage", "dotcom_postage", "carriage", "manual", "discount", "samples", "bank_charges",
    "amazon_fee", "cruk", "pads", "gift_vouchers", "adjustments", "huge_orders",
)  # fmt: skip


def quirk_line_counts(lines: int, rates: QuirkRates, bad_rows: bool = False) -> dict[str, int]:
    """Lines of each quirk for a file of ``lines`` lines (bad rows alter sale lines, they add none)."""
    counts = {name: _count(getattr(rates, name), lines, rates.minimum) for name in LINE_QUIRKS}
    counts["bad_debt"] = -(-counts["bad_debt"] // 3) * 3
    counts["huge_orders"] = -(-counts["huge_orders"] // 2) * 2
    for name in ("bad_dates", "bad_quantities"):
        counts[name] = _count(getattr(rates, name), lines, rates.minimum) if bad_rows else 0
    return counts


def _count(rate: float, lines: int, minimum: int) -> int:
    return 0 if rate <= 0 else max(minimum, round(rate * lines))


# ------------------------------------------------------------------------------------------ reference data

# Customers per country (real II counts, about 5,900 in all); activity multiplies a customer's orders.
COUNTRY_CUSTOMERS: dict[str, tuple[int, float]] = {
    "United Kingdom": (5360, 1.3), "Germany": (107, 1.6), "France": (95, 1.6), "Spain": (41, 1.3),
    "Belgium": (29, 1.3), "Portugal": (24, 1.3), "Netherlands": (23, 4.0), "Switzerland": (22, 1.3),
    "Sweden": (19, 1.3), "Italy": (17, 1.0), "Australia": (15, 1.5), "Finland": (15, 1.0),
    "Austria": (13, 1.0), "Norway": (13, 1.0), "Denmark": (12, 1.0), "Channel Islands": (11, 1.3),
    "Cyprus": (11, 1.0), "Japan": (10, 1.0), "USA": (8, 1.0), "Unspecified": (8, 1.0), "Greece": (8, 1.0),
    "Poland": (6, 1.0), "EIRE": (5, 25.0), "Canada": (5, 1.0), "Israel": (4, 1.0), "Malta": (4, 1.0),
    "Bahrain": (2, 1.0), "United Arab Emirates": (2, 1.0), "Singapore": (1, 2.0), "Iceland": (1, 2.0),
    "Lithuania": (1, 1.0), "Brazil": (1, 1.0), "Saudi Arabia": (1, 1.0), "Czech Republic": (1, 1.0),
    "Lebanon": (1, 1.0), "RSA": (1, 1.0), "European Community": (1, 1.0),
}  # fmt: skip
# Countries of the invoices without a customer id (Hong Kong only ever appears there).
NO_CUSTOMER_COUNTRIES = {
    "United Kingdom": 0.95, "EIRE": 0.01, "Hong Kong": 0.01, "Unspecified": 0.01, "France": 0.005,
    "Israel": 0.005, "Switzerland": 0.005, "Bahrain": 0.005,
}  # fmt: skip
PRODUCTS = 4_000
# The best sellers of the real data: stock code, description, price (GBP), pack size.
FAMOUS = (
    ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2.55, 6),
    ("22423", "REGENCY CAKESTAND 3 TIER", 12.75, 1),
    ("84029E", "RED WOOLLY HOTTIE WHITE HEART.", 3.75, 6),
    ("79323P", "PINK CHERRY LIGHTS", 6.75, 1),
    ("85099B", "JUMBO BAG RED RETROSPOT", 1.95, 10),
    ("84879", "ASSORTED COLOUR BIRD ORNAMENT", 1.69, 8),
    ("47566", "PARTY BUNTING", 4.95, 4),
    ("20725", "LUNCH BAG RED RETROSPOT", 1.65, 10),
    ("21212", "PACK OF 72 RETROSPOT CAKE CASES", 0.55, 24),
    ("22197", "SMALL POPCORN HOLDER", 0.85, 12),
    ("23843", "PAPER CRAFT , LITTLE BIRDIE", 2.08, 1),
    ("23166", "MEDIUM CERAMIC TOP STORAGE JAR", 1.25, 12),
    ("22086", "PAPER CHAIN KIT 50'S CHRISTMAS ", 2.95, 6),
    ("21232", "STRAWBERRY CERAMIC TRINKET BOX", 1.25, 12),
)
HUGE_ORDER_CODES = ("23843", "23166")
# Descriptions with the characters that trip CSV and encodings up; each group sells at least `minimum` times.
SPECIALS: dict[str, tuple[tuple[str, str, float, int], ...]] = {
    "description_comma": (
        ("84375", "SET OF 3 HEART COOKIE CUTTERS, PINK", 1.25, 6),
        ("84380", "SET OF 3 BUTTERFLY COOKIE CUTTERS, BLUE", 1.25, 6),
    ),
    "description_quote": (
        ("20668", '12 PENCILS "TALL TUBE" RED', 0.85, 12),
        ("20669", '12 PENCILS "TALL TUBE" SKULLS', 0.85, 12),
        ("21383", 'PACK OF 12 "SWEETHEART" TISSUES', 0.39, 24),
    ),
    "description_non_ascii": (
        ("23305", "FRENCH CAFÉ METAL SIGN", 2.95, 6),
        ("84508B", "POLKADOT £1 CUP", 0.42, 12),
        ("21871", "CAFé LATTE MUG", 1.25, 6),
        ("22469", "CRÈME BRÛLÉE RAMEKIN", 1.65, 6),
    ),
}
COLOURS = (
    "RED", "PINK", "BLUE", "GREEN", "WHITE", "CREAM", "IVORY", "BLACK", "SILVER", "GOLD", "PURPLE",
    "ORANGE", "YELLOW", "PASTEL", "NATURAL",
)  # fmt: skip
STYLES = (
    "RETROSPOT", "POLKADOT", "VINTAGE", "REGENCY", "HEART", "FLORAL", "JUMBO", "SPACEBOY", "DOLLY GIRL",
    "PAISLEY", "WOODLAND", "SKULLS", "ROSES", "BIRD", "CHRISTMAS", "LOVE", "PANTRY", "ENGLISH ROSE", "ZINC",
    "ANTIQUE", "BAROQUE", "SWEETHEART", "GINGHAM", "HANGING", "WOODEN", "ENAMEL", "GLASS", "CERAMIC",
)  # fmt: skip
ITEMS = (
    "T-LIGHT HOLDER", "LUNCH BAG", "CAKE CASES", "CAKESTAND 3 TIER", "MUG", "TEA TOWEL", "SHOPPER BAG",
    "NAPKINS", "DOORSTOP", "CUSHION COVER", "PHOTO FRAME", "BUNTING", "LANTERN", "WALL CLOCK",
    "HOT WATER BOTTLE", "NOTEBOOK", "PURSE", "STORAGE JAR", "PAPER CHAIN KIT", "WATER BOTTLE", "GIFT WRAP",
    "COAT RACK", "BOWL", "JUG", "PLATE", "CANDLE", "HANGING DECORATION", "METAL SIGN", "ALARM CLOCK",
    "CANDLEHOLDER", "TRINKET BOX", "KEYRING", "APRON", "PARASOL", "PICNIC BASKET", "BIRD HOUSE",
)  # fmt: skip
# Pack sizes (units a customer buys at a time) by price: dear things one by one, cheap ones by the dozen.
PACKS = (  # up to this price (pence), sizes, their weights
    (150, (6, 10, 12, 24, 25, 48), (0.2, 0.1, 0.3, 0.25, 0.1, 0.05)),
    (500, (1, 2, 3, 4, 6, 8, 12), (0.15, 0.15, 0.1, 0.15, 0.25, 0.05, 0.15)),
    (np.inf, (1, 2, 4), (0.6, 0.3, 0.1)),
)
WRITE_OFF_DESCRIPTIONS = (
    "?", "damaged", "check", "wet damaged", "missing", "Damaged", "thrown away", "lost??", "smashed",
    "sold as set on dotcom", "wrongly marked", "rusty throw away", "mouldy, thrown away.", "?missing",
)  # fmt: skip
GIFT_VOUCHERS = (  # stock code, description, price (the value before VAT)
    ("gift_0001_10", "Dotcomgiftshop Gift Voucher £10.00", 8.51),
    ("gift_0001_20", "Dotcomgiftshop Gift Voucher £20.00", 17.02),
    ("gift_0001_30", "Dotcomgiftshop Gift Voucher £30.00", 25.53),
    ("gift_0001_40", "Dotcomgiftshop Gift Voucher £40.00", 34.04),
    ("gift_0001_50", "Dotcomgiftshop Gift Voucher £50.00", 42.55),
)
ADJUSTMENTS = (
    ("ADJUST", "Adjustment by john on 26/01/2010 17"),
    ("ADJUST2", "Adjustment by Peter on Jun 25 2010 "),
    ("TEST001", "This is a test product."),
    ("TEST002", "This is a test product."),
)
CRUK_CUSTOMER = 14096
# Price changes: each product's price may move at each of these dates.
PRICE_PERIODS = np.array(["2010-04-01", "2010-09-01", "2011-03-01", "2011-08-01"], dtype="datetime64[m]")
HOUR_WEIGHTS = {7: 2, 8: 5, 9: 9, 10: 13, 11: 14, 12: 15, 13: 14, 14: 12, 15: 9, 16: 5, 17: 2, 18: 1, 19: 1}
MONTH_WEIGHTS = (0.7, 0.7, 0.85, 0.75, 0.85, 0.85, 0.85, 0.85, 1.2, 1.4, 1.7, 1.0)  # January .. December
NEVER = np.datetime64("2100-01-01T00:00", "m")

# ----------------------------------------------------------------------------------------------- the lines


@dataclass(frozen=True, eq=False)
class RetailLines:
    """Canonical order lines, columnar (numpy arrays of one length), in file order."""

    invoice: np.ndarray  # object: "489434", "C489449", "A563185"
    stock_code: np.ndarray  # object
    description: np.ndarray  # object ("" for none)
    quantity: np.ndarray  # int64
    invoice_ts: np.ndarray  # datetime64[m]: the true time, also of lines written with an empty date
    price_milli: np.ndarray  # int64: price in thousandths (PADS cost 0.001)
    customer_id: np.ndarray  # int64, NO_CUSTOMER when unknown
    country: np.ndarray  # object: the UCI country name
    quirk: np.ndarray  # object: what the generator made the line as ("sale", "cancellation", ...)
    blank_date: np.ndarray  # bool: written with an empty InvoiceDate
    quantity_text: np.ndarray  # object: None, or the text written instead of the quantity ("" or "n/a")

    def __len__(self) -> int:
        return len(self.invoice)

    def select(self, mask: np.ndarray) -> RetailLines:
        """The lines where ``mask`` is true (or at the given positions), in the same order."""
        return RetailLines(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})

    def since(self, when: np.datetime64 = SPLIT) -> RetailLines:
        return self.select(self.invoice_ts >= when)

    def until(self, when: np.datetime64 = SPLIT) -> RetailLines:
        return self.select(self.invoice_ts < when)

    def price(self, i: int) -> Decimal:
        return Decimal(int(self.price_milli[i])).scaleb(-3).normalize() + Decimal("0.00")

    def row(self, i: int) -> dict[str, Any]:
        """One line as a dict: invoice_ts None when written empty, quantity the text when written as text."""
        customer = int(self.customer_id[i])
        return {
            "invoice": self.invoice[i],
            "stock_code": self.stock_code[i],
            "description": self.description[i],
            "quantity": self.quantity_text[i] if self.quantity_text[i] is not None else int(self.quantity[i]),
            "invoice_ts": None if self.blank_date[i] else self.invoice_ts[i].astype(datetime),
            "price": self.price(i),
            "customer_id": None if customer == NO_CUSTOMER else customer,
            "country": self.country[i],
            "quirk": self.quirk[i],
        }

    def to_dicts(self) -> list[dict[str, Any]]:
        return [self.row(i) for i in range(len(self))]


def quirk_counts(lines: RetailLines) -> dict[str, int]:
    """How many lines show each quirk (a line can show several: a write-off has no customer either)."""
    counts = Counter(lines.quirk.tolist())
    counts.pop("sale", None)
    desc = lines.description
    counts["missing_customer"] = int((lines.customer_id == NO_CUSTOMER).sum())
    counts["description_trailing_space"] = sum(1 for d in desc if d.endswith(" "))
    counts["description_comma"] = sum(1 for d in desc if "," in d)
    counts["description_quote"] = sum(1 for d in desc if '"' in d)
    counts["description_non_ascii"] = sum(1 for d in desc if not d.isascii())
    counts["description_empty"] = sum(1 for d in desc if d == "")
    counts["lowercase_stock_code"] = sum(1 for s in lines.stock_code if s != s.upper())
    counts["blank_date"] = int(lines.blank_date.sum())
    counts["quantity_empty"] = sum(1 for q in lines.quantity_text if q == "")
    counts["quantity_na"] = sum(1 for q in lines.quantity_text if q == "n/a")
    return dict(sorted(counts.items()))


# ---------------------------------------------------------------------------------------- the generation


@dataclass(frozen=True)
class _Catalogue:
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
class _Customers:
    ids: np.ndarray  # int64
    countries: np.ndarray  # object
    weights: np.ndarray  # float, sums to 1


@dataclass
class _Sales:
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


class _Builder:
    """Collects invoices and line segments, then sorts them into file order and numbers the invoices."""

    def __init__(self) -> None:
        self.inv: dict[str, list[np.ndarray]] = {"ts": [], "prefix": [], "customer": [], "country": []}
        self.n_invoices = 0
        self.segments: list[dict[str, np.ndarray]] = []

    def invoices(self, ts: np.ndarray, prefix: str, customer: np.ndarray, country: np.ndarray) -> np.ndarray:
        k = len(ts)
        self.inv["ts"].append(np.asarray(ts, "datetime64[m]"))
        self.inv["prefix"].append(np.full(k, prefix, dtype=object))
        self.inv["customer"].append(np.asarray(customer, np.int64))
        self.inv["country"].append(np.asarray(country, dtype=object))
        first = self.n_invoices
        self.n_invoices += k
        return np.arange(first, first + k)

    def lines(
        self, inv: np.ndarray, pos: Any, stock: Any, desc: Any, qty: Any, milli: Any, quirk: str
    ) -> None:
        k = len(inv)
        self.segments.append(
            {
                "inv": np.asarray(inv, np.int64),
                "pos": np.broadcast_to(np.asarray(pos, float), (k,)),
                "stock": _objects(stock, k),
                "desc": _objects(desc, k),
                "qty": np.broadcast_to(np.asarray(qty, np.int64), (k,)),
                "milli": np.broadcast_to(np.asarray(milli, np.int64), (k,)),
                "quirk": np.full(k, quirk, dtype=object),
            }
        )

    def finish(self, blank_date: np.ndarray, quantity_text: np.ndarray) -> RetailLines:
        inv = {k: np.concatenate(v) for k, v in self.inv.items()}
        seg = {k: np.concatenate([s[k] for s in self.segments]) for k in self.segments[0]}
        order = np.lexsort((np.arange(self.n_invoices), inv["ts"]))
        rank = np.empty(self.n_invoices, np.int64)
        rank[order] = np.arange(self.n_invoices)
        numbers = np.empty(self.n_invoices, np.int64)
        numbers[order] = _invoice_numbers(inv["ts"][order])
        texts = np.array([p + str(n) for p, n in zip(inv["prefix"], numbers.tolist(), strict=True)], object)
        line_order = np.lexsort((seg["pos"], rank[seg["inv"]]))
        li = seg["inv"][line_order]
        return RetailLines(
            invoice=texts[li],
            stock_code=seg["stock"][line_order],
            description=seg["desc"][line_order],
            quantity=seg["qty"][line_order].copy(),
            invoice_ts=inv["ts"][li],
            price_milli=seg["milli"][line_order].copy(),
            customer_id=inv["customer"][li],
            country=inv["country"][li],
            quirk=seg["quirk"][line_order],
            blank_date=blank_date[line_order],
            quantity_text=quantity_text[line_order],
        )


def _objects(values: Any, k: int) -> np.ndarray:
    if isinstance(values, str):
        return np.full(k, values, dtype=object)
    return np.asarray(values, dtype=object)


def _invoice_numbers(ts_sorted: np.ndarray) -> np.ndarray:
    """Numbers that grow with time over the real range, strictly increasing."""
    span = (END - START).astype(np.int64)
    share = (ts_sorted - START).astype(np.int64) / span
    base = FIRST_INVOICE + np.round(share * (LAST_INVOICE - FIRST_INVOICE)).astype(np.int64)
    idx = np.arange(len(base))
    return np.maximum.accumulate(base - idx) + idx


def generate_lines(
    lines: int, seed: int = 7, rates: QuirkRates | None = None, bad_rows: bool = False
) -> RetailLines:
    """``lines`` order lines over 2009-12-01 .. 2011-12-09, in file order, deterministic per seed."""
    rates = rates or QuirkRates()
    counts = quirk_line_counts(lines, rates, bad_rows)
    extra = sum(counts[q] for q in LINE_QUIRKS)
    n_sales = lines - extra
    if n_sales < max(50, 10 * rates.minimum):
        raise ValueError(f"{lines} lines are too few for the quirks asked ({extra} quirk lines)")
    rng = np.random.default_rng(seed)
    cat = _catalogue(rng)
    cust = _customers(rng)
    b = _Builder()
    sales = _sales(rng, b, cat, cust, n_sales, rates)
    _attached_services(rng, b, sales, counts)
    _standalone_services(rng, b, cust, counts)
    _write_offs(rng, b, cat, counts)
    _cancellations(rng, b, sales, counts["cancellations"])
    _orphan_cancellations(rng, b, cat, cust, sales, counts["orphan_cancellations"])
    _huge_orders(rng, b, cat, cust, counts["huge_orders"])
    dup_sources = _duplicates(rng, b, sales, counts["duplicates"])
    blank, qtext = _bad_rows(rng, sales, dup_sources, counts)
    others = lines - len(sales.inv)
    blank_date = np.concatenate([blank, np.zeros(others, bool)])
    quantity_text = np.concatenate([qtext, np.full(others, None, dtype=object)])
    # the sale segment is the first one: the masks line up with the concatenated segments
    return b.finish(blank_date, quantity_text)


# ----- reference data


def _catalogue(rng: np.random.Generator, products: int = PRODUCTS) -> _Catalogue:
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
    return _Catalogue(
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


def _customers(rng: np.random.Generator) -> _Customers:
    sizes = [k for k, _a in COUNTRY_CUSTOMERS.values()]
    ids = np.sort(rng.choice(np.arange(12346, 18288), size=sum(sizes), replace=False)).astype(np.int64)
    countries = np.repeat(np.array(list(COUNTRY_CUSTOMERS), dtype=object), sizes)
    activity = np.repeat(np.array([a for _k, a in COUNTRY_CUSTOMERS.values()]), sizes)
    order = rng.permutation(len(ids))  # countries are not in id order
    weights = np.exp(rng.normal(0.0, 1.2, len(ids))) * activity[order]
    return _Customers(ids=ids, countries=countries[order], weights=weights / weights.sum())


# ----- times and prices


def _draw_times(
    rng: np.random.Generator, k: int, start: np.datetime64 = START, end: np.datetime64 = END
) -> np.ndarray:
    """Invoice times: no Saturdays, closed over Christmas, busier in autumn and around noon."""
    days = np.arange(start.astype("datetime64[D]"), end.astype("datetime64[D]") + 1)
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    weights = np.array(MONTH_WEIGHTS)[month] * np.where(_weekday(days) == 6, 0.6, 1.0)
    weights = np.where(_closed(days), 0.0, weights)
    if weights.sum() == 0:  # a window of closed days only: trade anyway
        weights = np.ones(len(days))
    d = rng.choice(len(days), size=k, p=weights / weights.sum())
    ts = days[d].astype("datetime64[m]") + _time_of_day(rng, k)
    early, late = ts < start, ts > end
    ts[early] = start + rng.integers(0, 300, early.sum()).astype("timedelta64[m]")
    ts[late] = end - rng.integers(0, 240, late.sum()).astype("timedelta64[m]")
    return np.clip(ts, start, end)


def _weekday(days: np.ndarray) -> np.ndarray:
    return (days.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0


def _closed(days: np.ndarray) -> np.ndarray:
    """Saturdays and Christmas (23 December to 3 January): no invoices in the real data."""
    days = days.astype("datetime64[D]")
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    day_of_month = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    christmas = ((month == 11) & (day_of_month >= 23)) | ((month == 0) & (day_of_month <= 3))
    return (_weekday(days) == 5) | christmas


def _time_of_day(rng: np.random.Generator, k: int) -> np.ndarray:
    hours = np.array(list(HOUR_WEIGHTS))
    weights = np.array(list(HOUR_WEIGHTS.values()), float)
    minute = rng.choice(hours, size=k, p=weights / weights.sum()) * 60 + rng.integers(0, 60, k)
    return minute.astype("timedelta64[m]")


def _later(rng: np.random.Generator, ts: np.ndarray, mean_days: float) -> np.ndarray:
    """Times some days after ``ts`` (in opening hours), at least a few minutes after, at most END."""
    days = np.floor(rng.exponential(mean_days, len(ts))).astype(np.int64).astype("timedelta64[D]")
    day = ts.astype("datetime64[D]") + days
    for _day in range(14):  # to the next open day
        closed = _closed(day)
        if not closed.any():
            break
        day[closed] += np.timedelta64(1, "D")
    day = day.astype("datetime64[m]")
    soon = ts + rng.integers(1, 45, len(ts)).astype("timedelta64[m]")
    return np.minimum(np.maximum(day + _time_of_day(rng, len(ts)), soon), END)


def _price_cents(
    cat: _Catalogue, prod: np.ndarray, ts: np.ndarray, qty: np.ndarray, no_customer: np.ndarray
) -> np.ndarray:
    """A product's price at a time: drifting per period, cheaper in bulk, dearer (odd cents) on the web."""
    period = np.searchsorted(PRICE_PERIODS, ts, side="right")
    x = cat.base_cents[prod] * cat.drift[prod, period]
    x = np.where(cat.bulk[prod] & (qty >= 12) & ~no_customer, x * 0.85, x)
    cents = np.where(x < 100, np.maximum(1, np.round(x)), np.round(x / 5) * 5)
    return np.where(no_customer, np.round(cents * 1.65), cents).astype(np.int64)


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


# ----- the segments


def _sales(
    rng: np.random.Generator, b: _Builder, cat: _Catalogue, cust: _Customers, n: int, rates: QuirkRates
) -> _Sales:
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
    ts = _draw_times(rng, k)
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
    cents = _price_cents(cat, prod, ts, qty, no_cust)
    desc = np.where(cat.alt_from[prod] <= ts, cat.alt_descriptions[prod], cat.descriptions[prod])
    b.lines(invoices[inv_local], pos, cat.codes[prod], desc, qty, cents * 10, "sale")
    return _Sales(
        inv=invoices[inv_local], pos=pos, prod=prod, qty=qty, cents=cents, ts=ts, invoices=invoices,
        sizes=sizes, inv_customer=customer, inv_country=country,
    )  # fmt: skip


def _products(
    rng: np.random.Generator, cat: _Catalogue, inv: np.ndarray, starts: np.ndarray, minimum: int
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


def _attached_services(rng: np.random.Generator, b: _Builder, s: _Sales, counts: dict[str, int]) -> None:
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
    b: _Builder,
    cust: _Customers,
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
    return b.invoices(_draw_times(rng, k, start, end), prefix, customer, country)


def _standalone_services(
    rng: np.random.Generator, b: _Builder, cust: _Customers, counts: dict[str, int]
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
        _draw_times(rng, k, np.datetime64("2011-08-01T08:00", "m")), "C", np.full(k, CRUK_CUSTOMER),
        np.full(k, "United Kingdom", dtype=object),
    )  # fmt: skip
    b.lines(inv, 0, "CRUK", "CRUK Commission", -1, lognormal(800, 0.8, k), "cruk")
    k = counts["adjustments"]
    which = [ADJUSTMENTS[i % len(ADJUSTMENTS)] for i in range(k)]
    inv = _standalone(rng, b, cust, k, "")
    b.lines(inv, 0, [w[0] for w in which], [w[1] for w in which], 1, lognormal(3000, 1.0, k), "adjustments")
    _bad_debt(rng, b, counts["bad_debt"])


def _bad_debt(rng: np.random.Generator, b: _Builder, k: int) -> None:
    """A invoices in threes, the same minute: one positive and two negative adjustments of one amount."""
    groups = k // 3
    if not groups:
        return
    ts = np.repeat(_draw_times(rng, groups), 3)
    amount = np.repeat(rng.integers(500_000, 6_000_000, groups), 3) * 10
    sign = np.tile([1, -1, -1], groups)
    inv = b.invoices(ts, "A", np.full(k, NO_CUSTOMER), np.full(k, "United Kingdom", dtype=object))
    b.lines(inv, 0, "B", "Adjust bad debt", 1, amount * sign, "bad_debt")


def _write_offs(rng: np.random.Generator, b: _Builder, cat: _Catalogue, counts: dict[str, int]) -> None:
    """Products at price 0 without customer: write-offs (negative quantity) and unnamed positive lines."""
    k = counts["write_offs"]
    inv = b.invoices(
        _draw_times(rng, k), "", np.full(k, NO_CUSTOMER), np.full(k, "United Kingdom", dtype=object)
    )
    prod = rng.choice(len(cat.codes), size=k, p=cat.weights)
    qty = -np.array(rng.choice([1, 2, 3, 5, 10, 12, 24, 48, 100, 200], k))
    notes = np.array(WRITE_OFF_DESCRIPTIONS, dtype=object)[rng.integers(0, len(WRITE_OFF_DESCRIPTIONS), k)]
    b.lines(inv, 0, cat.codes[prod], notes, qty, 0, "write_offs")
    k = counts["zero_price"]
    inv = b.invoices(
        _draw_times(rng, k), "", np.full(k, NO_CUSTOMER), np.full(k, "United Kingdom", dtype=object)
    )
    prod = rng.choice(len(cat.codes), size=k, p=cat.weights)
    b.lines(inv, 0, cat.codes[prod], "", rng.integers(1, 100, k), 0, "zero_price")


def _cancellations(rng: np.random.Generator, b: _Builder, s: _Sales, k: int) -> None:
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
    ts = _later(rng, source_ts, 3.0)
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


def _orphan_cancellations(
    rng: np.random.Generator, b: _Builder, cat: _Catalogue, cust: _Customers, s: _Sales, k: int
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
        ts = _draw_times(rng, 1, window_start, first[prod] - np.timedelta64(1, "m"))
        who = int(rng.choice(len(cust.ids), p=cust.weights))
        qty = int(cat.pack[prod])
        cents = _price_cents(cat, np.array([prod]), ts, np.array([qty]), np.array([False]))
        inv = b.invoices(ts, "C", np.array([cust.ids[who]]), np.array([cust.countries[who]], dtype=object))
        b.lines(inv, 0, [cat.codes[prod]], [cat.descriptions[prod]], -qty, cents * 10, "orphan_cancellations")


def _first_sales(cat: _Catalogue, s: _Sales, since: np.datetime64) -> np.ndarray:
    """Per product, the time of its first sale from ``since`` on (NEVER when it has none)."""
    first = np.full(len(cat.codes), NEVER)
    window = s.ts >= since
    np.minimum.at(first, s.prod[window], s.ts[window])
    return first


def _huge_orders(rng: np.random.Generator, b: _Builder, cat: _Catalogue, cust: _Customers, k: int) -> None:
    """A huge order (tens of thousands of units) and its cancellation minutes later (as 80995 in 2011)."""
    pairs = k // 2
    if not pairs:
        return
    prods = np.flatnonzero(np.isin(cat.codes, HUGE_ORDER_CODES))
    prod = prods[np.arange(pairs) % len(prods)]
    ts = _draw_times(rng, pairs, START, END - np.timedelta64(30, "m"))
    who = rng.choice(len(cust.ids), size=pairs, p=cust.weights)
    qty = rng.integers(50_000, 81_000, pairs)
    cents = np.round(cat.base_cents[prod] * 0.8).astype(np.int64)
    order = b.invoices(ts, "", cust.ids[who], cust.countries[who])
    later = ts + rng.integers(1, 20, pairs).astype("timedelta64[m]")
    cancel = b.invoices(later, "C", cust.ids[who], cust.countries[who])
    for inv, sign in ((order, 1), (cancel, -1)):
        b.lines(inv, 0, cat.codes[prod], cat.descriptions[prod], sign * qty, cents * 10, "huge_orders")


def _duplicates(rng: np.random.Generator, b: _Builder, s: _Sales, k: int) -> np.ndarray:
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


def _bad_rows(
    rng: np.random.Generator, s: _Sales, dup_sources: np.ndarray, counts: dict[str, int]
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


# ------------------------------------------------------------------------------------------------ writing


def _price_texts(milli: np.ndarray, excel: bool) -> list[str]:
    """Prices as Python prints the floats (II: 18.0, 2.55, 0.001) or as Excel does (old: 18, 2.55, 0)."""
    uniq, inverse = np.unique(milli, return_inverse=True)
    if excel:
        texts = [format(Decimal(int(m)).scaleb(-3).normalize(), "f") for m in uniq.tolist()]
    else:
        texts = [repr(int(m) / 1000) for m in uniq.tolist()]
    return np.array(texts, dtype=object)[inverse].tolist()


def _date_texts(lines: RetailLines, old: bool) -> list[str]:
    uniq, inverse = np.unique(lines.invoice_ts, return_inverse=True)
    texts = []
    for ts in uniq.astype(datetime).tolist():
        if old:
            texts.append(f"{ts.month}/{ts.day}/{ts.year} {ts.hour}:{ts.minute:02d}")
        else:
            texts.append(ts.strftime("%Y-%m-%d %H:%M:%S"))
    out = np.array(texts, dtype=object)[inverse]
    out[lines.blank_date] = ""
    return out.tolist()


def _customer_texts(ids: np.ndarray, old: bool) -> list[str]:
    uniq, inverse = np.unique(ids, return_inverse=True)
    texts = ["" if c == NO_CUSTOMER else (str(c) if old else f"{c}.0") for c in uniq.tolist()]
    return np.array(texts, dtype=object)[inverse].tolist()


def _quantity_texts(lines: RetailLines) -> list[str]:
    out = lines.quantity.astype(str).astype(object)
    bad = np.not_equal(lines.quantity_text, None)
    out[bad] = lines.quantity_text[bad]
    return out.tolist()


def _write_csv(path: Path, lines: RetailLines, old: bool, encoding: str, lineterminator: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = (
        lines.invoice.tolist(),
        lines.stock_code.tolist(),
        lines.description.tolist(),
        _quantity_texts(lines),
        _date_texts(lines, old),
        _price_texts(lines.price_milli, excel=old),
        _customer_texts(lines.customer_id, old),
        lines.country.tolist(),
    )
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator=lineterminator)
        writer.writerow(OLD_HEADER if old else II_HEADER)
        writer.writerows(zip(*columns, strict=True))
    return path


def write_ii_csv(path: str | Path, lines: RetailLines, bom: bool = True) -> Path:
    """All lines in the Online Retail II layout, UTF-8 (with a byte-order mark, as the common re-export)."""
    return _write_csv(
        Path(path), lines, old=False, encoding="utf-8-sig" if bom else "utf-8", lineterminator="\n"
    )


def write_old_csv(path: str | Path, lines: RetailLines, encoding: str = "cp1252") -> Path:
    """The lines from 2010-12-01 on in the Online Retail layout (Windows-1252, CRLF, as the re-exports)."""
    return _write_csv(Path(path), lines.since(SPLIT), old=True, encoding=encoding, lineterminator="\r\n")


def _code_cell(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _xlsx_rows(lines: RetailLines, old: bool) -> Any:
    prices = (lines.price_milli / 1000).tolist()
    stamps = lines.invoice_ts.astype(datetime).tolist()
    for i in range(len(lines)):
        customer = int(lines.customer_id[i])
        qtext = lines.quantity_text[i]
        yield (
            _code_cell(lines.invoice[i]),
            _code_cell(lines.stock_code[i]),
            lines.description[i] or None,
            int(lines.quantity[i]) if qtext is None else (qtext or None),
            None if lines.blank_date[i] else stamps[i],
            prices[i],
            None if customer == NO_CUSTOMER else (customer if old else float(customer)),
            lines.country[i],
        )


def _write_xlsx(path: Path, sheets: list[tuple[str, RetailLines]], old: bool) -> Path:
    from openpyxl import Workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    for title, lines in sheets:
        ws = wb.create_sheet(title)
        ws.append(OLD_HEADER if old else II_HEADER)
        for row in _xlsx_rows(lines, old):
            ws.append(row)
    wb.save(path)
    return path


def write_ii_xlsx(path: str | Path, lines: RetailLines) -> Path:
    """All lines as online_retail_II.xlsx: sheet "Year 2009-2010" before 2010-12-01, "Year 2010-2011" from it
    (the real sheets overlap by a few days; these split cleanly)."""
    return _write_xlsx(
        Path(path), [(II_SHEETS[0], lines.until(SPLIT)), (II_SHEETS[1], lines.since(SPLIT))], old=False
    )


def write_old_xlsx(path: str | Path, lines: RetailLines) -> Path:
    """The lines from 2010-12-01 on as "Online Retail.xlsx" (one sheet "Online Retail")."""
    return _write_xlsx(Path(path), [(OLD_SHEET, lines.since(SPLIT))], old=True)
