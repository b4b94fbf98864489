"""The lookups' appends: as few statements (Iceberg commits) as the size bounds allow, every row once."""

from __future__ import annotations

import re

import pytest

from ingestion.enrich import lookups


class Recorder:
    """Stands in for the Thrift client: records the statements (the chunking is our own logic)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, sql: str) -> None:
        self.statements.append(sql)


COLUMNS = {"ip_address": "string", "country_id": "string"}


def rows_of(statements: list[str]) -> list[str]:
    return [ip for sql in statements for ip in re.findall(r"\('([^']*)', ", sql)]


@pytest.mark.parametrize(("n", "chunk_rows", "chunk_chars", "expected"), [
    (15_000, 20_000, 2_000_000, 1),  # the demo's new addresses: one commit
    (45_000, 20_000, 2_000_000, 3),  # bounded by rows
    (15_000, 20_000, 100_000, 4),  # by the statement's size (the rows: 305,950 characters)
    (0, 20_000, 2_000_000, 0),  # nothing new: no statement
])  # fmt: skip
def test_rows_go_in_as_few_statements_as_the_bounds_allow(monkeypatch, n, chunk_rows, chunk_chars, expected):
    monkeypatch.setattr(lookups, "CHUNK_ROWS", chunk_rows)
    monkeypatch.setattr(lookups, "CHUNK_CHARS", chunk_chars)
    spark = Recorder()
    ips = [f"10.{i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(n)]
    lookups._insert(spark, "enrich.ip_countries", COLUMNS, ((ip, "US") for ip in ips))  # type: ignore[arg-type]
    assert len(spark.statements) == expected
    assert rows_of(spark.statements) == ips
    assert all(len(sql) < 1.2 * chunk_chars for sql in spark.statements)  # rows, separators, the head
