"""Operating-system helpers every service uses: ports, PID files, telling our process from another, starting
one detached with its log, stopping a process tree, and reading why it died from its log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil

from lakehouse.platform.errors import first_line

log = logging.getLogger(__name__)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def port_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def our_process(pid: int | None, marker: str) -> psutil.Process | None:
    """The process ``pid`` if it is alive and its command line contains ``marker``."""
    if pid is None:
        return None
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc if marker in " ".join(proc.cmdline()) else None
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def launch(
    cmd: list[str], log_file: Path, pid_file: Path, cwd: Path, env: dict[str, str]
) -> subprocess.Popen:
    """Start ``cmd`` in its own session, detached from the terminal, output appended to ``log_file`` after a
    start banner; its PID goes to ``pid_file``."""
    log.info("starting %s: %s", pid_file.stem, " ".join(cmd))
    with log_file.open("ab") as out:
        out.write(f"\n===== start {time.strftime('%Y-%m-%d %H:%M:%S')} =====\n".encode())
        out.flush()
        popen = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd, env=env,
            start_new_session=True,
        )  # fmt: skip
    pid_file.write_text(f"{popen.pid}\n")
    return popen


def tail(path: Path, lines: int = 200) -> list[str]:
    """The last ``lines`` lines of a log (read from its last 64 KB); none when it does not exist."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            return fh.read().decode("utf-8", "replace").splitlines()[-lines:]
    except FileNotFoundError:
        return []


def why_it_died(log_file: Path) -> str:
    """The most telling line of a service log: a known cause first, else the last error line."""
    text = tail(log_file, 400)
    known = [
        (r"Address already in use|could not bind|BindException", "its port is already in use"),
        (
            r"Another instance of Derby may have already booted",
            "the Derby metastore is locked by another JVM",
        ),
        (
            r"OutOfMemoryError|Cannot allocate memory",
            "not enough memory (lower SPARK_DRIVER_MEMORY)",
        ),
        (
            r"UnsupportedClassVersionError|Unsupported major\.minor",
            "wrong Java version: Java 17 is needed",
        ),
    ]
    for pattern, reason in known:
        if any(re.search(pattern, line) for line in text):
            return reason
    for line in reversed(text):
        if re.search(r"ERROR|FATAL|Exception|Error:", line):
            return first_line(line)
    return "no error in its log"


def kill_tree(proc: psutil.Process, grace: float = 30) -> None:
    """Stop a process and all its children (a launcher script and its JVM, a worker and its executors):
    SIGTERM, then SIGKILL whatever is still alive after ``grace`` seconds; waits until all are gone."""
    procs = [proc]
    with contextlib.suppress(psutil.NoSuchProcess):
        procs += proc.children(recursive=True)
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.send_signal(signal.SIGTERM)
    alive = wait_gone(procs, grace)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    wait_gone(alive, 10)


def kill_all(procs: list[psutil.Process], grace: float) -> int:
    """``kill_tree`` each of ``procs`` (leftovers of a service); returns how many there were."""
    for proc in procs:
        kill_tree(proc, grace=grace)
    return len(procs)


def is_running(proc: psutil.Process) -> bool:
    """Alive and not a zombie (an exited process its parent has not reaped yet is gone for us)."""
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def pid_alive(pid: int) -> bool:
    """``is_running`` by PID (a process whose command line is not readable yet, say)."""
    try:
        return is_running(psutil.Process(pid))
    except psutil.NoSuchProcess:
        return False


def wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until every process has exited (our own children are reaped); returns those still running.
    psutil.wait_procs alone would wait the whole timeout for a zombie another process has to reap."""
    deadline = time.monotonic() + timeout
    alive = list(procs)
    while alive:
        _gone, alive = psutil.wait_procs(alive, timeout=0.2)
        alive = [p for p in alive if is_running(p)]
        if time.monotonic() >= deadline:
            break
    return alive


def processes_under(root: str, *, jvms_only: bool = False) -> list[psutil.Process]:
    """Processes of ours found without a PID file: those whose command line names ``root`` (a gunicorn worker
    whose master was killed, say); with ``jvms_only`` Java processes alone, also those whose working directory
    is under ``root`` (executors a worker started)."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "cwd"]):
        with contextlib.suppress(psutil.Error):
            cmdline = " ".join(proc.info["cmdline"] or [])
            if jvms_only:
                java = "java" in (proc.info["name"] or "") or "java" in cmdline.split(" ")[0]
                if java and (root in cmdline or (proc.info["cwd"] or "").startswith(root)):
                    found.append(proc)
            elif proc.pid != os.getpid() and root in cmdline:
                found.append(proc)
    return found
