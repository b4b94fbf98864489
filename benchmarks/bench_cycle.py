"""Cycle benchmark: what a run costs once the demo lake exists, and the main job from nothing.

Prints `name: value unit` lines (medians of 3 where it says so), each next to its goal:
  make_run_seconds           `python -m flows run` (the demo: 30 days, 150k order lines) on an empty lake,
                             services already up (`make run` on a fresh clone adds `make setup` and the
                             services' start)                                       goal: <= 300 s
  cycle_noop_seconds         the transform step of `python -m flows refresh` when nothing landed (median of 3)
                                                                                   goal: <= 20 s
  cycle_noop_flow_seconds    that whole flow run (Prefect, enrich, reviews, export, BI layer, alert)
  cycle_2h_batch_seconds     `python -m flows order-lines --hours 2`: land the next two hourly batches of
                             order lines (and their day's clickstream), transform, export, until the lines
                             are in gold (median of 3)                              goal: <= 90 s
  cycle_2h_batch_transform_seconds   of which the transform step
  cycle_2h_batch_no_history_seconds  the same cycle with LAKEHOUSE_RUN_HISTORY=false (fastest of 3, run
                             alternately with the recorded ones)
  run_history_overhead_pct   what recording the run history adds to that cycle (fastest of 3 with it against
                             fastest of 3 without)                                    goal: <= 10 %
  make_test_seconds          the last whole `make test` session on this checkout (tests/conftest.py writes it;
                             absent when the suite has not run here)              goal: <= 1800 s

Needs the project venv. It starts its own Spark Thrift Server and PostgreSQL on a dedicated data directory and
ports, and DROPS every lake schema and the gold schemas there first (see benchmarks/_bench_env.py).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_env import REPO, keep_services  # the services of the benchmarks (sets the environment)
from bench_import import run_measured, say, step_seconds

from lakehouse import services
from lakehouse.platform.settings import load_settings
from tests.support.reference import empty_lake_and_gold

TRANSFORM = "transform (dbt build)"


def flow(*args: str) -> tuple[float, dict[str, float], str]:
    done, seconds, _rss = run_measured([sys.executable, "-m", "flows", *args])
    return seconds, step_seconds(done.stdout), done.stdout


def median_of_3(*args: str) -> tuple[float, float, str]:
    runs = [flow(*args) for _ in range(3)]
    whole = statistics.median(r[0] for r in runs)
    transform = statistics.median(r[1].get(TRANSFORM, 0.0) for r in runs)
    return whole, transform, runs[-1][2]


def main() -> None:
    settings = load_settings()
    services.up(settings, echo=lambda _msg: None)
    try:
        empty_lake_and_gold(settings)
        seconds, _steps, _out = flow("run")
        say("make_run_seconds", seconds, "s (goal <= 300)")

        whole, transform, out = median_of_3("refresh")
        if "nothing to build" not in out:
            sys.exit("bench_cycle: a refresh with nothing landed built something:\n" + out[-2000:])
        say("cycle_noop_seconds", transform, "s (goal <= 20)")
        say("cycle_noop_flow_seconds", whole, "s")

        # the 2-hour cycle, recorded in the run history or not (LAKEHOUSE_RUN_HISTORY), alternately: what
        # the machine does meanwhile weighs on both the same
        recorded, bare = [], []
        for _ in range(3):
            recorded.append(flow("order-lines", "--hours", "2"))
            os.environ["LAKEHOUSE_RUN_HISTORY"] = "false"
            try:
                bare.append(flow("order-lines", "--hours", "2"))
            finally:
                del os.environ["LAKEHOUSE_RUN_HISTORY"]
        whole = statistics.median(r[0] for r in recorded)
        transform = statistics.median(r[1].get(TRANSFORM, 0.0) for r in recorded)
        say("cycle_2h_batch_seconds", whole, "s (goal <= 90)")
        say("cycle_2h_batch_transform_seconds", transform, "s")
        # the fastest of each: whatever else the machine does only ever adds time, to either side
        fastest, without = min(r[0] for r in recorded), min(r[0] for r in bare)
        say("cycle_2h_batch_no_history_seconds", without, "s")
        say("run_history_overhead_pct", 100 * (fastest - without) / without, "% (goal <= 10)")
    finally:
        if not keep_services():
            services.down(settings, echo=lambda _msg: None)

    # the test sessions' data directory (tests/conftest.py)
    tests_dir = Path(os.environ.get("LAKEHOUSE_TEST_DATA_DIR", str(REPO / ".lakehouse" / "pytest")))
    record = tests_dir / "last_test_session.json"
    last = json.loads(record.read_text()) if record.is_file() else {}
    if last.get("whole_suite"):
        say("make_test_seconds", float(last["seconds"]), f"s (goal <= 1800; {last['finished_at']})")


if __name__ == "__main__":
    main()
