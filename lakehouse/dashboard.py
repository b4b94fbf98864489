"""`make dashboard`: Apache Superset on the gold schema, with the dashboard kept as code in ``dashboard/``.

Superset pins SQLAlchemy 1.4 and Flask versions the pipeline cannot share, so it lives in its own virtual
environment, ``<data dir>/superset/venv``, installed with uv from ``dashboard/requirements.lock`` (hashes
checked) and reinstalled only when the lock changes (its hash is stamped in the venv). Its metadata is a
SQLite file beside it; the web server (gunicorn) binds 127.0.0.1 and runs detached with a PID file and a
log like the other services.

``up`` is idempotent: it brings the venv and the metadata schema up to date, then, when anything they depend
on changed (the lock, the bundle, the gold reader's URL, the admin password), creates or updates the admin
user and imports the bundle (``dashboard/bundle``: database, datasets, charts, dashboard YAML, zipped at
import time) with Superset's asset importer, which overwrites what it names. The gold database is registered
with the read-only ``gold_reader`` role; its password travels in the environment of the import process only,
never in the repository or the zip. A running server is reused, never restarted.

The bundle holds five dashboards (``DASHBOARDS``: slug and title): the E-commerce dashboard on the marts,
"Pipeline health" on the run history (gold.pipeline_runs, run_steps, node_runs, ...), "Shop database" on
the shop database's marts (gold.shop_*) and "Site health" on the web servers' access logs
(gold.site_traffic_per_minute, endpoint_latency, ...), "Churn and recommendations" on the machine learning
outputs (gold.churn_risk, product_recommendations, ml_training_runs). ``export`` does the reverse of the
import: every dashboard as it is in Superset (after an edit in its UI) is written back to
``dashboard/bundle`` with ids and secrets taken out, ready to commit.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import psutil

from lakehouse import gold
from lakehouse.platform.errors import LakehouseError, first_line
from lakehouse.platform.pgurl import PgUrl
from lakehouse.platform.settings import REPO_ROOT, VARIABLES, Settings
from lakehouse.services.postgres import Postgres
from lakehouse.services.process import kill_all, launch, port_in_use, processes_under
from lakehouse.services.service import Echo, Service, State

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
SOURCE_DIR = REPO_ROOT / "dashboard"
BUNDLE_DIR = SOURCE_DIR / "bundle"
LOCK_FILE = SOURCE_DIR / "requirements.lock"
CONFIG_FILE = SOURCE_DIR / "superset_config.py"
SETUP_SCRIPT = SOURCE_DIR / "superset_setup.py"
DASHBOARD_SLUG = "lakehouse"
HEALTH_DASHBOARD_SLUG = "pipeline-health"
SHOP_DASHBOARD_SLUG = "shop"
SITE_HEALTH_DASHBOARD_SLUG = "site-health"
ML_DASHBOARD_SLUG = "churn-and-recommendations"
# every dashboard of the bundle, slug -> title: what `up` prints and `export` writes back
DASHBOARDS = {
    DASHBOARD_SLUG: "E-commerce lakehouse",
    HEALTH_DASHBOARD_SLUG: "Pipeline health",
    SHOP_DASHBOARD_SLUG: "Shop database",
    SITE_HEALTH_DASHBOARD_SLUG: "Site health",
    ML_DASHBOARD_SLUG: "Churn and recommendations",
}
# What the bundle's database YAML holds instead of a real URI: filled in at import time.
MASKED_PASSWORD = "XXXXXXXXXX"
INSTALL_TIMEOUT = 1800.0


def _sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def superset_gold_uri(settings: Settings) -> str:
    """The gold_reader URL as Superset's SQLAlchemy wants it, password masked (the importer gets it apart)."""
    url = PgUrl.parse(gold.role_url(settings, "reader"))
    return str(url.with_(user=gold.READER, password=MASKED_PASSWORD, scheme="postgresql+psycopg2"))


