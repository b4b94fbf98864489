"""The expected-figures calculator and the Online Retail file generator (pure Python, no services).

The calculator is proved on tiny hand-written files (each rule, expectations written by hand), then on
generated files against what the generator knows it wrote.
"""

from __future__ import annotations

import codecs
import time
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from openpyxl import Workbook

from ingestion.generate.online_retail import (
    END,
    II_FILE_LINES,
    LINE_QUIRKS,
    NO_CUSTOMER,
    SPLIT,
    START,
    QuirkRates,
    RetailLines,
    generate_lines,
    quirk_counts,
    write_ii_csv,
    write_ii_xlsx,
    write_old_csv,
    write_old_xlsx,
)
from tests.support.expected import Expected, csv_encoding, expected_figures

D = Decimal
UK = "United Kingdom"

# ------------------------------------------------------------------------------------- hand-written CSV

II_HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"
# Data row numbers and what the rules make of each row (1-based, header and the blank row not counted):
# 1, 2 sales; 3, 4, 7, 25 duplicates; 5 quarantined (non_positive_quantity); 16 gift voucher;
# 20 sale of 0.001 (to the penny 0.00); 21 adjustment; 27 quarantined (quantity 2.5 is not an integer);
# the rest as noted.
HAND_ROWS = [
    "489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom",
    "489434,79323P,PINK CHERRY LIGHTS,12,2009-12-01 07:45:00,6.75,13085.0,United Kingdom",  # 2 sale 81.00
    "489434,79323P,PINK CHERRY LIGHTS,12,2009-12-01 07:45:00,6.75,13085.0,United Kingdom",  # 3 duplicate of 2
    " 489434 ,85048,OTHER NAME,12,2009-12-01 07:45:00,6.950,13085, United Kingdom ",  # 4 duplicate of 1
    '489435,85123a,"SET OF 3 HEART COOKIE CUTTERS, PINK",-2,2009-12-01 07:46:00,2.55,13085.0,United Kingdom',
    "C489449,22087,PAPER BUNTING WHITE LACE,-12,2009-12-01 10:33:00,2.95,16321.0,Australia",  # 6 sale -35.40
    "c489449,22087,PAPER BUNTING WHITE LACE,-12,2009-12-01 10:33:00,2.95,16321.0,Australia",  # 7 dup of 6
    "489436,POST,POSTAGE,3,2009-12-01 09:06:00,18.0,12533.0,Germany",  # 8 postage 54
    "489437,DOT,DOTCOM POSTAGE,1,2009-12-01 09:08:00,647.19,,United Kingdom",  # 9 postage 647.19
    "489438,C2,CARRIAGE,1,2009-12-01 09:10:00,50.0,14911.0,EIRE",  # 10 postage 50
    "C489538,D,Discount,-1,2009-12-01 15:11:00,9.35,15299.0,United Kingdom",  # 11 discount -9.35
    "A563185,B,Adjust bad debt,1,2011-08-12 14:50:00,11062.06,,United Kingdom",  # 12 bad_debt
    "A563186,B,Adjust bad debt,1,2011-08-12 14:51:00,-11062.06,,United Kingdom",  # 13 bad_debt
    "489440,21120,damaged,-24,2009-12-01 10:00:00,0.0,,United Kingdom",  # 14 stock_adjustment 0
    "489441,M,Manual,1,2009-12-01 10:05:00,0.85,12346.0,United Kingdom",  # 15 manual 0.85
    "489442,gift_0001_20,Dotcomgiftshop Gift Voucher £20.00,1,2009-12-01 10:10:00,17.02,,United Kingdom",
    "489443,BANK CHARGES,Bank Charges,1,2009-12-01 10:15:00,15.0,12533.0,Germany",  # 17 fee 15
    "C489444,AMAZONFEE,AMAZON FEE,-1,2009-12-01 10:20:00,5575.28,,United Kingdom",  # 18 fee -5575.28
    "C489445,CRUK,CRUK Commission,-1,2009-12-01 10:25:00,1.6,14096.0,United Kingdom",  # 19 fee -1.6
    "489446,PADS,PADS TO MATCH ALL CUSHIONS,1,2009-12-01 10:30:00,0.001,13085.0,United Kingdom",  # 20 0.00
    "489447,ADJUST,Adjustment by john on 26/01/2010 17,1,2009-12-01 10:35:00,96.41,12346.0,United Kingdom",
    "C489448,S,SAMPLES,-1,2009-12-01 10:40:00,35.0,12533.0,Germany",  # 22 sample -35
    "489450,22423,REGENCY CAKESTAND 3 TIER,1,,12.75,13085.0,United Kingdom",  # 23 date_error (empty)
    "489451,22423,REGENCY CAKESTAND 3 TIER,1,31/12/2010 10:00,12.75,13085.0,United Kingdom",  # 24 date_error
    "489451,22423,REGENCY CAKESTAND 3 TIER,1,31/12/2010 10:00,12.75,13085.0,United Kingdom",  # 25 dup of 24
    "489452,22423,REGENCY CAKESTAND 3 TIER,n/a,,12.75,13085.0,United Kingdom",  # 26 date_error + quantity
    "489453,22423,REGENCY CAKESTAND 3 TIER,2.5,2009-12-01 11:00:00,12.75,13085.0,United Kingdom",  # 27
    ",22423,REGENCY CAKESTAND 3 TIER,1,2009-12-01 11:05:00,12.75,13085.0,United Kingdom",  # 28 no invoice
    "489454,,NO CODE,0,2009-12-01 11:10:00,1.0,13085.0,United Kingdom",  # 29 no stock code + quantity 0
    "489455,22423,REGENCY CAKESTAND 3 TIER,0,2009-12-01 11:15:00,0,,United Kingdom",  # 30 sale 0 (price 0)
    ",,,,,,,",  # blank: skipped, not counted
    "489456,22423,REGENCY CAKESTAND 3 TIER,2,12/1/2010 8:26,12.75,17850,United Kingdom",  # 31 sale 25.50
]


