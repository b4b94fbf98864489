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

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

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


def _lookup(values: pa.ChunkedArray | pa.Array, fn: Callable[[Any], Any], out_type: pa.DataType) -> pa.Array:
    """``fn`` applied to each distinct value once, spread back over the rows (a file repeats its codes,
    dates, countries and prices: Python sees thousands of values, never millions of rows)."""
    distinct = pc.unique(values)
    mapped = pa.array([fn(v) if v is not None else None for v in distinct.to_pylist()], out_type)
    return pc.take(mapped, pc.index_in(values, value_set=distinct))


def _parse_date(text: str, formats: tuple[str, ...]) -> datetime | None:
    for fmt in formats:
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    return None


def _num(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("inf")


def line_types(
    layout: Layout,
    invoice: pa.Array,
    stock: pa.Array,
    qty_num: pa.Array,
    price_num: pa.Array,
    cancelled: pa.Array,
) -> pa.Array:
    """The kind of each line: ``bad_debt`` for the layout's adjustment invoices (``A563185``), the kind
    of a service stock code (postage, fee, manual, discount, sample, adjustment, gift_voucher), a
    ``stock_adjustment`` for a product written off outside a cancellation (negative quantity, price 0),
    else ``sale``. Whether a line cancels is the invoice's business (``C`` prefix), not its kind."""
    kind = _lookup(stock, layout.line_type, pa.string())
    if layout.adjustment_prefix:
        bad_debt = pc.fill_null(
            pc.starts_with(pc.utf8_trim_whitespace(invoice), layout.adjustment_prefix), False
        )
        kind = pc.if_else(bad_debt, "bad_debt", kind)
    written_off = pc.and_(pc.invert(cancelled), pc.and_(pc.less(qty_num, 0), pc.equal(price_num, 0)))
    kind = pc.if_else(pc.and_(pc.is_null(kind), written_off), "stock_adjustment", kind)
    return pc.fill_null(kind, "sale")


def _first_per_group(table: pa.Table, keys: list[str], value: str, order: list[tuple[str, str]]) -> pa.Table:
    """One row per ``keys``: the ``value`` that comes first by ``order`` (after the keys) within its group."""
    ranked = table.sort_by([(k, "ascending") for k in keys] + order)
    if ranked.num_rows == 0:
        return ranked.select([*keys, value])
    new_group = pa.array([False] * ranked.num_rows)
    for k in keys:
        column = ranked.column(k).combine_chunks()
        changed = pc.not_equal(column.slice(1), column.slice(0, len(column) - 1))
        new_group = pc.or_(new_group, pa.concat_arrays([pa.array([True]), pc.fill_null(changed, True)]))
    return ranked.filter(new_group).select([*keys, value])


def _modes(
    table: pa.Table, keys: list[str], value: str, tie: list[tuple[str, str]] | None = None
) -> pa.Table:
    """The most frequent ``value`` per ``keys``; ties go by ``tie`` (columns aggregated with min), then to
    the value seen first in the file."""
    aggregates = [("row", "count"), ("row", "min")] + [(c, "min") for c, _ in tie or []]
    counted = table.group_by([*keys, value], use_threads=False).aggregate(aggregates)
    order = (
        [("row_count", "descending")] + [(f"{c}_min", d) for c, d in tie or []] + [("row_min", "ascending")]
    )
    return _first_per_group(counted, keys, value, order)


def derive(table: pa.Table, layout: Layout) -> Derived:
    cols = layout.resolve(table.column_names)
    n = table.num_rows
    get = lambda t: table.column(cols[t]) if t in cols else pa.nulls(n, pa.string())  # noqa: E731
    invoice, stock, qty = get("invoice_no"), get("stock_code"), get("quantity")
    price, customer, country = get("unit_price"), get("customer_id"), get("country")
    country_ids = _lookup(country, lambda name: country_id(name, layout), pa.string())

    cancelled = pc.fill_null(pc.starts_with(invoice, layout.cancellation_prefix), False)
    qty_num = _lookup(qty, _num, pa.float64())
    price_num = _lookup(price, _num, pa.float64())
    line_type = line_types(layout, invoice, stock, qty_num, price_num, cancelled)
    currency = pa.nulls(n, pa.string()) if layout.currency is None else pa.repeat(layout.currency, n)
    if "currency" in cols:  # a currency column of the file wins where it holds a value
        given = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(get("currency")), ""), False)
        currency = pc.if_else(given, get("currency"), currency)
    date_order = (
        pa.nulls(n, pa.string()) if not layout.slash_date_order else pa.repeat(layout.slash_date_order, n)
    )

    out = {
        "invoice_no": invoice, "stock_code": stock, "quantity": qty,
        "invoice_date": get("invoice_date"), "customer_id": customer, "country_id": country_ids,
        "description": get("description"), "unit_price": price,
        "source_layout": pa.repeat(layout.name, n), "line_type": line_type,
        "currency": currency, "date_order": date_order,
    }  # fmt: skip
    mapped = set(cols.values())
    for name in table.column_names:  # unmapped columns travel on (to _extra)
        if name not in mapped:
            out[name] = table.column(name)
    order_lines = pa.table(out)

    # ---------- derived master data, columnar (a file of millions of lines never becomes Python objects)
    ts = _lookup(
        get("invoice_date"), lambda t: _parse_date(t, layout.invoice_date_formats), pa.timestamp("s")
    )
    has_code = pc.fill_null(pc.not_equal(stock, ""), False)
    lines = pa.table({
        "row": pa.array(range(n), pa.int64()), "code": stock, "description": get("description"),
        "price": pc.utf8_trim_whitespace(price), "price_num": price_num,
        "day": pc.strftime(ts, "%Y-%m-%d"), "ts": ts, "customer": customer, "country_id": country_ids,
    })  # fmt: skip

    has_description = pc.fill_null(pc.not_equal(get("description"), ""), False)
    descriptions = _modes(lines.filter(pc.and_(has_code, has_description)), ["code"], "description")
    sold = pc.and_(
        pc.and_(pc.equal(line_type, "sale"), pc.invert(cancelled)),
        pc.and_(
            pc.and_(has_code, pc.is_valid(ts)), pc.and_(pc.greater(price_num, 0), pc.greater(qty_num, 0))
        ),
    )
    prices = _modes(
        lines.filter(pc.fill_null(sold, False)), ["code", "day"], "price", [("price_num", "ascending")]
    )
    prices = prices.join(descriptions, "code", join_type="left outer").sort_by(
        [("code", "ascending"), ("day", "ascending")]
    )
    products = pa.table(
        {
            "stock_code": prices.column("code"),
            "description": pc.fill_null(prices.column("description"), ""),
            "category": pa.repeat("", prices.num_rows),
            "unit_price": prices.column("price"),
            "price_date": prices.column("day"),
        }
    )

    names = {v: country_id(v, layout) for v in pc.unique(country).to_pylist() if v is not None}
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

    known = pc.and_(pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(customer), ""), False), pc.is_valid(ts))
    buyers = lines.filter(known)
    first_seen = buyers.group_by("customer", use_threads=False).aggregate([("ts", "min")])
    has_country = pc.fill_null(pc.not_equal(buyers.column("country_id"), ""), False)
    homes = _modes(buyers.filter(has_country), ["customer"], "country_id")
    found = first_seen.join(homes, "customer", join_type="left outer").sort_by("customer")
    ids = found.column("customer")
    customers = pa.table(
        {
            "customer_id": ids,
            "customer_name": pa.repeat("", len(ids)),
            "email": pa.repeat("", len(ids)),
            "country_id": pc.fill_null(found.column("country_id"), ""),
            "segment": pa.repeat("", len(ids)),
            "registration_date": pc.strftime(found.column("ts_min"), "%Y-%m-%d"),
            "updated_at": pc.strftime(found.column("ts_min"), "%Y-%m-%d %H:%M:%S"),
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

    def chunks(self, source: str) -> Iterator[pa.RecordBatch]:
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
