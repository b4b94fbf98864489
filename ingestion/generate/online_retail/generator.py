"""The canonical order lines of a file: every step in its order (the order is part of the seed's output)."""

from __future__ import annotations

import numpy as np

from ingestion.generate.online_retail.builder import Builder
from ingestion.generate.online_retail.catalogue import make_catalogue, make_customers
from ingestion.generate.online_retail.lines import RetailLines
from ingestion.generate.online_retail.quirk_lines import (
    add_cancellations,
    add_duplicates,
    add_huge_orders,
    add_orphan_cancellations,
    add_write_offs,
    bad_row_masks,
)
from ingestion.generate.online_retail.rates import LINE_QUIRKS, QuirkRates, quirk_line_counts
from ingestion.generate.online_retail.sales import draw_sales
from ingestion.generate.online_retail.services import add_attached_services, add_standalone_services


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
    cat = make_catalogue(rng)
    cust = make_customers(rng)
    b = Builder()
    sales = draw_sales(rng, b, cat, cust, n_sales, rates)
    add_attached_services(rng, b, sales, counts)
    add_standalone_services(rng, b, cust, counts)
    add_write_offs(rng, b, cat, counts)
    add_cancellations(rng, b, sales, counts["cancellations"])
    add_orphan_cancellations(rng, b, cat, cust, sales, counts["orphan_cancellations"])
    add_huge_orders(rng, b, cat, cust, counts["huge_orders"])
    dup_sources = add_duplicates(rng, b, sales, counts["duplicates"])
    blank, qtext = bad_row_masks(rng, sales, dup_sources, counts)
    others = lines - len(sales.inv)
    blank_date = np.concatenate([blank, np.zeros(others, bool)])
    quantity_text = np.concatenate([qtext, np.full(others, None, dtype=object)])
    # the sale segment is the first one: the masks line up with the concatenated segments
    return b.finish(blank_date, quantity_text)
