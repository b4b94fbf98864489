"""`make lint` as part of `make test`: ruff and sqlfluff (dbt templater) must pass.

sqlfluff's dbt templater compiles the project, and dbt-spark needs a live Thrift server to resolve
`is_incremental()`: the lint therefore runs here, on the session's server, instead of starting a second one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lakehouse.config import REPO_ROOT

BIN = Path(sys.executable).parent


def run(*cmd: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(cmd), cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, env=env or dict(os.environ)
    )


def test_ruff_check():
    res = run(str(BIN / "ruff"), "check", ".")
    assert res.returncode == 0, res.stdout[-4000:]


def test_ruff_format():
    res = run(str(BIN / "ruff"), "format", "--check", ".")
    assert res.returncode == 0, res.stdout[-4000:]


@pytest.mark.integration
def test_sqlfluff_dbt_templater(lake):
    env = {**os.environ, **lake.dbt_env()}
    res = run(str(BIN / "sqlfluff"), "lint", "models", "snapshots", "tests/dbt", env=env)
    assert res.returncode == 0, (res.stdout + res.stderr)[-6000:]
