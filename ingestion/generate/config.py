"""What to generate: sizes, the simulated period, and one rate per kind of dirt (0 turns it off).

The one owner of the generator's defaults (seed, sizes, first day): `python -m ingestion generate`, the
flows' parameters and `python -m flows` options all read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date


@dataclass(frozen=True)
class DirtRates:
    """Share of rows (or of batches/sessions/price changes, as named) that carry each kind of dirt."""

    date_formats: float = 0.05  # order lines whose invoice_date is in a non-canonical format
    bad_dates: float = 0.002  # order lines with an unparseable invoice_date
    bad_quantities: float = 0.005  # order lines with quantity 0 or negative
    duplicates: float = 0.01  # extra exact copies of order lines (half in the next batch)
    late_master_data: float = 0.003  # order lines whose product/country arrives in a later batch
    missing_customers: float = 0.03  # invoices without a customer id
    schema_drift: float = 0.05  # order-line files with an extra, unexpected column
    bot_sessions: float = 0.05  # clickstream sessions that are bots
    backdated_prices: float = 0.05  # price changes announced with an earlier price_date

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0 <= value <= 1:
                raise ValueError(f"dirt rate {f.name} must be between 0 and 1, got {value}")

    @classmethod
    def clean(cls) -> DirtRates:
        return cls(**{f.name: 0.0 for f in fields(cls)})


# Days of history the demo run generates (`make run`, `python -m flows run`): a month, so that the marts
# have something to show; GeneratorConfig's own default (`python -m ingestion generate`) is a week.
DEMO_DAYS = 30
# ... and the churn horizon and cutoff step its ML features use (dbt vars churn_horizon_days and
# ml_cutoff_step_days): a month of data holds no 90-day horizon. Other flows use the settings
# (LAKEHOUSE_CHURN_HORIZON_DAYS, LAKEHOUSE_ML_CUTOFF_STEP_DAYS).
DEMO_CHURN_HORIZON_DAYS = 7
DEMO_ML_CUTOFF_STEP_DAYS = 2


@dataclass(frozen=True)
class GeneratorConfig:
    seed: int = 42
    start_date: date = date(2024, 1, 1)
    days: int = 7
    products: int = 500
    customers: int = 1_000
    lines_per_day: int = 5_000
    sessions_per_day: int = 500
    price_change_rate: float = 0.02  # share of products whose price changes each day
    customer_change_rate: float = 0.01  # share of customers changing segment or country each day
    order_format: str = "csv"  # csv | parquet | jsonl
    dirt: DirtRates = field(default_factory=DirtRates)

    def __post_init__(self) -> None:
        if self.days < 1 or self.products < 1 or self.customers < 1:
            raise ValueError("days, products and customers must be at least 1")
        if self.lines_per_day < 0 or self.sessions_per_day < 0:
            raise ValueError("lines and sessions per day cannot be negative")
        if self.order_format not in ("csv", "parquet", "jsonl"):
            raise ValueError(f"unknown order format {self.order_format!r}")
