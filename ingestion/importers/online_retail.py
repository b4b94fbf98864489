"""Import Online Retail style files (CSV, JSON lines, Parquet; a folder or a URI) as raw sources.

One file gives four batches, all traced to it (``_source_file``, checksum):
- ``order_lines``: every line, unchanged, with ``country_id`` from the country name, ``source_layout``,
  ``line_type`` (:func:`line_types`), and what the layout declares: ``currency`` (of the prices; a mapped
  currency column wins) and ``date_order`` (how slash dates are written); columns the layout does not map
  go to ``_extra``;
- ``products``: one price per stock code and day, the most frequent price of that day's sales;
- ``countries``: the country names seen;
- ``customers``: the customer ids seen, with their first purchase and most frequent country.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.conform import normalise
from ingestion.generate.reference import COUNTRIES
from ingestion.importers.layouts import Layout, detect
from ingestion.inputs import stem
from ingestion.land import BatchInput, check_batch_id
from ingestion.readers import BadFile, checksum, read_file

# Country names of the Online Retail data that are not ISO names.
COUNTRY_ALIASES = {
    "EIRE": "IE", "RSA": "ZA", "USA": "US", "United States": "US", "Channel Islands": "XC",
    "European Community": "EU", "Unspecified": "XX", "Czech Republic": "CZ", "Hong Kong": "HK",
    "Korea": "KR", "Saudi Arabia": "SA", "Bahrain": "BH", "Lebanon": "LB", "Malta": "MT",
    "Nigeria": "NG", "West Indies": "XW", "Bermuda": "BM", "Thailand": "TH", "Brazil": "BR",
    "Lithuania": "LT", "Iceland": "IS", "Singapore": "SG", "Japan": "JP",
}  # fmt: skip
KNOWN = {c[1]: c for c in COUNTRIES}
KNOWN_BY_ID = {c[0]: c for c in COUNTRIES}


@dataclass
class Derived:
    layout: Layout
    order_lines: pa.Table
    products: pa.Table
    countries: pa.Table
    customers: pa.Table


def country_id(name: str, layout: Layout) -> str:
    name = name.strip()
    if name in layout.country_ids:
        return layout.country_ids[name]
    if name in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[name]
    if name in KNOWN:
        return KNOWN[name][0]
    return normalise(name).upper() or "XX"


def _parse_dates(values: pa.Array, formats: tuple[str, ...]) -> dict[str, datetime | None]:
    parsed: dict[str, datetime | None] = {}
    for text in pc.unique(values).to_pylist():
        if text is None:
            continue
        parsed[text] = None
        for fmt in formats:
            try:
                parsed[text] = datetime.strptime(text.strip(), fmt)
                break
            except ValueError:
                continue
    return parsed


def _mode(counter: Counter) -> str:
    return max(counter.items(), key=lambda kv: (kv[1], -_num(kv[0])))[0]


def _num(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("inf")


def line_types(
    layout: Layout, invoice: pa.Array, stock: pa.Array, qty: pa.Array, price: pa.Array, cancelled: list[bool]
) -> list[str]:
    """The kind of each line: ``bad_debt`` for the layout's adjustment invoices (``A563185``), the kind
    of a service stock code (postage, fee, manual, discount, sample, adjustment, gift_voucher), a
    ``stock_adjustment`` for a product written off outside a cancellation (negative quantity, price 0),
    else ``sale``. Whether a line cancels is the invoice's business (``C`` prefix), not its kind."""
    code_kinds = {c: layout.line_type(c) for c in pc.unique(stock).to_pylist() if c is not None}
    kinds = []
    columns = (invoice.to_pylist(), stock.to_pylist(), qty.to_pylist(), price.to_pylist(), cancelled)
    for inv, code, q, p, is_cancel in zip(*columns, strict=True):
        kind = code_kinds.get(code) if code is not None else None
        if inv is not None and layout.adjustment_prefix and inv.strip().startswith(layout.adjustment_prefix):
            kind = "bad_debt"
        elif kind is None and not is_cancel and _num(q or "") < 0 and _num(p or "") == 0:
            kind = "stock_adjustment"
        kinds.append(kind or "sale")
    return kinds


