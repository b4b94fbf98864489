"""The console of `python -m flows` (flows/console.py) and `python -m flows ui`: real dbt events, real CLI
processes on their own data directory, a real Prefect server; no Spark needed."""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from dbt.events.types import JinjaLogWarning, LogStartLine, NodeFinished
from dbt_common.events.base_types import msg_from_base_event

from flows import console
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.runlock import pipeline_lock
from lakehouse.platform.settings import load_settings
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]


def _node(name: str, resource_type: str = "model") -> dict:
    return {"node_name": name, "resource_type": resource_type, "unique_id": f"{resource_type}.p.{name}"}


def _dbt_events(statuses: list[tuple[str, str]]):
    """What dbt's callbacks receive during a build: "i of N START" per node, then NodeFinished."""
    total = len(statuses)
    for i, (name, status) in enumerate(statuses, 1):
        info = _node(name)
        yield msg_from_base_event(
            LogStartLine(description=f"sql model {name}", index=i, total=total, node_info=info)
        )
        yield msg_from_base_event(
            NodeFinished(
                node_info=info | {"node_status": status}, run_result={"status": status, "execution_time": 1.0}
            )
        )


def test_dbt_events_drive_the_plain_progress_lines():
    out = io.StringIO()
    progress = console.DbtProgress(console.Console(out, live=False, plain_every=0), "dbt build")
    with progress:
        for event in _dbt_events([("stg_a", "success"), ("stg_b", "fail"), ("fct_c", "success")]):
            progress(event)
    assert (progress.total, progress.done, progress.failed) == (3, 3, ["stg_b"])
    lines = out.getvalue().splitlines()
    assert [line.split(",")[0].strip() for line in lines] == [
        "dbt build: 1/3 nodes", "dbt build: 2/3 nodes", "dbt build: 3/3 nodes"
    ]  # fmt: skip
    assert "1 failed" in lines[-1]


def test_dbt_warnings_in_full_and_a_repeated_kind_counted():
    out = io.StringIO()
    progress = console.DbtProgress(console.Console(out, live=False, plain_every=3600), "dbt build")
    numeric = "Detected columns with numeric type and unspecified precision/scale: ['{}']"
    with progress:
        progress(msg_from_base_event(JinjaLogWarning(msg="\x1b[33mA deprecated config\x1b[0m", node_info={})))
        for column in ("a", "b", "c", "d"):
            progress(msg_from_base_event(JinjaLogWarning(msg=numeric.format(column), node_info={})))
    assert out.getvalue().splitlines() == [
        "  dbt warning: A deprecated config",
        "  dbt warning: " + numeric.format("a"),
        "  dbt warning: " + numeric.format("b"),
        '  dbt warning: 2 more like "Detected columns with numeric type and u…" (dbt\'s log has them)',
    ]


def test_plain_progress_is_occasional():
    out = io.StringIO()
    progress = console.DbtProgress(console.Console(out, live=False, plain_every=3600), "dbt build")
    for event in _dbt_events([(f"m{i}", "success") for i in range(50)]):
        progress(event)
    assert progress.done == 50 and out.getvalue() == ""


def test_live_bar_shows_nodes_and_keeps_lines_printed_meanwhile():
    out = io.StringIO()
    screen = console.Console(out, live=True)
    with console.DbtProgress(screen, "dbt build") as progress:
        for event in _dbt_events([("stg_a", "success"), ("stg_b", "success")]):
            progress(event)
        screen.print("WARNING dbt: a warning in full")
        time.sleep(0.3)  # a refresh of the bar
    assert screen._progress is None  # the bar is gone after the build
    text = out.getvalue()
    assert "WARNING dbt: a warning in full" in text
    assert "dbt build" in text and "2/2" in text


