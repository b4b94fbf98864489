"""Read source files (CSV, JSON lines, Parquet) as chunks of string columns, values unchanged.

Every reader yields ``pyarrow.RecordBatch`` chunks whose columns are strings named as in the file.
Anything that makes the file unusable raises :class:`BadFile` with a one-line reason; values are
never cleaned here (raw keeps every row as delivered).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections.abc import Iterator
from typing import Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ingestion.rawzone import open_filesystem

FileFormat = Literal["csv", "jsonl", "parquet"]
FORMATS: dict[str, FileFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
COMPRESSIONS = (".gz", ".bz2", ".zst", ".lz4")
DEFAULT_CHUNK_ROWS = 100_000


class BadFile(Exception):
    """The file as a whole cannot be landed; ``str()`` is the reason recorded in the manifest."""


def file_format(path: str) -> FileFormat:
    name = path.lower()
    for ext in COMPRESSIONS:
        name = name.removesuffix(ext)
    for ext, fmt in FORMATS.items():
        if name.endswith(ext):
            return fmt
    raise BadFile(f"unknown file type of {path.rsplit('/', 1)[-1]} (expected CSV, JSON lines, Parquet)")


def checksum(uri: str) -> str:
    """sha256 of the file's bytes, as stored (before decompression)."""
    fs, path = open_filesystem(uri)
    digest = hashlib.sha256()
    with fs.open_input_stream(path, compression=None) as stream:
        while block := stream.read(4 << 20):
            digest.update(block)
    return digest.hexdigest()


def read_file(
    uri: str,
    fmt: FileFormat | None = None,
    encoding: str = "utf-8",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Chunks of the file's rows, every column a string; raises :class:`BadFile`."""
    fs, path = open_filesystem(uri)
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        raise BadFile("file not found")
    if info.size == 0:
        raise BadFile("empty file")
    fmt = fmt or file_format(path)
    readers = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}
    try:
        yield from readers[fmt](fs, path, encoding, chunk_rows)
    except BadFile:
        raise
    except UnicodeDecodeError as exc:
        raise BadFile(f"not valid {encoding} text ({exc.reason} at byte {exc.start})") from exc
    except (pa.ArrowException, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadFile(f"unreadable {fmt}: {first}") from exc


# ---------------------------------------------------------------------------------------------- CSV


def _csv_header(fs: pafs.FileSystem, path: str, encoding: str) -> tuple[list[str], str]:
    with fs.open_input_stream(path) as stream:
        head = stream.read(1 << 16)
    text = codecs.getincrementaldecoder(encoding)(errors="strict").decode(head, final=False)
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise BadFile("empty file")
    first_line = text.splitlines()[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    header = next(csv.reader(io.StringIO(first_line), delimiter=delimiter))
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise BadFile(f"duplicate column names in the header: {', '.join(dupes)}")
    return header, delimiter


def _read_csv(fs, path: str, encoding: str, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    header, delimiter = _csv_header(fs, path, encoding)
    read_options = pacsv.ReadOptions(
        column_names=header,
        skip_rows=1,
        encoding=encoding,
        block_size=1 << 22,
    )
    parse_options = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    convert_options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    with fs.open_input_stream(path) as stream:
        # The header was read with our decoder (BOM and all); pyarrow reads the rest.
        reader = pacsv.open_csv(stream, read_options, parse_options, convert_options)
        for chunk in reader:
            yield from _split(chunk, chunk_rows)


def _split(chunk: pa.RecordBatch, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    for offset in range(0, chunk.num_rows, chunk_rows):
        yield chunk.slice(offset, chunk_rows)


# ---------------------------------------------------------------------------------------------- JSON lines


def _json_value(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def _read_jsonl(fs, path: str, encoding: str, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    """Python's json, numbers kept as written (``parse_int=str``): no type inference, lossless."""
    rows: list[dict[str, str | None]] = []
    with fs.open_input_stream(path) as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="\n")
        for line_no, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line, parse_int=str, parse_float=str, parse_constant=str)
            except json.JSONDecodeError as exc:
                raise BadFile(f"line {line_no}: invalid JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise BadFile(f"line {line_no}: expected a JSON object")
            rows.append({k: _json_value(v) for k, v in record.items()})
            if len(rows) >= chunk_rows:
                yield _rows_to_batch(rows)
                rows = []
    if rows:
        yield _rows_to_batch(rows)


def _rows_to_batch(rows: list[dict[str, str | None]]) -> pa.RecordBatch:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    arrays = [pa.array([row.get(n) for row in rows], pa.string()) for n in names]
    return pa.RecordBatch.from_arrays(arrays, names=list(names))


# ---------------------------------------------------------------------------------------------- Parquet


def _as_strings(column: pa.Array) -> pa.Array:
    if pa.types.is_string(column.type):
        return column
    if pa.types.is_large_string(column.type) or pa.types.is_dictionary(column.type):
        return column.cast(pa.string())
    try:
        return column.cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return pa.array([_json_value(v) for v in column.to_pylist()], pa.string())


def _read_parquet(fs, path: str, encoding: str, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    with fs.open_input_file(path) as handle:
        parquet = pq.ParquetFile(handle)
        for chunk in parquet.iter_batches(batch_size=chunk_rows):
            arrays = [_as_strings(c) for c in chunk.columns]
            yield pa.RecordBatch.from_arrays(arrays, names=chunk.schema.names)
