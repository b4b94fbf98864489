"""Write a generated dataset as source files, the way source systems would deliver them.

Layout: ``<out>/<source>/<source>_<yyyy-mm-dd>[T<HH>].<ext>``: master data and exchange rates as
one CSV per day, order lines one file per hour (CSV by default), clickstream one JSON lines file per day.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from tqdm import tqdm  # type: ignore[import-untyped]  # no stubs in the dev group

from ingestion.contract import SOURCES
from ingestion.generate import clickstream, master, orders
from ingestion.generate.config import GeneratorConfig
from ingestion.generate.world import World, build_world


def write_table(table: pa.Table, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    elif path.suffix == ".jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for row in table.to_pylist():
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        pacsv.write_csv(table, path)
    return path


def write_events(events: list[dict[str, str | None]], path: Path) -> Path:
    order = SOURCES["clickstream_events"].columns
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for event in events:
            fh.write(json.dumps({k: event[k] for k in order}, ensure_ascii=False) + "\n")
    return path


def generate_dataset(config: GeneratorConfig, out: Path, progress: bool | None = None) -> list[Path]:
    """Write every source of the simulated period under ``out``; return the files written."""
    world: World = build_world(config)
    names = master.customer_names(world)
    written: list[Path] = []
    ext = {"csv": "csv", "parquet": "parquet", "jsonl": "jsonl"}[config.order_format]
    batches = orders.hourly_batches(world)
    pending = next(batches, None)
    for d in tqdm(range(config.days + 1), desc="generating", unit="day", disable=progress is False):
        day = world.day(d).isoformat()
        written.append(write_table(master.countries(world, d), out / "countries" / f"countries_{day}.csv"))
        written.append(write_table(master.products(world, d), out / "products" / f"products_{day}.csv"))
        written.append(
            write_table(master.customers(world, d, names), out / "customers" / f"customers_{day}.csv")
        )
        if d == config.days:  # the morning after: master data only
            break
        written.append(
            write_table(master.exchange_rates(world, d), out / "exchange_rates" / f"exchange_rates_{day}.csv")
        )
        while pending is not None and pending[0] == d:
            _d, hour, table = pending
            written.append(write_table(table, out / "order_lines" / f"order_lines_{day}T{hour:02d}.{ext}"))
            pending = next(batches, None)
        if config.sessions_per_day:
            events = clickstream.sessions(world, d)
            written.append(
                write_events(events, out / "clickstream_events" / f"clickstream_events_{day}.jsonl")
            )
    return written
