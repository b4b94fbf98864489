"""The two layouts of the Online Retail files and their period: columns, sheet names, the real file's size,
its first and last minute, the day the old layout starts, the range of invoice numbers."""

from __future__ import annotations

import numpy as np

II_HEADER = (
    "Invoice",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "Price",
    "Customer ID",
    "Country",
)
OLD_HEADER = (
    "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country",
)  # fmt: skip
II_SHEETS = ("Year 2009-2010", "Year 2010-2011")
OLD_SHEET = "Online Retail"
II_FILE_LINES = 1_067_371  # rows of the real online_retail_II files
START = np.datetime64("2009-12-01T07:45", "m")
END = np.datetime64("2011-12-09T12:50", "m")
SPLIT = np.datetime64("2010-12-01T00:00", "m")  # first day of the old layout, boundary of the II sheets
NO_CUSTOMER = 0
FIRST_INVOICE, LAST_INVOICE = 489_434, 581_587
NEVER = np.datetime64("2100-01-01T00:00", "m")  # a time after every line (no sale, no rename)
