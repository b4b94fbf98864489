"""The whole project on a real Spark standalone cluster (a master and two workers, each its own JVM) and an
external PostgreSQL used only through GOLD_DATABASE_URL: the same marts as the embedded run, tasks on both
workers, and nothing left running after `cluster down`.

Selected alone with `pytest -m cluster`; `make test` runs it with the rest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request

import psycopg
import pytest

from lakehouse import services
from lakehouse.gold import gold_totals
from lakehouse.platform.settings import REPO_ROOT, load_settings
from lakehouse.services import Postgres
from lakehouse.services.cluster import Cluster, client_env
from tests.support.ports import free_port
from tests.support.reference import REFERENCE_SIZES, lake_state

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

# the cluster runs the reference run's dataset (tests/support/reference.py) through the CLI
SIZES = [f"--{k.replace('_', '-')}={v}" for k, v in REFERENCE_SIZES.items()]


def free_ports(n: int) -> list[int]:
    """``n`` consecutive free ports (the workers' UIs follow the master's)."""
    for base in range(18100, 19000, 10):
        if all(not services.port_in_use("127.0.0.1", base + i) for i in range(n)):
            return [base + i for i in range(n)]
    raise RuntimeError("no free ports")


def run_pipeline(env: dict[str, str]) -> subprocess.CompletedProcess:
    res = subprocess.run(
        [sys.executable, "-m", "flows", "run", *SIZES], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res


@pytest.fixture(scope="module")
def cluster_settings(lake):
    master, master_ui, ui_1, ui_2 = free_ports(4)
    del ui_1, ui_2  # the workers' UIs: master UI + 1, + 2
    cluster_dir = lake.data_dir / "cluster"
    shutil.rmtree(cluster_dir, ignore_errors=True)
    settings = load_settings(
        {**lake.values, "CLUSTER_DIR": str(cluster_dir), "CLUSTER_MASTER_PORT": str(master),
         "CLUSTER_MASTER_UI_PORT": str(master_ui), "CLUSTER_THRIFT_PORT": str(free_port()),
         "CLUSTER_UI_PORT": str(free_port()), "CLUSTER_WORKERS": "2", "CLUSTER_WORKER_CORES": "1",
         "CLUSTER_WORKER_MEMORY": "1g"}
    )  # fmt: skip
    cluster = Cluster(settings)
    cluster.up(echo=lambda _m: None)
    yield settings
    cluster.down(echo=lambda _m: None)


@pytest.fixture(scope="module")
def foreign_pg(lake):
    """A second PostgreSQL, used only through its URL, as a foreign server would be."""
    data_dir = lake.data_dir / "foreign-pg-cluster"
    shutil.rmtree(data_dir, ignore_errors=True)
    server = Postgres(load_settings({"LAKEHOUSE_DATA_DIR": str(data_dir), "GOLD_PG_PORT": str(free_port()),
                                     "GOLD_PG_DATABASE": "analytics"}))  # fmt: skip
    server.up()
    yield server.s.gold_url
    server.down()


def test_1_cluster_runs_the_pipeline_like_the_embedded_one(
    reference_run, cluster_settings, foreign_pg, tmp_path
):
    # the embedded reference: the session's own services, from an empty lake and gold (tests/conftest.py)
    embedded_lake, embedded_gold = reference_run.lake, reference_run.gold

    # the cluster: configuration by environment variables only, as for a cluster on YARN or Kubernetes
    env = {
        **os.environ,
        **client_env(cluster_settings),
        "LAKEHOUSE_DATA_DIR": str(tmp_path / "client"),  # its own dbt target, landing and Prefect home
        "GOLD_DATABASE_URL": foreign_pg,
    }
    res = run_pipeline(env)
    assert "Gold is loaded" in res.stdout
    cluster_client = load_settings({**{k: env[k] for k in client_env(cluster_settings)},
                                    "LAKEHOUSE_DATA_DIR": env["LAKEHOUSE_DATA_DIR"]})  # fmt: skip
    assert lake_state(cluster_client) == embedded_lake
    cluster_gold = gold_totals(foreign_pg)
    assert cluster_gold == embedded_gold
    assert embedded_lake["fact"][0] > 0 and len(cluster_gold) >= 10

    # the foreign server holds nothing of ours but our schemas and roles
    with psycopg.connect(foreign_pg) as conn:
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace where nspname !~ '^pg_'")}
        assert schemas - {"information_schema", "public"} <= {"gold", "gold_marts", "gold_load"}


def test_2_tasks_ran_on_both_workers(cluster_settings):
    cluster = Cluster(cluster_settings)
    app_api = f"http://127.0.0.1:{cluster_settings.get('CLUSTER_UI_PORT')}/api/v1/applications"
    (app,) = json.load(urllib.request.urlopen(app_api, timeout=10))
    executors_api = f"{app_api}/{app['id']}/executors"
    tasks = {e["id"]: e["totalTasks"] for e in json.load(urllib.request.urlopen(executors_api, timeout=10))}
    per_worker = {}
    for worker in cluster.workers:
        state = json.load(urllib.request.urlopen(f"http://127.0.0.1:{worker.ui_port}/json/", timeout=10))
        executors = [str(e["id"]) for e in state["executors"] if e["appid"] == app["id"]]
        per_worker[worker.name] = sum(tasks.get(e, 0) for e in executors)
    assert set(per_worker) == {"worker-1", "worker-2"}
    assert all(n > 0 for n in per_worker.values()), per_worker


def test_3_cluster_down_leaves_no_java_process(cluster_settings):
    cluster = Cluster(cluster_settings)
    env = {**os.environ, **{k: v for k, v in cluster_settings.values.items() if k.startswith("CLUSTER_")}}
    res = subprocess.run(
        [sys.executable, "-m", "lakehouse", "cluster", "down"], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "master: stopped" in res.stdout and "spark-thrift: stopped" in res.stdout
    assert cluster.leftover_jvms() == []
    assert all(st.state == "stopped" for st in cluster.status())