@pytest.fixture
def hand_csv(tmp_path: Path) -> Path:
    path = tmp_path / "hand_II.csv"
    path.write_text("\n".join([II_HEADER, *HAND_ROWS]) + "\n", encoding="utf-8-sig")
    return path


def test_hand_written_csv(hand_csv: Path) -> None:
    e = expected_figures([hand_csv])
    assert e.total_rows == 31
    assert e.rows_per_file == {"hand_II.csv": 31}
    assert e.duplicates == 4  # rows 3, 4 (trimmed, .950, no .0), 7 (lower-case invoice), 25 (same bad date)
    assert e.quarantine == [
        ("hand_II.csv", 5, ("non_positive_quantity",)),
        ("hand_II.csv", 23, ("date_error",)),
        ("hand_II.csv", 24, ("date_error",)),
        ("hand_II.csv", 26, ("date_error", "missing_quantity")),
        ("hand_II.csv", 27, ("missing_quantity",)),
        ("hand_II.csv", 28, ("missing_invoice_no",)),
        ("hand_II.csv", 29, ("missing_stock_code", "non_positive_quantity")),
    ]
    assert e.reasons() == {
        "date_error": 3, "missing_invoice_no": 1, "missing_quantity": 2, "missing_stock_code": 1,
        "non_positive_quantity": 2,
    }  # fmt: skip
    assert e.fact_lines == 31 - 4 - 7 == 20
    assert e.lines_by_kind == {
        "adjustment": 1, "bad_debt": 2, "discount": 1, "fee": 3, "gift_voucher": 1, "manual": 1,
        "postage": 3, "sale": 6, "sample": 1, "stock_adjustment": 1,
    }  # fmt: skip
    assert e.revenue_by_kind == {
        "adjustment": D("96.41"), "bad_debt": D("0"), "discount": D("-9.35"), "fee": D("-5561.88"),
        "gift_voucher": D("17.02"), "manual": D("0.85"), "postage": D("751.19"), "sale": D("154.50"),
        "sample": D("-35"), "stock_adjustment": D("0"),
    }  # fmt: skip
    assert e.revenue == D("-4586.26")  # -4586.259 unrounded: PADS 1 x 0.001 is 0.00
    assert e.revenue_by_country == {
        "Australia": D("-35.40"),
        "EIRE": D("50"),
        "Germany": D("34"),
        UK: D("-4634.86"),
    }
    assert e.customer_ids == {"12346", "12533", "13085", "14096", "14911", "15299", "16321", "17850"}
    assert e.customers == 8
    assert e.invoices == 19
    assert {"C489449", "A563185", "A563186", "489455", "489456"} <= e.invoice_nos


