"""The pipeline lock: a second run fails fast (or waits), a dead holder never blocks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.runlock import pipeline_lock
from lakehouse.platform.settings import load_settings


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_DATA_DIR", str(tmp_path))
    return load_settings()


def hold_lock_in_child(data_dir, seconds: float) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        import os, time
        os.environ["LAKEHOUSE_DATA_DIR"] = {str(data_dir)!r}
        from lakehouse.platform.settings import load_settings
        from lakehouse.platform.runlock import pipeline_lock
        with pipeline_lock(load_settings()):
            print("locked", flush=True)
            time.sleep({seconds})
    """)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "locked"
    return child


def test_second_run_fails_with_a_clear_message(settings):
    child = hold_lock_in_child(settings.data_dir, 30)
    try:
        start = time.monotonic()
        expected = f"Another pipeline run is active \\(pid {child.pid}\\)"
        with pytest.raises(LakehouseError, match=expected), pipeline_lock(settings):
            pass
        assert time.monotonic() - start < 2
    finally:
        child.kill()
        child.wait()


def test_second_run_can_wait_for_the_first(settings):
    child = hold_lock_in_child(settings.data_dir, 2)
    start = time.monotonic()
    with pipeline_lock(settings, wait_seconds=30):
        waited = time.monotonic() - start
    assert 1 < waited < 10  # we only got the lock once the holder released it
    child.wait()


def test_a_killed_holder_leaves_no_stale_lock(settings):
    child = hold_lock_in_child(settings.data_dir, 60)
    child.kill()
    child.wait()
    with pipeline_lock(settings):
        pass
