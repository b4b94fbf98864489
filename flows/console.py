"""The console of `python -m flows ...`, written for people: one line per pipeline step with its time, a
progress bar over the dbt nodes while dbt builds (only on a terminal; elsewhere a plain line now and then),
warnings and errors. Everything else (Spark SQL, dbt's node lines, server output, Prefect's flow and task
chatter) goes to the log file, ``<data dir>/logs/lakehouse.log``.

Nothing here is needed for a flow to run: without `activate()` (a served deployment, a test calling a flow)
a step is one line of the log and the progress is nothing at all.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from lakehouse.platform.errors import LakehouseError, setup_logging

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

log = logging.getLogger("lakehouse.steps")

WARNINGS_OF_A_KIND = 2  # dbt warnings shown per kind (e.g. one per model without a numeric precision)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

_current: Console | None = None


class Console:
    """Where the lines for people go (stderr by default). ``live``: a rich progress bar (default: when the
    stream is a terminal). ``plain_every``: without a bar, a progress line at most this often (seconds)."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None, plain_every: float = 60.0):
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.plain_every = plain_every
        self._lock = threading.RLock()
        self._progress: Progress | None = None  # the rich Progress while a bar is shown
        encoding = getattr(self.stream, "encoding", None) or "utf-8"
        try:
            "✓✗".encode(encoding)
            self.ok, self.failed = "✓", "✗"
        except (UnicodeEncodeError, LookupError):
            self.ok, self.failed = "ok", "!!"

    def print(self, line: str) -> None:
        with self._lock:
            if self._progress is not None:
                self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
            else:
                self.stream.write(line + "\n")
                self.stream.flush()

    def step(self, name: str, result: str, seconds: float, ok: bool = True) -> None:
        self.print(f"{self.ok if ok else self.failed} {name:<30} {seconds:6.1f} s  {result}".rstrip())

    def progress(self, label: str) -> DbtProgress:
        return DbtProgress(self, label)


