"""Access-log parse rate in Spark: the staging model's parse (stg_access_logs__lines) over landed log lines.

Generates a day of access logs (BENCH_LOG_SESSIONS clickstream sessions, default 12000: about 370k lines over
three servers), lands each file BENCH_LOG_COPIES times (default 4, under other server folders, so about 1.5M
lines) into raw.access_logs through the Lander, compiles stg_access_logs__lines with dbt and times, on the
Thrift server, a query that needs every parsed column of every line (the regex match, the typed fields, the
timestamp, the reasons): median of BENCH_LOG_REPEATS (3) runs after one warm-up. Prints `name: value unit`:
  logs_generate_lines_per_second     the generator (one day, before the copies)
  logs_land_lines_per_second         read, decode and land as Parquet (Lander, all copies)
  logs_parse_seconds                 the timed query (median)
  logs_parse_lines_per_second        lines / that time (goal: at least 200k lines/s on 2 cores)
  logs_parse_cpu_seconds             CPU the executors spent on that query (Spark's REST API, median run)
  logs_parse_lines_per_second_2_cores  lines / (CPU seconds / 2): the rate two cores of our own would give,
                                     whatever else the machine runs (the wall figure is not, on a shared one)

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_env import keep_services  # the services of the benchmarks (sets the environment)

from ingestion.generate.access_logs import LogConfig, generate_access_logs
from ingestion.generate.config import GeneratorConfig
from ingestion.land import Lander
from ingestion.logs import log_inputs
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
                "sum(unix_seconds(request_ts)), sum(length(user_agent)), sum(length(request_target)), "
                "sum(length(remote_addr)), sum(coalesce(upstream_time_s, 0)), sum(size(invalid_reasons)), "
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
            say("logs_parse_seconds", seconds, "s")
            say("logs_parse_lines_per_second", lines / seconds, "lines/s")
            if all(c for c in cpus):
                cpu = statistics.median(c for c in cpus if c)
                say("logs_parse_cpu_seconds", cpu, "s")
                say("logs_parse_lines_per_second_2_cores", lines / (cpu / 2), "lines/s")
    finally:
        if not keep_services():
            services.down(settings, echo=lambda _msg: None)


if __name__ == "__main__":
    main()
