"""Landing against the real Spark Thrift Server: counts, lineage, idempotence, failures alone.

Each test lands into its own schema (not ``raw``) and raw zone under ``tmp_path``, dropped afterwards.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from ingestion.contract import SOURCES
from ingestion.generate import DirtRates, GeneratorConfig, generate_dataset
from ingestion.importers.layouts import load_layouts
from ingestion.importers.online_retail import import_inputs
from ingestion.inputs import file_inputs
from ingestion.land import Lander
from ingestion.rawzone import RawZone
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.sql import SparkSQL

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingestion"
_counter = itertools.count()


@pytest.fixture
def lander(spark: SparkSQL, tmp_path: Path) -> Iterator[Lander]:
    schema = f"it_ingest_{next(_counter)}"
    _drop(spark, schema)
    yield Lander(
        spark, RawZone(str(tmp_path / "raw")), ingest_date="2024-02-01", progress=False, schema=schema
    )
    _drop(spark, schema)


def _drop(spark: SparkSQL, schema: str) -> None:
    if schema in {r[0] for r in spark.query("show databases")}:
        spark.execute(f"drop table if exists {schema}._batches purge")
        spark.execute(f"drop table if exists {schema}._batch_history purge")
        spark.execute(f"drop database if exists {schema} cascade")


def _count(spark: SparkSQL, lander: Lander, table: str, where: str = "true") -> int:
    return spark.scalar(f"select count(*) from {lander.schema}.{table} where {where}")


def _manifest(spark: SparkSQL, lander: Lander) -> dict[str, tuple]:
    rows = spark.query(f"select batch_id, status, rows, error, checksum from {lander.schema}._batches")
    return {r[0]: r[1:] for r in rows}


def test_generated_dataset_lands_every_row_with_lineage(
    spark: SparkSQL, lander: Lander, tmp_path: Path
) -> None:
    config = GeneratorConfig(
        seed=5, days=1, products=30, customers=40, lines_per_day=400, sessions_per_day=10,
        dirt=DirtRates(schema_drift=0.5),
    )  # fmt: skip
    files = generate_dataset(config, tmp_path / "src", progress=False)
    report = lander.land(file_inputs([str(tmp_path / "src")]))
    assert report.failed == []
    expected: dict[str, int] = {}
    for f in files:
        n = sum(1 for _ in f.open()) if f.suffix == ".jsonl" else pacsv.read_csv(f).num_rows
        expected[f.parent.name] = expected.get(f.parent.name, 0) + n
    for src, skipped in itertools.groupby(
        sorted(report.skipped, key=lambda o: o.source), key=lambda o: o.source
    ):
        for o in skipped:  # identical master-data files of two mornings land once
            expected[src] -= pacsv.read_csv(o.file).num_rows
    for src, n in expected.items():
        assert _count(spark, lander, src) == n, src

    cols = [c[0] for c in spark.query(f"describe {lander.schema}.order_lines")]
    lineage = ["_extra", "_batch_id", "_source_file", "_row_number", "_ingested_at"]
    assert cols[: len(SOURCES["order_lines"].columns) + 5] == [*SOURCES["order_lines"].columns, *lineage]
    bad = spark.scalar(
        f"select count(*) from {lander.schema}.order_lines where _batch_id is null or _batch_id != batch_id"
        " or _source_file is null or _row_number is null or _ingested_at is null"
    )
    assert bad == 0
    # row numbers are 1..n within each batch, and drifted columns are kept in _extra
    per_batch = spark.query(
        f"select batch_id, count(*), min(_row_number), max(_row_number), count(_extra) "
        f"from {lander.schema}.order_lines group by batch_id"
    )
    assert all(lo == 1 and hi == n for _b, n, lo, hi, _e in per_batch)
    assert any(e > 0 for *_x, e in per_batch)
    assert {b[0] for b in per_batch} == {o.batch_id for o in report.succeeded if o.source == "order_lines"}


def test_same_file_is_skipped_and_same_batch_id_replaced(
    spark: SparkSQL, lander: Lander, tmp_path: Path
) -> None:
    src = tmp_path / "order_lines"
    src.mkdir()
    f = src / "order_lines_2024-02-01T10.csv"
    f.write_text("invoice_no,stock_code,quantity,invoice_date\n1,A,1,2024-02-01 10:00:00\n2,B,2,x\n")
    assert len(lander.land(file_inputs([str(f)])).succeeded) == 1
    again = lander.land(file_inputs([str(f)]))
    assert [o.status for o in again.outcomes] == ["skipped"]
    copy = tmp_path / "order_lines_copy.csv"  # same content under another name: skipped too
    shutil.copy(f, copy)
    assert [o.status for o in lander.land(file_inputs([str(copy)], source="order_lines")).outcomes] == [
        "skipped"
    ]
    assert _count(spark, lander, "order_lines") == 2

    f.write_text("invoice_no,stock_code,quantity,invoice_date\n1,A,1,2024-02-01 10:00:00\n2,B,2,x\n3,C,3,y\n")
    replaced = lander.land(file_inputs([str(f)]))
    assert [o.status for o in replaced.outcomes] == ["succeeded"]
    assert _count(spark, lander, "order_lines") == 3
    forced = Lander(spark, lander.zone, ingest_date="2024-02-02", progress=False, schema=lander.schema)
    assert len(forced.land(file_inputs([str(f)]), force=True).succeeded) == 1
    assert _count(spark, lander, "order_lines") == 3
    assert spark.query(f"select distinct ingest_date from {lander.schema}.order_lines") == [("2024-02-02",)]
    manifest = _manifest(spark, lander)
    assert list(manifest) == ["order_lines_2024-02-01T10"]
    assert manifest["order_lines_2024-02-01T10"][:2] == ("succeeded", 3)
    # the history keeps every version the batch id had: 2 rows, then 3 (replaced), then 3 again (forced)
    history = spark.query(
        f"select rows, checksum from {lander.schema}._batch_history "
        "where batch_id = 'order_lines_2024-02-01T10' order by finished_at"
    )
    assert [rows for rows, _ in history] == [2, 3, 3]
    assert history[0][1] != history[1][1] == history[2][1]


def test_a_bad_file_fails_its_batch_alone(spark: SparkSQL, lander: Lander, tmp_path: Path) -> None:
    src = tmp_path / "order_lines"
    src.mkdir()
    (src / "order_lines_good.csv").write_text("invoice_no,stock_code,quantity,invoice_date\n1,A,1,d\n")
    (src / "order_lines_corrupt.parquet").write_bytes(b"this is not parquet at all")  # a corrupt file
    (src / "order_lines_empty.csv").write_text("")
    (src / "order_lines_narrow.csv").write_text("invoice_no,stock_code\n1,A\n")
    report = lander.land(file_inputs([str(src)]))
    assert [o.batch_id for o in report.succeeded] == ["order_lines_good"]
    manifest = _manifest(spark, lander)
    assert manifest["order_lines_corrupt"][0] == "failed" and "parquet" in manifest["order_lines_corrupt"][2]
    assert manifest["order_lines_empty"][:3] == ("failed", None, "empty file")
    assert "missing required column" in manifest["order_lines_narrow"][2]
    assert spark.query(f"select distinct batch_id from {lander.schema}.order_lines") == [
        ("order_lines_good",)
    ]
    assert len(spark.query(f"show partitions {lander.schema}.order_lines")) == 1
    # a failed batch id re-landed with good content succeeds (a failure is never a skip)
    (src / "order_lines_narrow.csv").write_text("invoice_no,stock_code,quantity,invoice_date\n9,Z,1,d\n")
    again = lander.land(file_inputs([str(src / "order_lines_narrow.csv")]))
    assert [o.status for o in again.outcomes] == ["succeeded"]
    assert _count(spark, lander, "order_lines") == 2


def test_both_online_retail_layouts_import(spark: SparkSQL, lander: Lander) -> None:
    layouts = load_layouts()
    inputs = [
        i
        for name in ("online_retail_sample.csv", "online_retail_ii_sample.csv")
        for i in import_inputs(str(FIXTURES / "online_retail" / name), layouts)
    ]
    report = lander.land(inputs)
    assert report.failed == [] and len(report.succeeded) == 8
    rows = spark.query(
        f"select source_layout, count(*), sum(case when invoice_no like 'C%' then 1 else 0 end), "
        f"count(_extra) from {lander.schema}.order_lines group by source_layout order by 1"
    )
    assert rows == [("online_retail", 10, 1, 0), ("online_retail_ii", 9, 1, 9)]
    assert _count(spark, lander, "products", "stock_code = '85123A'") == 1
    assert _count(spark, lander, "countries") == 4 + 4
    assert _count(spark, lander, "customers") == 4 + 3


def test_a_file_without_customers_imports_with_an_empty_customer_batch(
    spark: SparkSQL, lander: Lander, tmp_path: Path
) -> None:
    f = tmp_path / "anonymous.csv"
    f.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536365,85123A,HEART,6,12/1/2010 8:26,2.55,,United Kingdom\n"
        "536366,POST,POSTAGE,1,12/1/2010 8:28,18.00,,France\n"
    )
    report = lander.land(import_inputs(str(f), load_layouts()))
    assert report.failed == [] and len(report.succeeded) == 4
    assert {o.source: o.rows for o in report.succeeded} == {
        "countries": 2, "products": 1, "customers": 0, "order_lines": 2,
    }  # fmt: skip
    assert _count(spark, lander, "customers") == 0 and _count(spark, lander, "order_lines") == 2


def test_another_dataset_under_landed_batch_ids_is_refused_up_front(
    spark: SparkSQL, lander: Lander, tmp_path: Path
) -> None:
    """Generated files land with restate=False: another dataset under the same batch ids is refused with one
    line naming the fix, and nothing of it is written; a corrected file (restate=True) replaces its batch."""
    f = tmp_path / "order_lines_2024-02-01T10.csv"
    f.write_text("invoice_no,stock_code,quantity,invoice_date\n1,A,1,2024-02-01 10:00:00\n")
    assert len(lander.land(file_inputs([str(f)]), restate=False).succeeded) == 1
    assert [o.status for o in lander.land(file_inputs([str(f)]), restate=False).outcomes] == ["skipped"]
    f.write_text("invoice_no,stock_code,quantity,invoice_date\n9,Z,9,2024-02-01 10:00:00\n")
    with pytest.raises(
        LakehouseError, match=r"another dataset .* \(e\.g\. order_lines_2024-02-01T10\).*make clean"
    ):
        lander.land(file_inputs([str(f)]), restate=False)
    assert spark.query(f"select invoice_no from {lander.schema}.order_lines") == [("1",)]
    assert len(lander.land(file_inputs([str(f)])).succeeded) == 1
    assert spark.query(f"select invoice_no from {lander.schema}.order_lines") == [("9",)]
