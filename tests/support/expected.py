"""Expected figures of importing Online Retail files, computed from the files alone.

Independent of the project's ingestion code on purpose: files are read with the ``csv`` module and
openpyxl (read-only), dates are parsed here, so integration tests can compare the warehouse with figures
that come from the files themselves, never from the code under test.

Reading
- CSV: UTF-8 with or without a byte-order mark; a file that is not valid UTF-8 is read as Windows-1252.
  xlsx: every sheet in workbook order, the first row of each sheet is its header. Rows whose cells are all
  empty are skipped (not counted). A row's number is 1-based without the header, counted per file (in a
  workbook across its sheets, in order, as if the sheets were one table).
- Columns by header name, trimmed, case and spaces ignored: either layout (``Invoice``/``InvoiceNo``,
  ``Price``/``UnitPrice``, ``Customer ID``/``CustomerID``, ``StockCode``, ``Quantity``, ``InvoiceDate``,
  ``Country``; ``Description`` is not needed).
- Dates: ``%Y-%m-%d %H:%M:%S`` (Online Retail II) or ``%m/%d/%Y %H:%M`` (Online Retail, ``12/1/2010 8:26``)
  after trimming, or datetime cells (rounded to the second). Anything else is unreadable.
- Quantity: an integer text (optional sign, digits) or an integral number cell; anything else is missing.
- Price: a decimal text or number cell (floats by their shortest repr, ``2.55``); unreadable is an error.

Rules (as the warehouse implements them)
1. Key of a line = (invoice upper-cased and trimmed, stock code upper-cased and trimmed, quantity as int,
   invoice timestamp as parsed, customer id normalised (trimmed, a trailing ``.0`` removed, empty -> None),
   country name trimmed, price as Decimal). A line whose date is unreadable uses the trimmed date text
   instead of the timestamp, one whose quantity is missing the trimmed quantity text. The same key in any
   file is the same line.
2. Lines are taken in file order (files as given, sheets in order, rows in order): the first occurrence of
   a key is kept, every later one is a duplicate (duplicates are counted, never quarantined).
3. A kept line is quarantined, for every reason that applies (reasons sorted):
   ``date_error`` (date missing or unreadable), ``missing_quantity`` (missing or not an integer),
   ``missing_invoice_no`` (empty invoice), ``missing_stock_code`` (empty stock code),
   ``non_positive_quantity``: a product line (stock code not a service code: POST, DOT, C2, M, D, S, B,
   BANK CHARGES, AMAZONFEE, CRUK, PADS, ADJUST, ADJUST2, TEST001, TEST002, nor starting with GIFT) whose
   invoice does not start with C or A, with quantity <= 0 and a price other than 0.
4. Every other kept line is a fact line; its amount is quantity * price to the penny (half up, as money
   is stored: PADS at 0.001 a cushion pad makes 0.00); revenue = the sum of amounts, in total, per country
   name and per kind of line:
   every invoice starting with A -> ``bad_debt``; else by stock code: POST, DOT, C2 -> ``postage``,
   M -> ``manual``, D -> ``discount``, B -> ``bad_debt``, S -> ``sample``, BANK CHARGES, AMAZONFEE,
   CRUK -> ``fee``, PADS -> ``sale``, ADJUST, ADJUST2, TEST001, TEST002 -> ``adjustment``, GIFT* ->
   ``gift_voucher``; a product with quantity < 0 and price 0 on an invoice not starting with C or A ->
   ``stock_adjustment``; every other product line (cancellations included) -> ``sale``.
5. Customers: distinct normalised non-empty customer ids of fact lines; invoices: distinct invoices of
   fact lines.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, Inexact, InvalidOperation, localcontext
from pathlib import Path
from typing import Any, NamedTuple

PENNY = Decimal("0.01")
SERVICE_KINDS = {
    "POST": "postage", "DOT": "postage", "C2": "postage", "M": "manual", "D": "discount",
    "B": "bad_debt", "S": "sample", "BANK CHARGES": "fee", "AMAZONFEE": "fee", "CRUK": "fee",
    "PADS": "sale", "ADJUST": "adjustment", "ADJUST2": "adjustment", "TEST001": "adjustment",
    "TEST002": "adjustment",
}  # fmt: skip
GIFT_PREFIX = "GIFT"
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M")
HEADERS = {
    "invoice": "invoice", "invoiceno": "invoice", "stockcode": "stock_code", "description": "description",
    "quantity": "quantity", "invoicedate": "invoice_date", "price": "price", "unitprice": "price",
    "customerid": "customer_id", "country": "country",
}  # fmt: skip
REQUIRED = ("invoice", "stock_code", "quantity", "invoice_date", "price", "customer_id", "country")
INTEGER = re.compile(r"[+-]?\d+")


class QuarantinedRow(NamedTuple):
    file: str  # the file's name
    row_number: int  # 1-based, header not counted
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Expected:
    total_rows: int
    rows_per_file: dict[str, int]
    fact_lines: int
    duplicates: int
    quarantine: list[QuarantinedRow]
    revenue: Decimal
    revenue_by_country: dict[str, Decimal]
    revenue_by_kind: dict[str, Decimal]
    lines_by_kind: dict[str, int]
    customers: int
    invoices: int
    customer_ids: frozenset[str]
    invoice_nos: frozenset[str]

    @property
    def quarantined(self) -> int:
        return len(self.quarantine)

    def reasons(self) -> dict[str, int]:
        """How many quarantined lines have each reason."""
        return dict(sorted(Counter(r for q in self.quarantine for r in q.reasons).items()))

    def figures(self) -> dict[str, Any]:
        """Everything but the file names: to compare the same lines read from other files."""
        return {
            "total_rows": self.total_rows,
            "fact_lines": self.fact_lines,
            "duplicates": self.duplicates,
            "quarantine": [(q.row_number, q.reasons) for q in self.quarantine],
            "revenue": self.revenue,
            "revenue_by_country": self.revenue_by_country,
            "revenue_by_kind": self.revenue_by_kind,
            "lines_by_kind": self.lines_by_kind,
            "customer_ids": self.customer_ids,
            "invoice_nos": self.invoice_nos,
        }


class FileLine(NamedTuple):
    """One row of a file, normalised by the rules."""

    file: str
    row_number: int
    invoice: str
    stock_code: str
    quantity: int | None
    quantity_text: str
    ts: datetime | None
    date_text: str
    price: Decimal
    customer_id: str | None
    country: str

    def key(self) -> tuple[Any, ...]:
        return (
            self.invoice,
            self.stock_code,
            self.quantity if self.quantity is not None else self.quantity_text,
            self.ts if self.ts is not None else self.date_text,
            self.customer_id,
            self.country,
            self.price,
        )


# ------------------------------------------------------------------------------------------ the figures


def expected_figures(files: list[Path]) -> Expected:
    """The figures an import of ``files`` (in this order) must produce."""
    seen: set[tuple[Any, ...]] = set()
    rows_per_file: dict[str, int] = {}
    duplicates = 0
    quarantine: list[QuarantinedRow] = []
    facts = _Facts()
    with localcontext(prec=60) as ctx:
        ctx.traps[Inexact] = True  # sums are exact or fail
        for path in map(Path, files):
            rows_per_file[path.name] = 0
            for line in read_lines(path):
                rows_per_file[path.name] += 1
                key = line.key()
                if key in seen:
                    duplicates += 1
                    continue
                seen.add(key)
                reasons = quarantine_reasons(line)
                if reasons:
                    quarantine.append(QuarantinedRow(line.file, line.row_number, reasons))
                else:
                    facts.add(line)
    return Expected(
        total_rows=sum(rows_per_file.values()),
        rows_per_file=rows_per_file,
        fact_lines=facts.lines,
        duplicates=duplicates,
        quarantine=quarantine,
        revenue=facts.revenue,
        revenue_by_country=dict(sorted(facts.by_country.items())),
        revenue_by_kind=dict(sorted(facts.by_kind.items())),
        lines_by_kind=dict(sorted(facts.lines_by_kind.items())),
        customers=len(facts.customer_ids),
        invoices=len(facts.invoice_nos),
        customer_ids=frozenset(facts.customer_ids),
        invoice_nos=frozenset(facts.invoice_nos),
    )


class _Facts:
    """Running sums over fact lines."""

    def __init__(self) -> None:
        self.lines = 0
        self.revenue = Decimal(0)
        self.by_country: dict[str, Decimal] = {}
        self.by_kind: dict[str, Decimal] = {}
        self.lines_by_kind: Counter[str] = Counter()
        self.customer_ids: set[str] = set()
        self.invoice_nos: set[str] = set()

    def add(self, line: FileLine) -> None:
        assert line.quantity is not None  # a fact line has one (else it is quarantined)
        kind = line_kind(line.invoice, line.stock_code, line.quantity, line.price)
        # a line's amount is a sum of money: quantity x price to the penny (half up), as the fact stores it
        with localcontext() as ctx:  # the one deliberate rounding (the sums stay exact)
            ctx.traps[Inexact] = False
            amount = (line.quantity * line.price).quantize(PENNY, rounding=ROUND_HALF_UP)
        self.revenue += amount
        self.by_country[line.country] = self.by_country.get(line.country, Decimal(0)) + amount
        self.by_kind[kind] = self.by_kind.get(kind, Decimal(0)) + amount
        self.lines += 1
        self.lines_by_kind[kind] += 1
        if line.customer_id is not None:
            self.customer_ids.add(line.customer_id)
        self.invoice_nos.add(line.invoice)


def is_product(stock_code: str) -> bool:
    return stock_code not in SERVICE_KINDS and not stock_code.startswith(GIFT_PREFIX)


def quarantine_reasons(line: FileLine) -> tuple[str, ...]:
    """Why a kept line is quarantined (sorted; empty: it is a fact line)."""
    reasons = []
    if line.ts is None:
        reasons.append("date_error")
    if line.quantity is None:
        reasons.append("missing_quantity")
    if not line.invoice:
        reasons.append("missing_invoice_no")
    if not line.stock_code:
        reasons.append("missing_stock_code")
    if (
        line.quantity is not None
        and is_product(line.stock_code)
        and not line.invoice.startswith(("C", "A"))
        and line.quantity <= 0
        and line.price != 0
    ):
        reasons.append("non_positive_quantity")
    return tuple(sorted(reasons))


def line_kind(invoice: str, stock_code: str, quantity: int, price: Decimal) -> str:
    if invoice.startswith("A"):
        return "bad_debt"
    if stock_code in SERVICE_KINDS:
        return SERVICE_KINDS[stock_code]
    if stock_code.startswith(GIFT_PREFIX):
        return "gift_voucher"
    if quantity < 0 and price == 0 and not invoice.startswith(("C", "A")):
        return "stock_adjustment"
    return "sale"


# ------------------------------------------------------------------------------------------------ reading


def read_lines(path: Path) -> Iterator[FileLine]:
    """The normalised lines of a CSV or xlsx file, in file order."""
    dates: dict[str, datetime | None] = {}
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    elif suffix in (".csv", ".txt"):
        rows = _csv_rows(path)
    else:
        raise ValueError(f"{path}: not a CSV or xlsx file")
    for number, row in enumerate(rows, start=1):
        yield _line(path.name, number, row, dates)


def csv_encoding(path: Path) -> str:
    """utf-8-sig with a byte-order mark, utf-8 when the bytes are valid UTF-8, else cp1252."""
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _columns(header: list[Any], where: str) -> dict[str, int]:
    names = [str(h if h is not None else "").replace("\ufeff", "").strip() for h in header]
    columns: dict[str, int] = {}
    for i, name in enumerate(names):
        target = HEADERS.get(name.lower().replace(" ", "").replace("_", ""))
        if target and target not in columns:
            columns[target] = i
    missing = [t for t in REQUIRED if t not in columns]
    if missing:
        raise ValueError(f"{where}: no column for {', '.join(missing)} in header {names}")
    return columns


def _pick(row: list[Any] | tuple[Any, ...], columns: dict[str, int]) -> dict[str, Any]:
    return {t: row[i] if i < len(row) else None for t, i in columns.items()}


def _blank(row: list[Any] | tuple[Any, ...]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _csv_rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding=csv_encoding(path), newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return
        columns = _columns(header, str(path))
        for row in reader:
            if not _blank(row):
                yield _pick(row, columns)


def _xlsx_rows(path: Path) -> Iterator[dict[str, Any]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        for ws in wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                continue
            columns = _columns(list(header), f"{path} sheet {ws.title}")
            for row in rows:
                if not _blank(row):
                    yield _pick(row, columns)
    finally:
        wb.close()


# ---------------------------------------------------------------------------------------------- normalising


def _line(file: str, number: int, row: dict[str, Any], dates: dict[str, datetime | None]) -> FileLine:
    quantity_text = _text(row["quantity"]).strip()
    date_text = _text(row["invoice_date"]).strip()
    return FileLine(
        file=file,
        row_number=number,
        invoice=_code(row["invoice"]),
        stock_code=_code(row["stock_code"]),
        quantity=_quantity(row["quantity"]),
        quantity_text=quantity_text,
        ts=_timestamp(row["invoice_date"], dates),
        date_text=date_text,
        price=_price(row["price"], f"{file} row {number}"),
        customer_id=_customer(row["customer_id"]),
        country=_text(row["country"]).strip(),
    )


def _text(value: Any) -> str:
    if type(value) is str:  # every CSV cell: the fast path
        return value
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _code(value: Any) -> str:
    """Invoices and stock codes: number cells as integers, text trimmed and upper-cased."""
    if type(value) is str:
        return value.strip().upper()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _text(value).strip().upper()


def _quantity(value: Any) -> int | None:
    if type(value) is str:
        text = value.strip()
        return int(text) if INTEGER.fullmatch(text) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = _text(value).strip()
    return int(text) if INTEGER.fullmatch(text) else None


def _timestamp(value: Any, cache: dict[str, datetime | None]) -> datetime | None:
    if isinstance(value, datetime):
        return (value + timedelta(microseconds=500_000)).replace(microsecond=0)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text not in cache:
        cache[text] = _parse_date(text)
    return cache[text]


def _parse_date(text: str) -> datetime | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _price(value: Any, where: str) -> Decimal:
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    try:
        return Decimal(_text(value).strip())
    except InvalidOperation:
        raise ValueError(f"{where}: unreadable price {value!r}") from None


def _customer(value: Any) -> str | None:
    text = _text(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    return text or None