ROUNDING_ROWS = [  # amounts to the penny, half up (ties away from zero), each line before summing
    "500001,PADS,PADS TO MATCH ALL CUSHIONS,5,2010-01-04 10:00:00,0.001,13085,United Kingdom",  # 0.005 0.01
    "500002,PADS,PADS TO MATCH ALL CUSHIONS,4,2010-01-04 10:01:00,0.001,13085,United Kingdom",  # 0.004 0.00
    "C500003,PADS,PADS TO MATCH ALL CUSHIONS,-5,2010-01-04 10:02:00,0.001,13085,United Kingdom",  # -0.01
    "500004,22423,REGENCY CAKESTAND 3 TIER,3,2010-01-04 10:03:00,0.125,12533,France",  # 0.375 -> 0.38
    "500005,22423,REGENCY CAKESTAND 3 TIER,1,2010-01-04 10:04:00,0.125,12533,France",  # 0.125 -> 0.13
    "500006,22423,REGENCY CAKESTAND 3 TIER,1,2010-01-04 10:05:00,0.125,12533,France",  # 0.125 -> 0.13
    "500007,POST,POSTAGE,3,2010-01-04 10:06:00,0.335,12533,France",  # 1.005 -> 1.01 (as a float 1.00499..)
]


def test_amounts_are_rounded_to_the_penny_before_summing(tmp_path: Path) -> None:
    path = tmp_path / "rounding.csv"
    path.write_text("\n".join([II_HEADER, *ROUNDING_ROWS]) + "\n", encoding="utf-8")
    e = expected_figures([path])
    assert e.fact_lines == 7 and e.quarantine == [] and e.duplicates == 0
    assert e.lines_by_kind == {"postage": 1, "sale": 6}
    # sales: 0.01 + 0.00 - 0.01 + 0.38 + 0.13 + 0.13 (unrounded 0.625, rounding only the sum gives 0.63)
    assert e.revenue_by_kind == {"postage": D("1.01"), "sale": D("0.64")}
    assert e.revenue_by_country == {"France": D("1.65"), UK: D("0.00")}
    assert e.revenue == D("1.65")  # unrounded 1.63: 0.005 + 0.004 - 0.005 + 0.375 + 0.125 + 0.125 + 1.005


def test_bom_and_encodings(tmp_path: Path, hand_csv: Path) -> None:
    assert hand_csv.read_bytes().startswith(codecs.BOM_UTF8)
    assert csv_encoding(hand_csv) == "utf-8-sig"
    plain = tmp_path / "plain.csv"
    plain.write_bytes(hand_csv.read_bytes()[3:])
    assert csv_encoding(plain) == "utf-8"
    assert expected_figures([plain]).figures() == expected_figures([hand_csv]).figures()
    windows = tmp_path / "windows.csv"
    windows.write_text("\r\n".join([II_HEADER, *HAND_ROWS]) + "\r\n", encoding="cp1252")  # £ is one byte
    assert csv_encoding(windows) == "cp1252"
    assert expected_figures([windows]).figures() == expected_figures([hand_csv]).figures()


# ------------------------------------------------------------------------------------ hand-written xlsx

OLD_HEADER = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)
AT = datetime(2010, 12, 1, 8, 26)


