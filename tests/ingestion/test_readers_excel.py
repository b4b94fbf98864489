"""Excel workbooks read as string columns, and text in the wrong encoding named by its line (no services)."""

from __future__ import annotations

import re
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest
import python_calamine

from ingestion.readers import BadFile, _cell_text, file_format, read_file

HEADER = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"]
EMPTY = [None] * len(HEADER)
SHEETS: dict[str, list[list[object]]] = {
    "Year 2009-2010": [
        HEADER,
        ["489434", 85048, "15CM CHRISTMAS GLASS BALL 20 LIGHTS", 12, datetime(2009, 12, 1, 7, 45),
         6.95, 13085.0, "United Kingdom"],
        ["489434", "79323P", "PINK CHERRY LIGHTS", 6.0, datetime(2009, 12, 1, 7, 45),
         6.75, 13085.0, "United Kingdom"],
        EMPTY,
        ["C489449", "22087", 'PAPER BUNTING, "RETRO SPOTS"', -12, datetime(2009, 12, 1, 10, 33, 20),
         2.55, 16321.0, "Australia"],
        ["489450", 21523, "DOORMAT", 6, datetime(2009, 12, 1, 10, 45), 0.85, None, "EIRE"],
    ],
    "Year 2010-2011": [
        HEADER,
        ["A563186", "B", "Adjust bad debt", 1, datetime(2011, 8, 12, 14, 51),
         -11062.06, None, "United Kingdom"],
        EMPTY,
        ["581587", 22138, "BAKING SET 9 PIECE RETROSPOT", 3, datetime(2011, 12, 9, 12, 50),
         4.95, 12346.0, "France"],
        EMPTY,
    ],
}  # fmt: skip


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def _rows(path: Path, chunk_rows: int = 100_000) -> list[dict[str, str]]:
    return pa.Table.from_batches(list(read_file(str(path), chunk_rows=chunk_rows))).to_pylist()


