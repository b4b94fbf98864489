"""Files in the two layouts of the public UCI "Online Retail" data sets, with the real data's quirks.

The real files cannot be downloaded here, so tests and the benchmark use look-alikes generated from one set
of canonical order lines (:func:`generate_lines`, deterministic per seed), written in either layout:

- Online Retail II (``online_retail_II.xlsx``, sheets "Year 2009-2010" and "Year 2010-2011", and its UTF-8
  CSV re-export with a byte-order mark): ``Invoice,StockCode,Description,Quantity,InvoiceDate,Price,
  Customer ID,Country``, dates ``2009-12-01 07:45:00``, customer ids as float text ``13085.0``, prices as
  Python floats print them (``18.0``); it covers 2009-12-01 .. 2011-12-09;
- Online Retail (``Online Retail.xlsx``, sheet "Online Retail", and Windows-1252 CSV re-exports):
  ``InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country``, dates
  month-first without leading zeros or seconds (``12/1/2010 8:26``), customer ids as integers, prices as
  Excel prints them (``18``); it holds THE SAME lines as Online Retail II from 2010-12-01 on.

In the workbooks dates are datetime cells, quantities, prices and customer ids numbers (customer ids float
in II, int in the old layout) and invoices and stock codes numbers unless they have letters.

Quirks, as in the real data (rates in :class:`QuirkRates`; each quirk that is on gets at least
``QuirkRates.minimum`` lines, so a few thousand lines still show every one of them):

- about 20% of the product lines on invoices without a customer id (the web shop's "dotcom" invoices:
  big, retail quantities, higher prices with odd cents); about 5,900 customers in 38 countries with the
  UCI names (``EIRE``, ``RSA``, ``USA``, ``Unspecified``, ``European Community``...), 90% United Kingdom;
- about 4,000 products (``85123A``, ``22423``, ``84029E``...), upper-case descriptions, some with a trailing
  space, a comma, double quotes or a non-ASCII character (``£``, ``É``, ``é``: all in Windows-1252), a few
  renamed during the period; prices per product drift over time, lower for bulk quantities;
- cancellations: invoices ``C<number>`` repeating lines of an earlier invoice of the same customer with a
  negative quantity, and cancellations of a product before its first sale in the file (``orphan``);
- bad debt adjustments: invoices ``A<number>``, stock code ``B``, ``Adjust bad debt``, quantity 1, one
  positive price and two negative ones, no customer;
- service lines: ``POST`` (POSTAGE), ``DOT`` (DOTCOM POSTAGE), ``C2`` (CARRIAGE), ``M`` (Manual, also in C
  invoices), ``D`` (Discount, C invoices, quantity -1), ``S`` (SAMPLES, C invoices), ``BANK CHARGES``,
  ``AMAZONFEE`` (C invoices, no customer), ``CRUK`` (CRUK Commission, C invoices), ``PADS`` (price 0.001),
  gift vouchers ``gift_0001_20`` (lower-case code) and ``ADJUST``/``ADJUST2``/``TEST001``/``TEST002``;
- stock write-offs: a product at price 0, negative quantity, no customer, description ``?``, ``damaged``,
  ``check``... on a normal (non-C) invoice; and products at price 0 with an empty description;
- exact duplicates (the same line twice in its invoice) and a huge order cancelled minutes later;
- only with ``bad_rows=True`` (the real files have none): empty InvoiceDate, Quantity empty or ``n/a``.

Writing is vectorised (one ``csv.writer`` pass over precomputed columns): the 1,067,371 lines of the real
Online Retail II file take a few seconds. The workbooks use openpyxl's write-only mode (small files only).
The package, one job per module (each imports only the ones listed before it):
``layout`` (the files' columns, sheets and period), ``reference`` (the shop: countries, products, weights),
``rates`` (:class:`QuirkRates`), ``lines`` (:class:`RetailLines`), ``times`` (invoice times),
``catalogue`` (products, customers, prices), ``builder`` (invoices and line segments in file order),
``sales`` (the ordinary invoices), ``services`` (service lines), ``quirk_lines`` (write-offs,
cancellations, duplicates, bad rows), ``generator`` (:func:`generate_lines`), ``writers`` (CSV and xlsx).
"""

from ingestion.generate.online_retail.generator import generate_lines
from ingestion.generate.online_retail.layout import (
    END,
    II_FILE_LINES,
    II_HEADER,
    II_SHEETS,
    NO_CUSTOMER,
    OLD_HEADER,
    OLD_SHEET,
    SPLIT,
    START,
)
from ingestion.generate.online_retail.lines import RetailLines, quirk_counts
from ingestion.generate.online_retail.rates import LINE_QUIRKS, QuirkRates, quirk_line_counts
from ingestion.generate.online_retail.writers import (
    write_ii_csv,
    write_ii_xlsx,
    write_old_csv,
    write_old_xlsx,
)

__all__ = [
    "END",
    "II_FILE_LINES",
    "II_HEADER",
    "II_SHEETS",
    "LINE_QUIRKS",
    "NO_CUSTOMER",
    "OLD_HEADER",
    "OLD_SHEET",
    "SPLIT",
    "START",
    "QuirkRates",
    "RetailLines",
    "generate_lines",
    "quirk_counts",
    "quirk_line_counts",
    "write_ii_csv",
    "write_ii_xlsx",
    "write_old_csv",
    "write_old_xlsx",
]
