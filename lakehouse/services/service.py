"""What every service has in common: a process of ours known by its PID file and a marker in its command line,
stopped and reported the same way; and, for the services ``lakehouse up`` manages, one way to start or reuse
them, or only check them when configuration points at external ones.
"""

from __future__ import annotations

import contextlib
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import psutil

from lakehouse.services.process import kill_tree, our_process, read_pid, why_it_died

Echo = Callable[[str], None]  # where progress lines go: print, click.echo, a logger


class State(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    UNHEALTHY = "unhealthy"  # runs, but does not answer its health check
    EXTERNAL = "external"  # not ours: configured, and it answers
    UNREACHABLE = "unreachable"  # not ours: configured, and it does not answer


@dataclass
class ServiceStatus:
    name: str
    state: State
    detail: str

    def __str__(self) -> str:
        return f"{self.name:<14} {self.state:<11} {self.detail}"


class Service(ABC):
    """A process we start and stop: its PID file says which, ``marker`` (a path in its command line) makes
    sure it is ours and not another program that got the PID since."""

    name: str
    pid_file: Path
    log_file: Path
    marker: str
    grace: float = 30  # seconds a stop waits after SIGTERM before SIGKILL

    def process(self) -> psutil.Process | None:
        return our_process(read_pid(self.pid_file), self.marker)

    def stop(self) -> str:
        proc = self.process()
        if proc is not None:
            self.terminate(proc)
        self.pid_file.unlink(missing_ok=True)
        return "not running" if proc is None else f"stopped (pid {proc.pid})"

    def terminate(self, proc: psutil.Process) -> None:
        kill_tree(proc, grace=self.grace)

    def give_up(self, popen: subprocess.Popen, grace: float) -> str:
        """Stop a start that did not come up in time; returns why (from its log when it exited)."""
        reason = why_it_died(self.log_file) if popen.poll() is not None else "timed out"
        with contextlib.suppress(psutil.NoSuchProcess):
            kill_tree(psutil.Process(popen.pid), grace=grace)
        self.pid_file.unlink(missing_ok=True)
        return reason

    def status(self) -> ServiceStatus:
        proc = self.process()
        if proc is None:
            return ServiceStatus(self.name, State.STOPPED, "")
        return ServiceStatus(self.name, self.state_of(proc), self.describe(proc))

    def state_of(self, proc: psutil.Process) -> State:
        return State.RUNNING

    @abstractmethod
    def describe(self, proc: psutil.Process) -> str:
        """The status line's detail of the running process: PID, where it answers, its log."""


class LakehouseService(Service):
    """A service of ``lakehouse up``: embedded (started here, reused when running) or external (configured by
    the user: only checked, never started or stopped)."""

    @property
    @abstractmethod
    def endpoint(self) -> str: ...

    @property
    @abstractmethod
    def external(self) -> bool: ...

    @abstractmethod
    def preflight(self) -> str | None:
        """Checks that need no start (binaries, free port, an external server reachable); raise
        LakehouseError with the one line to show."""

    @abstractmethod
    def external_up(self) -> str:
        """Check the external service; what ``up`` says of it."""

    @abstractmethod
    def external_status(self) -> ServiceStatus: ...

    @abstractmethod
    def reuse(self, proc: psutil.Process) -> None:
        """Make sure our running ``proc`` answers (raise LakehouseError if not) before it is reused."""

    @abstractmethod
    def start(self) -> int:
        """Start the service, wait until it answers; returns its PID."""

    def up(self) -> str:
        if self.external:
            return self.external_up()
        proc = self.process()
        if proc is not None:
            self.reuse(proc)
            return f"already running (pid {proc.pid}) at {self.endpoint}"
        return f"started (pid {self.start()}) at {self.endpoint}"

    def down(self) -> str:
        return "external, left alone" if self.external else self.stop()

    def status(self) -> ServiceStatus:
        return self.external_status() if self.external else super().status()

    def describe(self, proc: psutil.Process) -> str:
        return f"pid {proc.pid}, {self.endpoint}, log {self.log_file}"
