"""How often each quirk appears (:class:`QuirkRates`) and how many lines that makes for a file."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


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
        zero: dict[str, Any] = {f.name: 0.0 for f in fields(cls) if f.name != "minimum"}
        return cls(**zero)


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
