"""Files to batches: list a folder or URI, tell each file's source, derive its batch id."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs

from ingestion.contract import SOURCES
from ingestion.land import BatchInput, check_batch_id
from ingestion.rawzone import open_filesystem
from ingestion.readers import COMPRESSIONS, FORMATS, checksum, read_file
from lakehouse.platform.errors import LakehouseError

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


def _join(uri: str, path: str, base_path: str) -> str:
    """The URI of ``path`` (a path in the filesystem of ``uri``, under ``base_path``)."""
    if path == base_path:
        return uri
    return uri.rstrip("/") + "/" + path[len(base_path) :].lstrip("/")


def _landable(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    if base.startswith((".", "_", "~$")):  # hidden, staging, and Excel's lock files of open workbooks
        return False
    lowered = base.lower()
    for ext in COMPRESSIONS:
        lowered = lowered.removesuffix(ext)
    return any(lowered.endswith(ext) for ext in FORMATS)


def list_files(uri: str) -> list[str]:
    """``uri`` itself if it is a file, else the landable files under it (recursive, sorted)."""
    if not urlparse(uri).scheme or len(urlparse(uri).scheme) == 1:
        uri = str(Path(uri).expanduser().resolve())
    fs, path = open_filesystem(uri)
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        raise LakehouseError(f"no such file or folder: {uri}")
    if info.type == pafs.FileType.File:
        return [uri]
    found = fs.get_file_info(pafs.FileSelector(path, recursive=True))
    files = [
        _join(uri, f.path, path)
        for f in found
        if f.type == pafs.FileType.File and _landable(f.path[len(path) :])
    ]
    return sorted(files)


def stem(uri: str) -> str:
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    for ext in COMPRESSIONS:
        name = name.removesuffix(ext)
    return name.rsplit(".", 1)[0] if "." in name else name


def infer_source(uri: str) -> str:
    """The source named by the file's folder, else by the start of its name."""
    parts = uri.rstrip("/").split("/")
    if len(parts) > 1 and parts[-2] in SOURCES:
        return parts[-2]
    name = stem(uri)
    for candidate in sorted(SOURCES, key=len, reverse=True):
        if name.startswith(candidate):
            return candidate
    raise LakehouseError(
        f"cannot tell the source of {uri}: put it in a folder named after the source or pass --source"
    )


def default_batch_id(source: str, uri: str) -> str:
    """``<file stem>`` when it starts with the source name, else ``<source>__<file stem>``."""
    name = _UNSAFE.sub("_", stem(uri)).strip("_.-") or "file"
    batch_id = name if name.startswith(source) else f"{source}__{name}"
    return check_batch_id(batch_id[:128])


def _chunks(uri: str, encoding: str) -> Iterator[pa.RecordBatch]:
    return read_file(uri, encoding=encoding)


def file_input(
    uri: str, source: str | None = None, batch_id: str | None = None, encoding: str = "utf-8"
) -> BatchInput:
    src = source or infer_source(uri)
    try:
        digest = checksum(uri)
    except OSError as exc:  # unreadable: the batch still gets a row in the manifest, as failed
        digest = f"unreadable:{exc}"[:200]
    return BatchInput(
        source=src,
        batch_id=check_batch_id(batch_id) if batch_id else default_batch_id(src, uri),
        file=uri,
        checksum=digest,
        chunks=partial(_chunks, uri, encoding),
    )


def file_inputs(
    uris: list[str], source: str | None = None, batch_id: str | None = None, encoding: str = "utf-8"
) -> list[BatchInput]:
    files = [f for uri in uris for f in list_files(uri)]
    if batch_id and len(files) > 1:
        raise LakehouseError(f"--batch-id names one batch but {len(files)} files were given")
    return [file_input(f, source, batch_id, encoding) for f in files]
