"""The access-log formats the landing uses (ingestion/access_log_formats.yml, run by Arrow's RE2 through
ingestion.logs.parse_lines) on real-looking lines; expected fields are written by hand in samples.py. The
pipeline test lands the same lines and reads them typed in Spark."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

from ingestion.contract import LOG_FIELDS
from ingestion.logs import PARSED_COLUMNS, decode_lines, load_formats, log_format, parse_lines
from lakehouse.platform.errors import LakehouseError
from tests.access_logs.samples import CHROME, SAMPLES

REPO = Path(__file__).resolve().parents[2]


def parsed(lines: list[str]) -> list[dict[str, str | None]]:
    columns = parse_lines(pa.array(lines, pa.string()))
    return [{c: columns[j][i].as_py() for j, c in enumerate(PARSED_COLUMNS)} for i in range(len(lines))]


def test_the_formats_in_their_order() -> None:
    assert [f.name for f in load_formats()] == ["nginx_timed", "combined"]
    timed, combined = load_formats()
    assert timed.fields == LOG_FIELDS
    assert combined.fields == LOG_FIELDS[:9]
    # cut into passes of at most 4 groups (RE2's one-pass matcher), together every field once
    for fmt in load_formats():
        kept = [tuple(re.compile(p).groupindex) for p in fmt.passes]
        assert all(len(k) <= 4 for k in kept)
        assert sorted(f for k in kept for f in k) == sorted(fmt.fields)


@pytest.mark.parametrize(("name", "line", "expected_format", "fields"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_pattern_reads_the_line(name: str, line: str, expected_format: str | None, fields: dict) -> None:
    (got,) = parsed([line])
    assert got["log_format"] == expected_format
    if expected_format is None:
        assert all(v is None for v in got.values())  # nothing half-parsed: staging quarantines it
    for field, value in fields.items():
        assert got[field] == value, field


def test_lines_of_both_formats_keep_their_order() -> None:
    """Formats are matched format by format; the columns come back in the lines' own order."""
    lines = [s[1] for s in SAMPLES] * 3
    got = parsed(lines)
    for i, line in enumerate(lines):
        sample = SAMPLES[i % len(SAMPLES)]
        assert got[i]["log_format"] == sample[2], line
        for field, value in sample[3].items():
            assert got[i][field] == value


def test_a_field_the_format_does_not_have_is_null() -> None:
    combined = next(s[1] for s in SAMPLES if s[2] == "combined")
    (got,) = parsed([combined])
    assert got["request_time"] is None and got["upstream_response_time"] is None


def test_invalid_utf8_and_crlf_lines_still_parse() -> None:
    raw = [
        b'81.2.69.160 - - [01/Mar/2026:10:00:00 +0000] "GET /product/caf\xe9 HTTP/1.1" 200 5 "-" "'
        + CHROME.encode()
        + b'"',
        b'81.2.69.160 - - [01/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.5.0" 0.010 0.009\r',
        b'81.2.69.160 - - [01/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "\xff\xfecurl"',
    ]
    texts, encoded = decode_lines(raw)
    assert encoded[0] is not None and encoded[1] is None
    first, crlf, agent = parsed(texts)
    assert first["log_format"] == "combined" and first["request"] == "GET /product/caf\\xe9 HTTP/1.1"
    assert crlf["log_format"] == "nginx_timed" and crlf["upstream_response_time"] == "0.009"
    assert agent["http_user_agent"] == "\\xff\\xfecurl"


def test_no_line_parses_when_no_format_matches() -> None:
    got = parsed(["", "garbage", "2026/03/01 10:00:09 [error] 1234#1234: *5678 upstream timed out"])
    assert [g["log_format"] for g in got] == [None, None, None]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"^(?P<remote_addr>\S+) (\S+)$", "every capture group must be named"),
        (r"^(?P<host>\S+)$", "unknown: host"),
        (r"(?P<remote_addr>\S+) ", "whole lines"),
        (r"^(?P<remote_addr>\S+$", "bad pattern"),
    ],
)
def test_a_pattern_that_cannot_serve_is_one_clear_error(pattern: str, message: str) -> None:
    with pytest.raises(LakehouseError, match=re.escape(message)):
        log_format("mine", pattern)


def test_the_staging_macro_knows_the_same_fields() -> None:
    macro = (REPO / "macros" / "parsing" / "access_logs.sql").read_text()
    listed = re.search(r"access_log_field_names\(\) -%\}\s*\{\{ return\(\[(.*?)\]\)", macro, re.S)
    assert listed is not None
    assert tuple(re.findall(r"'(\w+)'", listed.group(1))) == LOG_FIELDS
