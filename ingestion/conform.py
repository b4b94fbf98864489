"""Shape a chunk of source rows into its raw table's file schema, losing nothing.

Columns are matched to the contract by normalised name (case, spaces, dashes); contract columns the
file lacks become nulls; columns the contract does not know (schema drift) go, per row, into ``_extra``
as a JSON object keyed by their original names. Then the lineage columns are added.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.contract import Source
from ingestion.readers import BadFile

_NON_WORD = re.compile(r"[^0-9a-z]+")
_RARE_CONTROL = r"[\x00-\x07\x0b\x0e-\x1f]"


_CONSTANTS: dict[tuple[object, pa.DataType], pa.Array] = {}
_CONSTANTS_MAX = 16


def constant(value: object, type_: pa.DataType, n: int) -> pa.Array:
    """``n`` times ``value``: a slice of one array kept per value (a lineage column repeats one value on every
    row of a batch; making it anew for each chunk cost ~0.1 s per million rows of a 100-character text)."""
    key = (value, type_)
    cached = _CONSTANTS.get(key)
    if cached is None or len(cached) < n:
        if len(_CONSTANTS) >= _CONSTANTS_MAX:
            _CONSTANTS.clear()
        cached = pa.repeat(pa.scalar(value, type_), n) if n else pa.array([], type_)
        _CONSTANTS[key] = cached
    return cached.slice(0, n)


def normalise(name: str) -> str:
    return _NON_WORD.sub("_", name.strip().lstrip("\ufeff").lower()).strip("_")


@dataclass(frozen=True)
class Lineage:
    batch_id: str
    source_file: str
    ingested_at: datetime


def column_plan(source: Source, names: list[str]) -> tuple[dict[str, str], list[str]]:
    """(contract column -> file column, extra file columns); raises BadFile on missing required."""
    by_norm: dict[str, str] = {}
    for name in names:
        key = normalise(name)
        if key in by_norm:
            raise BadFile(f"columns {by_norm[key]!r} and {name!r} clash")
        by_norm[key] = name
    # contract columns are normalised too: `_op` of the shop sources matches a column `_op`
    mapping = {col: by_norm[normalise(col)] for col in source.columns if normalise(col) in by_norm}
    missing = [col for col in source.required if col not in mapping]
    if missing:
        raise BadFile(f"missing required column(s): {', '.join(missing)}")
    used = set(mapping.values())
    extra = [name for name in names if name not in used]
    return mapping, extra


def _json_escape(values: pa.Array) -> pa.Array:
    out = pc.replace_substring(values, "\\", "\\\\")
    for char, escaped in (('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        out = pc.replace_substring(out, char, escaped)
    out = pc.replace_substring(out, "\b", "\\b")
    return pc.replace_substring(out, "\f", "\\f")


def extra_json(chunk: pa.RecordBatch, extra: list[str]) -> pa.Array:
    """Vectorised ``{"col": "value", ...}`` per row (null values as JSON null)."""
    if not extra:
        return pa.nulls(chunk.num_rows, pa.string())
    pieces = []
    for name in extra:
        values = chunk.column(name)
        key = json.dumps(name, ensure_ascii=False) + ":"
        quoted = pc.binary_join_element_wise(pa.scalar(key + '"'), _json_escape(values), pa.scalar('"'), "")
        pieces.append(pc.if_else(pc.is_null(values), pa.scalar(key + "null"), quoted))
    body = pc.binary_join_element_wise(*pieces, ",") if len(pieces) > 1 else pieces[0]
    result = pc.binary_join_element_wise(pa.scalar("{"), body, pa.scalar("}"), "")
    # Control characters other than \b \t \n \f \r are rare: let the json module escape those rows.
    if any(pc.any(pc.match_substring_regex(chunk.column(n), _RARE_CONTROL)).as_py() for n in extra):
        rows = chunk.select(extra).to_pylist()
        result = pa.array([json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in rows])
    return result


def conform(chunk: pa.RecordBatch, source: Source, lineage: Lineage, first_row: int) -> pa.RecordBatch:
    """The chunk in ``source.file_schema`` order; ``first_row`` is the 1-based number of its first row."""
    mapping, extra = column_plan(source, chunk.schema.names)
    n = chunk.num_rows
    arrays: list[pa.Array] = []
    for col in source.columns:
        if col in mapping:
            arrays.append(chunk.column(mapping[col]))
        else:
            arrays.append(pa.nulls(n, pa.string()))
    arrays.append(extra_json(chunk, extra))
    arrays.append(constant(lineage.batch_id, pa.string(), n))
    arrays.append(constant(lineage.source_file, pa.string(), n))
    arrays.append(pa.array(np.arange(first_row, first_row + n, dtype=np.int64)))
    arrays.append(constant(lineage.ingested_at, pa.timestamp("us", tz="UTC"), n))
    return pa.RecordBatch.from_arrays(arrays, schema=source.file_schema)
