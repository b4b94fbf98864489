"""History that stays right (issue 18), on Spark + Iceberg, three dbt builds on one lake, in file order:

1. three days of customer files landed before one build, in which a customer changes segment twice, give
   three versions with contiguous windows; prices (and a rate) with a time of day price each line by the
   version in effect at its second;
2. a customer who arrives after their orders: the lines carry the unknown member, then are re-linked to the
   customer exactly once when the customer lands;
3. a back-dated segment change of that customer moves only the lines after it to the new version.

Every expected value is derived here from the rows the test lands.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.support import rawdata

pytestmark = pytest.mark.integration

# The order-line chain and the dimensions, with their data tests (SCD2 windows, keys, ledger).
HISTORY_SELECTION = ("+audit_batch_reconciliation", "dim_customers", "dim_products", "--indirect-selection",
                     "cautious", "--exclude-resource-type", "unit_test")  # fmt: skip


def customer(cid: str, segment: str, updated_at: str, country: str = "GB") -> dict[str, str]:
    return {
        "customer_id": cid,
        "customer_name": f"Customer {cid}",
        "email": f"{cid.lower()}@example.com",
        "country_id": country,
        "segment": segment,
        "registration_date": "2024-01-01",
        "updated_at": updated_at,
    }


# C3 changes segment twice: one customer file a day, three days landed before one build
C3_CHANGES = [
    ("retail", "2024-01-01 08:00:00"),
    ("wholesale", "2024-01-15 12:00:00"),
    ("vip", "2024-02-01 09:30:00"),
]
CUSTOMER_DAYS = [[customer("C3", segment, at)] for segment, at in C3_CHANGES]

# P7: a price from a date alone (midnight UTC), then two changes on one day (the second ISO 8601, zoned)
P7_PRICES = [("1.00", "2024-01-01"), ("2.00", "2024-03-01 10:00:00"), ("3.00", "2024-03-01T17:00:00+01:00")]
P7_PRICE_STARTS = [datetime(2024, 1, 1), datetime(2024, 3, 1, 10), datetime(2024, 3, 1, 16)]
# EUR -> GBP: a rate from a date alone (after the shared master data's last EUR rate), then a change at noon
EUR_RATES = [("0.8800", "2024-02-15"), ("0.9000", "2024-03-01 12:00:00")]
EUR_RATE_STARTS = [datetime(2024, 2, 15), datetime(2024, 3, 1, 12)]


def order_line(invoice: str, stock_code: str, at: str, cid: str, country: str = "GB") -> dict[str, str]:
    return {"invoice_no": invoice, "stock_code": stock_code, "quantity": "1", "invoice_date": at,
            "customer_id": cid, "country_id": country}  # fmt: skip


C3_LINES = [order_line(f"30{i}", "P1", at, "C3") for i, at in enumerate(
    ["2024-01-10 10:00:00", "2024-01-15 11:59:59", "2024-01-15 12:00:00", "2024-01-20 10:00:00",
     "2024-02-05 10:00:00"])]  # fmt: skip
P7_TIMES = ["2024-03-01 09:59:00", "2024-03-01 10:00:00", "2024-03-01 15:59:00", "2024-03-01 16:00:00"]
P7_LINES = [order_line(f"70{i}", "P7", at, "C1") for i, at in enumerate(P7_TIMES)]
FR_TIMES = ["2024-03-01 11:59:59", "2024-03-01 12:00:00"]
FR_LINES = [order_line(f"80{i}", "P7", at, "C2", "FR") for i, at in enumerate(FR_TIMES)]
C9_LINES = [
    order_line("901", "P1", "2024-01-10 10:00:00", "C9"),
    order_line("902", "P1", "2024-03-10 10:00:00", "C9"),
]
C9_CHANGE = "2024-02-01 00:00:00"


def in_effect(starts: list[datetime], values: list, at: str) -> object:
    """The value whose start is the latest at or before ``at`` (a change at exactly that second applies)."""
    ts = datetime.fromisoformat(at)
    return [value for start, value in zip(starts, values, strict=True) if start <= ts][-1]


def build(dbt) -> None:
    dbt("build", "--select", *HISTORY_SELECTION)


def segments_of_lines(spark, cid: str) -> dict[str, str]:
    return dict(spark.query(
        "select fct.invoice_no, dim.segment from marts.fct_order_lines as fct "
        "inner join marts.dim_customers as dim on fct.customer_sk = dim.customer_sk "
        f"where fct.customer_id = '{cid}'"
    ))  # fmt: skip


def ledger_closes(spark) -> bool:
    return (
        spark.scalar("select coalesce(sum(abs(unreconciled_rows)), 0) from marts.audit_batch_reconciliation")
        == 0
    )


def relinked_in_last_build(spark) -> int:
    return spark.scalar(
        "select count(*) from intermediate.int_order_lines__validated where validation_status = 'relinked'"
    )


def test_1_customer_versions_and_prices_with_a_time_of_day(fresh_lake, dbt):
    spark = fresh_lake
    rawdata.land_master_data(spark, "md-0001")
    rawdata.land(spark, "products", "md-p7", [
        {"stock_code": "P7", "description": "Clock", "category": "Home", "unit_price": p, "price_date": at}
        for p, at in P7_PRICES
    ])  # fmt: skip
    rates = [
        {"currency": "EUR", "rate_date": at, "quote_currency": "GBP", "rate": rate} for rate, at in EUR_RATES
    ]
    rawdata.land(spark, "exchange_rates", "md-eur", rates)
    for day, customers in enumerate(CUSTOMER_DAYS, start=1):
        rawdata.land(spark, "customers", f"customers-day{day}", customers)
    rawdata.land(spark, "order_lines", "ol-h1", C3_LINES + P7_LINES + FR_LINES + C9_LINES)
    build(dbt)

    windows = spark.query(
        "select segment, cast(valid_from as string), cast(valid_to as string), is_current "
        "from marts.dim_customers where customer_id = 'C3' order by valid_from"
    )
    starts = ["1900-01-01 00:00:00"] + [at for _, at in C3_CHANGES[1:]]
    ends = [at for _, at in C3_CHANGES[1:]] + ["9999-12-31 00:00:00"]
    assert windows == [
        (segment, start, end, end.startswith("9999"))
        for (segment, _), start, end in zip(C3_CHANGES, starts, ends, strict=True)
    ]
    change_times = [datetime(1900, 1, 1)] + [datetime.fromisoformat(at) for _, at in C3_CHANGES[1:]]
    segments = [segment for segment, _ in C3_CHANGES]
    assert segments_of_lines(spark, "C3") == {
        line["invoice_no"]: in_effect(change_times, segments, line["invoice_date"]) for line in C3_LINES
    }

    prices = [Decimal(price) for price, _ in P7_PRICES]
    got = dict(spark.query("select invoice_no, list_unit_price_gbp from marts.fct_order_lines "
                           "where stock_code = 'P7' and country_id = 'GB'"))  # fmt: skip
    assert got == {
        line["invoice_no"]: in_effect(P7_PRICE_STARTS, prices, line["invoice_date"]) for line in P7_LINES
    }
    # 09:59 the old price, 10:00 and 15:59 the first change, 16:00 the second
    assert len(set(got.values())) == 3

    rates_gbp = [Decimal(rate) for rate, _ in EUR_RATES]
    got = dict(spark.query("select invoice_no, amount from marts.fct_order_lines where country_id = 'FR'"))
    expected = {}
    for line in FR_LINES:
        gbp = in_effect(P7_PRICE_STARTS, prices, line["invoice_date"])
        rate = in_effect(EUR_RATE_STARTS, rates_gbp, line["invoice_date"])
        expected[line["invoice_no"]] = (gbp / rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert got == expected and len(set(got.values())) == 2

    assert set(segments_of_lines(spark, "C9").values()) == {"unknown"}  # C9 has not arrived yet
    assert ledger_closes(spark)


def test_2_a_customer_who_arrives_after_their_orders_is_linked_once(fresh_lake, dbt):
    spark = fresh_lake
    rawdata.land(spark, "customers", "customers-c9", [customer("C9", "retail", "2024-01-01 00:00:00")])
    build(dbt)

    # the first version covers all time before it: both lines, exactly once, on C9's only version
    assert segments_of_lines(spark, "C9") == {line["invoice_no"]: "retail" for line in C9_LINES}
    keys = spark.query("select count(*), count(distinct order_line_key) from marts.fct_order_lines "
                       "where customer_id = 'C9'")  # fmt: skip
    assert keys == [(len(C9_LINES), len(C9_LINES))]
    assert relinked_in_last_build(spark) == len(C9_LINES)
    assert ledger_closes(spark)


def test_3_a_back_dated_customer_change_moves_only_the_lines_after_it(fresh_lake, dbt):
    spark = fresh_lake
    rawdata.land(spark, "customers", "customers-c9-change", [customer("C9", "wholesale", C9_CHANGE)])
    build(dbt)

    # landed after the lines of 2024-03-10 were linked, effective from 2024-02-01
    change = datetime.fromisoformat(C9_CHANGE)
    expected = {
        line["invoice_no"]: "retail" if datetime.fromisoformat(line["invoice_date"]) < change else "wholesale"
        for line in C9_LINES
    }
    assert set(expected.values()) == {"retail", "wholesale"}
    assert segments_of_lines(spark, "C9") == expected
    assert relinked_in_last_build(spark) == 1
    assert ledger_closes(spark)
