"""Reading files as strings and shaping them into the raw contract, losing nothing (no services)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.conform import Lineage, conform
from ingestion.contract import SOURCES
from ingestion.readers import BadFile, read_file

LINEAGE = Lineage("b1", "file:///x.csv", datetime(2024, 1, 1, tzinfo=UTC))


def _read(path: Path) -> pa.Table:
    return pa.Table.from_batches(list(read_file(str(path))))


def test_csv_values_stay_strings_unchanged(tmp_path: Path) -> None:
    f = tmp_path / "o.csv"
    f.write_text('invoice_no,quantity\n007,"1,5"\n8,\n')
    t = _read(f)
    assert t.to_pylist() == [{"invoice_no": "007", "quantity": "1,5"}, {"invoice_no": "8", "quantity": ""}]


def test_jsonl_keeps_numbers_as_written(tmp_path: Path) -> None:
    f = tmp_path / "e.jsonl"
    f.write_text('{"a": 1.50, "b": null, "c": true}\n\n{"a": 2, "d": {"x": 1}}\n')
    assert _read(f).to_pylist() == [
        {"a": "1.50", "b": None, "c": "true", "d": None},
        {"a": "2", "b": None, "c": None, "d": '{"x": "1"}'},
    ]


def test_parquet_typed_columns_become_strings(tmp_path: Path) -> None:
    f = tmp_path / "p.parquet"
    pq.write_table(pa.table({"q": [1, -2], "p": [2.5, None]}), f)
    assert _read(f).to_pylist() == [{"q": "1", "p": "2.5"}, {"q": "-2", "p": None}]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.csv", b"", "empty file"),
        ("bad.parquet", b"not parquet", "unreadable parquet"),
        ("bad.jsonl", b'{"a": 1}\n{"a": \n', "line 2: invalid JSON"),
        ("ragged.csv", b"a,b\n1,2\n3\n", "unreadable csv"),
        ("latin.csv", b"a\n\xe9\n", "not valid utf-8"),
    ],
)
def test_bad_files_raise_one_line_reasons(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(BadFile, match=reason) as err:
        _read(f)
    assert "\n" not in str(err.value)


def test_conform_maps_names_adds_nulls_extra_and_lineage() -> None:
    chunk = pa.RecordBatch.from_pydict(
        {
            "Invoice No": ["1", "2"],
            "STOCK_CODE": ["A", "B"],
            "quantity": ["1", "-1"],
            "invoice_date": ["x", "y"],
            "promo": ['say "hi"\n', None],
            "odd": ["\x01", "ok"],
        }
    )
    out = conform(chunk, SOURCES["order_lines"], LINEAGE, first_row=11).to_pylist()
    assert out[0]["invoice_no"] == "1" and out[1]["stock_code"] == "B"
    assert out[0]["customer_id"] is None  # column absent from the file
    assert json.loads(out[0]["_extra"]) == {"promo": 'say "hi"\n', "odd": "\x01"}
    assert json.loads(out[1]["_extra"]) == {"promo": None, "odd": "ok"}
    assert [r["_row_number"] for r in out] == [11, 12]
    assert out[0]["_batch_id"] == "b1" and out[0]["_source_file"] == "file:///x.csv"
    assert out[0]["_ingested_at"] == LINEAGE.ingested_at


def test_conform_rejects_missing_required_columns() -> None:
    chunk = pa.RecordBatch.from_pydict({"invoice_no": ["1"], "stock_code": ["A"]})
    with pytest.raises(BadFile, match=r"missing required column.*quantity, invoice_date"):
        conform(chunk, SOURCES["order_lines"], LINEAGE, first_row=1)
