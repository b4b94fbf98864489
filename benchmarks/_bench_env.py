"""The benchmarks' own services: a dedicated data directory and ports, never those of `make run` or the tests.

Imported first by a benchmark that starts services (it sets the environment that lakehouse.platform.settings
reads):
  BENCH_DATA_DIR (default .lakehouse/bench), BENCH_THRIFT_PORT (10500), BENCH_PG_PORT (15932),
  BENCH_UI_PORT (4540); BENCH_KEEP_SERVICES=1 leaves them running afterwards.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

os.environ["LAKEHOUSE_DATA_DIR"] = os.environ.get("BENCH_DATA_DIR", str(REPO / ".lakehouse" / "bench"))
os.environ["SPARK_THRIFT_PORT"] = os.environ.get("BENCH_THRIFT_PORT", "10500")
os.environ["GOLD_PG_PORT"] = os.environ.get("BENCH_PG_PORT", "15932")
os.environ["SPARK_UI_PORT"] = os.environ.get("BENCH_UI_PORT", "4540")
os.environ["SPARK_THRIFT_HOST"] = "127.0.0.1"
os.environ["LAKEHOUSE_SPARK"] = "embedded"
os.environ["DBT_TARGET"] = "local"
os.environ.pop("GOLD_DATABASE_URL", None)


def keep_services() -> bool:
    return os.environ.get("BENCH_KEEP_SERVICES") == "1"