def derive(table: pa.Table, layout: Layout) -> Derived:
    cols = layout.resolve(table.column_names)
    n = table.num_rows
    get = lambda t: table.column(cols[t]) if t in cols else pa.nulls(n, pa.string())  # noqa: E731
    invoice, stock, qty = get("invoice_no"), get("stock_code"), get("quantity")
    price, customer, country = get("unit_price"), get("customer_id"), get("country")
    names = {v: country_id(v, layout) for v in pc.unique(country).to_pylist() if v is not None}
    country_ids = pa.array([names.get(v) if v is not None else None for v in country.to_pylist()])

    cancelled = pc.fill_null(pc.starts_with(invoice, layout.cancellation_prefix), False).to_pylist()
    line_type = pa.array(line_types(layout, invoice, stock, qty, price, cancelled), pa.string())
    currency = pa.array([layout.currency] * n, pa.string())
    if "currency" in cols:  # a currency column of the file wins where it holds a value
        given = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(get("currency")), ""), False)
        currency = pc.if_else(given, get("currency"), currency)

    out = {
        "invoice_no": invoice, "stock_code": stock, "quantity": qty,
        "invoice_date": get("invoice_date"), "customer_id": customer, "country_id": country_ids,
        "description": get("description"), "unit_price": price,
        "source_layout": pa.array([layout.name] * n, pa.string()), "line_type": line_type,
        "currency": currency, "date_order": pa.array([layout.slash_date_order] * n, pa.string()),
    }  # fmt: skip
    mapped = set(cols.values())
    for name in table.column_names:  # unmapped columns travel on (to _extra)
        if name not in mapped:
            out[name] = table.column(name)
    order_lines = pa.table(out)

    # ---------- derived master data (Python over rows: files are at most a few million lines)
    when = _parse_dates(get("invoice_date"), layout.invoice_date_formats)
    prices: dict[tuple[str, str], Counter] = defaultdict(Counter)
    descriptions: dict[str, Counter] = defaultdict(Counter)
    first_seen: dict[str, datetime] = {}
    customer_countries: dict[str, Counter] = defaultdict(Counter)
    rows = zip(
        stock.to_pylist(), get("description").to_pylist(), qty.to_pylist(), price.to_pylist(),
        get("invoice_date").to_pylist(), customer.to_pylist(), country_ids.to_pylist(),
        line_type.to_pylist(), cancelled, strict=True,
    )  # fmt: skip
    for code, desc, q, p, date_text, cust, cid, kind, is_cancel in rows:
        ts = when.get(date_text) if date_text is not None else None
        if code and desc:
            descriptions[code][desc] += 1
        is_sale = kind == "sale" and not is_cancel
        if is_sale and code and ts is not None and _num(p or "") > 0 and _num(q or "") > 0:
            prices[(code, ts.strftime("%Y-%m-%d"))][p.strip()] += 1
        if cust and cust.strip() and ts is not None:
            if cust not in first_seen or ts < first_seen[cust]:
                first_seen[cust] = ts
            if cid:
                customer_countries[cust][cid] += 1
    keys = sorted(prices)
    products = pa.table(
        {
            "stock_code": [k[0] for k in keys],
            "description": [_mode(descriptions[k[0]]) if descriptions[k[0]] else "" for k in keys],
            "category": [""] * len(keys),
            "unit_price": [_mode(prices[k]) for k in keys],
            "price_date": [k[1] for k in keys],
        }
    )
    seen = sorted(names.items(), key=lambda kv: kv[1])
    countries = pa.table(
        {
            "country_id": [cid for _name, cid in seen],
            "country_name": [name for name, _cid in seen],
            "continent": [KNOWN_BY_ID.get(cid, ("",) * 5)[2] for _n, cid in seen],
            "region_code": [KNOWN_BY_ID.get(cid, ("",) * 5)[3] for _n, cid in seen],
            "currency": [KNOWN_BY_ID.get(cid, ("",) * 5)[4] for _n, cid in seen],
        }
    )
    ids = sorted(first_seen)
    customers = pa.table(
        {
            "customer_id": ids,
            "customer_name": [""] * len(ids),
            "email": [""] * len(ids),
            "country_id": [_mode(customer_countries[c]) if customer_countries[c] else "" for c in ids],
            "segment": [""] * len(ids),
            "registration_date": [first_seen[c].strftime("%Y-%m-%d") for c in ids],
            "updated_at": [first_seen[c].strftime("%Y-%m-%d %H:%M:%S") for c in ids],
        }
    )
    return Derived(layout, order_lines, products, countries, customers)


def read_and_derive(uri: str, layouts: list[Layout], layout_name: str | None, encoding: str) -> Derived:
    chunks = list(read_file(uri, encoding=encoding))
    if not chunks or sum(c.num_rows for c in chunks) == 0:
        raise BadFile("no data rows")
    names: dict[str, None] = {}
    for c in chunks:
        names.update(dict.fromkeys(c.schema.names))
    table = pa.Table.from_batches(
        [pa.RecordBatch.from_arrays(
            [c.column(n) if n in c.schema.names else pa.nulls(c.num_rows, pa.string()) for n in names],
            names=list(names),
        ) for c in chunks]
    )  # fmt: skip
    layout = detect(table.column_names, layouts, layout_name)
    missing = [
        t for t in layout.columns if t != "description" and t not in layout.resolve(table.column_names)
    ]
    if missing:
        raise BadFile(f"missing required column(s) of layout {layout.name}: {', '.join(missing)}")
    return derive(table, layout)


class _Derivation:
    """Reads and derives a file once, on first use; a bad file fails all four of its batches."""

    def __init__(self, uri: str, layouts: list[Layout], layout_name: str | None, encoding: str):
        self.args = (uri, layouts, layout_name, encoding)
        self.result: Derived | None = None
        self.error: BadFile | None = None

    def chunks(self, source: str):
        if self.result is None and self.error is None:
            try:
                self.result = read_and_derive(*self.args)
            except BadFile as exc:
                self.error = exc
        if self.error is not None:
            raise BadFile(str(self.error))
        yield from getattr(self.result, source).to_batches(max_chunksize=200_000)


IMPORTED_SOURCES = ("countries", "products", "customers", "order_lines")


def import_inputs(
    uri: str, layouts: list[Layout], layout_name: str | None = None, encoding: str = "utf-8"
) -> list[BatchInput]:
    """Four batches (countries, products, customers, order lines) derived from one file."""
    try:
        digest = checksum(uri)
    except OSError as exc:
        digest = f"unreadable:{exc}"[:200]
    derivation = _Derivation(uri, layouts, layout_name, encoding)
    name = "".join(ch if ch.isalnum() or ch in "_.-" else "_" for ch in stem(uri)).strip("_.-") or "file"
    return [
        BatchInput(
            source=src,
            batch_id=check_batch_id(f"{src}__{name}"[:128]),
            file=uri,
            checksum=digest,
            chunks=partial(derivation.chunks, src),
            allow_empty=src != "order_lines",
        )
        for src in IMPORTED_SOURCES
    ]
