"""Fixtures for the dbt warehouse tests: a clean lake with the raw contract, and a way to run dbt."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from lakehouse.platform.sql import SparkSQL
from tests.support.warehouse import reset_lake, run_dbt


@pytest.fixture(scope="module")
def fresh_lake(lake):
    """A lake emptied once per test module; yields a Thrift client and dbt runner."""
    with SparkSQL(lake) as client:
        reset_lake(client)
        yield client


@pytest.fixture(scope="module")
def dbt() -> Callable[..., subprocess.CompletedProcess]:
    return run_dbt
