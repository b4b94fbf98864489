"""The raw zone: where landed Parquet lives, on any filesystem pyarrow can open.

Layout: ``<root>/<source>/ingest_date=YYYY-MM-DD/batch_id=<id>/part-*.parquet``, batches being written
go to ``<root>/_staging/`` first. The root is a URI (``s3://``, ``hdfs://``, ``gs://``) or a local path
(the default: ``<warehouse_dir>/raw``); Spark gets the same place as a location it understands
(``s3://`` becomes ``s3a://``, a local path ``file://``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from lakehouse.platform.settings import Settings

RAW_URI_VARIABLE = "LAKEHOUSE_RAW_URI"
STAGING = "_staging"


def default_raw_uri(settings: Settings) -> str:
    """``LAKEHOUSE_RAW_URI`` if configured, else ``<warehouse_dir>/raw``."""
    return settings.get(RAW_URI_VARIABLE) or str(settings.warehouse_dir / "raw")


def open_filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and the path inside it; fsspec for schemes pyarrow lacks (memory://)."""
    scheme = urlparse(uri).scheme
    if not scheme or len(scheme) == 1:  # a local path (or a Windows drive letter)
        return pafs.LocalFileSystem(), str(Path(uri).expanduser().resolve())
    try:
        return pafs.FileSystem.from_uri(uri)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        import fsspec  # type: ignore[import-untyped]  # no stubs, no py.typed

        fs, path = fsspec.core.url_to_fs(uri)
        return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), path


@dataclass
class RawZone:
    """Paths and Parquet writing under the raw zone root."""

    uri: str
    fs: pafs.FileSystem = field(init=False)
    root: str = field(init=False)

    def __post_init__(self) -> None:
        self.fs, self.root = open_filesystem(self.uri)
        self.root = self.root.rstrip("/")

    # ---------- paths (inside self.fs)
    def table_path(self, source: str) -> str:
        return f"{self.root}/{source}"

    def partition_path(self, source: str, ingest_date: str, batch_id: str) -> str:
        return f"{self.table_path(source)}/ingest_date={ingest_date}/batch_id={batch_id}"

    def staging_path(self, source: str, batch_id: str, attempt: str) -> str:
        return f"{self.root}/{STAGING}/{source}/{batch_id}-{attempt}"

    # ---------- what Spark is told
    def location(self, path: str) -> str:
        """A path of this filesystem as a Spark/Hadoop location."""
        scheme = urlparse(self.uri).scheme
        if not scheme or len(scheme) == 1 or scheme == "file":
            return f"file://{path}"
        if scheme == "s3":
            scheme = "s3a"
        return f"{scheme}://{path}"

    # ---------- file operations
    def exists(self, path: str) -> bool:
        return self.fs.get_file_info(path).type != pafs.FileType.NotFound

    def remove_dir(self, path: str) -> None:
        if self.exists(path):
            self.fs.delete_dir(path)

    def publish(self, staged: str, final: str) -> None:
        """Replace ``final`` by the finished files of ``staged``."""
        self.remove_dir(final)
        self.fs.create_dir(final.rsplit("/", 1)[0], recursive=True)
        self.fs.move(staged, final)

    def write_chunks(
        self, path: str, schema: pa.Schema, chunks: Iterable[pa.RecordBatch], rows_per_file: int
    ) -> tuple[int, int]:
        """Write record batches as ``part-NNNNN.parquet`` files; return (rows, files)."""
        self.fs.create_dir(path, recursive=True)
        rows = files = in_file = 0
        writer: pq.ParquetWriter | None = None
        try:
            for chunk in chunks:
                if chunk.num_rows == 0:
                    continue
                if writer is None or in_file >= rows_per_file:
                    if writer is not None:
                        writer.close()
                    name = f"{path}/part-{files:05d}.parquet"
                    writer = pq.ParquetWriter(name, schema, filesystem=self.fs, compression="snappy")
                    files += 1
                    in_file = 0
                writer.write_batch(chunk)
                rows += chunk.num_rows
                in_file += chunk.num_rows
        finally:
            if writer is not None:
                writer.close()
        return rows, files