class DbtProgress:
    """A dbt callback (``dbtRunner(callbacks=[...])``) that shows how far a dbt command is: the total is the
    number of nodes selected (dbt's "n of N START" events carry it), one step per finished node. dbt calls
    it from its threads. Use it as a context manager around the invocation."""

    def __init__(
        self, console: Console | None, label: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.console, self.label, self.clock = console, label, clock
        self.total = 0
        self.done = 0
        self.failed: list[str] = []
        self._lock = threading.Lock()
        self._task: TaskID | None = None
        self._warnings: dict[tuple[str, str], int] = {}
        self._started = clock()
        self._last_plain = self._started

    # ------------------------------------------------------------------------------- dbt's events

    def __call__(self, event: Any) -> None:  # a dbt EventMsg
        name = event.info.name
        if name == "LogStartLine":
            self.set_total(int(event.data.total))
        elif name == "NodeFinished":
            self.node_finished(event.data.node_info.node_name, str(event.data.run_result.status))
        elif event.info.level == "warn":
            self.warning(name, event.info.msg)

    def warning(self, kind: str, message: str) -> None:
        """A dbt warning, in full (dbt's own console is off while this one shows); after
        ``WARNINGS_OF_A_KIND`` of one kind, the rest are counted and named once at the end."""
        if self.console is None:
            return
        text = _ANSI.sub("", message).strip()
        key = (kind, text[:40])
        with self._lock:
            self._warnings[key] = seen = self._warnings.get(key, 0) + 1
        if seen <= WARNINGS_OF_A_KIND:
            self.console.print(f"  dbt warning: {text}")

    def set_total(self, total: int) -> None:
        with self._lock:
            if total <= self.total:
                return
            self.total = total
        self._update_bar(total=total)

    def node_finished(self, node: str, status: str) -> None:
        with self._lock:
            self.done += 1
            if status in ("error", "fail", "runtime error"):
                self.failed.append(node)
        if self.console is None:
            return
        if self._task is not None:
            self._update_bar(completed=self.done, node=node)
        elif self.clock() - self._last_plain >= self.console.plain_every:
            self._last_plain = self.clock()
            self.console.print(f"  {self.line()}")

    def _update_bar(self, **fields: Any) -> None:
        progress = self.console._progress if self.console is not None else None
        if self._task is not None and progress is not None:
            progress.update(self._task, **fields)

    def line(self) -> str:
        """The plain progress line, e.g. ``dbt build: 40/120 nodes, 12 s``."""
        of = f"/{self.total}" if self.total else ""
        failed = f", {len(self.failed)} failed" if self.failed else ""
        return f"{self.label}: {self.done}{of} nodes{failed}, {self.clock() - self._started:.0f} s"

    # ------------------------------------------------------------------------------- the bar

    def __enter__(self) -> DbtProgress:
        console = self.console
        if console is not None and console.live and console._progress is None:
            from rich.console import Console as RichConsole
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            progress = Progress(
                TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("{task.fields[node]}", style="dim"),
                console=RichConsole(file=console.stream, force_terminal=True), transient=True,
                redirect_stdout=False, redirect_stderr=False,
            )  # fmt: skip
            with console._lock:
                console._progress = progress
                self._task = progress.add_task(self.label, total=self.total or None, node="")
                progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        console = self.console
        if console is None:
            return  # no bar was shown, no warning was counted
        if self._task is not None:
            with console._lock:
                if console._progress is not None:
                    console._progress.stop()
                console._progress = None
            self._task = None
        for (_kind, start), seen in self._warnings.items():
            if seen > WARNINGS_OF_A_KIND:
                more = seen - WARNINGS_OF_A_KIND
                console.print(f'  dbt warning: {more} more like "{start}…" (dbt\'s log has them)')


# ----------------------------------------------------------------------------------- the module's API


def current() -> Console | None:
    return _current


def step(name: str, result: str, seconds: float, ok: bool = True) -> None:
    """A finished (or failed) pipeline step: a line in the log, and on the console when there is one."""
    log.info("%s %s: %s (%.1f s)", "done" if ok else "FAILED", name, result, seconds)
    if _current is not None:
        _current.step(name, result, seconds, ok)


def say(message: str, also_log: bool = True) -> None:
    """A short line for people (e.g. "postgres: started ..."), also in the log unless the caller logs it."""
    if also_log:
        log.info("%s", message)
    if _current is not None:
        _current.print(f"  {message}")


def dbt_progress(label: str) -> DbtProgress:
    return DbtProgress(_current, label)


class _ConsoleHandler(logging.Handler):
    """Warnings and errors on the console, in full; except the records of a `LakehouseError` (Prefect's engine
    writes one with a traceback per task and flow it passes): the CLI prints that error as one line."""

    def __init__(self, console: Console):
        super().__init__(logging.WARNING)
        self.console = console
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def filter(self, record: logging.LogRecord) -> bool:
        if _expected_failure(record) or _draining(record):
            return False
        return super().filter(record)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.name.startswith("prefect") and record.exc_info:
                # the engine's failure records carry the traceback (the log file has it); an unexpected
                # exception reaches the CLI, which shows its traceback once
                record = logging.makeLogRecord(record.__dict__ | {"exc_info": None, "exc_text": None})
                record.msg, record.args = (record.getMessage().splitlines() or [""])[0], None
            self.console.print(self.format(record))
        except Exception:  # logging must never raise
            self.handleError(record)


def _draining(record: logging.LogRecord) -> bool:
    """Prefect's client services (loggers `EventsWorker`, `APILogWorker`) say so at exit while they still send
    queued events to the API, every 4 s: progress of Prefect's own bookkeeping, for the log file only (seen
    on a loaded machine after a run that failed at once)."""
    return record.name.endswith("Worker") and record.getMessage().startswith("Still processing items")


def _expected_failure(record: logging.LogRecord) -> bool:
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(exc, LakehouseError):
        return True
    if not record.name.startswith("prefect"):
        return False
    # "Finished in state Failed('Flow run encountered an exception: LakehouseError: ...')", "... - Retries are
    # exhausted": the engine's words about the same exception, without exc_info
    text = record.getMessage()
    return "LakehouseError" in text or "Encountered exception during execution" in text


def activate(log_dir: Path, console: Console | None = None) -> Path:
    """Route every logger to the log file and only warnings and errors to the console; return the log file.

    Call it after Prefect is imported: Prefect's import puts its console handler on the root logger (and
    stream handlers on a few of its own loggers), which would print every INFO line of every module."""
    global _current
    log_file = setup_logging(log_dir)
    _current = console or Console()
    loggers = [logging.getLogger()] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for logger in loggers:
        streams = [h for h in logger.handlers if _to_terminal(h)]
        for handler in streams:
            logger.removeHandler(handler)
        if streams and logger is not logging.getLogger():
            logger.propagate = True  # e.g. prefect._internal: to the root's file (and console) handlers
    logging.getLogger().addHandler(_ConsoleHandler(_current))
    return log_file


def _to_terminal(handler: logging.Handler) -> bool:
    """Prefect's console handlers, and any stream handler on stdout / stderr (not a file, not a test's)."""
    if type(handler).__module__.startswith("prefect.logging"):
        return not isinstance(handler, logging.FileHandler) and "API" not in type(handler).__name__
    terminals = (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
    return isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) in terminals


def deactivate() -> None:
    global _current
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _ConsoleHandler)]:
        root.removeHandler(handler)
    _current = None
