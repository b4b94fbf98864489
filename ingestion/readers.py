"""Read source files (CSV, JSON lines, Parquet, Excel) as chunks of string columns, values unchanged.

Every reader yields ``pyarrow.RecordBatch`` chunks whose columns are strings named as in the file.
Anything that makes the file unusable raises :class:`BadFile` with a one-line reason; values are
never cleaned here (raw keeps every row as delivered). Text the given encoding cannot decode fails
naming the first such line: ``not valid utf-8 text at line 12 (byte 0xa3); try --encoding cp1252``.

Excel workbooks (.xlsx, .xlsm) are read with python-calamine, or openpyxl (read-only) when calamine is
missing or cannot open the file. Every worksheet is read in workbook order; a sheet's first non-empty
row is its header (from its first to its last non-empty cell; a value outside that span is a bad
file), fully empty rows and sheets are skipped, and each sheet yields its own columns. Cells become
the text a CSV export of the sheet would hold, as near as the cell values allow:

* empty -> ``''`` (as the CSV reader gives an empty field); text unchanged;
* bool -> ``'true'`` / ``'false'``; int -> ``str(int)``;
* float -> integer text when integral and below 1e16 in magnitude (Excel stores every number as a
  float: ``6.0`` -> ``'6'``, ``12346.0`` -> ``'12346'``), else ``repr`` (``'2.55'``, ``'-11062.06'``);
* date-time -> ``'YYYY-MM-DD HH:MM:SS'``, rounded to the nearest second; one with no time of day,
  or a date -> ``'YYYY-MM-DD'`` (calamine cannot tell a midnight date-time from a date, so both
  readers render it the same way); time -> ``'HH:MM:SS'``; duration -> ``'[-]H:MM:SS'`` (total hours).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import IO, Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ingestion.rawzone import open_filesystem

FileFormat = Literal["csv", "jsonl", "parquet", "xlsx"]
FORMATS: dict[str, FileFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
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
    raise BadFile(
        f"unknown file type of {path.rsplit('/', 1)[-1]} (expected CSV, JSON lines, Parquet, Excel .xlsx)"
    )


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
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise BadFile(f"unknown text encoding {encoding}") from exc
    readers = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet, "xlsx": _read_xlsx}
    try:
        yield from readers[fmt](fs, path, encoding, chunk_rows)
    except BadFile:
        raise
    except UnicodeDecodeError as exc:
        reason = _first_bad_line(fs, path, encoding)
        raise BadFile(reason or f"not valid {encoding} text ({exc.reason} at byte {exc.start})") from exc
    except (pa.ArrowException, OSError, ValueError) as exc:
        first = _first_line(exc)
        # pyarrow checks UTF-8 itself: "CSV conversion error to string: invalid UTF8 data"
        reason = _first_bad_line(fs, path, encoding) if "invalid utf8" in first.lower() else None
        raise BadFile(reason or f"unreadable {fmt}: {first}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _first_bad_line(fs: pafs.FileSystem, path: str, encoding: str) -> str | None:
    """Only after a failure: re-scan the text for the first line ``encoding`` cannot decode."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    utf8 = codecs.lookup(encoding).name.startswith("utf-8")
    line_no = 1
    with fs.open_input_stream(path) as raw:
        buffered = io.BufferedReader(raw, 1 << 20)
        lines = iter(lambda: buffered.readline(1 << 20), b"")  # bounded, even without newlines
        for line in itertools.chain(lines, [b""]):  # b"": the final flush
            try:
                line_no += decoder.decode(line, final=not line).count("\n")
            except UnicodeDecodeError as exc:
                bad = exc.object[exc.start : exc.start + 1].hex()
                hint = "try --encoding cp1252" if utf8 else "check --encoding"
                return f"not valid {encoding} text at line {line_no} (byte 0x{bad}); {hint}"
    return None


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
    _check_header(header)
    return header, delimiter


def _check_header(header: list[str]) -> None:
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise BadFile(f"duplicate column names in the header: {', '.join(d or '(empty)' for d in dupes)}")


def _read_csv(fs: pafs.FileSystem, path: str, encoding: str, chunk_rows: int) -> Iterator[pa.RecordBatch]:
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


def _read_jsonl(fs: pafs.FileSystem, path: str, encoding: str, chunk_rows: int) -> Iterator[pa.RecordBatch]:
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


