"""`python -m lakehouse ...`: the small CLI behind the Makefile.

Expected failures print one line (``error: ...``) and exit 1; the full detail is in
``<data dir>/logs/lakehouse.log``.
"""

from __future__ import annotations

import logging
import os
import sys

import click

from lakehouse import services
from lakehouse.config import VARIABLES, load_settings
from lakehouse.errors import LakehouseError, setup_logging

log = logging.getLogger("lakehouse.cli")


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LakehouseError as exc:
            log.error("%s", exc, exc_info=True)
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Local services and helpers of the e-commerce lakehouse."""
    settings = load_settings()
    setup_logging(settings.log_dir)
    ctx.obj = settings


@main.command()
@click.pass_obj
def up(settings) -> None:
    """Start the Spark Thrift Server and PostgreSQL (reusing running ones)."""
    services.up(settings)


@main.command()
@click.pass_obj
def down(settings) -> None:
    """Stop what `up` started."""
    services.down(settings)


@main.command()
@click.pass_obj
def status(settings) -> None:
    """Show whether each service runs."""
    for st in services.status(settings):
        click.echo(str(st))


@main.command()
@click.argument("service", required=False, type=click.Choice(["spark-thrift", "postgres", "lakehouse"]))
@click.option("-n", "--lines", default=40, show_default=True)
@click.pass_obj
def logs(settings, service: str | None, lines: int) -> None:
    """Print the end of the service logs."""
    for name, path in services.log_files(settings).items():
        if service and name != service:
            continue
        click.echo(f"==> {path} <==")
        for line in services.tail(path, lines):
            click.echo(line)


@main.command("gold-url")
@click.pass_obj
def gold_url(settings) -> None:
    """Print the libpq URL of the gold database (for psql or a BI tool)."""
    click.echo(settings.gold_url)


@main.command("env")
@click.pass_obj
def env(settings) -> None:
    """Print the environment dbt needs, as shell exports (`eval $(python -m lakehouse env)`)."""
    import shlex

    for key, value in settings.dbt_env().items():
        click.echo(f"export {key}={shlex.quote(value)}")


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def dbt(settings, args: tuple[str, ...]) -> None:
    """Run dbt with the project's environment (profiles, target, credentials)."""
    os.environ.update(settings.dbt_env())
    os.chdir(settings.dbt_env()["DBT_PROJECT_DIR"])
    dbt_bin = os.path.join(os.path.dirname(sys.executable), "dbt")
    os.execv(dbt_bin, [dbt_bin, *args])


@main.command("config")
def config_table() -> None:
    """Print the configuration variables as a Markdown table."""
    click.echo("| variable | default | meaning |\n|---|---|---|")
    for name, (default, doc) in VARIABLES.items():
        click.echo(f"| `{name}` | `{default}` | {doc} |" if default else f"| `{name}` | | {doc} |")


if __name__ == "__main__":
    main()
