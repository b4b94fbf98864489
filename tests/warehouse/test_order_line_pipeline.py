"""End-to-end scenario of the order-line pipeline on Spark + Iceberg, one dbt build per step.

The steps share one lake and run in file order (each builds on the previous one):
late product -> quarantined -> product lands -> recovered exactly once with the as-of price;
the same batch landed twice -> no duplicate anywhere; a back-dated price -> SCD2 windows and
re-priced lines; a second build without new data -> identical results.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support import rawdata

pytestmark = pytest.mark.integration

BATCH_A = [
    # invoice, product, qty, date, customer, country
    {
        "invoice_no": "1001",
        "stock_code": "P1",
        "quantity": "4",
        "invoice_date": "2024-01-03 10:00:00",
        "customer_id": "C1",
        "country_id": "GB",
    },
    {
        "invoice_no": "1001",
        "stock_code": "P2",
        "quantity": "1",
        "invoice_date": "2024-01-03 10:00:00",
        "customer_id": "C1",
        "country_id": "GB",
    },
    {
        "invoice_no": "1002",
        "stock_code": "P1",
        "quantity": "2",
        "invoice_date": "2024-01-10T09:00:00Z",
        "customer_id": "C2",
        "country_id": "FR",
    },
    {
        "invoice_no": "1002",
        "stock_code": "P1",
        "quantity": "2",
        "invoice_date": "2024-01-10T09:00:00Z",
        "customer_id": "C2",
        "country_id": "FR",
    },  # exact duplicate in the batch
    {
        "invoice_no": "1003",
        "stock_code": "P9",
        "quantity": "3",
        "invoice_date": "20/01/2024 12:30",
        "customer_id": "C1",
        "country_id": "GB",
    },  # product lands later
    {
        "invoice_no": "C1004",
        "stock_code": "P2",
        "quantity": "-1",
        "invoice_date": "1705660200000",
        "customer_id": "C1",
        "country_id": "GB",
    },  # cancellation
    {
        "invoice_no": "1005",
        "stock_code": "P2",
        "quantity": "0",
        "invoice_date": "garbage",
        "country_id": "GB",
    },  # date error + non-positive quantity: stays in quarantine
]

FACT_COLUMNS = (
    "order_line_key, invoice_no, stock_code, product_sk, quantity, list_unit_price_gbp, amount_gbp, amount, "
    "currency_code, _batch_id"
)


def rows(spark, sql):
    return sorted(spark.query(sql), key=repr)


def audit(spark):
    return {
        r[0]: r[1:]
        for r in spark.query(
            "select batch_id, landed_rows, fact_rows, quarantined_rows, duplicate_rows, unreconciled_rows "
            "from marts.audit_batch_reconciliation"
        )
    }


def test_late_product_is_quarantined(fresh_lake, dbt):
    spark = fresh_lake
    rawdata.land_master_data(spark, "md-0001")
    rawdata.land(spark, "order_lines", "ol-a", BATCH_A)
    dbt("build")

    fact = rows(
        spark, "select invoice_no, stock_code, quantity, list_unit_price_gbp from marts.fct_order_lines"
    )
    assert fact == sorted(
        [
            ("1001", "P1", 4, Decimal("2.0000")),
            ("1001", "P2", 1, Decimal("10.0000")),
            ("1002", "P1", 2, Decimal("2.0000")),
            ("C1004", "P2", -1, Decimal("10.0000")),
        ],
        key=repr,
    )
    quarantine = rows(
        spark,
        "select invoice_no, status, attempts, failure_reasons, _batch_id from marts.quarantine_order_lines",
    )
    assert quarantine == sorted(
        [
            ("1003", "open", 1, '["unknown_product"]', "ol-a"),
            ("1005", "open", 1, '["date_error","non_positive_quantity"]', "ol-a"),
        ],
        key=repr,
    )
    assert audit(spark) == {"ol-a": (7, 4, 2, 1, 0)}
    payload = spark.scalar("select raw_payload from marts.quarantine_order_lines where invoice_no = '1005'")
    assert '"invoice_date":"garbage"' in payload


def test_same_batch_twice_leaves_no_duplicates(fresh_lake, dbt):
    spark = fresh_lake
    rawdata.land(spark, "order_lines", "ol-a-again", BATCH_A)
    dbt("build")

    assert spark.scalar("select count(*) from marts.fct_order_lines") == 4
    assert spark.scalar("select count(*) - count(distinct order_line_key) from marts.fct_order_lines") == 0
    assert spark.scalar("select count(*) from marts.quarantine_order_lines") == 2
    assert spark.scalar("select count(distinct _batch_id) from marts.quarantine_order_lines") == 1
    assert audit(spark)["ol-a-again"] == (7, 0, 0, 7, 0)
    # the open quarantine was re-checked once more
    assert set(r[0] for r in spark.query("select attempts from marts.quarantine_order_lines")) == {2}


def test_late_product_recovers_exactly_once_with_as_of_price(fresh_lake, dbt):
    spark = fresh_lake
    rawdata.land(
        spark,
        "products",
        "md-0002",
        [
            *rawdata.PRODUCTS,
            {
                "stock_code": "P9",
                "description": "Green vase",
                "category": "Home",
                "unit_price": "5.00",
                "price_date": "2024-01-01",
            },
            {
                "stock_code": "P9",
                "description": "Green vase",
                "category": "Home",
                "unit_price": "6.00",
                "price_date": "2024-02-01",
            },
        ],
    )
    dbt("build")

    p9 = spark.query(
        "select quantity, list_unit_price_gbp, amount_gbp, _load_origin, _batch_id "
        "from marts.fct_order_lines where stock_code = 'P9'"
    )
    assert p9 == [(3, Decimal("5.0000"), Decimal("15.00"), "quarantine", "ol-a")]
    status = spark.query(
        "select status, attempts, recovered_at is not null from marts.quarantine_order_lines "
        "where invoice_no = '1003'"
    )
    assert status == [("recovered", 3, True)]
    assert audit(spark)["ol-a"] == (7, 5, 1, 1, 0)

    # a further run keeps it exactly once
    dbt(
        "build",
        "--select",
        "int_order_lines__validated",
        "fct_order_lines",
        "quarantine_order_lines",
        "audit_batch_reconciliation",
        "--indirect-selection",
        "cautious",
    )
    assert spark.scalar("select count(*) from marts.fct_order_lines where stock_code = 'P9'") == 1
    assert (
        spark.scalar("select status from marts.quarantine_order_lines where invoice_no = '1003'")
        == "recovered"
    )


def test_back_dated_price_reprices_only_its_window(fresh_lake, dbt):
    spark = fresh_lake
    before = dict(spark.query("select order_line_key, cast(_loaded_at as string) from marts.fct_order_lines"))
    # lands today, effective from 2024-01-05: between the 2024-01-01 price and the lines of 2024-01-10
    rawdata.land(
        spark,
        "products",
        "md-0003",
        [
            {
                "stock_code": "P1",
                "description": "Red mug",
                "category": "Kitchen",
                "unit_price": "2.40",
                "price_date": "2024-01-05",
            }
        ],
    )
    dbt("build")

    windows = spark.query(
        "select price_date, unit_price, cast(valid_from as string), cast(valid_to as string), is_current "
        "from marts.dim_products where stock_code = 'P1' order by valid_from"
    )
    assert windows == [
        ("2024-01-01", Decimal("2.0000"), "2024-01-01 00:00:00", "2024-01-05 00:00:00", False),
        ("2024-01-05", Decimal("2.4000"), "2024-01-05 00:00:00", "9999-12-31 00:00:00", True),
    ]
    p1 = rows(
        spark,
        "select invoice_no, list_unit_price_gbp, amount_gbp, amount, currency_code "
        "from marts.fct_order_lines where stock_code = 'P1'",
    )
    assert p1 == sorted(
        [
            ("1001", Decimal("2.0000"), Decimal("8.00"), Decimal("8.00"), "GBP"),  # 2024-01-03: old price
            # 2024-01-10 in France: 2 x 2.40 GBP = 4.80 GBP = 5.65 EUR at 0.85 GBP/EUR
            ("1002", Decimal("2.4000"), Decimal("4.80"), Decimal("5.65"), "EUR"),
        ],
        key=repr,
    )
    after = dict(spark.query("select order_line_key, cast(_loaded_at as string) from marts.fct_order_lines"))
    rewritten = {k for k in after if after[k] != before.get(k)}
    repriced = {
        r[0]
        for r in spark.query("select order_line_key from marts.fct_order_lines where invoice_no = '1002'")
    }
    assert rewritten == repriced


def test_second_build_gives_the_same_results(fresh_lake, dbt):
    spark = fresh_lake
    queries = {
        "fact": f"select {FACT_COLUMNS} from marts.fct_order_lines",
        "quarantine": "select order_line_key, status, failure_reasons from marts.quarantine_order_lines",
        "audit": "select batch_id, landed_rows, fact_rows, quarantined_rows, duplicate_rows "
        "from marts.audit_batch_reconciliation",
        "products": "select * from marts.dim_products",
        "customers": "select * from marts.dim_customers",
        "snap_products": "select product_version_key, unit_price, dbt_valid_to is null "
        "from snapshots.snap_products",
        "daily_sales": "select * from marts.mart_daily_sales",
        "customer_metrics": "select * from marts.mart_customer_metrics",
    }
    first = {name: rows(spark, sql) for name, sql in queries.items()}
    dbt("build")
    second = {name: rows(spark, sql) for name, sql in queries.items()}
    assert first == second
