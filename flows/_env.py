"""Export the project's configuration to the environment before Prefect or dbt are imported.

Prefect reads PREFECT_HOME at import time, dbt reads DBT_* when it starts: both must come from
lakehouse.platform.settings, the one configuration source.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType

from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import load_settings


def export_settings_to_env() -> None:
    try:
        settings = load_settings()
    except LakehouseError:
        _report_uncaught_as_one_line()
        raise
    os.environ.update(settings.dbt_env())
    settings.prefect_home.mkdir(parents=True, exist_ok=True)
    # Quiet, local, no telemetry: the flow runs on an ephemeral API unless PREFECT_API_URL is set.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    # A fresh PREFECT_HOME migrates its SQLite database when the ephemeral API starts: on a loaded
    # machine (a Spark cluster beside it) that took longer than Prefect's 20 s default and the run died.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("XDG_RUNTIME_DIR", str(settings.data_dir / "run"))


def _report_uncaught_as_one_line() -> None:
    """A bad setting fails the import of ``flows``, which `python -m flows` performs before its CLI can catch
    anything: should the error reach the top level uncaught, print it as the CLI would (``error: ...``, exit
    status 1), not as a traceback. Importers that catch it see the exception as usual."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if isinstance(exc, LakehouseError):
            print(f"error: {exc}", file=sys.stderr)
        else:
            previous(kind, exc, tb)

    sys.excepthook = hook
