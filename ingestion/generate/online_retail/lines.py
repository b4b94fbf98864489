"""The canonical order lines (:class:`RetailLines`, columnar) and the quirks they show."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np

from ingestion.generate.online_retail.layout import NO_CUSTOMER, SPLIT


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
