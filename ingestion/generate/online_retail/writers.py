"""The lines written in either layout: CSV (vectorised, one ``csv.writer`` pass) and xlsx (openpyxl's
write-only mode)."""

from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from ingestion.generate.online_retail.layout import (
    II_HEADER,
    II_SHEETS,
    NO_CUSTOMER,
    OLD_HEADER,
    OLD_SHEET,
    SPLIT,
)
from ingestion.generate.online_retail.lines import RetailLines


def _price_texts(milli: np.ndarray, excel: bool) -> list[str]:
    """Prices as Python prints the floats (II: 18.0, 2.55, 0.001) or as Excel does (old: 18, 2.55, 0)."""
    uniq, inverse = np.unique(milli, return_inverse=True)
    if excel:
        texts = [format(Decimal(int(m)).scaleb(-3).normalize(), "f") for m in uniq.tolist()]
    else:
        texts = [repr(int(m) / 1000) for m in uniq.tolist()]
    return np.array(texts, dtype=object)[inverse].tolist()


def _date_texts(lines: RetailLines, old: bool) -> list[str]:
    uniq, inverse = np.unique(lines.invoice_ts, return_inverse=True)
    texts = []
    for ts in uniq.astype(datetime).tolist():
        if old:
            texts.append(f"{ts.month}/{ts.day}/{ts.year} {ts.hour}:{ts.minute:02d}")
        else:
            texts.append(ts.strftime("%Y-%m-%d %H:%M:%S"))
    out = np.array(texts, dtype=object)[inverse]
    out[lines.blank_date] = ""
    return out.tolist()


def _customer_texts(ids: np.ndarray, old: bool) -> list[str]:
    uniq, inverse = np.unique(ids, return_inverse=True)
    texts = ["" if c == NO_CUSTOMER else (str(c) if old else f"{c}.0") for c in uniq.tolist()]
    return np.array(texts, dtype=object)[inverse].tolist()


def _quantity_texts(lines: RetailLines) -> list[str]:
    out = lines.quantity.astype(str).astype(object)
    bad = np.not_equal(lines.quantity_text, np.array(None, dtype=object))
    out[bad] = lines.quantity_text[bad]
    return out.tolist()


def _write_csv(path: Path, lines: RetailLines, old: bool, encoding: str, lineterminator: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = (
        lines.invoice.tolist(),
        lines.stock_code.tolist(),
        lines.description.tolist(),
        _quantity_texts(lines),
        _date_texts(lines, old),
        _price_texts(lines.price_milli, excel=old),
        _customer_texts(lines.customer_id, old),
        lines.country.tolist(),
    )
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator=lineterminator)
        writer.writerow(OLD_HEADER if old else II_HEADER)
        writer.writerows(zip(*columns, strict=True))
    return path


def write_ii_csv(path: str | Path, lines: RetailLines, bom: bool = True) -> Path:
    """All lines in the Online Retail II layout, UTF-8 (with a byte-order mark, as the common re-export)."""
    return _write_csv(
        Path(path), lines, old=False, encoding="utf-8-sig" if bom else "utf-8", lineterminator="\n"
    )


def write_old_csv(path: str | Path, lines: RetailLines, encoding: str = "cp1252") -> Path:
    """The lines from 2010-12-01 on in the Online Retail layout (Windows-1252, CRLF, as the re-exports)."""
    return _write_csv(Path(path), lines.since(SPLIT), old=True, encoding=encoding, lineterminator="\r\n")


def _code_cell(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _xlsx_rows(lines: RetailLines, old: bool) -> Any:
    prices = (lines.price_milli / 1000).tolist()
    stamps = lines.invoice_ts.astype(datetime).tolist()
    for i in range(len(lines)):
        customer = int(lines.customer_id[i])
        qtext = lines.quantity_text[i]
        yield (
            _code_cell(lines.invoice[i]),
            _code_cell(lines.stock_code[i]),
            lines.description[i] or None,
            int(lines.quantity[i]) if qtext is None else (qtext or None),
            None if lines.blank_date[i] else stamps[i],
            prices[i],
            None if customer == NO_CUSTOMER else (customer if old else float(customer)),
            lines.country[i],
        )


def _write_xlsx(path: Path, sheets: list[tuple[str, RetailLines]], old: bool) -> Path:
    from openpyxl import Workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    for title, lines in sheets:
        ws = wb.create_sheet(title)
        ws.append(OLD_HEADER if old else II_HEADER)
        for row in _xlsx_rows(lines, old):
            ws.append(row)
    wb.save(path)
    return path


def write_ii_xlsx(path: str | Path, lines: RetailLines) -> Path:
    """All lines as online_retail_II.xlsx: sheet "Year 2009-2010" before 2010-12-01, "Year 2010-2011" from it
    (the real sheets overlap by a few days; these split cleanly)."""
    return _write_xlsx(
        Path(path), [(II_SHEETS[0], lines.until(SPLIT)), (II_SHEETS[1], lines.since(SPLIT))], old=False
    )


def write_old_xlsx(path: str | Path, lines: RetailLines) -> Path:
    """The lines from 2010-12-01 on as "Online Retail.xlsx" (one sheet "Online Retail")."""
    return _write_xlsx(Path(path), [(OLD_SHEET, lines.since(SPLIT))], old=True)
