"""Server access logs as raw batches: one row per line, the line unchanged, its number in ``_row_number``.

A log file is one batch of ``raw.access_logs`` (columns ``server``, ``line``, ``line_base64``), landed by
the same :class:`~ingestion.land.Lander` as every other file (manifest, checksum skip, restating, lineage).
The line is also **parsed here**, next to it: the first format of ``access_log_formats.yml`` (one RE2 pattern
per format, run by Arrow) that matches the whole line names it in ``log_format`` and fills the columns of
:data:`FIELDS` with its named groups, as written (strings; staging casts). A line no format matches lands
with those columns null and is quarantined in staging (``stg_access_logs__lines``) with its reason.

* **Lines**: the file (gzip when it ends in ``.gz``) is split at ``\\n`` only; the ``\\n`` is not kept, a
  ``\\r`` or any other byte is. A last line without ``\\n`` (a file cut while being written) is a line. Empty
  lines are rows (quarantined later), so ``_row_number`` is the line number in the file.
* **Invalid UTF-8, lossless**: ``line`` is the line decoded as UTF-8; a line that is not valid UTF-8 is
  decoded with ``errors='backslashreplace'`` (``caf\\xe9``, so it still parses) and its exact bytes are kept
  in ``line_base64`` (standard base64). ``line_base64`` is null for every valid line: the bytes of a line are
  ``line`` encoded as UTF-8, or ``unbase64(line_base64)`` when that is set.
* **Checksum** (the manifest's skip rule): sha256 of the *decompressed* bytes, so ``access.log.1``
  compressed by the next rotation into ``access.log.2.gz`` is the same content and lands once.
* **Batch id**: ``access_logs__<server>__<file name without .gz>``, plus ``__<first 12 hex of the checksum>``
  unless the name carries a date (``access.log-20260301.gz``): numbered names (``access.log.1``) hold other
  lines after every rotation, dated names do not (so a dated file re-sent corrected replaces its batch).
* **Server**: ``--server``, else the name of the file's folder (``logs/web-1/access.log.1`` -> ``web-1``).
* **Parse cost**: RE2 extracts capture groups with its fast one-pass matcher only for patterns of at most 4
  groups (beyond that, its NFA: about 4 times slower here), so each pattern is run as a cheap match (DFA) that
  picks the format, then in passes of at most 4 of its named groups over the lines of that format
  (:func:`parse_lines`; ``benchmarks/bench_logs_parse.py`` measures it).
* **Live files**: a folder's ``*.log`` file without rotation suffix is still being written and is skipped
  (its lines land once rotated); name it explicitly, or pass ``include_live``, to land it anyway.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import yaml

from ingestion.contract import LOG_FIELDS
from ingestion.land import BatchInput, check_batch_id
from ingestion.rawzone import open_filesystem
from ingestion.readers import BadFile
from lakehouse.platform.errors import LakehouseError

SOURCE = "access_logs"
DEFAULT_CHUNK_ROWS = 200_000
BLOCK_BYTES = 8 << 20
# access.log, access.log.1, access.log.2.gz, access.log-20260301, access.log-20260301.gz, ssl_access_log.3
LOG_NAME = re.compile(r"^(?P<base>[^/]*?(?:\.log|_log))(?P<rotation>\.\d+|-\d{8}(?:\d{2})?)?(?:\.gz)?$")
_DATED = re.compile(r"-\d{8}(\d{2})?$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")
FIELDS = LOG_FIELDS  # what a format may capture: nginx's variable names (Apache: %h %l %u %t "%r" %>s %b...)
PARSED_COLUMNS = ("log_format", *FIELDS)
SCHEMA = pa.schema([pa.field(c, pa.string()) for c in ("server", "line", "line_base64", *PARSED_COLUMNS)])
FORMATS_FILE = Path(__file__).resolve().parent / "access_log_formats.yml"
ONE_PASS_GROUPS = 4  # RE2 uses its one-pass matcher for at most this many groups (kMaxOnePassCapture 5 - 1)
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>")


# ---------------------------------------------------------------------------------------------- formats


@dataclass(frozen=True)
class LogFormat:
    """One format: its RE2 pattern, the fields its named groups capture, and the pattern cut into passes
    (each keeps at most ONE_PASS_GROUPS of the groups capturing, the others made non-capturing)."""

    name: str
    pattern: str
    fields: tuple[str, ...]
    passes: tuple[str, ...]


def log_format(name: str, pattern: str) -> LogFormat:
    """A checked format; raises :class:`LakehouseError` (one line) for a pattern that cannot serve."""
    try:
        groups = re.compile(pattern)  # the group structure (RE2 reads the same (?P<name>...) syntax)
        pc.match_substring_regex(pa.array([""]), pattern)  # and RE2 itself compiles it
    except (re.error, pa.ArrowInvalid) as exc:
        raise LakehouseError(f"access-log format {name}: bad pattern: {str(exc).splitlines()[0]}") from exc
    fields = tuple(sorted(groups.groupindex, key=groups.groupindex.__getitem__))
    unknown = [f for f in fields if f not in FIELDS]
    if unknown or groups.groups != len(fields) or not fields:
        raise LakehouseError(
            f"access-log format {name}: every capture group must be named, from {', '.join(FIELDS)}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    if not pattern.startswith("^") or not pattern.endswith("$"):
        raise LakehouseError(f"access-log format {name}: the pattern must match whole lines (^...$)")
    passes = []
    for start in range(0, len(fields), ONE_PASS_GROUPS):
        kept = set(fields[start : start + ONE_PASS_GROUPS])
        passes.append(_NAMED_GROUP.sub(partial(_keep_group, kept), pattern))
        if set(re.compile(passes[-1]).groupindex) != kept:
            raise LakehouseError(f"access-log format {name}: cannot split the pattern's groups into passes")
    return LogFormat(name, pattern, fields, tuple(passes))


def _keep_group(kept: set[str], match: re.Match[str]) -> str:
    return match.group(0) if match.group(1) in kept else "(?:"


@cache
def load_formats(path: Path = FORMATS_FILE) -> tuple[LogFormat, ...]:
    """The formats of ``access_log_formats.yml`` in their order."""
    entries = yaml.safe_load(path.read_text())["formats"]
    return tuple(log_format(str(e["name"]), str(e["pattern"])) for e in entries)


def parse_lines(lines: pa.Array, formats: Sequence[LogFormat] | None = None) -> list[pa.Array]:
    """The columns of PARSED_COLUMNS for ``lines`` (strings): the first format whose pattern matches the whole
    line and its fields; all null for a line no format matches (and a field the format does not capture)."""
    formats = load_formats() if formats is None else formats
    n = len(lines)
    todo = np.arange(n)  # the lines no format has matched yet
    order: list[np.ndarray] = []  # per matching format: its lines' positions, then its columns
    parts: dict[str, list[pa.Array]] = {c: [] for c in PARSED_COLUMNS}
    for fmt in formats:
        if not len(todo):
            break
        candidates = lines if len(todo) == n else lines.take(pa.array(todo))
        hit = pc.match_substring_regex(candidates, fmt.pattern).to_numpy(zero_copy_only=False)
        if not hit.any():
            continue
        order.append(todo[hit])
        todo = todo[~hit]
        matched = candidates.filter(pa.array(hit))
        found = {"log_format": pa.repeat(pa.scalar(fmt.name), len(matched))}
        for pattern in fmt.passes:
            extracted = pc.extract_regex(matched, pattern)
            names = [extracted.type.field(i).name for i in range(extracted.type.num_fields)]
            found.update((name, extracted.field(name)) for name in names)
        for c in PARSED_COLUMNS:
            parts[c].append(found.get(c, pa.nulls(len(matched), pa.string())))
    if not order:
        return [pa.nulls(n, pa.string()) for _ in PARSED_COLUMNS]
    order.append(todo)
    back = pa.array(np.argsort(np.concatenate(order), kind="stable"))  # to the lines' own order
    unmatched = pa.nulls(len(todo), pa.string())
    return [pa.concat_arrays([*parts[c], unmatched]).take(back) for c in PARSED_COLUMNS]


def _open(uri: str) -> tuple[pafs.FileSystem, str, str | None]:
    fs, path = open_filesystem(uri)
    return fs, path, "gzip" if path.lower().endswith(".gz") else None


def _blocks(uri: str) -> Iterator[bytes]:
    """The decompressed bytes of the file, in blocks."""
    fs, path, compression = _open(uri)
    with fs.open_input_stream(path, compression=compression) as stream:
        while block := stream.read(BLOCK_BYTES):
            yield block


def log_checksum(uri: str) -> str:
    """sha256 of the decompressed content (a file compressed by rotation keeps its checksum)."""
    digest = hashlib.sha256()
    for block in _blocks(uri):
        digest.update(block)
    return digest.hexdigest()


def raw_lines(uri: str) -> Iterator[bytes]:
    """Every line of the file as bytes, without its ``\\n``; a last unterminated line included."""
    rest = b""
    for block in _blocks(uri):
        block = rest + block
        cut = block.rfind(b"\n")
        if cut < 0:
            rest = block
            continue
        yield from block[:cut].split(b"\n")
        rest = block[cut + 1 :]
    if rest:
        yield rest


def decode_lines(lines: list[bytes]) -> tuple[list[str], list[str | None]]:
    """(text, base64 of the bytes when not valid UTF-8); see the module docstring."""
    try:  # the usual case: the whole chunk is valid UTF-8, one decode, no per-line work
        text = b"\n".join(lines).decode("utf-8")
        return text.split("\n") if lines else [], [None] * len(lines)
    except UnicodeDecodeError:
        pass
    texts: list[str] = []
    encoded: list[str | None] = []
    for raw in lines:
        try:
            texts.append(raw.decode("utf-8"))
            encoded.append(None)
        except UnicodeDecodeError:
            texts.append(raw.decode("utf-8", errors="backslashreplace"))
            encoded.append(base64.b64encode(raw).decode("ascii"))
    return texts, encoded


def read_log(uri: str, server: str, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pa.RecordBatch]:
    """Chunks of (server, line, line_base64, the parsed columns), one row per line in file order; raises
    :class:`BadFile`."""
    formats = load_formats()  # a bad formats file fails here, before any line is read
    fs, path, _compression = _open(uri)
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        raise BadFile("file not found")
    if info.size == 0:
        raise BadFile("empty file")
    pending: list[bytes] = []

    def chunk() -> pa.RecordBatch:
        texts, encoded = decode_lines(pending)
        n = len(texts)
        lines = pa.array(texts, pa.string())
        parsed = parse_lines(lines, formats)
        return pa.RecordBatch.from_arrays(
            [pa.repeat(pa.scalar(server), n), lines, pa.array(encoded, pa.string()), *parsed], schema=SCHEMA
        )

    try:
        for line in raw_lines(uri):
            pending.append(line)
            if len(pending) >= chunk_rows:
                yield chunk()
                pending = []
        if pending:
            yield chunk()
    except (OSError, EOFError, pa.ArrowException) as exc:  # e.g. a gzip file cut short
        text = str(exc).strip().splitlines()
        raise BadFile(f"unreadable log file: {text[0] if text else type(exc).__name__}") from exc


# ---------------------------------------------------------------------------------------------- inputs


def is_log_name(name: str) -> bool:
    return bool(LOG_NAME.match(name))


def is_live(name: str) -> bool:
    """``access.log``: the file the server is still writing (no rotation suffix)."""
    match = LOG_NAME.match(name)
    return match is not None and not match.group("rotation")


def list_log_files(uri: str, include_live: bool = False) -> list[str]:
    """``uri`` itself if it is a file; else the log files under it (recursive, sorted), live ones only with
    ``include_live``."""
    if not urlparse(uri).scheme or len(urlparse(uri).scheme) == 1:
        uri = str(Path(uri).expanduser().resolve())
    fs, path = open_filesystem(uri)
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        raise LakehouseError(f"no such file or folder: {uri}")
    if info.type == pafs.FileType.File:
        return [uri]
    found = []
    for f in fs.get_file_info(pafs.FileSelector(path, recursive=True)):
        name = f.path.rsplit("/", 1)[-1]
        if f.type != pafs.FileType.File or name.startswith((".", "_")) or not is_log_name(name):
            continue
        if is_live(name) and not include_live:
            continue
        found.append(uri.rstrip("/") + "/" + f.path[len(path) :].lstrip("/"))
    return sorted(found)


def server_of(uri: str) -> str:
    parts = uri.rstrip("/").split("/")
    return parts[-2] if len(parts) > 1 and parts[-2] else "unknown"


def log_batch_id(server: str, uri: str, digest: str) -> str:
    name = uri.rstrip("/").rsplit("/", 1)[-1].removesuffix(".gz").removesuffix(".GZ")
    batch_id = f"{SOURCE}__{_safe(server)[:40]}__{_safe(name)[:60]}"
    if not _DATED.search(name):
        batch_id += f"__{_safe(digest[:12])}"
    return check_batch_id(batch_id)


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("_.-") or "x"


def log_input(uri: str, server: str | None = None) -> BatchInput:
    host = server or server_of(uri)
    try:
        digest = log_checksum(uri)
    except (OSError, EOFError, pa.ArrowException) as exc:  # the batch still gets a row, as failed
        digest = f"unreadable:{exc}"[:200]
    return BatchInput(
        source=SOURCE,
        batch_id=log_batch_id(host, uri, digest),
        file=uri,
        checksum=digest,
        chunks=partial(read_log, uri, host),
    )


def log_inputs(uris: list[str], server: str | None = None, include_live: bool = False) -> list[BatchInput]:
    load_formats()  # a bad formats file is one error before anything lands
    files = [f for uri in uris for f in list_log_files(uri, include_live)]
    return [log_input(f, server) for f in files]
