"""Layouts of retail files, described by mapping files (TOML) so a new layout needs no code.

A mapping file names the layout, maps each target column to the file's column name, lists the
invoice date formats (for the derived price history and customers) and may override how lines are
marked (``cancellation_prefix``, ``adjustment_prefix``, ``non_product_codes``) and add
``[country_ids]`` (country name in the file = country_id). The built-in ones live in ``layouts/``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.conform import normalise
from lakehouse.errors import LakehouseError

BUILTIN_DIR = Path(__file__).parent / "layouts"
TARGETS = (
    "invoice_no", "stock_code", "description", "quantity", "invoice_date", "unit_price",
    "customer_id", "country",
)  # fmt: skip
REQUIRED_TARGETS = tuple(t for t in TARGETS if t != "description")
# Stock codes of the Online Retail data that are fees, postage or manual adjustments, not products.
NON_PRODUCT_CODES = (
    "POST", "DOT", "C2", "M", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS",
    "ADJUST", "ADJUST2", "TEST001", "TEST002", "GIFT",
)  # fmt: skip


@dataclass(frozen=True)
class Layout:
    name: str
    columns: dict[str, str]  # target -> file column
    invoice_date_formats: tuple[str, ...]
    description: str = ""
    cancellation_prefix: str = "C"
    adjustment_prefix: str = "A"
    non_product_codes: tuple[str, ...] = NON_PRODUCT_CODES
    country_ids: dict[str, str] = field(default_factory=dict)

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
    return Layout(
        name=data["name"],
        columns=dict(columns),
        invoice_date_formats=tuple(data.get("invoice_date_formats", ["%Y-%m-%d %H:%M:%S"])),
        description=data.get("description", ""),
        cancellation_prefix=data.get("cancellation_prefix", "C"),
        adjustment_prefix=data.get("adjustment_prefix", "A"),
        non_product_codes=tuple(data.get("non_product_codes", NON_PRODUCT_CODES)),
        country_ids=dict(data.get("country_ids", {})),
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
