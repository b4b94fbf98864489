"""What every command line of the project shares (``python -m lakehouse``, ``python -m ingestion``,
``python -m flows``): a LakehouseError is one line, ``error: <what to do>``, and exit 1 (the detail goes to
the log file), Ctrl-C exits 130, and bad configuration stops the command before anything starts."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from lakehouse.platform.errors import LakehouseError, setup_logging
from lakehouse.platform.settings import ConfigError, Settings, load_settings

_LOG_FILE = "lakehouse.log_file"  # the key of the log file in the click context's meta (shared by commands)


class LakehouseGroup(click.Group):
    """The click group of every CLI of the project: errors for people, the detail to the log."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LakehouseError as exc:
            logging.getLogger(ctx.info_name or "cli").error("%s", exc, exc_info=True)
            click.echo(f"error: {exc}{_log_file_hint(ctx.meta)}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo(f"interrupted{_log_file_hint(ctx.meta)}", err=True)
            sys.exit(130)


def settings_for(ctx: click.Context) -> Settings:
    """The settings of a command, with logging to ``<data dir>/logs``; a bad value is one line and exit 1
    (no log file yet: the one line is all there is to say)."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(1)
    setup_logging(settings.log_dir)
    return settings


def name_log_file(log_file: Path) -> None:
    """From now on the CLI's error lines name ``log_file`` (`error: <one line>  (log: <file>)`): for a
    command whose console shows little and whose detail is in that file (`python -m flows ...`)."""
    click.get_current_context().meta[_LOG_FILE] = log_file


def _log_file_hint(meta: dict[str, object]) -> str:
    log_file = meta.get(_LOG_FILE)
    return f"  (log: {log_file})" if log_file else ""
