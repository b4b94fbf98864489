"""Log files without services: the generator (deterministic, consistent with the clickstream) and the reader
(every line, unchanged, invalid UTF-8 kept losslessly; checksums, batch ids, rotated and live names)."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

import pytest

from ingestion.generate import clickstream
from ingestion.generate.access_logs import LogConfig, LogDirt, generate_access_logs
from ingestion.generate.config import GeneratorConfig
from ingestion.generate.world import build_world
from ingestion.logs import list_log_files, log_batch_id, log_checksum, log_input, read_log
from ingestion.readers import BadFile
from tests.access_logs.oracle import count_file, file_lines

CONFIG = GeneratorConfig(seed=7, days=2, products=30, customers=40, sessions_per_day=15)
QUIET = LogConfig(dirt=LogDirt.clean(), health_check_seconds=3600, scanners_per_day=2)


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate_access_logs(CONFIG, tmp_path / "a", QUIET)
    b = generate_access_logs(CONFIG, tmp_path / "b", QUIET)
    assert [p.relative_to(tmp_path / "a") for p in a] == [p.relative_to(tmp_path / "b") for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))


def test_logs_hold_every_clickstream_page_view_of_the_same_visitor(tmp_path: Path) -> None:
    files = generate_access_logs(CONFIG, tmp_path, QUIET)
    logged = set()
    for f in files:
        for row in count_file(f).parsed_rows:
            parts = row["request"].split(" ")
            if len(parts) == 3:  # not a TLS hello
                logged.add((row["host"], row["agent"], parts[1]))
    world = build_world(CONFIG)
    events = [e for d in range(CONFIG.days) for e in clickstream.sessions(world, d)]
    views = {
        (e["ip_address"], e["user_agent"], str(e["page_url"]).removeprefix("https://shop.example.com"))
        for e in events
        if e["event_type"] == "view"
    }
    assert views and views <= logged
    assert count_file(files[0]).reasons == {}  # no dirt asked, none written


def test_reader_keeps_every_line_and_invalid_bytes(tmp_path: Path) -> None:
    lines = [b"first", b"", b"caf\xe9 \\xe9 literal", b"crlf\r", b"  ", b"last without newline"]
    path = tmp_path / "web-9" / "access.log-20260301"
    path.parent.mkdir()
    path.write_bytes(b"\n".join(lines))
    rows = [r for chunk in read_log(str(path), "web-9", chunk_rows=4) for r in chunk.to_pylist()]
    assert len(rows) == len(lines)
    for row, raw in zip(rows, lines, strict=True):
        assert row["server"] == "web-9"
        back = base64.b64decode(row["line_base64"]) if row["line_base64"] else row["line"].encode("utf-8")
        assert back == raw
    assert rows[2]["line"] == "caf\\xe9 \\xe9 literal" and rows[2]["line_base64"] is not None
    assert [r["line_base64"] is None for r in rows] == [True, True, False, True, True, True]
    assert file_lines(path) == lines


def test_rotation_keeps_checksum_and_names_give_batch_ids(tmp_path: Path) -> None:
    folder = tmp_path / "web-1"
    folder.mkdir()
    body = b'1.2.3.4 - - [01/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"\n'
    (folder / "access.log").write_bytes(body)
    (folder / "access.log.1").write_bytes(body)
    (folder / "access.log.2.gz").write_bytes(gzip.compress(body))
    (folder / "access.log-20260301.gz").write_bytes(gzip.compress(body))
    (folder / "notes.txt").write_text("not a log")
    digest = log_checksum(str(folder / "access.log.1"))
    assert log_checksum(str(folder / "access.log.2.gz")) == digest
    found = [Path(p).name for p in list_log_files(str(tmp_path))]
    assert found == ["access.log-20260301.gz", "access.log.1", "access.log.2.gz"]
    assert "access.log" in [Path(p).name for p in list_log_files(str(tmp_path), include_live=True)]
    dated, numbered = (
        log_batch_id("web-1", "x/access.log-20260301.gz", digest),
        log_batch_id("web-1", "x/access.log.1", digest),
    )
    assert dated == "access_logs__web-1__access.log-20260301"
    assert numbered == f"access_logs__web-1__access.log.1__{digest[:12]}"
    item = log_input(str(folder / "access.log.2.gz"))
    assert (item.source, item.checksum) == ("access_logs", digest)
    assert item.batch_id == f"access_logs__web-1__access.log.2__{digest[:12]}"


def test_a_cut_gzip_file_is_a_bad_file(tmp_path: Path) -> None:
    """A .gz cut short (an interrupted copy) fails its batch with a one-line reason; nothing of it lands."""
    path = tmp_path / "web-1" / "access.log-20260301.gz"
    path.parent.mkdir()
    path.write_bytes(gzip.compress(b"x\n" * 100_000)[:200])
    with pytest.raises(BadFile, match="unreadable log file"):
        list(read_log(str(path), "web-1"))
    assert log_input(str(path)).checksum.startswith("unreadable:")
