"""PostgreSQL URLs, in one place: parsed into their parts, changed (credentials, database, scheme) and written
back with the quoting and IPv6 brackets a libpq or SQLAlchemy URL needs, its query (``sslmode=...``) kept.

The gold URL (configured or built for the embedded server), the roles' URLs, the administrative URL of another
database, the PG* variables of pg_dump/psql and dbt's profile, and Superset's SQLAlchemy URI go through it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

# URL query parameters a libpq client also takes from the environment
_QUERY_ENV = {
    "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
}  # fmt: skip


@dataclass(frozen=True)
class PgUrl:
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = ""
    password: str = ""
    database: str = "postgres"
    scheme: str = "postgresql"
    query: str = ""

    @classmethod
    def parse(cls, url: str) -> PgUrl:
        """The parts of ``url``; what it leaves out takes libpq's defaults (local host, 5432, postgres)."""
        parts = urlsplit(url)
        return cls(
            host=parts.hostname or cls.host,
            port=parts.port or cls.port,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            database=unquote(parts.path.lstrip("/")) or cls.database,
            scheme=parts.scheme or cls.scheme,
            query=parts.query,
        )

    def with_(self, **changes: object) -> PgUrl:
        """A copy with some parts changed (``user=``, ``password=``, ``database=``, ``scheme=``)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        credentials = quote(self.user, safe="")
        if self.password:
            credentials += ":" + quote(self.password, safe="")
        netloc = f"{credentials}@{host}:{self.port}" if credentials else f"{host}:{self.port}"
        return urlunsplit((self.scheme, netloc, "/" + quote(self.database, safe=""), self.query, ""))

    def libpq_env(self) -> dict[str, str]:
        """The PG* variables of a libpq client (no password on a command line; an empty one overrides any
        inherited ``PGPASSWORD``), with the URL's SSL settings."""
        env = {"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user}
        env["PGPASSWORD"] = self.password
        env.update({_QUERY_ENV[k]: v for k, v in parse_qsl(self.query) if k in _QUERY_ENV})
        return env
