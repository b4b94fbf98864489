"""The access-log patterns of dbt_project.yml (var access_log_formats) on real-looking lines, with Python's re
(the same syntax as Java's for these patterns: possessive quantifiers, classes, anchors). The pipeline test
runs the same lines through Spark."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.access_logs.samples import SAMPLES

REPO = Path(__file__).resolve().parents[2]
FORMATS = yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"]["access_log_formats"]


def parse(line: str) -> tuple[str, dict[str, str]] | None:
    """The first format whose pattern matches the whole line, as the staging model tries them."""
    for fmt in FORMATS:
        match = re.fullmatch(fmt["pattern"], line)
        if match:
            return fmt["name"], dict(zip(fmt["fields"], match.groups(), strict=True))
    return None


def test_every_format_names_one_field_per_group() -> None:
    assert [f["name"] for f in FORMATS] == ["nginx_timed", "combined"]
    for fmt in FORMATS:
        assert re.compile(fmt["pattern"]).groups == len(fmt["fields"]), fmt["name"]


@pytest.mark.parametrize(("name", "line", "expected_format", "fields"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_pattern_reads_the_line(name: str, line: str, expected_format: str | None, fields: dict) -> None:
    result = parse(line)
    if expected_format is None:
        assert result is None
        return
    assert result is not None
    log_format, got = result
    assert log_format == expected_format
    for field, value in fields.items():
        assert got[field] == value, field


def test_a_timed_line_is_not_combined_and_the_reverse() -> None:
    timed = next(s[1] for s in SAMPLES if s[2] == "nginx_timed")
    combined = next(s[1] for s in SAMPLES if s[2] == "combined")
    patterns = {f["name"]: f["pattern"] for f in FORMATS}
    assert re.fullmatch(patterns["combined"], timed) is None
    assert re.fullmatch(patterns["nginx_timed"], combined) is None
