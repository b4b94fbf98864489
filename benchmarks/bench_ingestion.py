"""Generate and land order lines: rows per second and peak memory, for 1M and 10M rows.

Each size runs in its own subprocess so that peak RSS (``resource.getrusage``) is that run's alone.
Rows are generated in chunks (vectorised numpy/Arrow) and written as Parquet in chunks into a raw
zone under a temporary folder. Registration in Hive is a few Thrift statements whatever the size; it
is done only with ``--register`` (needs the services: `make up`), because without it the benchmark
must run anywhere. Prints ``name: value unit`` lines.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time

SIZES = {"1m": 1_000_000, "10m": 10_000_000}
CHUNK_ROWS = 250_000
BENCH_SCHEMA = "bench_raw"  # never the real raw schema


def _drop(spark) -> None:
    if BENCH_SCHEMA in {r[0] for r in spark.query("show databases")}:
        spark.execute(f"drop table if exists {BENCH_SCHEMA}._batches purge")
        spark.execute(f"drop database if exists {BENCH_SCHEMA} cascade")


def run_one(rows: int, register: bool) -> dict[str, float]:
    from ingestion.generate import GeneratorConfig, build_world
    from ingestion.generate.orders import line_chunks
    from ingestion.land import BatchInput
    from ingestion.rawzone import RawZone

    world = build_world(GeneratorConfig(seed=1, days=30, products=5_000, customers=50_000))
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        zone = RawZone(tmp)
        start = time.perf_counter()
        chunks = lambda: line_chunks(world, rows, CHUNK_ROWS)  # noqa: E731
        if register:
            from ingestion.land import Lander
            from lakehouse.platform.settings import load_settings
            from lakehouse.platform.sql import SparkSQL

            item = BatchInput("order_lines", f"bench_{rows}", f"generated://order_lines?rows={rows}",
                              f"bench-{rows}-{time.time()}", chunks)  # fmt: skip
            with SparkSQL(load_settings()) as spark:
                _drop(spark)
                try:
                    report = Lander(spark, zone, progress=False, schema=BENCH_SCHEMA).land([item])
                finally:
                    _drop(spark)  # its files are in the temporary folder
            landed = report.rows
        else:
            from datetime import UTC, datetime

            from ingestion.conform import Lineage, conform
            from ingestion.contract import SOURCES

            src = SOURCES["order_lines"]
            lineage = Lineage("bench", "generated://order_lines", datetime.now(UTC))
            counter = [1]

            def conformed():
                for chunk in chunks():
                    yield conform(chunk, src, lineage, counter[0])
                    counter[0] += chunk.num_rows

            path = zone.partition_path("order_lines", "2024-01-01", "bench")
            landed, _files = zone.write_chunks(path, src.file_schema, conformed(), 2_000_000)
        seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"rows": landed, "seconds": seconds, "peak_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m,10m", help="comma-separated: 1m, 10m")
    parser.add_argument("--register", action="store_true", help="also register in Hive (services up)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.register)))
        return
    for name in args.sizes.split(","):
        cmd = [sys.executable, __file__, "--child", str(SIZES[name])]
        cmd += ["--register"] if args.register else []
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        print(f"ingest_order_lines_{name}_rows_per_s: {result['rows'] / result['seconds']:.0f} rows/s")
        print(f"ingest_order_lines_{name}_seconds: {result['seconds']:.1f} s")
        print(f"ingest_order_lines_{name}_peak_rss: {result['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