def test_step_lines_warnings_and_the_log(tmp_path):
    out = io.StringIO()
    log_file = console.activate(tmp_path, console.Console(out, live=False))
    try:
        console.step("transform (dbt build)", "40 models, tests 90 passed / 0 failed", 62.3)
        console.step("export gold", "failed", 1.5, ok=False)
        console.say("postgres: started (pid 1) at 127.0.0.1:5432")
        logging.getLogger("lakehouse.platform.sql").info("spark sql: select 1")
        logging.getLogger("ingestion.land").warning("batch x has 3 unreadable rows:\nrow 1\nrow 2")
        logging.getLogger("EventsWorker").warning("Still processing items: 1 items remaining...")
        try:
            raise LakehouseError("Another pipeline run is active")
        except LakehouseError:
            logging.getLogger("prefect.flow_runs").error(
                "Encountered exception during execution:", exc_info=True
            )
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("prefect.task_runs").error(
                "Task run failed with exception: boom", exc_info=True
            )
    finally:
        console.deactivate()
    for handler in logging.getLogger().handlers:
        handler.flush()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("✓ transform (dbt build)") and lines[0].endswith(
        "62.3 s  40 models, tests 90 passed / 0 failed"
    )
    assert lines[1].startswith("✗ export gold") and "1.5 s  failed" in lines[1]
    assert lines[2] == "  postgres: started (pid 1) at 127.0.0.1:5432"
    # warnings in full; Prefect's failure records without their traceback; the LakehouseError's not at all
    assert lines[3:] == [
        "WARNING ingestion.land: batch x has 3 unreadable rows:", "row 1", "row 2",
        "ERROR prefect.task_runs: Task run failed with exception: boom",
    ]  # fmt: skip
    logged = log_file.read_text()
    assert (
        "spark sql: select 1" in logged
        and "Traceback" in logged
        and "Another pipeline run is active" in logged
        and "EventsWorker" in logged  # Prefect's draining at exit: the log only
    )


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DBT_"))}
    env.update(LAKEHOUSE_DATA_DIR=str(data_dir), PYTHONPATH=str(REPO), **extra)
    return env


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory):
    """`python -m flows run` while another run holds the pipeline lock: a LakehouseError inside a flow
    (a flow run stored in the data dir's Prefect home), without starting any service."""
    data_dir = tmp_path_factory.mktemp("console")
    env = _env(data_dir)
    os.environ["LAKEHOUSE_DATA_DIR"], saved = str(data_dir), os.environ["LAKEHOUSE_DATA_DIR"]
    try:
        with pipeline_lock(load_settings()):
            res = subprocess.run(
                [sys.executable, "-m", "flows", "run"], cwd=REPO, env=env, capture_output=True, text=True,
                timeout=300,
            )  # fmt: skip
    finally:
        os.environ["LAKEHOUSE_DATA_DIR"] = saved
    return data_dir, res


def test_an_expected_error_is_one_line_with_the_log(failed_run):
    data_dir, res = failed_run
    assert res.returncode == 1, res.stderr
    console_lines = (res.stdout + res.stderr).splitlines()
    log_file = data_dir / "logs" / "lakehouse.log"
    assert console_lines == [f"error: Another pipeline run is active (pid {os.getpid()}); runs never overlap "
                             f"here. Wait for it to finish, or pass --wait.  (log: {log_file})"]  # fmt: skip
    logged = log_file.read_text()
    assert "Starting temporary server" in logged  # Prefect's chatter went to the log
    assert "Traceback" in logged and "LakehouseError" in logged


def _ui_processes(pid: int) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"]) if str(pid) in " ".join(p.info["cmdline"] or [])]


def test_ui_shows_earlier_runs_with_schedules_paused_and_stops_cleanly(failed_run):
    data_dir, _res = failed_run
    port = free_port()
    env = _env(data_dir, PREFECT_UI_PORT=str(port))
    log = open(data_dir / "ui-console.txt", "w")  # noqa: SIM115
    ui = subprocess.Popen([sys.executable, "-m", "flows", "ui"], cwd=REPO, env=env, stdout=log, stderr=log)
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert ui.poll() is None, (data_dir / "ui-console.txt").read_text()
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            pytest.fail("the UI's API did not answer")
        children = psutil.Process(ui.pid).children(recursive=True)
        assert children, "the Prefect server runs as a child of `flows ui`"
        runs = httpx.post(f"{api}/flow_runs/filter", json={}, timeout=30).json()
        names = {(r["name"], r["state_type"]) for r in runs}
        flows_by_id = {
            f["id"]: f["name"] for f in httpx.post(f"{api}/flows/filter", json={}, timeout=30).json()
        }
        assert {flows_by_id[r["flow_id"]] for r in runs} == {"lakehouse-pipeline"}, names
        assert {state for _name, state in names} == {"FAILED"}
        server = httpx.get(f"{api}/admin/settings", timeout=30).json()["server"]["services"]
        assert server["scheduler"]["enabled"] is False and server["late_runs"]["enabled"] is False
        # `flows ui` says so once the API answers (the test may see the API a moment before that line)
        deadline = time.monotonic() + 30
        while "schedules paused" not in (data_dir / "ui-console.txt").read_text():
            assert time.monotonic() < deadline, (data_dir / "ui-console.txt").read_text()
            time.sleep(0.5)
    finally:
        ui.send_signal(signal.SIGTERM)
        ui.wait(timeout=60)
        log.close()
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{api}/health", timeout=2)


def test_ui_stopped_while_its_server_starts_leaves_nothing(tmp_path):
    """SIGTERM in the seconds the Prefect server takes to answer (a container stopped right after start):
    the server, in a session of its own, must not outlive `flows ui`."""
    port = free_port()
    ui = subprocess.Popen(
        [sys.executable, "-m", "flows", "ui"], cwd=REPO, env=_env(tmp_path, PREFECT_UI_PORT=str(port)),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not psutil.Process(ui.pid).children(recursive=True):  # the server has been started
        assert time.monotonic() < deadline and ui.poll() is None
        time.sleep(0.2)
    children = psutil.Process(ui.pid).children(recursive=True)
    ui.send_signal(signal.SIGTERM)
    ui.wait(timeout=60)
    _gone, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], [p.cmdline() for p in alive]
    cmdlines = [" ".join(p.info["cmdline"] or []) for p in psutil.process_iter(["cmdline"])]
    assert not [c for c in cmdlines if f"--port {port}" in c]