def _read_parquet(fs: pafs.FileSystem, path: str, encoding: str, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    with fs.open_input_file(path) as handle:
        parquet = pq.ParquetFile(handle)
        for chunk in parquet.iter_batches(batch_size=chunk_rows):
            arrays = [_as_strings(c) for c in chunk.columns]
            yield pa.RecordBatch.from_arrays(arrays, names=chunk.schema.names)


# ---------------------------------------------------------------------------------------------- Excel

Row = Sequence[object]
Sheets = Iterator[tuple[str, Iterable[Row]]]
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls, or an .xlsx encrypted with a password
HALF_SECOND = 500_000  # microseconds: date-times, times and durations round to the nearest second


def _read_xlsx(fs: pafs.FileSystem, path: str, encoding: str, chunk_rows: int) -> Iterator[pa.RecordBatch]:
    """Every worksheet in workbook order, each with its own header row and columns."""
    with _open_seekable(fs, path) as handle:
        _check_zip(handle.read(4))
        handle.seek(0)
        sheets = _calamine_sheets(handle) or _openpyxl_sheets(handle)
        try:
            for name, rows in sheets:
                yield from _sheet_batches(name, rows, chunk_rows)
                del rows  # free this sheet's cells before the next one is loaded
        except BadFile:
            raise
        except Exception as exc:  # calamine's errors derive from Exception only
            raise BadFile(f"unreadable xlsx: {_first_line(exc)}") from exc


def _open_seekable(fs: pafs.FileSystem, path: str) -> IO[bytes]:
    """The file for random access (a zip's directory is at its end); a compressed one in memory."""
    if path.lower().endswith(COMPRESSIONS):
        with fs.open_input_stream(path) as stream:
            return io.BytesIO(stream.read())
    return fs.open_input_file(path)


def _check_zip(magic: bytes) -> None:
    if magic == OLE_MAGIC:
        raise BadFile("not an .xlsx workbook: an old .xls or a password-protected file; save it as .xlsx")
    if magic != ZIP_MAGIC:
        raise BadFile("not an .xlsx workbook (not a zip archive)")


def _calamine_sheets(handle: IO[bytes]) -> Sheets | None:
    """The worksheets through python-calamine; None if it is not installed or cannot open the file."""
    try:
        import python_calamine as calamine
    except ImportError:
        return None
    try:
        book = calamine.CalamineWorkbook.from_filelike(handle)
    except Exception:  # calamine.CalamineError and friends: let openpyxl try, and explain
        handle.seek(0)
        return None
    worksheets = [m.name for m in book.sheets_metadata if m.typ == calamine.SheetTypeEnum.WorkSheet]
    # one sheet at a time: calamine holds a sheet's cells (in Rust), Python sees one row at a time
    return ((name, book.get_sheet_by_name(name).iter_rows()) for name in worksheets)


def _openpyxl_sheets(handle: IO[bytes]) -> Sheets:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise BadFile(f"unreadable xlsx: {_first_line(exc)}") from exc
    return ((sheet.title, _openpyxl_rows(sheet)) for sheet in book.worksheets)


def _openpyxl_rows(sheet: Any) -> Iterator[Row]:
    sheet.reset_dimensions()  # do not trust the file's stated size: read every row and cell there is
    yield from sheet.iter_rows(values_only=True)


def _sheet_batches(name: str, rows: Iterable[Row], chunk_rows: int) -> Iterator[pa.RecordBatch]:
    """The sheet's first non-empty row is its header; empty rows are skipped."""
    texts = (row for row in ([_cell_text(v) for v in cells] for cells in rows) if any(row))
    first = next(texts, None)
    if first is None:
        return  # an empty sheet
    start = next(i for i, v in enumerate(first) if v)
    end = len(first) - next(i for i, v in enumerate(reversed(first)) if v)
    header = first[start:end]
    _check_header(header)
    columns: list[list[str]] = [[] for _ in header]
    for row in texts:
        if any(row[:start]) or any(row[end:]):
            raise BadFile(f"sheet {name!r}: a value in a column without a header")
        values = itertools.chain(row[start:end], itertools.repeat("", end - len(row)))
        for column, value in zip(columns, values, strict=False):
            column.append(value)
        if len(columns[0]) >= chunk_rows:
            yield _columns_to_batch(header, columns)
            columns = [[] for _ in header]
    if columns[0]:
        yield _columns_to_batch(header, columns)


def _columns_to_batch(header: list[str], columns: list[list[str]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in columns], names=header)


def _cell_text(value: object) -> str:
    """The cell as a CSV export would show it (see the module docstring)."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        since_midnight = datetime.combine(date.min, value) - datetime.min
        return _hms(min(_seconds(since_midnight), 86_399), hour_digits=2)
    if isinstance(value, timedelta):
        return _hms(_seconds(value))
    return str(value)


def _datetime_text(value: datetime) -> str:
    if value.microsecond:
        value = (value + timedelta(microseconds=HALF_SECOND)).replace(microsecond=0)
    if value.time() == time(0):
        return value.strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _seconds(value: timedelta) -> int:
    """Whole seconds, rounded half up."""
    whole, rest = divmod(value, timedelta(seconds=1))
    return whole + (rest >= timedelta(microseconds=HALF_SECOND))


def _hms(seconds: int, hour_digits: int = 1) -> str:
    minutes, secs = divmod(abs(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{'-' if seconds < 0 else ''}{hours:0{hour_digits}d}:{minutes:02d}:{secs:02d}"
