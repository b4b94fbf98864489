"""Layouts of retail files, described by mapping files (TOML) so a new layout needs no code.

A mapping file names the layout, maps each target column to the file's column name, lists the
invoice date formats (for the derived price history and customers) and declares what the file itself
cannot say: ``currency`` (the currency of its prices, unless a mapped ``currency`` column gives it per
line), ``slash_date_order`` (``month_first`` or ``day_first``: how it writes ``12/1/2010``). It may
override how lines are marked (``cancellation_prefix``, ``adjustment_prefix`` for bad-debt invoices,
``[line_types]`` stock code = kind of line, a trailing ``*`` matching a prefix) and add ``[country_ids]``
(country name in the file = country_id). The built-in ones live in ``layouts/``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.conform import normalise
from lakehouse.platform.errors import LakehouseError

BUILTIN_DIR = Path(__file__).parent / "layouts"
TARGETS = (
    "invoice_no", "stock_code", "description", "quantity", "invoice_date", "unit_price",
    "customer_id", "country", "currency",
)  # fmt: skip
OPTIONAL_TARGETS = ("description", "currency")
REQUIRED_TARGETS = tuple(t for t in TARGETS if t not in OPTIONAL_TARGETS)
# Stock codes of the Online Retail data that are not products, and what kind of line they make.
LINE_TYPES: dict[str, str] = {
    "POST": "postage", "DOT": "postage", "C2": "postage",
    "M": "manual", "D": "discount", "S": "sample", "B": "bad_debt",
    "BANK CHARGES": "fee", "AMAZONFEE": "fee", "CRUK": "fee",
    "ADJUST": "adjustment", "ADJUST2": "adjustment", "TEST001": "adjustment", "TEST002": "adjustment",
    "GIFT*": "gift_voucher",
}  # fmt: skip
LINE_KINDS = ("sale", *dict.fromkeys(LINE_TYPES.values()), "stock_adjustment")
SLASH_DATE_ORDERS = ("month_first", "day_first")


@dataclass(frozen=True)
class Layout:
    name: str
    columns: dict[str, str]  # target -> file column
    invoice_date_formats: tuple[str, ...]
    description: str = ""
    cancellation_prefix: str = "C"
    adjustment_prefix: str = "A"
    line_types: dict[str, str] = field(default_factory=lambda: dict(LINE_TYPES))
    country_ids: dict[str, str] = field(default_factory=dict)
    currency: str | None = None  # of the prices, when the file has no currency column
    slash_date_order: str | None = None  # month_first | day_first

    def line_type(self, stock_code: str) -> str | None:
        """The kind of line a stock code makes, None for a product."""
        code = stock_code.strip().upper()
        if code in self.line_types:
            return self.line_types[code]
        for pattern, kind in self.line_types.items():
            if pattern.endswith("*") and code.startswith(pattern[:-1]):
                return kind
        return None

    def matches(self, header: list[str]) -> bool:
        present = {normalise(h) for h in header}
        return all(normalise(self.columns[t]) in present for t in REQUIRED_TARGETS if t in self.columns)

    def resolve(self, header: list[str]) -> dict[str, str]:
        """target -> the header's actual column name."""
        by_norm = {normalise(h): h for h in header}
        return {t: by_norm[normalise(c)] for t, c in self.columns.items() if normalise(c) in by_norm}


def load_layout(path: Path) -> Layout:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LakehouseError(f"cannot read mapping file {path}: {exc}") from exc
    columns = data.get("columns", {})
    missing = [t for t in REQUIRED_TARGETS if t not in columns]
    unknown = [t for t in columns if t not in TARGETS]
    if "name" not in data or missing or unknown:
        raise LakehouseError(
            f"mapping file {path}: needs name and [columns] for {', '.join(REQUIRED_TARGETS)}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(unknown)}" if unknown else "")
        )
    order = data.get("slash_date_order")
    if order is not None and order not in SLASH_DATE_ORDERS:
        raise LakehouseError(f"mapping file {path}: slash_date_order must be month_first or day_first")
    currency = data.get("currency")
    if currency is not None and not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        raise LakehouseError(f"mapping file {path}: currency must be an ISO 4217 code such as GBP")
    line_types = {k.strip().upper(): v for k, v in data.get("line_types", LINE_TYPES).items()}
    bad_kinds = sorted({v for v in line_types.values() if v not in LINE_KINDS})
    if bad_kinds:
        raise LakehouseError(
            f"mapping file {path}: unknown line type(s) {', '.join(bad_kinds)}; use {', '.join(LINE_KINDS)}"
        )
    return Layout(
        name=data["name"],
        columns=dict(columns),
        invoice_date_formats=tuple(data.get("invoice_date_formats", ["%Y-%m-%d %H:%M:%S"])),
        description=data.get("description", ""),
        cancellation_prefix=data.get("cancellation_prefix", "C"),
        adjustment_prefix=data.get("adjustment_prefix", "A"),
        line_types=line_types,
        country_ids=dict(data.get("country_ids", {})),
        currency=currency.upper() if currency else None,
        slash_date_order=order,
    )


def load_layouts(extra: list[Path] | None = None) -> list[Layout]:
    """Built-in layouts plus the given mapping files (files or folders of ``*.toml``)."""
    paths = sorted(BUILTIN_DIR.glob("*.toml"))
    for p in extra or []:
        paths += sorted(p.glob("*.toml")) if p.is_dir() else [p]
    return [load_layout(p) for p in paths]


def detect(header: list[str], layouts: list[Layout], name: str | None = None) -> Layout:
    if name:
        for layout in layouts:
            if layout.name == name:
                return layout
        raise LakehouseError(f"unknown layout {name!r}: known {', '.join(x.name for x in layouts)}")
    found = [x for x in layouts if x.matches(header)]
    if not found:
        from ingestion.readers import BadFile

        raise BadFile(f"no known layout matches the columns {', '.join(header)}")
    return max(found, key=lambda x: len(x.columns))
