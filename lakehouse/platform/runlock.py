"""One pipeline run at a time, with or without a Prefect server.

The metastore (Derby, Iceberg Hive locks off) and Iceberg commits here are single-writer, so two runs must
never overlap. An exclusive `flock` on `<data dir>/run/pipeline.lock` does it: the kernel releases it when the
holder exits, even when killed, so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import Settings


def lock_path(settings: Settings) -> Path:
    return settings.run_dir / "pipeline.lock"


@contextmanager
def pipeline_lock(settings: Settings, wait_seconds: float = 0) -> Iterator[None]:
    """Hold the pipeline lock; wait up to ``wait_seconds`` for a running pipeline, else fail clearly."""
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                    raise LakehouseError(
                        f"Another pipeline run is active (pid {holder}); runs never overlap here. "
                        "Wait for it to finish, or pass --wait."
                    ) from None
                time.sleep(1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
