"""`python -m flows run`: one run of the main pipeline flow."""

from __future__ import annotations

import sys

import click

import flows  # noqa: F401  (exports settings to the environment before Prefect is imported)
from lakehouse.config import load_settings
from lakehouse.errors import LakehouseError, setup_logging


@click.group()
def main() -> None:
    """Prefect flows of the lakehouse."""


@main.command()
@click.option("--seed", default=42, show_default=True, help="Seed of the synthetic sources.")
@click.option("--days", default=30, show_default=True, help="Days of history to generate.")
@click.option("--lines-per-day", default=5_000, show_default=True)
@click.option("--sessions-per-day", default=500, show_default=True)
@click.option("--products", default=500, show_default=True)
@click.option("--customers", default=1_000, show_default=True)
@click.option("--wait", "wait", default=0.0, help="Seconds to wait for a running pipeline to finish.")
def run(wait: float, **params) -> None:
    """Run the whole pipeline once on the configured services."""
    from flows.pipeline import pipeline  # Prefect configures its console logging on import

    setup_logging(load_settings().log_dir)

    try:
        pipeline(wait_for_lock_seconds=wait, **params)
    except LakehouseError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
