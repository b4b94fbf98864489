"""Import benchmark: a user's file of the real Online Retail II size, imported and published on an empty lake.

The file (1,067,371 lines in the Online Retail II layout, UTF-8 CSV with a byte-order mark) is generated with
the real data set's quirks by ingestion/generate/online_retail/. Prints `name: value unit` lines:
  import_1m_lines                 lines in the file
  import_1m_import_seconds        `python -m ingestion import FILE`: read, derive the master data, land
  import_1m_import_peak_rss_mb    peak RSS of that process (goal: under 1 GB)
  import_1m_transform_seconds     the `dbt build` of `python -m flows import FILE` (the landing is skipped:
                                  the same file already landed)
  import_1m_export_seconds        export to gold and the BI layer of that run
  import_1m_end_to_end_seconds    import + the whole flow run (goal: under 5 minutes on 2 cores)
  import_1m_fact_lines, import_1m_unreconciled_rows   from the run's ledger

Needs the project venv. It starts its own Spark Thrift Server and PostgreSQL on a dedicated data directory and
ports, and DROPS every lake schema and the gold schemas there first:
  BENCH_DATA_DIR (default .lakehouse/bench), BENCH_THRIFT_PORT (10500), BENCH_PG_PORT (15932),
  BENCH_UI_PORT (4540), BENCH_KEEP_SERVICES=1 to leave them running. BENCH_IMPORT_LINES changes the size.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import psutil
from _bench_env import REPO, keep_services  # the services of the benchmarks (sets the environment)

from ingestion.generate.online_retail import II_FILE_LINES, generate_lines, write_ii_csv
from lakehouse import services
from lakehouse.platform.settings import load_settings
from tests.support.reference import empty_lake_and_gold

LINES = int(os.environ.get("BENCH_IMPORT_LINES", str(II_FILE_LINES)))
STEP = re.compile(r"^\s+(?P<step>.+?)\s{2}.*\((?P<seconds>[\d.]+) s\)$")


def say(name: str, value: float, unit: str) -> None:
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    print(f"{name}: {text} {unit}", flush=True)


def run_measured(args: list[str]) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run a child process; return it, its wall seconds and the peak RSS (MB) of it and its children."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watched, peak = psutil.Process(proc.pid), 0
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)
    reader.start()
    while proc.poll() is None:
        try:
            rss = sum(p.memory_info().rss for p in [watched, *watched.children(recursive=True)])
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.1)
    reader.join()
    seconds = time.perf_counter() - start
    done = subprocess.CompletedProcess(args, proc.returncode, "".join(output), "")
    if done.returncode != 0:
        sys.exit(f"{' '.join(args[1:])} failed:\n" + "\n".join(done.stdout.splitlines()[-30:]))
    return done, seconds, peak / 2**20


def step_seconds(report: str) -> dict[str, float]:
    """The steps of a flow's closing report (`  step  result  (12.3 s)`)."""
    return {m["step"]: float(m["seconds"]) for line in report.splitlines() if (m := STEP.match(line))}


def main() -> None:
    settings = load_settings()
    services.up(settings, echo=lambda _msg: None)
    try:
        empty_lake_and_gold(settings)
        folder = settings.data_dir / "landing" / "bench-import"
        folder.mkdir(parents=True, exist_ok=True)
        path = write_ii_csv(folder / "online_retail_II.csv", generate_lines(LINES, seed=7))
        say("import_1m_lines", LINES, "lines")

        _, imported, rss = run_measured([sys.executable, "-m", "ingestion", "import", str(path)])
        say("import_1m_import_seconds", imported, "s")
        say("import_1m_import_rows_per_second", LINES / imported, "rows/s")
        say("import_1m_import_peak_rss_mb", rss, "MB")

        flow, whole, _ = run_measured([sys.executable, "-m", "flows", "import", str(path)])
        steps = step_seconds(flow.stdout)
        say("import_1m_transform_seconds", steps["transform (dbt build)"], "s")
        say(
            "import_1m_export_seconds",
            steps["export gold"] + steps["gold BI layer (dbt build --target gold)"],
            "s",
        )
        say("import_1m_flow_run_seconds", whole, "s")
        say("import_1m_end_to_end_seconds", imported + whole, "s")
        counts = re.search(r"fact order lines ([\d,]+).*unreconciled rows ([\d,]+)", flow.stdout)
        if counts:
            say("import_1m_fact_lines", int(counts[1].replace(",", "")), "lines")
            say("import_1m_unreconciled_rows", int(counts[2].replace(",", "")), "rows")
    finally:
        if not keep_services():
            services.down(settings, echo=lambda _msg: None)


if __name__ == "__main__":
    main()
