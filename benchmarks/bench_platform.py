"""Platform figures: cold start of each embedded service, a second `up`, idle memory.

Starts its own services in a scratch data dir on free ports (never the ones of `make run`) and stops them.
Prints `name: value unit` lines.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lakehouse import services
from lakehouse.platform.settings import REPO_ROOT, load_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def main() -> None:
    data = REPO_ROOT / ".lakehouse" / "bench-platform"
    shutil.rmtree(data, ignore_errors=True)
    settings = load_settings(
        {
            "LAKEHOUSE_DATA_DIR": str(data),
            "LAKEHOUSE_SPARK": "embedded",
            "GOLD_DATABASE_URL": "",
            "SPARK_THRIFT_PORT": str(free_port()),
            "GOLD_PG_PORT": str(free_port()),
            "SPARK_UI_PORT": str(free_port()),
        }
    )
    pg, thrift = services.Postgres(settings), services.SparkThrift(settings)
    try:
        t = time.perf_counter()
        pg.up()
        print(f"platform_postgres_cold_start: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        thrift.up()
        print(f"platform_thrift_cold_start: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        services.up(settings, echo=lambda _m: None)
        print(f"platform_up_when_running: {time.perf_counter() - t:.2f} s")
        time.sleep(2)
        print(f"platform_thrift_idle_rss: {rss_mb(thrift.process().pid):.0f} MB")
        print(f"platform_postgres_idle_rss: {rss_mb(pg.process().pid):.0f} MB")
    finally:
        t = time.perf_counter()
        services.down(settings, echo=lambda _m: None)
        print(f"platform_down: {time.perf_counter() - t:.2f} s")
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
