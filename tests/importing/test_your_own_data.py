"""Your own data, end to end: files in both UCI layouts through `python -m flows import` into an empty lake.

Every expected figure comes from the files themselves (tests/support/expected.py reads them with csv and
openpyxl and applies the documented rules), never from the models. The files are made by the UCI-layout
generator with the real data sets' quirks: float customer ids, empty customers, C and A invoices, service
codes, zero prices, quoted descriptions, odd country names, exact duplicates, a byte-order mark, plus lines
with no date and no quantity.

Steps share one lake and run in file order (two flow runs with a `dbt build` each: the suite's budget):
1. an empty lake builds (no clickstream, no exchange rates, no customers, nothing): `python -m flows
   recovery` passes and gold is empty;
2. Online Retail II as CSV (BOM, UTF-8) and the overlapping older Online Retail as the .xlsx workbook and as
   a CSV with its month-first dates (`12/1/2010 8:26`), in one import → gold: lines (none twice),
   duplicates (the older files' lines are all second copies), quarantine with reasons, revenue total, by
   country and by kind of line, the ledger closed;
3. the older file as a Windows-1252 CSV read as UTF-8 fails with one line naming the file and the line,
   and lands nothing of it;
4. a corrected file re-sent under its name (one line removed, one changed, one added) restates its batch:
   fact, quarantine, gold and ledger are what the files as they now are give, and the batch history keeps
   the replaced version.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from ingestion.generate.online_retail import generate_lines, write_ii_csv, write_old_csv, write_old_xlsx
from lakehouse.platform.settings import REPO_ROOT
from lakehouse.platform.sql import SparkSQL
from tests.support.expected import Expected, expected_figures

pytestmark = pytest.mark.integration

LINES = 3_000  # every quirk occurs at least three times at this size
CORRECTED = "online_retail_corrections.csv"  # a second, small export, landed in step 2, corrected in step 4


def flows(*args: str) -> subprocess.CompletedProcess:
    """`python -m flows <args>` as a user runs it (a child process with the test session's settings)."""
    return subprocess.run(
        [sys.executable, "-m", "flows", *args], cwd=REPO_ROOT, env=os.environ.copy(),
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip


def tail(res: subprocess.CompletedProcess, lines: int = 40) -> str:
    return "\n".join((res.stdout + res.stderr).splitlines()[-lines:])


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    lines = generate_lines(LINES, seed=7, bad_rows=True)
    folder = tmp_path_factory.mktemp("uci")
    return {
        "ii_csv": write_ii_csv(folder / "online_retail_II.csv", lines, bom=True),
        "old_xlsx": write_old_xlsx(folder / "Online Retail.xlsx", lines),
        "old_csv": write_old_csv(folder / "online_retail_utf8.csv", lines, encoding="utf-8"),
        "old_cp1252": write_old_csv(folder / "online_retail_cp1252.csv", lines, encoding="cp1252"),
        "small": write_ii_csv(folder / CORRECTED, generate_lines(300, seed=11), bom=False),
        "small_corrected": _corrected(folder, tmp_path_factory.mktemp("corrected") / CORRECTED),
    }


def _corrected(folder: Path, target: Path) -> Path:
    """The small export corrected: its 6th line removed, the 11th line's quantity one more, a copy of the 21st
    line added under invoice 999999. The same file name, so the same batch id."""
    with (folder / CORRECTED).open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    quantity, invoice = header.index("Quantity"), header.index("Invoice")
    rows[10][quantity] = str(int(rows[10][quantity]) + 1)
    rows.append([*rows[20][:invoice], "999999", *rows[20][invoice + 1 :]])
    del rows[5]
    with target.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *rows])
    return target


@pytest.fixture(scope="module")
def empty_lake(lake, empty_lake_and_gold):
    empty_lake_and_gold()
    return lake


def order_line_ledger(spark: SparkSQL) -> tuple[int, int, int, int, int]:
    """(landed, fact, open quarantine, duplicates, unreconciled) over every order-line batch."""
    row = spark.query(
        "select sum(landed_rows), sum(fact_rows), sum(quarantined_rows), sum(duplicate_rows), "
        "sum(unreconciled_rows) from marts.audit_batch_reconciliation"
    )[0]
    return tuple(int(v or 0) for v in row)


