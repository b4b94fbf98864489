"""PII on its way to gold: each column tagged ``pii`` is replaced by a keyed hash (HMAC-SHA256, 32 hex
digits), so gold can count and join on it but never read it; the raw value never leaves the lake."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import pyarrow as pa

from lakehouse.platform.settings import Settings


def pii_key(settings: Settings) -> bytes:
    return settings.kept_secret("GOLD_PII_KEY", "pii.key").encode()


def mask_pii(data: pa.Table, columns: Iterable[str], key: bytes) -> pa.Table:
    """Replace each PII column by a keyed hash (HMAC-SHA256, 32 hex digits): joinable, not readable."""
    for name in columns:
        if name not in data.column_names:
            continue
        values = data.column(name).to_pylist()
        digest = lambda v: hmac.new(key, str(v).strip().lower().encode(), hashlib.sha256).hexdigest()[:32]  # noqa: E731
        hashed = [None if v is None else digest(v) for v in values]
        data = data.set_column(data.column_names.index(name), name, pa.array(hashed, pa.string()))
    return data


def masked_schema(schema: pa.Schema, columns: Iterable[str]) -> pa.Schema:
    """The schema gold receives: PII columns become the strings of their hashes."""
    pii = set(columns)
    fields = [pa.field(f.name, pa.string()) if f.name in pii else f.remove_metadata() for f in schema]
    return pa.schema(fields)
