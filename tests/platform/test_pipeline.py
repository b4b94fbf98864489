"""`make run`'s flow end to end on the session's services, twice: same results, nothing duplicated."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lakehouse.config import REPO_ROOT
from lakehouse.export import read_lake_table

pytestmark = pytest.mark.integration


def run_pipeline() -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows", "run"],
        cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=1800,
    )  # fmt: skip


def gold_snapshot(pg) -> list[tuple]:
    return pg.execute(
        "select currency_code, currency_name, minor_units, is_reporting_currency "
        "from gold.dim_currency order by currency_code"
    ).fetchall()


def test_pipeline_runs_twice_with_the_same_results(lake, spark, pg):
    first = run_pipeline()
    assert first.returncode == 0, (first.stdout + first.stderr)[-4000:]
    gold_first = gold_snapshot(pg)
    lake_rows = read_lake_table(spark, "marts.dim_currency").num_rows
    assert len(gold_first) == lake_rows > 0
    assert [r[0] for r in gold_first if r[3]] == ["GBP"]

    second = run_pipeline()
    assert second.returncode == 0, (second.stdout + second.stderr)[-4000:]
    assert gold_snapshot(pg) == gold_first
    # the snapshot re-ran without creating versions: one current row per currency
    assert spark.query(
        "select count(*), count(distinct currency_code) from snapshots.snap_currencies "
        "where dbt_valid_to is null"
    ) == [(lake_rows, lake_rows)]
    # no leftovers of the swap in PostgreSQL
    assert pg.execute(
        "select count(*) from information_schema.tables where table_schema = 'gold_load'"
    ).fetchone() == (0,)
