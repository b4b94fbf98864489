"""`make lint` as part of `make test`: ruff, mypy and sqlfluff (dbt templater) must pass.

sqlfluff's dbt templater compiles the project, and dbt-spark needs a live Thrift server to resolve
`is_incremental()`: the lint therefore runs here, on the session's server, instead of starting a second one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lakehouse.platform.settings import REPO_ROOT

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


def test_mypy():
    res = run(str(BIN / "mypy"))
    assert res.returncode == 0, res.stdout[-4000:]


def test_mypy_reports_what_the_project_forbids(tmp_path):
    """The strictness of `make lint` (pyproject.toml): untyped functions and wrong types are errors."""
    broken = tmp_path / "broken.py"
    broken.write_text("def add(a, b):\n    return a + b\n\n\ndef half(n: int) -> int:\n    return n / 2\n")
    res = run(str(BIN / "mypy"), "--config-file", str(REPO_ROOT / "pyproject.toml"), str(broken))
    assert res.returncode == 1, res.stdout
    assert "broken.py:1: error: Function is missing a type annotation" in res.stdout
    assert "broken.py:6: error: Incompatible return value type" in res.stdout


@pytest.mark.integration
def test_make_lint_lints_what_it_says_on_the_services_it_starts(lake):
    """`make lint` is `python -m lakehouse lint`: ruff, mypy, then sqlfluff (dbt templater) on SQL_LINT_PATHS,
    after `up` (here it finds the session's services running and reuses them)."""
    from lakehouse.cli import SQL_LINT_PATHS

    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "\t@$(LAKE) lint\n" in makefile and "\t@$(LAKE) lint --fix\n" in makefile
    ignored = (REPO_ROOT / ".sqlfluffignore").read_text().split()
    assert not any(f"{path}/" in ignored for path in SQL_LINT_PATHS)  # nothing listed is skipped anyway
    res = run(sys.executable, "-m", "lakehouse", "lint")
    assert res.returncode == 0, (res.stdout + res.stderr)[-6000:]