def check_gold_and_lake(settings, expected: Expected) -> None:
    with psycopg.connect(settings.gold_url) as pg:
        lines, distinct, revenue = pg.execute(
            "select count(*), count(distinct order_line_key), sum(amount_in_reporting_currency) "
            "from gold.order_lines"
        ).fetchone()
        by_country = dict(pg.execute("select country, net_revenue from gold.sales_by_region").fetchall())
        by_kind = dict(
            pg.execute(
                "select line_type, sum(amount_in_reporting_currency) from gold.order_lines group by line_type"
            ).fetchall()
        )
        product, other = pg.execute(
            "select sum(product_revenue), sum(other_revenue) from gold.sales_by_region"
        ).fetchone()
    assert lines == distinct == expected.fact_lines
    assert revenue == expected.revenue
    assert by_country == {k: v for k, v in expected.revenue_by_country.items()}
    assert by_kind == {k: v for k, v in expected.revenue_by_kind.items()}
    assert product == expected.revenue_by_kind.get("sale", Decimal(0))
    assert other == expected.revenue - product

    with SparkSQL(settings) as spark:
        quarantined = spark.query(
            "select _source_file, _row_number, failure_reasons from marts.quarantine_order_lines "
            "where status = 'open'"
        )
        landed, fact, open_quarantine, duplicates, unreconciled = order_line_ledger(spark)
    got = sorted((Path(f).name, int(n), tuple(sorted(json.loads(r)))) for f, n, r in quarantined)
    assert got == sorted((f, n, tuple(r)) for f, n, r in expected.quarantine)
    assert (landed, fact, open_quarantine, duplicates, unreconciled) == (
        expected.total_rows, expected.fact_lines, len(expected.quarantine), expected.duplicates, 0,
    )  # fmt: skip


def test_1_a_lake_with_nothing_builds(empty_lake):
    res = flows("recovery")  # services up (the lake's tables are created empty), dbt build, export
    assert res.returncode == 0, tail(res)
    with psycopg.connect(empty_lake.gold_url) as pg:
        assert pg.execute("select count(*) from gold.order_lines").fetchone() == (0,)
        assert pg.execute("select count(*) from gold.conversion_funnel").fetchone() == (0,)


def test_2_both_layouts_to_gold_and_no_line_twice(empty_lake, files):
    layouts = [files["ii_csv"], files["old_xlsx"], files["old_csv"]]
    res = flows("import", *map(str, layouts), str(files["small"]))
    assert res.returncode == 0, tail(res)
    assert "Import run" in res.stdout and "Gold is loaded" in res.stdout
    both = expected_figures(layouts)
    assert both.fact_lines == expected_figures([files["ii_csv"]]).fact_lines  # the files overlap
    # every line of the older files again: a month-first date read any other way would make a new line
    assert both.duplicates > 2 * expected_figures([files["old_xlsx"]]).total_rows
    check_gold_and_lake(empty_lake, expected_figures([*layouts, files["small"]]))


def test_3_a_wrong_encoding_is_one_line_naming_file_and_line(empty_lake, files):
    raw = files["old_cp1252"].read_bytes()
    first_non_ascii = next(i for i, byte in enumerate(raw) if byte >= 0x80)
    bad_line = raw[:first_non_ascii].count(b"\n") + 1  # the header is line 1
    res = flows("import", str(files["old_cp1252"]))  # utf-8 by default
    assert res.returncode == 1
    (error,) = [line for line in res.stderr.splitlines() if line.startswith("error: ")]
    assert "online_retail_cp1252.csv" in error and f"line {bad_line}" in error and "--encoding" in error
    with SparkSQL(empty_lake) as spark:
        assert spark.scalar("select count(*) from raw.order_lines where _source_file like '%cp1252%'") == 0


def test_4_a_corrected_file_restates_its_batch(empty_lake, files):
    before = expected_figures([files["small"]])
    after = expected_figures([files["small_corrected"]])
    assert (after.total_rows, after.revenue) != (before.total_rows, before.revenue)
    removed = files["small"].read_text(encoding="utf-8").splitlines()[6]
    assert removed not in files["ii_csv"].read_text(encoding="utf-8-sig")  # the line leaves for good

    res = flows("import", str(files["small_corrected"]))
    assert res.returncode == 0, tail(res)
    files_now = [files["ii_csv"], files["old_xlsx"], files["old_csv"], files["small_corrected"]]
    check_gold_and_lake(empty_lake, expected_figures(files_now))
    with SparkSQL(empty_lake) as spark:
        batch = "order_lines__online_retail_corrections"
        where = f"where batch_id = '{batch}'"
        history = spark.query(f"select rows from raw._batch_history {where} order by finished_at")
        ledger = spark.query(f"select landed_rows from marts.audit_batch_reconciliation {where}")
    assert [rows for (rows,) in history] == [before.total_rows, after.total_rows]
    assert ledger == [(after.total_rows,)]
