"""lakehouse.platform.sql.literal on the real Spark: what goes in as a literal comes back the same."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lakehouse.platform.sql import literal

pytestmark = pytest.mark.integration

TEXTS = [
    "plain",
    "O'Brien's \"quoted\" shop",
    "a\\b\\\\c\\'d",  # backslashes, one before a quote
    "two\nlines\r\nand\ta tab",
    "£ € ü 日本",
    "",
]


def test_text_comes_back_exactly(spark):
    select = ", ".join(literal(text) for text in TEXTS)
    assert list(spark.query(f"select {select}")[0]) == TEXTS


def test_typed_values_and_nulls(spark):
    ts = datetime(2024, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)
    row = spark.query(
        f"select {literal(None, 'bigint')} is null, typeof({literal(None, 'bigint')}), {literal(42)}, "
        f"cast({literal(ts)} as string)"
    )[0]
    assert list(row) == [True, "bigint", 42, "2024-03-01 12:30:15.25"]
