"""Collects invoices and line segments, then puts them in file order and numbers the invoices."""

from __future__ import annotations

from typing import Any

import numpy as np

from ingestion.generate.online_retail.layout import END, FIRST_INVOICE, LAST_INVOICE, START
from ingestion.generate.online_retail.lines import RetailLines


class Builder:
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
