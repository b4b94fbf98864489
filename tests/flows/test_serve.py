"""`make serve` for real: the deployments served on a local Prefect server, one run through the API.

`python -m flows serve` starts a Prefect server and a runner serving every deployment of flows/deployments.py;
`run_deployment` (what the UI's "Run" button and `prefect deployment run` call) creates a flow run on the
server, the runner picks it up and runs the flow with the deployment's parameters on the session's services.
SIGTERM (a container stop, systemd) then stops the runner and the server with no process left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from lakehouse.platform.settings import REPO_ROOT
from tests.support.ports import free_port

pytestmark = pytest.mark.integration

RUN_BACKUP = """
from prefect.deployments import run_deployment
run = run_deployment("gold-backup/gold-backup-daily", timeout=600)
print(run.state.type.value, run.id)
"""


def _wait_for(predicate, seconds: float, what: str, proc: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"`flows serve` exited ({proc.returncode}) before {what}: {log.read_text()[-3000:]}")
        if predicate():
            return
        time.sleep(1)
    pytest.fail(f"no {what} within {seconds:.0f} s: {log.read_text()[-3000:]}")


def _deployments(api: str) -> list[str]:
    try:
        res = httpx.post(f"{api}/deployments/filter", json={}, timeout=5)
    except httpx.HTTPError:
        return []
    return [d["name"] for d in res.json()] if res.status_code == 200 else []


def test_served_deployment_runs_through_the_api_then_sigterm_leaves_nothing(lake, tmp_path):
    from flows.deployments import deployments

    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    backups = tmp_path / "backups"
    env = {
        **os.environ,
        **lake.dbt_env(),
        "PREFECT_UI_PORT": str(port),
        "PREFECT_HOME": str(tmp_path / "prefect"),  # a home of its own: nothing shared with other tests
        "GOLD_BACKUP_DIR": str(backups),
        # no scheduled runs while the test runs (an order-lines run at the top of an even hour would
        # otherwise start on the session's lake): only the run the test asks for
        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "flows", "serve"], cwd=REPO_ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        expected = {d.name for d in deployments()}
        _wait_for(lambda: expected <= set(_deployments(api)), 240, "deployments served", serve, log)
        family = {serve.pid, *(c.pid for c in psutil.Process(serve.pid).children(recursive=True))}

        res = subprocess.run(
            [sys.executable, "-c", RUN_BACKUP], cwd=REPO_ROOT, capture_output=True, text=True,
            timeout=900, env={**env, "PREFECT_API_URL": api},
        )  # fmt: skip
        assert res.returncode == 0, res.stderr[-3000:]
        state, run_id = res.stdout.split()[-2:]
        assert state == "COMPLETED", log.read_text()[-3000:]
        (dump,) = backups.glob("*.dump")
        assert dump.read_bytes()[:5] == b"PGDMP"
        # the run is the deployment's, on the server the UI shows
        run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()
        deployment = httpx.get(f"{api}/deployments/{run['deployment_id']}", timeout=10).json()
        assert deployment["name"] == "gold-backup-daily"
        family |= {c.pid for c in psutil.Process(serve.pid).children(recursive=True)}
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
            pytest.fail("`flows serve` did not stop within 60 s of SIGTERM")
    deadline = time.monotonic() + 30
    alive = family

    def running(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    while alive and time.monotonic() < deadline:
        alive = {p for p in family if running(p)}
        time.sleep(0.5)
    assert not alive, [psutil.Process(p).cmdline() for p in alive if psutil.pid_exists(p)]
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{api}/health", timeout=2)
