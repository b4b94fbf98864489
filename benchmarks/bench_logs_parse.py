"""Access-log parse rate, end to end: the match at landing (Arrow's RE2, ingestion/logs.py parse_lines) plus
the typing in staging (stg_access_logs__lines on Spark), over the same landed lines.

Generates a day of access logs (BENCH_LOG_SESSIONS clickstream sessions, default 12000: about 380k lines over
three servers), lands each file BENCH_LOG_COPIES times (default 4, under other server folders, so about 1.5M
lines) into raw.access_logs through the Lander. Then times the two halves of the parse step:
- landing: parse_lines (format match and field extraction) on the day's lines in the landing's chunks, in this
  process (single-threaded), CPU time by time.process_time; median of BENCH_LOG_REPEATS (3) runs, for every
  copy (the copies are the same lines);
- staging: stg_access_logs__lines compiled by dbt, a query on the Thrift server that needs every typed column
  of every line (casts, timestamp, unescaping, request split, reasons); the executors' CPU from Spark's REST
  API; median of BENCH_LOG_REPEATS runs after one warm-up. The query sums octet_length (a string's byte count,
  kept with the string), not length (which counts characters: about 0.5 CPU-s per column here, the
  consumer's cost, not the parse's).
Prints `name: value unit`:
  logs_generate_lines_per_second       the generator (one day, before the copies)
  logs_land_lines_per_second           read, decode, parse and land as Parquet (Lander, all copies; wall)
  logs_parse_landing_cpu_seconds       CPU of the landing's parse over all lines
  logs_parse_landing_lines_per_cpu_second
  logs_parse_staging_seconds           wall time of the staging query (median; on a shared machine mostly
                                       the queue for the CPU)
  logs_parse_staging_cpu_seconds       CPU the executors spent on it
  logs_parse_cpu_seconds               landing + staging CPU: the parse step end to end
  logs_parse_lines_per_second_2_cores  lines / (that CPU / 2): the rate two cores of our own give the parse
                                       step end to end, whatever else the machine runs (goal: at least 200k)

Starts its own services on the benchmarks' data directory and ports (_bench_env.py: BENCH_DATA_DIR,
BENCH_THRIFT_PORT, ...), and DROPS the raw, staging, intermediate and marts schemas there first.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_env import keep_services  # the services of the benchmarks (sets the environment)

from ingestion.generate.access_logs import LogConfig, generate_access_logs
from ingestion.generate.config import GeneratorConfig
from ingestion.land import Lander
from ingestion.logs import DEFAULT_CHUNK_ROWS, decode_lines, log_inputs, parse_lines, raw_lines
from ingestion.rawzone import RawZone, default_raw_uri
from lakehouse import services
from lakehouse.platform.settings import load_settings
from lakehouse.platform.sql import SparkSQL

SESSIONS = int(os.environ.get("BENCH_LOG_SESSIONS", "12000"))
COPIES = int(os.environ.get("BENCH_LOG_COPIES", "4"))
REPEATS = int(os.environ.get("BENCH_LOG_REPEATS", "3"))
SCHEMAS = ("raw", "enrich", "staging", "intermediate", "marts")
MODEL = "stg_access_logs__lines"


def say(name: str, value: float, unit: str) -> None:
    print(f"{name}: {value:,.0f} {unit}" if value >= 100 else f"{name}: {value:.3f} {unit}", flush=True)


def compiled_model(settings) -> str:
    """The staging model's SQL as dbt compiles it (the var access_log_formats, the macros)."""
    proc = subprocess.run(
        [sys.executable, "-m", "lakehouse", "dbt", "compile", "--select", MODEL, "--quiet"],
        capture_output=True, text=True, env=os.environ.copy(),
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"dbt compile failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    found = list((settings.data_dir / "dbt" / "target" / "compiled").rglob(f"{MODEL}.sql"))
    if not found:
        raise SystemExit(f"compiled {MODEL}.sql not found under {settings.data_dir / 'dbt' / 'target'}")
    return found[0].read_text()


def executor_cpu_seconds(settings, since: datetime) -> float | None:
    """CPU seconds of the stages submitted since ``since`` (Spark UI REST API of the embedded server)."""
    base = f"http://127.0.0.1:{settings.get('SPARK_UI_PORT')}/api/v1/applications"
    try:
        with urllib.request.urlopen(base, timeout=10) as resp:
            app = json.load(resp)[0]["id"]
        with urllib.request.urlopen(f"{base}/{app}/stages?status=complete", timeout=10) as resp:
            stages = json.load(resp)
    except (OSError, ValueError, IndexError, KeyError):
        return None
    cpu_ns = 0
    for stage in stages:
        submitted = datetime.strptime(stage["submissionTime"], "%Y-%m-%dT%H:%M:%S.%fGMT").replace(tzinfo=UTC)
        if submitted >= since:
            cpu_ns += stage["executorCpuTime"]
    return cpu_ns / 1e9


def landing_parse_cpu(files: list[Path]) -> float:
    """CPU seconds of parse_lines over the files' lines, in the landing's chunks (median of REPEATS)."""
    chunks = []
    for f in files:
        lines = list(raw_lines(str(f)))
        for start in range(0, len(lines), DEFAULT_CHUNK_ROWS):
            texts, _encoded = decode_lines(lines[start : start + DEFAULT_CHUNK_ROWS])
            chunks.append(pa.array(texts, pa.string()))
    cpus = []
    for _ in range(REPEATS):
        start = time.process_time()
        for chunk in chunks:
            parse_lines(chunk)
        cpus.append(time.process_time() - start)
    return statistics.median(cpus)


def main() -> None:
    settings = load_settings()
    services.up(settings, echo=lambda _msg: None)
    try:
        with SparkSQL(settings) as spark, tempfile.TemporaryDirectory(prefix="bench-logs-") as tmp:
            zone = RawZone(default_raw_uri(settings))
            for schema in SCHEMAS:
                spark.execute(f"drop database if exists {schema} cascade")
            shutil.rmtree(zone.root, ignore_errors=True)

            start = time.perf_counter()
            config = GeneratorConfig(seed=1, days=1, sessions_per_day=SESSIONS)
            files = generate_access_logs(config, Path(tmp) / "logs", LogConfig(live=False))
            generated = time.perf_counter() - start
            day_lines = sum(f.read_bytes().count(b"\n") for f in files)
            say("logs_generate_lines_per_second", day_lines / generated, "lines/s")
            for copy in range(1, COPIES):  # the same files again as other servers' (landed with force)
                for f in files:
                    target = Path(tmp) / "logs" / f"{f.parent.name}-copy{copy}" / f.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(f, target)

            start = time.perf_counter()
            inputs = log_inputs([str(Path(tmp) / "logs")])
            report = Lander(spark, zone, progress=False).land(inputs, force=True)
            landed = time.perf_counter() - start
            if report.failed:
                raise SystemExit(f"landing failed: {report.failed[0].error}")
            lines = report.rows
            say("logs_land_lines_per_second", lines / landed, "lines/s")

            sql = compiled_model(settings)
            query = (
                "select count(*), count(log_format), sum(status_code), sum(response_bytes), "
                "sum(unix_seconds(request_ts)), sum(octet_length(user_agent)), "
                "sum(octet_length(request_target)), sum(octet_length(remote_addr)), "
                "sum(coalesce(upstream_time_s, 0)), sum(size(invalid_reasons)), "
                "count(http_method), count(referer) "
                f"from ({sql}) as parsed"
            )
            first = spark.query(query)[0]
            if first[0] != lines:
                raise SystemExit(f"the parse saw {first[0]} lines, {lines} were landed")
            times, cpus = [], []
            for _ in range(REPEATS):
                since = datetime.now(UTC).replace(microsecond=0)
                start = time.perf_counter()
                spark.query(query)
                times.append(time.perf_counter() - start)
                time.sleep(1)  # the UI records the finished stage
                cpus.append(executor_cpu_seconds(settings, since))
            seconds = statistics.median(times)
            print(f"logs_parse_lines: {lines} lines ({first[1]} parsed)", flush=True)
            landing_cpu = landing_parse_cpu(files) * COPIES
            say("logs_parse_landing_cpu_seconds", landing_cpu, "s")
            say("logs_parse_landing_lines_per_cpu_second", lines / landing_cpu, "lines/s")
            say("logs_parse_staging_seconds", seconds, "s")
            if not all(cpus):
                raise SystemExit("no executor CPU time from Spark's REST API: no end-to-end figure")
            staging_cpu = statistics.median(c for c in cpus if c)
            say("logs_parse_staging_cpu_seconds", staging_cpu, "s")
            say("logs_parse_cpu_seconds", landing_cpu + staging_cpu, "s")
            say("logs_parse_lines_per_second_2_cores", lines / ((landing_cpu + staging_cpu) / 2), "lines/s")
    finally:
        if not keep_services():
            services.down(settings, echo=lambda _msg: None)


if __name__ == "__main__":
    main()
