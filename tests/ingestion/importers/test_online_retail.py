"""Both Online Retail layouts and a mapped custom layout derive the right sources (no services)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from ingestion.importers.layouts import load_layouts
from ingestion.importers.online_retail import read_and_derive
from ingestion.readers import BadFile, read_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ingestion"
OLD = FIXTURES / "online_retail" / "online_retail_sample.csv"
NEW = FIXTURES / "online_retail" / "online_retail_ii_sample.csv"


def test_online_retail_layout() -> None:
    d = read_and_derive(str(OLD), load_layouts(), None, "utf-8")
    assert d.layout.name == "online_retail"
    lines = d.order_lines.to_pylist()
    assert len(lines) == pacsv.read_csv(OLD).num_rows == 10
    types = {r["invoice_no"]: r["line_type"] for r in lines}
    assert types["C536379"] == "sale"  # a cancelled sale: cancelling is the invoice's business (C prefix)
    assert types["A563185"] == "bad_debt"
    assert types["536380"] == "postage"  # POST: postage, not a product
    assert types["536365"] == "sale"
    assert {r["source_layout"] for r in lines} == {"online_retail"}
    # what the layout declares travels with every line: sterling prices, month-first slash dates
    assert {(r["currency"], r["date_order"]) for r in lines} == {("GBP", "month_first")}
    assert lines[3]["country_id"] == "IE" and lines[7]["country_id"] == "XX"
    assert lines[0]["invoice_date"] == "12/1/2010 8:26"  # raw value, unchanged
    prices = {(p["stock_code"], p["price_date"]): p["unit_price"] for p in d.products.to_pylist()}
    # 85123A sold at 2.55 twice and 2.29 once on 2010-12-01; the cancellation does not count
    assert prices[("85123A", "2010-12-01")] == "2.55"
    assert prices[("22752", "2010-12-02")] == "8.50"
    assert not any(code in ("POST", "B") for code, _ in prices)
    customers = {c["customer_id"]: c for c in d.customers.to_pylist()}
    assert set(customers) == {"17850", "13047", "14527", "12583"}
    assert customers["13047"]["country_id"] == "IE"
    assert customers["17850"]["registration_date"] == "2010-12-01"
    countries = {c["country_id"]: c["country_name"] for c in d.countries.to_pylist()}
    assert countries == {"GB": "United Kingdom", "IE": "EIRE", "FR": "France", "XX": "Unspecified"}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_online_retail_ii_layout_from_each_format(tmp_path: Path, fmt: str) -> None:
    import json

    import pyarrow.parquet as pq

    table = pa.Table.from_batches(list(read_file(str(NEW))))  # all strings, as in the file
    path = tmp_path / f"online_retail_ii.{fmt}"
    if fmt == "csv":
        path = NEW
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in table.to_pylist()))
    else:
        pq.write_table(table, path)
    d = read_and_derive(str(path), load_layouts(), None, "utf-8")
    assert d.layout.name == "online_retail_ii"
    lines = d.order_lines.to_pylist()
    assert len(lines) == 9
    assert [r["invoice_no"].startswith("C") for r in lines].count(True) == 1
    assert [r["line_type"] for r in lines].count("postage") == [r["stock_code"] for r in lines].count("DOT")
    assert lines[3]["country_id"] == "US" and lines[6]["country_id"] == "ZA"
    assert lines[1]["Notes"] == "first order"  # unmapped column travels on (to _extra)
    assert lines[6] == lines[7]  # exact duplicates are kept
    prices = {(p["stock_code"], p["price_date"]): p["unit_price"] for p in d.products.to_pylist()}
    assert prices[("22350", "2009-12-01")] == "2.10"  # tie 2.55 vs 2.10: the lower price
    assert prices[("22350", "2009-12-02")] == "2.55"
    assert {c["customer_id"] for c in d.customers.to_pylist()} == {"13085.0", "13078.0", "16321.0"}


def test_custom_layout_from_a_mapping_file() -> None:
    layouts = load_layouts([FIXTURES / "mappings"])
    d = read_and_derive(str(FIXTURES / "my_shop_orders.csv"), layouts, None, "utf-8")
    assert d.layout.name == "my_shop"
    assert [r["country_id"] for r in d.order_lines.to_pylist()] == ["DE", "DE"]
    assert d.products.to_pylist()[0] == {
        "stock_code": "ABC1", "description": "", "category": "", "unit_price": "1.50",
        "price_date": "2024-01-03",
    }  # fmt: skip


def test_unknown_layout_is_a_bad_file(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n")
    with pytest.raises(BadFile, match="no known layout"):
        read_and_derive(str(f), load_layouts(), None, "utf-8")


def test_line_types_of_the_service_codes_and_write_offs(tmp_path: Path) -> None:
    f = tmp_path / "lines.csv"
    rows = [
        ("536380", "POST", "3", "18.00"), ("536381", "DOT", "1", "5.00"), ("536382", "C2", "1", "50"),
        ("C536383", "D", "-1", "9.00"), ("536384", "M", "1", "0.55"), ("536385", "BANK CHARGES", "1", "15"),
        ("536386", "AMAZONFEE", "1", "1.00"), ("536387", "gift_0001_40", "1", "33.00"),
        ("A563186", "B", "1", "-11062.06"), ("536388", "85123A", "-12", "0"),
        ("C536389", "85123A", "-2", "0"),
        ("536390", "85123A", "-1", "2.55"), ("536391", "S", "-1", "1.00"),
    ]  # fmt: skip
    header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    f.write_text(
        header + "".join(f"{i},{c},x,{q},12/1/2010 8:26,{p},,United Kingdom\n" for i, c, q, p in rows)
    )
    d = read_and_derive(str(f), load_layouts(), None, "utf-8")
    assert [r["line_type"] for r in d.order_lines.to_pylist()] == [
        "postage", "postage", "postage", "discount", "manual", "fee", "fee", "gift_voucher", "bad_debt",
        "stock_adjustment",  # a product written off: negative quantity at price 0 outside a cancellation
        "sale",  # the same on a C invoice is a cancelled sale
        "sale",  # a negative quantity with a price is a sale the warehouse quarantines
        "sample",
    ]  # fmt: skip


def _mapping(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "shop.toml"
    path.write_text(
        'name = "shop"\n' + extra + "\n[columns]\n"
        'invoice_no = "order"\nstock_code = "sku"\nquantity = "qty"\ninvoice_date = "at"\n'
        'unit_price = "price"\ncustomer_id = "client"\ncountry = "land"\ncurrency = "cur"\n'
    )
    return path


def test_a_currency_column_wins_over_the_declared_currency(tmp_path: Path) -> None:
    layouts = load_layouts([_mapping(tmp_path, 'currency = "EUR"\nslash_date_order = "day_first"\n')])
    f = tmp_path / "orders.csv"
    f.write_text("order,sku,qty,at,price,client,land,cur\n1,A,1,03/04/2024 10:00,2.00,c1,France,USD\n"
                 "2,A,1,03/04/2024 11:00,2.00,c1,France,\n")  # fmt: skip
    lines = read_and_derive(str(f), layouts, None, "utf-8").order_lines.to_pylist()
    assert [(r["currency"], r["date_order"]) for r in lines] == [("USD", "day_first"), ("EUR", "day_first")]
    assert "cur" not in lines[0]  # a mapped column is not carried again as an extra one


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('currency = "pounds"\n', "ISO 4217"),
        ('slash_date_order = "middle_first"\n', "month_first or day_first"),
        ('[line_types]\n"SHIP" = "freight"\n', "unknown line type"),
    ],
)
def test_a_wrong_declaration_in_a_mapping_file_is_one_line(tmp_path: Path, extra: str, message: str) -> None:
    from lakehouse.platform.errors import LakehouseError

    with pytest.raises(LakehouseError, match=message) as err:
        load_layouts([_mapping(tmp_path, extra)])
    assert "\n" not in str(err.value)
