"""The README's configuration table is the one the code prints: documentation cannot drift."""

from __future__ import annotations

from click.testing import CliRunner

from lakehouse.cli import main
from lakehouse.config import REPO_ROOT


def test_readme_configuration_table_matches_the_code():
    table = CliRunner().invoke(main, ["config"]).output.strip()
    assert table.startswith("| variable |")
    assert table in (REPO_ROOT / "README.md").read_text()


def test_readme_shows_the_two_commands():
    readme = (REPO_ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
