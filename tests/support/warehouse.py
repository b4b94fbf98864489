"""A clean lake with the raw contract, and dbt runs of the warehouse's own nodes (tests and benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys

from lakehouse.platform.sql import SparkSQL
from tests.support import rawdata

LAKE_SCHEMAS = ["raw", "staging", "intermediate", "snapshots", "marts", "seeds", "analytics"]

# The warehouse's own nodes (issue 5): other parts of the project (clickstream, gold) need raw tables these
# tests do not land. `cautious` keeps only tests whose parents are all selected.
WAREHOUSE_SELECTION = [
    "--select",
    "path:seeds",
    "path:snapshots",
    "path:models/staging/raw",
    "path:models/staging/seeds",
    "path:models/intermediate/order_lines",
    "path:models/intermediate/core",
    "path:models/marts/core",
    "path:models/marts/quality",
    "path:models/marts/sales",
    "path:models/marts/customers",
    "--indirect-selection",
    "cautious",
    # dbt's unit tests run once, in the daily recovery story (tests/flows), as in production
    "--exclude-resource-type",
    "unit_test",
]


def reset_lake(spark: SparkSQL) -> None:
    """Drop every schema the warehouse writes, then create the raw tables empty."""
    for schema in LAKE_SCHEMAS:
        spark.execute(f"drop database if exists {schema} cascade")
    rawdata.create_raw_tables(spark)


def run_dbt(*args: str) -> subprocess.CompletedProcess:
    """`python -m lakehouse dbt <args>` in a child process (it inherits the test session's settings).

    `build` without a selection builds the warehouse's nodes (WAREHOUSE_SELECTION)."""
    if args == ("build",):
        args = ("build", *WAREHOUSE_SELECTION)
    proc = subprocess.run(
        [sys.executable, "-m", "lakehouse", "dbt", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-60:])
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{tail}")
    return proc
