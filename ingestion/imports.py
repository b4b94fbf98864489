"""Import a user's files and land them: the one path of `python -m ingestion import` and of the flows'
import (`python -m flows import`).

Each file (CSV, Excel, JSON lines, Parquet; a file, a folder or a URI) in a UCI Online Retail layout, or in
one a mapping file describes, becomes four raw batches: its order lines and the countries, products and
customers derived from them (ingestion/importers/). A file that cannot be read fails its batches alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ingestion.importers.layouts import load_layouts
from ingestion.importers.online_retail import import_inputs
from ingestion.inputs import list_files
from ingestion.land import LandReport, land_inputs
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import Settings


def import_files(
    settings: Settings,
    paths: Sequence[str],
    layout: str | None = None,
    mappings: Sequence[str | Path] = (),
    encoding: str = "utf-8",
    *,
    raw_uri: str | None = None,
    ingest_date: str | None = None,
    force: bool = False,
    progress: bool | None = None,
) -> LandReport:
    """Read ``paths`` in ``layout`` (default: detected from the columns; the built-in layouts and those of
    the ``mappings`` files) and land their batches. The caller reports the failed ones."""
    layouts = load_layouts([Path(m) for m in mappings])
    files = [f for p in paths for f in list_files(p)]
    if not files:
        raise LakehouseError(f"no CSV, Excel, JSON lines or Parquet files under {', '.join(paths)}")
    inputs = [i for f in files for i in import_inputs(f, layouts, layout, encoding)]
    return land_inputs(
        settings, inputs, raw_uri=raw_uri, ingest_date=ingest_date, force=force, progress=progress
    )