class Superset(Service):
    name = "superset"
    grace = 20

    def __init__(self, settings: Settings):
        self.s = settings
        self.home = settings.superset_home
        self.venv = self.home / "venv"
        self.pid_file = settings.run_dir / "superset.pid"
        self.log_file = settings.log_dir / "superset.log"
        self.port = settings.typed.SUPERSET_PORT
        self.marker = str(self.venv)  # the venv's path in the command line tells our gunicorn from any other

    # ------------------------------------------------------------------------------------------- facts
    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def dashboard_url_of(self, slug: str) -> str:
        return f"{self.url}/superset/dashboard/{slug}/"

    @property
    def dashboard_url(self) -> str:
        """The E-commerce dashboard's URL (``dashboard_urls`` has every dashboard's)."""
        return self.dashboard_url_of(DASHBOARD_SLUG)

    @property
    def dashboard_urls(self) -> dict[str, str]:
        """Title -> URL of every dashboard in the bundle."""
        return {title: self.dashboard_url_of(slug) for slug, title in DASHBOARDS.items()}

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def admin_user(self) -> str:
        return self.s.get("SUPERSET_ADMIN_USER")

    @property
    def admin_password_file(self) -> Path:
        return self.home / "admin.password"

    def admin_password(self) -> str:
        return self.s.kept_secret("SUPERSET_ADMIN_PASSWORD", "admin.password", self.home)

    def env(self) -> dict[str, str]:
        """The environment of every Superset process: its config, home and secret key, and none of the
        project's settings (the owner's or writer's passwords have no business in a BI server)."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in VARIABLES and not k.startswith(("VIRTUAL_ENV", "PYTHON", "LAKEHOUSE_", "DBT_"))
        }
        env.update(
            SUPERSET_HOME=str(self.home),
            SUPERSET_CONFIG_PATH=str(CONFIG_FILE),
            SUPERSET_SECRET_KEY=self.s.kept_secret("SUPERSET_SECRET_KEY", "secret_key", self.home),
            FLASK_APP="superset.app:create_app()",
            PATH=f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            PYTHONDONTWRITEBYTECODE="1",
        )
        return env

    # ------------------------------------------------------------------------------------- the venv
    def _lock_hash(self) -> str:
        return _sha256(LOCK_FILE.read_bytes())

    def venv_outdated(self) -> bool:
        stamp = self.venv / ".lock-sha256"
        current = stamp.read_text().strip() if stamp.exists() else ""
        return not self.python.exists() or current != self._lock_hash()

    def ensure_venv(self, echo: Echo = print) -> None:
        """Create or update ``<data dir>/superset/venv`` from the lock when the lock's hash changed."""
        if not self.venv_outdated():
            return
        if self.process() is not None:  # never swap packages under a running server
            echo("superset: stopping the running server: dashboard/requirements.lock changed")
            self.down(echo)
        uv = _uv_binary()
        self.home.mkdir(parents=True, exist_ok=True)
        echo(f"superset: installing Apache Superset into {self.venv} from {LOCK_FILE.name} (a few minutes)")
        started = time.monotonic()
        if not self.python.exists():
            # the project's own interpreter (Python 3.11): no other Python needs to be on the machine
            self._run([uv, "venv", "--clear", "--quiet", "--python", sys.executable, str(self.venv)])
        self._run(
            [uv, "pip", "sync", "--quiet", "--require-hashes", "--python", str(self.python), str(LOCK_FILE)],
            timeout=INSTALL_TIMEOUT,
        )
        (self.venv / ".lock-sha256").write_text(self._lock_hash() + "\n")
        log.info("superset venv installed in %.0f s", time.monotonic() - started)

    def _run(self, cmd: list[str], timeout: float = 600, env: dict[str, str] | None = None) -> str:
        log.info("running %s", " ".join(cmd))
        try:
            res = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                env=env, cwd=self.home,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise LakehouseError(f"`{Path(cmd[0]).name} {cmd[1]}` timed out after {timeout:.0f} s.") from exc
        log.info("rc=%s\nstdout:\n%s\nstderr:\n%s", res.returncode, res.stdout, res.stderr)
        if res.returncode != 0:
            lines = [ln for ln in (res.stderr or res.stdout).splitlines() if ln.strip()]
            errors = [ln for ln in lines if ln.startswith("error:")] or [
                ln for ln in lines if re.search(r"Error|error", ln)
            ]
            detail = first_line((errors or lines or ["no output"])[-1])
            raise LakehouseError(
                f"`{Path(cmd[0]).name} {' '.join(cmd[1:3])}` failed: {detail} "
                f"(full output in {self.s.log_dir / 'lakehouse.log'})"
            )
        return res.stdout

    # ----------------------------------------------------------------------------- metadata + import
    def ensure_metadata(self, echo: Echo = print) -> None:
        """``superset db upgrade`` and ``superset init`` once per installed Superset (stamped)."""
        stamp = self.home / ".metadata-sha256"
        want = self._lock_hash()
        if stamp.exists() and stamp.read_text().strip() == want and (self.home / "superset.db").exists():
            return
        echo("superset: creating its metadata database (superset db upgrade, superset init)")
        superset = str(self.venv / "bin" / "superset")
        self._run([superset, "db", "upgrade"], env=self.env())
        self._run([superset, "init"], env=self.env())
        stamp.write_text(want + "\n")
        (self.home / ".content-sha256").unlink(missing_ok=True)  # a new metadata database has no dashboard

    def bundle_zip(self) -> Path:
        """``dashboard/bundle`` zipped as Superset exports it, with the gold_reader URI (password masked)."""
        if not (BUNDLE_DIR / "metadata.yaml").exists():
            raise LakehouseError(f"No dashboard bundle in {BUNDLE_DIR} (metadata.yaml missing).")
        uri = superset_gold_uri(self.s)
        target = self.home / "bundle.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(BUNDLE_DIR.rglob("*.yaml")):
                rel = path.relative_to(BUNDLE_DIR).as_posix()
                text = path.read_text()
                if rel.startswith("databases/"):
                    text = re.sub(r"(?m)^sqlalchemy_uri:.*$", f"sqlalchemy_uri: {uri}", text)
                # a fixed timestamp: the same bundle gives the same zip, whose hash decides re-imports
                info = zipfile.ZipInfo(f"lakehouse_dashboard/{rel}", date_time=(1980, 1, 1, 0, 0, 0))
                zf.writestr(info, text, compress_type=zipfile.ZIP_DEFLATED)
        return target

    def _inputs_hash(self, bundle: Path) -> str:
        return _sha256(
            self._lock_hash().encode(),
            bundle.read_bytes(),
            gold.role_url(self.s, "reader").encode(),
            self.admin_user.encode(),
            self.admin_password().encode(),
            SETUP_SCRIPT.read_bytes(),
        )

    def ensure_content(self, echo: Echo = print) -> None:
        """Admin user and imported bundle, redone only when one of their inputs changed."""
        gold.ensure_gold(self.s)  # the reader role exists (and has its password) before Superset uses it
        bundle = self.bundle_zip()
        stamp = self.home / ".content-sha256"
        want = self._inputs_hash(bundle)
        if stamp.exists() and stamp.read_text().strip() == want:
            return
        echo("superset: importing the dashboard bundle (dashboard/bundle) and the admin user")
        env = self.env() | {
            "SUPERSET_ADMIN_USER": self.admin_user,
            "SUPERSET_ADMIN_PASSWORD": self.admin_password(),
            "GOLD_READER_PASSWORD": gold.role_password(self.s, gold.READER),
            "SUPERSET_DASHBOARD_SLUGS": ",".join(DASHBOARDS),
        }
        out = self._run([str(self.python), str(SETUP_SCRIPT), "import", str(bundle)], env=env)
        log.info("superset setup: %s", out.strip())
        stamp.write_text(want + "\n")

    # ------------------------------------------------------------------------------- the web server
    def health(self, timeout: float = 3) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=timeout) as resp:
                return resp.status == 200
        except OSError:
            return False

    def command(self) -> list[str]:
        return [
            str(self.python), str(self.venv / "bin" / "gunicorn"),
            "--bind", f"{HOST}:{self.port}",
            # one worker process, threads for the dashboard's parallel chart requests: two cores here
            "--workers", "1", "--worker-class", "gthread", "--threads", "8",
            "--timeout", "120", "--graceful-timeout", "10",
            "--limit-request-line", "0", "--limit-request-field_size", "0",
            "superset.app:create_app()",
        ]  # fmt: skip

    def start(self) -> int:
        if port_in_use(HOST, self.port):
            raise LakehouseError(
                f"Port {HOST}:{self.port} is already in use by another program: stop it or set SUPERSET_PORT."
            )
        for d in (self.s.run_dir, self.s.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        popen = launch(self.command(), self.log_file, self.pid_file, self.home, self.env())
        deadline = time.monotonic() + self.s.typed.SUPERSET_START_TIMEOUT
        while time.monotonic() < deadline:
            if popen.poll() is not None:
                break
            if self.health():
                return popen.pid
            time.sleep(1)
        reason = self.give_up(popen, grace=10)
        raise LakehouseError(f"Superset did not start ({reason}); see {self.log_file}.")

    # ------------------------------------------------------------------------------------ commands
    def up(self, echo: Echo = print) -> int:
        """Install, set up and start Superset, or reuse the running one; returns the server's PID."""
        # the dashboard reads gold: the embedded PostgreSQL runs (reused when up), an external one answers
        echo(f"postgres: {Postgres(self.s).up()}")
        self.ensure_venv(echo)
        self.ensure_metadata(echo)
        self.ensure_content(echo)
        proc = self.process()
        if proc is not None:
            if not self.health(timeout=10):
                raise LakehouseError(f"Superset (pid {proc.pid}) runs but /health does not answer; see "
                                     f"{self.log_file} or `python -m lakehouse dashboard down`.")  # fmt: skip
            pid, state = proc.pid, "already running"
        else:
            pid, state = self.start(), "started"
        echo(f"superset: {state} (pid {pid}) at {self.url}")
        for title, url in self.dashboard_urls.items():
            echo(f"dashboard: {url} ({title})")
        shown = self.home / ".admin-password-shown"
        if not self.s.get("SUPERSET_ADMIN_PASSWORD") and not shown.exists():
            # printed once, by the first `up` that gets this far
            echo(f"login: {self.admin_user} / {self.admin_password()} (generated, kept in "
                 f"{self.admin_password_file})")  # fmt: skip
            shown.touch()
        elif self.s.get("SUPERSET_ADMIN_PASSWORD"):
            echo(f"login: {self.admin_user}, password from SUPERSET_ADMIN_PASSWORD")
        else:
            echo(f"login: {self.admin_user}, password in {self.admin_password_file}")
        return pid

    def down(self, echo: Echo = print) -> None:
        echo(f"superset: {self.stop()}")
        strays = kill_all(self.leftover_processes(), grace=10)
        if strays:
            echo(f"superset: stopped {strays} leftover process(es) of {self.venv}")

    def leftover_processes(self) -> list[psutil.Process]:
        """Processes running from Superset's venv (a gunicorn worker whose master was killed, say)."""
        return processes_under(str(self.venv))

    def state_of(self, proc: psutil.Process) -> State:
        return State.RUNNING if self.health() else State.UNHEALTHY

    def describe(self, proc: psutil.Process) -> str:
        return f"pid {proc.pid}, {', '.join(self.dashboard_urls.values())}, log {self.log_file}"

    def export(self, echo: Echo = print) -> list[str]:
        """Write the dashboards as Superset holds them back to ``dashboard/bundle`` (ids and secrets out)."""
        if not self.python.exists() or not (self.home / "superset.db").exists():
            raise LakehouseError("Superset is not set up here: run `make dashboard` first.")
        out = self._run(
            [str(self.python), str(SETUP_SCRIPT), "export", str(BUNDLE_DIR), *DASHBOARDS],
            env=self.env() | {"SUPERSET_ADMIN_USER": self.admin_user},
        )
        files = [line for line in out.splitlines() if line.endswith(".yaml")]
        echo(f"exported {len(files)} files to {BUNDLE_DIR}; review with `git diff dashboard/bundle`")
        return files


def _uv_binary() -> str:
    """uv from the project's venv (a dev dependency), else from PATH."""
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    if not found:
        raise LakehouseError("uv not found: run `make setup` (it installs uv into .venv).")
    return found