@pytest.fixture
def hand_xlsx(tmp_path: Path) -> Path:
    wb = Workbook()
    first = wb.active
    first.title = "Online Retail"
    for row in (
        OLD_HEADER,
        (536365, "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, AT, 2.55, 17850, UK),  # 1 sale 15.30
        (536365, 71053, "WHITE METAL LANTERN", 6, AT, 3.39, 17850, UK),  # 2 sale 20.34 (number cells)
        ("C536379", "D", "Discount", -1, datetime(2010, 12, 1, 9, 41), 27.5, 14527, UK),  # 3 discount
        (536380, 22961, "JAM MAKING SET PRINTED", None, AT, 1.45, 17809, UK),  # 4 missing_quantity
        (536381, 22139, None, -5, "12/1/2010 9:45", 0, None, UK),  # 5 stock_adjustment, text date
        (536382, 22423, "REGENCY CAKESTAND 3 TIER", -1, AT, 12.75, 16098.0, UK),  # 6 non_positive_quantity
        (None,) * 8,  # blank: skipped
    ):
        first.append(row)
    second = wb.create_sheet("More")
    for row in (
        OLD_HEADER,
        (536365, "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, AT, 2.55, 17850.0, UK),  # 7 dup of 1
        (536390, "POST", "POSTAGE", 2, "2010-12-01 10:19:00", 18, 12431, "Australia"),  # 8 postage 36
        (536391, 22086, "PAPER CHAIN KIT 50'S CHRISTMAS ", 80, "not a date", 2.55, 12431, "Australia"),  # 9
    ):
        second.append(row)
    path = tmp_path / "hand.xlsx"
    wb.save(path)
    return path


def test_hand_written_xlsx(hand_xlsx: Path) -> None:
    e = expected_figures([hand_xlsx])
    assert e.total_rows == 9
    assert e.duplicates == 1
    assert e.quarantine == [
        ("hand.xlsx", 4, ("missing_quantity",)),
        ("hand.xlsx", 6, ("non_positive_quantity",)),
        ("hand.xlsx", 9, ("date_error",)),
    ]
    assert e.fact_lines == 5
    assert e.revenue == D("44.14")
    assert e.revenue_by_kind == {
        "discount": D("-27.5"),
        "postage": D("36"),
        "sale": D("35.64"),
        "stock_adjustment": 0,
    }
    assert e.lines_by_kind == {"discount": 1, "postage": 1, "sale": 2, "stock_adjustment": 1}
    assert e.revenue_by_country == {"Australia": D("36"), UK: D("8.14")}
    assert e.customer_ids == {"17850", "14527", "12431"}
    assert e.invoice_nos == {"536365", "C536379", "536381", "536390"}


def test_same_line_in_csv_and_xlsx_is_a_duplicate(tmp_path: Path, hand_xlsx: Path) -> None:
    csv_path = tmp_path / "old.csv"
    csv_path.write_text(
        ",".join(OLD_HEADER)
        + "\r\n536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,"
        "United Kingdom\r\n",
        encoding="cp1252",
    )
    e = expected_figures([csv_path, hand_xlsx])
    assert e.rows_per_file == {"old.csv": 1, "hand.xlsx": 9}
    assert e.duplicates == 2  # the xlsx's rows 1 and 7
    assert e.fact_lines == 5
    assert e.revenue == D("44.14")
    assert e.quarantine[0] == ("hand.xlsx", 4, ("missing_quantity",))


# -------------------------------------------------------------------------------------- generated files

KIND_OF_QUIRK = {
    "sale": "sale", "cancellations": "sale", "orphan_cancellations": "sale", "zero_price": "sale",
    "pads": "sale", "huge_orders": "sale", "write_offs": "stock_adjustment", "bad_debt": "bad_debt",
    "postage": "postage", "dotcom_postage": "postage", "carriage": "postage", "manual": "manual",
    "discount": "discount", "samples": "sample", "bank_charges": "fee", "amazon_fee": "fee", "cruk": "fee",
    "gift_vouchers": "gift_voucher", "adjustments": "adjustment",
}  # fmt: skip
UCI_COUNTRIES = {
    "United Kingdom", "EIRE", "RSA", "USA", "Unspecified", "European Community", "Channel Islands",
    "Germany", "France", "Netherlands", "Spain", "Switzerland", "Belgium", "Portugal", "Australia",
    "Norway", "Italy", "Finland", "Sweden", "Denmark", "Japan", "Hong Kong", "Singapore", "Israel", "Poland",
    "Austria", "Cyprus", "Greece", "Iceland", "Canada", "Malta", "Lithuania", "Brazil", "Bahrain",
    "Saudi Arabia", "Czech Republic", "United Arab Emirates", "Lebanon",
}  # fmt: skip


@pytest.fixture(scope="module")
def lines() -> RetailLines:
    return generate_lines(3000, seed=7, bad_rows=True)


@pytest.fixture(scope="module")
def files(lines: RetailLines, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("online_retail")
    return {
        "ii_csv": write_ii_csv(out / "online_retail_II.csv", lines),
        "ii_xlsx": write_ii_xlsx(out / "online_retail_II.xlsx", lines),
        "old_csv": write_old_csv(out / "Online Retail.csv", lines),
        "old_xlsx": write_old_xlsx(out / "Online Retail.xlsx", lines),
        "ii_since_csv": write_ii_csv(out / "online_retail_II_since.csv", lines.since(SPLIT)),
    }


def _truth(lines: RetailLines) -> dict[str, object]:
    """What the generator knows it wrote: fact lines are all but the copies and the bad rows.

    Revenue: each line's amount in thousandths, to the penny half up (ties away from zero), then summed.
    """
    bad = lines.blank_date | np.not_equal(lines.quantity_text, None)
    fact = (lines.quirk != "duplicates") & ~bad
    milli = lines.quantity[fact] * lines.price_milli[fact]
    pennies = int((np.sign(milli) * ((np.abs(milli) + 5) // 10)).sum())
    customers = {str(c) for c in lines.customer_id[fact].tolist() if c != NO_CUSTOMER}
    return {
        "rows": len(lines),
        "duplicates": int((lines.quirk == "duplicates").sum()),
        "reasons": {
            k: v
            for k, v in {
                "date_error": int(lines.blank_date.sum()),
                "missing_quantity": int(np.not_equal(lines.quantity_text, None).sum()),
            }.items()
            if v
        },
        "fact_lines": int(fact.sum()),
        "revenue": D(pennies).scaleb(-2),
        "lines_by_kind": dict(sorted(Counter(KIND_OF_QUIRK[q] for q in lines.quirk[fact]).items())),
        "customer_ids": customers,
    }


def _check_against_truth(e: Expected, lines: RetailLines) -> None:
    t = _truth(lines)
    assert e.total_rows == t["rows"]
    assert e.duplicates == t["duplicates"]
    assert e.reasons() == t["reasons"]
    assert e.fact_lines == t["fact_lines"]
    assert e.revenue == t["revenue"]
    assert e.lines_by_kind == t["lines_by_kind"]
    assert e.customer_ids == t["customer_ids"]


def test_ii_csv_matches_what_was_generated(lines: RetailLines, files: dict[str, Path]) -> None:
    _check_against_truth(expected_figures([files["ii_csv"]]), lines)


def test_ii_csv_and_xlsx_give_identical_figures(files: dict[str, Path]) -> None:
    csv_figures = expected_figures([files["ii_csv"]])
    xlsx_figures = expected_figures([files["ii_xlsx"]])
    assert xlsx_figures.figures() == csv_figures.figures()
    assert xlsx_figures.quarantined > 0  # the bad rows, at the same row numbers


def test_old_layout_alone(lines: RetailLines, files: dict[str, Path]) -> None:
    since = lines.since(SPLIT)
    reference = expected_figures([files["ii_since_csv"]]).figures()
    for name in ("old_csv", "old_xlsx"):
        e = expected_figures([files[name]])
        _check_against_truth(e, since)
        assert e.figures() == reference
    assert csv_encoding(files["old_csv"]) == "cp1252"


@pytest.mark.parametrize(
    ("ii", "old"), [("ii_csv", "old_csv"), ("ii_xlsx", "old_xlsx"), ("ii_csv", "old_xlsx")]
)
def test_old_layout_after_ii_adds_nothing(files: dict[str, Path], ii: str, old: str) -> None:
    first = expected_figures([files[ii]])
    both = expected_figures([files[ii], files[old]])
    old_rows = both.rows_per_file[files[old].name]
    assert old_rows > 1000
    assert both.fact_lines == first.fact_lines
    assert both.duplicates == first.duplicates + old_rows
    assert both.quarantine == first.quarantine
    assert both.revenue == first.revenue
    assert both.revenue_by_country == first.revenue_by_country
    assert both.lines_by_kind == first.lines_by_kind


# ------------------------------------------------------------------------------------------ the generator


def _same(a: RetailLines, b: RetailLines) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in RetailLines.__dataclass_fields__)


def test_generation_is_deterministic_per_seed(tmp_path: Path, lines: RetailLines) -> None:
    again = generate_lines(3000, seed=7, bad_rows=True)
    assert _same(lines, again)
    assert not _same(lines, generate_lines(3000, seed=8, bad_rows=True))
    one = write_ii_csv(tmp_path / "a.csv", lines).read_bytes()
    assert one == write_ii_csv(tmp_path / "b.csv", again).read_bytes()
    assert (
        write_old_csv(tmp_path / "a_old.csv", lines).read_bytes()
        == write_old_csv(tmp_path / "b_old.csv", again).read_bytes()
    )


def test_every_quirk_at_3000_lines(lines: RetailLines) -> None:
    counts = quirk_counts(lines)
    minimum = QuirkRates().minimum
    assert len(lines) == 3000
    for quirk in LINE_QUIRKS:
        assert counts[quirk] >= minimum, quirk
    for quirk in (
        "missing_customer", "description_trailing_space", "description_comma", "description_quote",
        "description_non_ascii", "description_empty", "lowercase_stock_code", "blank_date", "quantity_empty",
        "quantity_na",
    ):  # fmt: skip
        assert counts[quirk] >= 1, quirk
    assert 0.15 < counts["missing_customer"] / len(lines) < 0.3
    clean = quirk_counts(generate_lines(3000, seed=7))
    assert clean["blank_date"] == clean["quantity_empty"] == clean["quantity_na"] == 0


def test_quirks_look_like_the_real_data(lines: RetailLines) -> None:
    rows = lines.to_dicts()
    assert {r["country"] for r in rows} <= UCI_COUNTRIES
    assert all(
        r["quantity"] < 0 for r in rows if r["invoice"].startswith("C") and isinstance(r["quantity"], int)
    )
    bad_debt = [r for r in rows if r["invoice"].startswith("A")]
    assert {(r["stock_code"], r["description"], r["quantity"], r["customer_id"]) for r in bad_debt} == {
        ("B", "Adjust bad debt", 1, None)
    }
    assert any(r["price"] > 0 for r in bad_debt) and any(r["price"] < 0 for r in bad_debt)
    for r in (r for r in rows if r["quirk"] == "write_offs"):
        assert r["price"] == 0 and r["quantity"] < 0 and r["customer_id"] is None and r["invoice"].isdigit()
    assert {r["price"] for r in rows if r["stock_code"] == "PADS"} == {D("0.001")}
    assert {r["quantity"] for r in rows if r["stock_code"] == "D"} == {-1}
    seen: Counter[tuple] = Counter()
    for r in rows:
        key = tuple(v for k, v in r.items() if k != "quirk")
        if r["quirk"] == "duplicates":
            assert seen[key] == 1  # a copy of a line earlier in the file (and in the same invoice)
        seen[key] += 1
    "".join(lines.description).encode("cp1252")  # every description fits Windows-1252
    ts = lines.invoice_ts
    assert ts.min() == START and ts.max() == END
    assert not ((ts.astype("datetime64[D]").astype(np.int64) + 3) % 7 == 5).any()  # no Saturdays


def _orphans(window: RetailLines) -> set[tuple[str, str]]:
    """(invoice, stock code) of the cancellations in ``window`` before the product's first sale there."""
    found = set()
    cancelled = np.char.startswith(window.invoice.astype(str), "C")
    sales = (window.quantity > 0) & ~cancelled
    for i in np.flatnonzero(cancelled):
        sold = sales & (window.stock_code == window.stock_code[i])
        if sold.any() and window.invoice_ts[sold].min() > window.invoice_ts[i]:
            found.add((window.invoice[i], window.stock_code[i]))
    return found


def test_orphan_cancellations_precede_the_first_sale(lines: RetailLines) -> None:
    in_ii, in_old = _orphans(lines), _orphans(lines.since(SPLIT))
    orphans = np.flatnonzero(lines.quirk == "orphan_cancellations")
    assert len(orphans) >= QuirkRates().minimum
    for i in orphans:  # each one is an orphan in the II file, or in the old layout's (from 2010-12-01)
        assert (lines.invoice[i], lines.stock_code[i]) in in_ii | in_old
    assert in_ii and in_old


def test_writing_the_full_ii_csv_is_fast(tmp_path: Path) -> None:
    started = time.perf_counter()
    full = generate_lines(II_FILE_LINES)
    generated = time.perf_counter()
    path = write_ii_csv(tmp_path / "online_retail_II.csv", full)
    written = time.perf_counter()
    print(
        f"\n{II_FILE_LINES:,} lines: generate_lines {generated - started:.1f} s, write_ii_csv "
        f"{written - generated:.1f} s, {path.stat().st_size / 1e6:.0f} MB"
    )
