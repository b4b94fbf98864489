"""Order lines, vectorised with numpy/Arrow: one day at a time, split into hourly batches.

Prices are not carried (they come from the price history). Dirt is applied per :class:`DirtRates`:
invoice dates in other formats or unparseable, zero/negative quantities, invoices without customer,
lines pointing at products or countries that only arrive in a later master-data batch, exact
duplicate lines (half in the same batch, half in the next one), and, per batch, an extra column.

Learnable structure (stream ``ML``): a churning customer's invoices thin out before its leave day and
stop on it (they go to other customers), and a share of each invoice's lines comes from the customer's
buy-together group.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.generate import reference as ref
from ingestion.generate.config import DirtRates
from ingestion.generate.world import DRIFT, GROUP_SHARE, ML, ORDERS, World, pick, rng

COLUMNS = ("invoice_no", "stock_code", "quantity", "invoice_date", "customer_id", "country_id")
CANONICAL_FORMAT = "%Y-%m-%d %H:%M:%S"  # UTC
# Alternative formats (dirt); all denote the same UTC instant except where a zone is given.
OTHER_FORMATS = ("dd/MM/yyyy HH:mm", "MM/dd/yyyy", "iso8601_zone", "epoch_millis")
GARBAGE_DATES = ("N/A", "not a date", "31/02/2024 25:61", "2024-13-45 99:99:99", "#VALUE!", "??")
DRIFT_COLUMNS = ("promo_code", "sales_channel", "warehouse_id")
ZONES = (("+01:00", 3600), ("-05:00", -18000), ("+05:30", 19800), ("Z", 0))
MEAN_LINES_PER_INVOICE = 4.0


@dataclass
class DayLines:
    table: pa.Table  # the day's lines, in invoice order
    hours: np.ndarray  # hour of each line (its batch)
    next_invoice: int


def _format_dates(seconds: np.ndarray, r: np.random.Generator, dirt: DirtRates) -> pa.Array:
    ts = pa.array(seconds.astype("datetime64[s]"))
    out = pc.strftime(ts, CANONICAL_FORMAT)
    n = len(seconds)
    odd = np.flatnonzero(r.random(n) < dirt.date_formats)
    if len(odd):
        kind = r.integers(0, len(OTHER_FORMATS), size=len(odd))
        values = np.empty(len(odd), dtype=object)
        sub = seconds[odd]
        for k, name in enumerate(OTHER_FORMATS):
            of_kind = kind == k
            if not of_kind.any():
                continue
            s = sub[of_kind]
            if name == "dd/MM/yyyy HH:mm":
                text = pc.strftime(pa.array(s.astype("datetime64[s]")), "%d/%m/%Y %H:%M")
            elif name == "MM/dd/yyyy":
                text = pc.strftime(pa.array(s.astype("datetime64[s]")), "%m/%d/%Y")
            elif name == "epoch_millis":
                text = pa.array((s * 1000).astype(str))
            else:
                zone = r.integers(0, len(ZONES), size=len(s))
                offsets = np.array([z[1] for z in ZONES])[zone]
                local = pc.strftime(pa.array((s + offsets).astype("datetime64[s]")), "%Y-%m-%dT%H:%M:%S")
                text = pc.binary_join_element_wise(local, pa.array(np.array([z[0] for z in ZONES])[zone]), "")
            values[of_kind] = text.to_numpy(zero_copy_only=False)
        out = _replace(out, odd, values)
    bad = np.flatnonzero(r.random(n) < dirt.bad_dates)
    if len(bad):
        out = _replace(
            out, bad, np.array(GARBAGE_DATES, dtype=object)[r.integers(0, len(GARBAGE_DATES), size=len(bad))]
        )
    return out


def _replace(values: pa.Array, positions: np.ndarray, new: np.ndarray) -> pa.Array:
    mask = np.zeros(len(values), dtype=bool)
    mask[positions] = True
    return pc.replace_with_mask(values, pa.array(mask), pa.array(new, pa.string()))


def _thin_out(
    world: World, d: int, customer: np.ndarray, who: np.ndarray, r: np.random.Generator
) -> np.ndarray:
    """Give the invoices of leaving customers (1 - their activity of the day) to active customers."""
    activity = world.activity(d)
    moved = np.flatnonzero(r.random(len(customer)) >= activity[customer])
    active = who[activity[who] > 0]
    if len(moved) and len(active):
        customer = customer.copy()
        customer[moved] = pick(r, active, world.customer_weight * activity, len(moved))
    return customer


def _from_groups(
    world: World,
    catalogue: np.ndarray,
    group: np.ndarray,
    line_invoice: np.ndarray,
    stock: np.ndarray,
    r: np.random.Generator,
) -> np.ndarray:
    """Replace a share ``GROUP_SHARE`` of the products by one of the buyer's group (by product weight).

    A product drawn twice for one invoice is drawn again from the group a few times; what still repeats is
    left to the one-line-per-product loop of :func:`day_lines`.
    """
    take = r.random(len(stock)) < GROUP_SHARE
    stock = stock.copy()
    members = world.group_products(catalogue)
    redraw = np.flatnonzero(take & np.isin(group, list(members)))
    for _ in range(5):
        if not len(redraw):
            break
        for g, products in members.items():
            sel = redraw[group[redraw] == g]
            if len(sel):
                stock[sel] = pick(r, products, world.product_weight, len(sel))
        key = line_invoice.astype(np.int64) * len(world.stock_codes) + stock  # (invoice, product)
        order = np.argsort(key, kind="stable")
        repeat = np.zeros(len(stock), dtype=bool)
        repeat[order[1:][np.diff(key[order]) == 0]] = True
        redraw = redraw[repeat[redraw]]
    return stock


def day_lines(world: World, d: int, n_lines: int, first_invoice: int, part: int = 0) -> DayLines:
    """``n_lines`` order lines of day ``d`` (before duplicates). ``part`` varies the random stream."""
    cfg, dirt = world.config, world.config.dirt
    r = rng(cfg.seed, ORDERS, d, part)
    # ---------- invoices
    sizes = r.geometric(1 / MEAN_LINES_PER_INVOICE, size=int(n_lines / MEAN_LINES_PER_INVOICE * 1.3) + 10)
    ends = np.cumsum(sizes)
    n_inv = int(np.searchsorted(ends, n_lines)) + 1
    sizes = sizes[:n_inv]
    sizes[-1] -= ends[n_inv - 1] - n_lines
    hour_p = np.array(ref.HOUR_WEIGHTS) / np.sum(ref.HOUR_WEIGHTS)
    day_start = (np.datetime64(cfg.start_date, "s") + np.timedelta64(d * 86_400, "s")).astype(np.int64)
    second = np.sort(r.choice(24, size=n_inv, p=hour_p) * 3600 + r.integers(0, 3600, size=n_inv))
    who = world.customers_on(d)
    customer = pick(r, who, world.customer_weight, n_inv)
    r_ml = rng(cfg.seed, ML, ORDERS, d, part)
    customer = _thin_out(world, d, customer, who, r_ml)
    country = world.countries[d, customer]
    guest = r.random(n_inv) < dirt.missing_customers
    home = np.flatnonzero(world.country_intro <= d)
    country = np.where(guest, home[r.integers(0, len(home), size=n_inv)] if len(home) else country, country)
    customer_text = np.where(guest, "", world.customer_ids[customer].astype(str))

    # ---------- lines
    line_invoice = np.repeat(np.arange(n_inv), sizes)
    catalogue = world.products_on(d)
    stock = pick(r, catalogue, world.product_weight, n_lines)
    group = world.customer_group[customer[line_invoice]]
    stock = _from_groups(world, catalogue, group, line_invoice, stock, r_ml)
    for _ in range(50):  # one line per product and invoice: exact duplicates are dirt only
        order = np.lexsort((stock, line_invoice))
        same = (np.diff(line_invoice[order]) == 0) & (np.diff(stock[order]) == 0)
        repeat = order[1:][same]
        if len(repeat) == 0:
            break
        stock[repeat] = catalogue[r.integers(0, len(catalogue), size=len(repeat))]
    line_country = country[line_invoice]
    quantity = r.geometric(0.35, size=n_lines)
    bulk = r.random(n_lines) < 0.05
    quantity[bulk] *= 12
    bad_q = r.random(n_lines) < dirt.bad_quantities
    quantity[bad_q] = -r.integers(0, 11, size=n_lines)[bad_q]  # 0 or -1..-10

    late = np.flatnonzero(r.random(n_lines) < dirt.late_master_data)
    if len(late):
        future_products = np.flatnonzero(world.product_intro > d)
        future_countries = np.flatnonzero(world.country_intro > d)
        as_country = r.random(len(late)) < 0.5
        if len(future_countries) and as_country.any():
            sel = late[as_country]
            line_country[sel] = future_countries[r.integers(0, len(future_countries), size=len(sel))]
        if len(future_products):
            sel = late[~as_country] if len(future_countries) else late
            stock[sel] = future_products[r.integers(0, len(future_products), size=len(sel))]

    line_seconds = day_start + second[line_invoice]
    table = pa.table(
        {
            "invoice_no": pa.array((first_invoice + line_invoice).astype(str)),
            "stock_code": pa.array(world.stock_codes[stock]),
            "quantity": pa.array(quantity.astype(str)),
            "invoice_date": _format_dates(line_seconds, r, dirt),
            "customer_id": pa.array(customer_text[line_invoice]),
            "country_id": pa.array(world.country_ids[line_country]),
        }
    )
    hours = (second[line_invoice] // 3600).astype(np.int64)
    return DayLines(table, hours, first_invoice + n_inv)


def with_duplicates(
    table: pa.Table, carried: pa.Table | None, rate: float, r: np.random.Generator
) -> tuple[pa.Table, pa.Table | None]:
    """Append exact copies of ``rate`` of the rows: half now, half returned for the next batch."""
    parts = [table] if carried is None else [table, carried]
    n = table.num_rows
    k = round(n * rate) if rate else 0
    if k == 0:
        return pa.concat_tables(parts), None
    picks = np.sort(r.choice(n, size=k, replace=k > n))
    now, later = picks[: (k + 1) // 2], picks[(k + 1) // 2 :]
    parts.append(table.take(pa.array(now)))
    return pa.concat_tables(parts), table.take(pa.array(later)) if len(later) else None


def with_drift(table: pa.Table, batch_key: tuple[int, ...], world: World) -> pa.Table:
    """With probability ``schema_drift``, the batch carries one unexpected column."""
    r = rng(world.config.seed, DRIFT, *batch_key)
    if r.random() >= world.config.dirt.schema_drift:
        return table
    name = DRIFT_COLUMNS[int(r.integers(0, len(DRIFT_COLUMNS)))]
    n = table.num_rows
    values = np.where(r.random(n) < 0.3, np.char.add("X", r.integers(100, 999, size=n).astype(str)), "")
    return table.add_column(int(r.integers(1, table.num_columns + 1)), name, pa.array(values))


def hourly_batches(world: World) -> Iterator[tuple[int, int, pa.Table]]:
    """(day, hour, table) for every hour with orders, duplicates and drift applied."""
    cfg = world.config
    invoice = 500_000
    carried: pa.Table | None = None
    pending: tuple[int, int, pa.Table] | None = None
    for d in range(cfg.days):
        day = day_lines(world, d, cfg.lines_per_day, invoice)
        invoice = day.next_invoice
        r = rng(cfg.seed, ORDERS, d, 1_000)
        order = np.argsort(day.hours, kind="stable")
        hours = day.hours[order]
        table = day.table.take(pa.array(order))
        bounds = np.flatnonzero(np.diff(hours)) + 1
        for chunk_idx in np.split(np.arange(len(hours)), bounds):
            if len(chunk_idx) == 0:
                continue
            h = int(hours[chunk_idx[0]])
            lines = table.slice(int(chunk_idx[0]), len(chunk_idx))
            if pending is not None:
                yield pending
            lines, carried_next = with_duplicates(lines, carried, cfg.dirt.duplicates, r)
            carried = carried_next
            pending = (d, h, with_drift(lines, (d, h), world))
    if pending is not None:
        d, h, lines = pending
        if carried is not None:  # the last batch keeps its own cross-batch copies
            lines = pa.concat_tables([lines, _align(carried, lines)])
        yield d, h, lines


def _align(table: pa.Table, like: pa.Table) -> pa.Table:
    cols = {
        n: table.column(n) if n in table.column_names else pa.nulls(table.num_rows, pa.string())
        for n in like.column_names
    }
    return pa.table(cols)


def line_chunks(world: World, rows: int, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    """``rows`` order lines (duplicates included) in chunks, cycling over the days: for volume."""
    dirt = world.config.dirt
    invoice, produced, part = 500_000, 0, 0
    carried: pa.Table | None = None
    while produced < rows:
        want = min(chunk_rows, rows - produced)
        base = max(1, round(want / (1 + dirt.duplicates / 2)))
        day = day_lines(world, part % world.config.days, base, invoice, part)
        invoice = day.next_invoice
        r = rng(world.config.seed, ORDERS, part, 2_000)
        table, carried = with_duplicates(day.table, carried, dirt.duplicates, r)
        table = table.slice(0, rows - produced)
        produced += table.num_rows
        part += 1
        yield from table.to_batches()