@pytest.fixture(params=["calamine", "openpyxl"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with python-calamine, then with the openpyxl fallback (calamine not importable)."""
    if request.param == "openpyxl":
        monkeypatch.setitem(sys.modules, "python_calamine", None)
    return request.param


def test_xlsx_and_xlsm_are_excel() -> None:
    assert file_format("s3://b/Online Retail.xlsx") == file_format("x/online_retail_II.XLSM") == "xlsx"


def test_online_retail_ii_workbook_reads_every_row_of_both_sheets(tmp_path: Path, engine: str) -> None:
    path = _workbook(tmp_path / "online_retail_II.xlsx", SHEETS)
    written = sum(1 for rows in SHEETS.values() for row in rows[1:] if row != EMPTY)
    batches = list(read_file(str(path)))
    assert [b.schema.names for b in batches] == [HEADER, HEADER]  # one chunk per sheet, its own header
    assert all(t == pa.string() for b in batches for t in b.schema.types)
    rows = pa.Table.from_batches(batches).to_pylist()
    assert len(rows) == written == 6
    assert rows[0] == {
        "Invoice": "489434",
        "StockCode": "85048",  # an integer stock code
        "Description": "15CM CHRISTMAS GLASS BALL 20 LIGHTS",
        "Quantity": "12",
        "InvoiceDate": "2009-12-01 07:45:00",
        "Price": "6.95",
        "Customer ID": "13085",  # a float customer id, without '.0'
        "Country": "United Kingdom",
    }
    assert rows[1]["StockCode"] == "79323P" and rows[1]["Quantity"] == "6"  # 6.0 -> '6'
    cancelled = rows[2]
    assert cancelled["Invoice"] == "C489449" and cancelled["Quantity"] == "-12"
    assert cancelled["Description"] == 'PAPER BUNTING, "RETRO SPOTS"'
    assert cancelled["InvoiceDate"] == "2009-12-01 10:33:20" and cancelled["Price"] == "2.55"
    assert rows[3]["Customer ID"] == "" and rows[3]["Price"] == "0.85"  # empty customer: ''
    assert [r["Invoice"] for r in rows[4:]] == ["A563186", "581587"]  # the second sheet
    assert rows[4]["Price"] == "-11062.06" and rows[5]["Customer ID"] == "12346"


def test_chunks_hold_at_most_chunk_rows_and_never_span_sheets(tmp_path: Path, engine: str) -> None:
    path = _workbook(tmp_path / "o.xlsx", SHEETS)
    assert [b.num_rows for b in read_file(str(path), chunk_rows=3)] == [3, 1, 2]


def test_sheets_keep_their_own_columns_and_empty_sheets_are_skipped(tmp_path: Path, engine: str) -> None:
    sheets = {
        "first": [[None], [None, "a", "b"], [None, 1, 2.5]],  # header in row 2, from column B
        "empty": [],
        "blank rows only": [[None, None], [None]],
        "other": [["a", "c", None], [True, None, None], [False, date(2011, 1, 2), None]],
    }
    path = _workbook(tmp_path / "o.xlsx", sheets)
    batches = list(read_file(str(path)))
    assert [b.to_pylist() for b in batches] == [
        [{"a": "1", "b": "2.5"}],
        [{"a": "true", "c": ""}, {"a": "false", "c": "2011-01-02"}],
    ]


def test_duplicate_header_names_are_a_bad_file(tmp_path: Path, engine: str) -> None:
    path = _workbook(tmp_path / "o.xlsx", {"s": [["a", "b", "a"], [1, 2, 3]]})
    with pytest.raises(BadFile, match=r"^duplicate column names in the header: a$"):
        _rows(path)


def test_one_empty_header_name_is_kept_as_in_csv(tmp_path: Path, engine: str) -> None:
    path = _workbook(tmp_path / "o.xlsx", {"s": [["a", None, "b"], [1, 2, 3]]})
    assert _rows(path) == [{"a": "1", "": "2", "b": "3"}]


def test_a_value_beyond_the_header_is_a_bad_file(tmp_path: Path, engine: str) -> None:
    path = _workbook(tmp_path / "o.xlsx", {"s": [["a", "b"], [1, 2], [1, 2, 3]]})
    with pytest.raises(BadFile, match=r"^sheet 's': a value in a column without a header$"):
        _rows(path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"Invoice,StockCode\n536365,85123A\n", "not an .xlsx workbook (not a zip archive)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "an old .xls or a password-protected file"),
        (b"PK\x03\x04" + bytes(100), "unreadable xlsx"),  # a broken zip: both readers fail
    ],
)
def test_a_file_that_is_not_a_workbook_is_a_bad_file(
    tmp_path: Path, engine: str, content: bytes, reason: str
) -> None:
    path = tmp_path / "Online Retail.xlsx"
    path.write_bytes(content)
    with pytest.raises(BadFile, match=re.escape(reason)) as err:
        _rows(path)
    assert "\n" not in str(err.value)


def test_openpyxl_reads_what_calamine_cannot_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _workbook(tmp_path / "o.xlsx", SHEETS)
    expected = _rows(path)
    opened: list[bytes] = []

    class Refusing:
        @classmethod
        def from_filelike(cls, handle):
            opened.append(handle.read(4))  # moves the handle: the fallback must rewind it
            raise python_calamine.CalamineError("simulated: calamine cannot open this workbook")

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Refusing)
    assert _rows(path) == expected
    assert opened == [b"PK\x03\x04"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("", ""),
        (" 007 ", " 007 "),
        (True, "true"),
        (False, "false"),
        (6, "6"),
        (6.0, "6"),
        (-12.0, "-12"),
        (12346.0, "12346"),
        (-0.0, "0"),
        (2.55, "2.55"),
        (0.85, "0.85"),
        (-11062.06, "-11062.06"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e20, "1e+20"),
        (datetime(2010, 12, 1, 8, 26), "2010-12-01 08:26:00"),
        (datetime(2010, 12, 1, 8, 26, 59, 600_000), "2010-12-01 08:27:00"),  # nearest second
        (datetime(2010, 12, 1, 8, 26, 59, 400_000), "2010-12-01 08:26:59"),
        (datetime(2010, 12, 1), "2010-12-01"),  # no time of day: what calamine gives as a date
        (date(2010, 12, 1), "2010-12-01"),
        (time(8, 26, 5), "08:26:05"),
        (time(0, 0), "00:00:00"),
        (time(23, 59, 59, 900_000), "23:59:59"),
        (timedelta(hours=36, seconds=1), "36:00:01"),
        (-timedelta(minutes=90), "-1:30:00"),
    ],
)
def test_cell_text(value: object, text: str) -> None:
    assert _cell_text(value) == text


def test_read_excel_through_the_online_retail_importer(tmp_path: Path, engine: str) -> None:
    from ingestion.importers.layouts import load_layouts
    from ingestion.importers.online_retail import read_and_derive

    path = _workbook(tmp_path / "online_retail_II.xlsx", SHEETS)
    derived = read_and_derive(str(path), load_layouts(), None, "utf-8")
    assert derived.layout.name == "online_retail_ii"
    lines = derived.order_lines.to_pylist()
    assert [r["invoice_no"] for r in lines] == ["489434", "489434", "C489449", "489450", "A563186", "581587"]
    assert lines[2]["line_type"] == "sale" and lines[4]["line_type"] == "bad_debt"


# ---------------------------------------------------------------------------------------------- encodings

CP1252_ROWS = ["name,price", "José,£5", "Zoë,€3", "Frédéric,£12.50"]


def _line_of(data: bytes, byte: int) -> int:
    return data[: data.index(bytes([byte]))].count(b"\n") + 1


@pytest.mark.parametrize(
    ("padding", "failing"),
    [(0, UnicodeDecodeError), (30_000, pa.ArrowInvalid)],
    ids=["header-decoder", "pyarrow"],  # the first 64 KiB are decoded by us, the rest by pyarrow
)
def test_cp1252_csv_reads_with_its_encoding_and_names_the_line_otherwise(
    tmp_path: Path, padding: int, failing: type[Exception]
) -> None:
    lines = CP1252_ROWS[:1] + ["Ann,1"] * padding + CP1252_ROWS[1:]
    data = ("\r\n".join(lines) + "\r\n").encode("cp1252")
    path = tmp_path / "customers.csv"
    path.write_bytes(data)

    rows = pa.Table.from_batches(list(read_file(str(path), encoding="cp1252"))).to_pylist()
    assert len(rows) == len(lines) - 1
    assert rows[-3:] == [
        {"name": "José", "price": "£5"},
        {"name": "Zoë", "price": "€3"},
        {"name": "Frédéric", "price": "£12.50"},
    ]

    first = next(i for i, byte in enumerate(data) if byte >= 0x80)  # the é of José
    line, byte = data[:first].count(b"\n") + 1, data[first]
    assert line == padding + 2
    with pytest.raises(BadFile) as err:
        list(read_file(str(path)))
    assert str(err.value) == f"not valid utf-8 text at line {line} (byte 0x{byte:02x}); try --encoding cp1252"
    assert isinstance(err.value.__cause__, failing)


def test_bad_byte_in_a_json_lines_file_names_its_line(tmp_path: Path) -> None:
    data = '{"a": "x"}\n\n{"a": "£"}\n'.encode("latin-1")
    path = tmp_path / "e.jsonl"
    path.write_bytes(data)
    with pytest.raises(BadFile, match=f"^not valid utf-8 text at line {_line_of(data, 0xA3)} "):
        list(read_file(str(path)))


def test_undefined_cp1252_byte_names_its_line(tmp_path: Path) -> None:
    data = b"a,b\n1,x\n2,\x81\n"  # 0x81 is not a cp1252 character
    path = tmp_path / "o.csv"
    path.write_bytes(data)
    with pytest.raises(BadFile, match=r"^not valid cp1252 text at line 3 \(byte 0x81\); check --encoding$"):
        list(read_file(str(path), encoding="cp1252"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "o.csv"
    path.write_bytes("\ufeffInvoice,Description\n536365,CRÈME BRÛLÉE\n".encode())
    batches = list(read_file(str(path), encoding=encoding))
    assert batches[0].schema.names == ["Invoice", "Description"]
    assert batches[0].to_pylist() == [{"Invoice": "536365", "Description": "CRÈME BRÛLÉE"}]


def test_unknown_encoding_is_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("a\n1\n")
    with pytest.raises(BadFile, match="unknown text encoding no-such-codec"):
        list(read_file(str(path), encoding="no-such-codec"))
