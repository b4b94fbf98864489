"""Web server access logs of the simulated shop, consistent with its clickstream, deterministic per seed.

Every tracked clickstream event (``clickstream.sessions``, the same visitors, IP addresses, user agents, pages
and times) is a request in the logs: product pages, ``POST /api/cart``, ``DELETE /api/cart/<code>``,
``GET /checkout``, ``POST /api/orders`` then the confirmation page. Only the logs show the rest: static assets
after each human page (200 or 304), a stock API call per product page, load-balancer health checks on every
server, visitors the tracker never sees (ad blockers; IPv6 addresses), crawlers' ``robots.txt``, 301s for a
trailing slash, 404s of dead product links, 401s, scanners probing ``/wp-admin``, ``/.env`` and friends (some
with a user agent holding double quotes, some speaking TLS to the plain port: status 400), slow requests, and
one **incident**: a window of ``incident_minutes`` on the middle day where most dynamic requests (pages and
API calls; not static files nor health checks) fail with 502/503/504.

Servers (``SERVERS``): ``web-1`` an Apache in the Combined Log Format with numbered rotation
(``access.log``, ``access.log.1``, ``access.log.2.gz``...), ``web-2`` and ``web-3`` nginx with the timed
variant (``... "$http_user_agent" $request_time $upstream_response_time``) and dated rotation
(``access.log-YYYYMMDD[.gz]``, named by the rotation day: the day after the lines). ``web-2``'s clock runs
``clock_skew_seconds`` ahead; ``web-3`` logs in +01:00. The newest day is the live ``access.log``.

Dirt (rates of lines, per file, 0 turns it off): truncated lines (cut anywhere after the first few bytes),
lines in another format (nginx error log, JSON, syslog-wrapped), lines that are not valid UTF-8 (a Latin-1
byte in the path or the user agent), empty lines; and the clock skew above. The live file ends in a line
without its newline (a file read while being written).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from faker import Faker

from ingestion.generate import clickstream
from ingestion.generate import reference as ref
from ingestion.generate.config import GeneratorConfig
from ingestion.generate.world import LOGS, World, build_world, rng

COMBINED, NGINX_TIMED = "combined", "nginx_timed"


@dataclass(frozen=True)
class Server:
    name: str
    log_format: str  # combined | nginx_timed
    rotation: str  # numbered | dated
    clock_skew_seconds: float = 0.0
    utc_offset_minutes: int = 0


SERVERS = (
    Server("web-1", COMBINED, "numbered"),
    Server("web-2", NGINX_TIMED, "dated", clock_skew_seconds=127.0),
    Server("web-3", NGINX_TIMED, "dated", utc_offset_minutes=60),
)


@dataclass(frozen=True)
class LogDirt:
    truncated: float = 0.002
    other_format: float = 0.002
    invalid_utf8: float = 0.001
    empty: float = 0.0005

    @classmethod
    def clean(cls) -> LogDirt:
        return cls(0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class LogConfig:
    servers: tuple[Server, ...] = SERVERS
    dirt: LogDirt = field(default_factory=LogDirt)
    health_check_seconds: int = 30  # per server
    untracked_visitors_share: float = 0.1  # visitors per tracked session that block the tracker
    scanners_per_day: int = 12
    slow_share: float = 0.01  # dynamic requests taking 2-12 s
    incident_minutes: int = 12
    live: bool = True  # the newest day is the live access.log (else rotated like the others)


# ---------------------------------------------------------------------------------------------- requests

STATIC = (
    "/static/css/app.3f9a1c.css", "/static/js/app.8d02be.js", "/static/js/vendor.51c7aa.js", "/favicon.ico",
)  # fmt: skip
PROBES = (
    "/wp-admin/", "/wp-login.php", "/.env", "/.git/config", "/phpmyadmin/", "/admin/.env", "/xmlrpc.php",
    "/wp-content/plugins/revslider/", "/.aws/credentials", "/server-status", "/cgi-bin/luci", "/config.json",
)  # fmt: skip
SCANNER_AGENTS = (
    "Mozilla/5.0 zgrab/0.x",
    "python-requests/2.31.0",
    "-",
    'Mozilla/5.0 (compatible; "Nuclei - Open-source project" github.com/projectdiscovery/nuclei)',
    'Mozilla/5.0 (Windows NT 10.0) "quoted\\path" scanner/1.0',
    "Go-http-client/1.1",
)
# a TLS hello sent to the plain port, as the server logs it
TLS_PROBE = "\\x16\\x03\\x01\\x00\\xCA\\x01\\x00\\x00\\xC6\\x03\\x03"
HEALTH_IP, HEALTH_AGENT = "10.0.0.2", "ELB-HealthChecker/2.0"


@dataclass
class Requests:
    """Columns of one day's requests (true UTC times, before any server's clock)."""

    t: list[float] = field(default_factory=list)
    ip: list[str] = field(default_factory=list)
    method: list[str] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    size: list[int] = field(default_factory=list)
    referer: list[str] = field(default_factory=list)
    agent: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)  # page | static | api | health | probe
    server: list[int] = field(default_factory=list)  # -1: any (assigned later)

    def add(self, t: float, ip: str, method: str, path: str, status: int, size: int, referer: str, agent: str,
            kind: str, server: int = -1) -> None:  # fmt: skip
        self.t.append(t)
        self.ip.append(ip)
        self.method.append(method)
        self.path.append(path)
        self.status.append(status)
        self.size.append(size)
        self.referer.append(referer)
        self.agent.append(agent)
        self.kind.append(kind)
        self.server.append(server)


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()  # 2024-01-01T10:00:00.000Z (3.11 reads the Z)


def _tracked(world: World, d: int, r: np.random.Generator, req: Requests) -> int:
    """The requests behind the day's clickstream events; returns the number of sessions."""
    events = clickstream.sessions(world, d)
    last_page: dict[str, str] = {}
    bots = set(ref.BOT_USER_AGENTS)
    sessions = set()
    noise = r.random(len(events) * 8).tolist()
    k = 0
    for e in events:
        sid, ip, agent = str(e["session_id"]), str(e["ip_address"]), str(e["user_agent"])
        sessions.add(sid)
        url = str(e["page_url"])
        path = url[len(ref.SHOP_URL) :] or "/"
        t = _seconds(str(e["event_time"]))
        referer = last_page.get(sid) or str(e["referrer"] or "") or "-"
        kind, code = str(e["event_type"]), e["product_id"]
        human = agent not in bots
        u = noise[k : k + 8]
        k += 8
        if kind == "view":
            if path.startswith("/product/") and u[0] < 0.02:  # an old link with a trailing slash
                req.add(t - 0.05, ip, "GET", path + "/", 301, 0, referer, agent, "page")
            req.add(t, ip, "GET", path, 200, int(18_000 + u[1] * 40_000), referer, agent, "page")
            if human:
                for i, asset in enumerate(STATIC[: 2 + int(u[2] * 3)]):
                    cached = u[3] < 0.3
                    req.add(t + 0.05 + 0.04 * i, ip, "GET", asset, 304 if cached else 200,
                            0 if cached else 9_000 + 7_000 * i, url, agent, "static")  # fmt: skip
                if code:
                    req.add(t + 0.1, ip, "GET", f"/static/img/products/{code}.jpg", 200,
                            int(40_000 + u[4] * 60_000), url, agent, "static")  # fmt: skip
                    req.add(t + 0.3, ip, "GET", f"/api/products/{code}/stock", 200, 96, url, agent, "api")
        elif kind == "add_to_cart":
            req.add(t, ip, "POST", "/api/cart", 201, 212, url, agent, "api")
        elif kind == "remove_from_cart":
            req.add(t, ip, "DELETE", f"/api/cart/{code}", 204, 0, url, agent, "api")
        elif kind == "checkout":
            req.add(t, ip, "GET", "/checkout", 200, 24_511, referer, agent, "page")
        elif kind == "purchase":
            req.add(t - 0.4, ip, "POST", "/api/orders", 201, 388, f"{ref.SHOP_URL}/checkout", agent, "api")
            confirmation = "/checkout/confirmation"
            req.add(t, ip, "GET", confirmation, 200, 12_804, f"{ref.SHOP_URL}/checkout", agent, "page")
        last_page[sid] = url
    return len(sessions)


def _untracked(
    world: World, d: int, r: np.random.Generator, fake: Faker, sessions: int, share: float, req: Requests
) -> None:
    """Visitors whose tracker is blocked: page views and assets, no clickstream events; IPv6 and IPv4."""
    day_start = datetime(*world.day(d).timetuple()[:3], tzinfo=UTC).timestamp()
    codes = world.stock_codes[world.products_on(d)]
    agents = [a for group in ref.USER_AGENTS.values() for a in group]
    for _ in range(int(sessions * share)):
        ip = fake.ipv6() if r.random() < 0.6 else fake.ipv4_public()
        agent = agents[int(r.integers(len(agents)))]
        t = day_start + float(r.random()) * 86_400
        referer = "https://www.google.com/"
        for code in r.choice(codes, size=1 + int(r.integers(6))):
            page = f"/product/{code}"
            req.add(t, ip, "GET", page, 200, int(r.integers(18_000, 58_000)), referer, agent, "page")
            req.add(t + 0.1, ip, "GET", STATIC[0], 304, 0, ref.SHOP_URL + page, agent, "static")
            referer = ref.SHOP_URL + page
            t += float(r.lognormal(3.0, 0.9))
    for _ in range(max(1, sessions // 50)):  # crawlers read robots.txt; dead links 404
        t = day_start + float(r.random()) * 86_400
        req.add(t, "66.249.66.1", "GET", "/robots.txt", 200, 67, "-", ref.BOT_USER_AGENTS[0], "page")
        agent = agents[int(r.integers(len(agents)))]
        req.add(t + 3, fake.ipv4_public(), "GET", f"/product/{int(r.integers(100_000, 999_999))}", 404, 5_120,
                "https://www.giftblog.example.org/", agent, "page")  # fmt: skip
        req.add(t + 9, fake.ipv4_public(), "GET", "/api/account", 401, 41, "-", agent, "api")


def _scanners(world: World, d: int, r: np.random.Generator, fake: Faker, n: int, req: Requests) -> None:
    day_start = datetime(*world.day(d).timetuple()[:3], tzinfo=UTC).timestamp()
    for i in range(n):
        ip = fake.ipv6() if i % 3 == 0 else fake.ipv4_public()
        agent = SCANNER_AGENTS[int(r.integers(len(SCANNER_AGENTS)))]
        t = day_start + float(r.random()) * 86_000
        for path in r.choice(PROBES, size=int(r.integers(4, 12)), replace=False):
            status = 403 if str(path).startswith("/.git") else 404
            req.add(t, ip, "GET", str(path), status, 153 if status == 404 else 146, "-", agent, "probe")
            t += float(r.uniform(0.02, 0.3))
        if i % 4 == 0:
            req.add(t, ip, "", TLS_PROBE, 400, 157, "-", "-", "probe")


def _health(world: World, d: int, cfg: LogConfig, req: Requests) -> None:
    day_start = datetime(*world.day(d).timetuple()[:3], tzinfo=UTC).timestamp()
    for s in range(len(cfg.servers)):
        for t in np.arange(day_start + s * 0.7, day_start + 86_400, cfg.health_check_seconds).tolist():
            req.add(t, HEALTH_IP, "GET", "/health", 200, 2, "-", HEALTH_AGENT, "health", s)


# ---------------------------------------------------------------------------------------------- lines


def _escape(value: str, log_format: str) -> str:
    """How the server writes a quoted field: Apache ``\\"`` and ``\\\\``, nginx ``\\x22`` and ``\\x5C``."""
    if log_format == COMBINED:
        return value.replace("\\", "\\\\").replace('"', '\\"')
    return value.replace("\\", "\\x5C").replace('"', "\\x22")


@dataclass
class DayLog:
    day: date
    server: Server
    lines: list[bytes]


def day_logs(world: World, d: int, cfg: LogConfig) -> list[DayLog]:
    """Every server's lines of day ``d``, in write order, dirt included."""
    seed = world.config.seed
    r = rng(seed, LOGS, d)
    fake = Faker()
    fake.seed_instance(int(r.integers(2**31)))
    req = Requests()
    sessions = _tracked(world, d, r, req)
    _untracked(world, d, r, fake, sessions, cfg.untracked_visitors_share, req)
    _scanners(world, d, r, fake, cfg.scanners_per_day, req)
    _health(world, d, cfg, req)

    n = len(req.t)
    t = np.array(req.t)
    kind = np.array(req.kind)
    status = np.array(req.status)
    size = np.array(req.size)
    server = np.array(req.server)
    free = server < 0
    server[free] = r.integers(0, len(cfg.servers), size=int(free.sum()))

    # ---------- latency: upstream time for dynamic requests, nginx alone for static ones
    dynamic = np.isin(kind, ["page", "api"])
    upstream = np.where(dynamic, r.lognormal(np.log(0.045), 0.6, size=n), np.nan)
    upstream = np.where(kind == "health", 0.001 + r.random(n) * 0.002, upstream)
    slow = dynamic & (r.random(n) < cfg.slow_share)
    upstream[slow] = r.uniform(2.0, 12.0, size=int(slow.sum()))
    orders = np.array([p == "/api/orders" for p in req.path])
    upstream[orders] *= 3

    # ---------- the incident: most dynamic requests fail for a few minutes, on the middle day
    if d == world.days // 2 and cfg.incident_minutes:
        day_start = datetime(*world.day(d).timetuple()[:3], tzinfo=UTC).timestamp()
        start = day_start + 10 * 3600 + float(r.integers(0, 8 * 3600))
        window = (t >= start) & (t < start + cfg.incident_minutes * 60) & dynamic & (r.random(n) < 0.7)
        codes = r.choice([502, 503, 504], size=n, p=[0.5, 0.3, 0.2])
        status = np.where(window, codes, status)
        size = np.where(window, np.where(codes == 504, 167, 157), size)
        upstream = np.where(window & (codes == 504), 60.0, upstream)
        upstream = np.where(window & (codes == 502), r.uniform(0.001, 0.01, size=n), upstream)
        upstream = np.where(window & (codes == 503), np.nan, upstream)
    nginx_only = r.uniform(0.0, 0.004, size=n)
    request_time = np.where(np.isnan(upstream), nginx_only, upstream + r.uniform(0, 0.003, n))

    out = []
    for s, srv in enumerate(cfg.servers):
        mine = np.flatnonzero(server == s)
        written = t[mine] + request_time[mine] + srv.clock_skew_seconds
        mine = mine[np.argsort(written, kind="stable")]
        lines = _format(req, mine, t, status, size, request_time, upstream, srv)
        out.append(DayLog(world.day(d), srv, _dirty(lines, cfg.dirt, rng(seed, LOGS, d, s))))
    return out


def _millis_text(seconds: np.ndarray) -> pa.Array:
    """``1.234`` (three decimals) for each value, ``-`` for NaN; vectorised."""
    ms = np.round(np.nan_to_num(seconds, nan=0.0) * 1000).astype(np.int64)
    whole = pc.cast(pa.array(ms // 1000), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(ms % 1000), pa.string()), 3, "0")
    text = pc.binary_join_element_wise(whole, frac, ".")
    return pc.if_else(pa.array(np.isnan(seconds)), pa.scalar("-"), text)


def _format(req: Requests, rows: np.ndarray, t: np.ndarray, status: np.ndarray, size: np.ndarray,
            request_time: np.ndarray, upstream: np.ndarray, srv: Server) -> list[bytes]:  # fmt: skip
    """The log lines of ``rows`` (indexes into the day's requests) as ``srv`` writes them, built column-wise
    with Arrow (one Python step per distinct escaped value, not per line)."""
    fmt = srv.log_format
    cache: dict[str, str] = {}

    def escaped(values: list[str]) -> pa.Array:
        out = []
        for v in values:
            e = cache.get(v)
            if e is None:
                e = cache[v] = _escape(v, fmt)
            out.append(e)
        return pa.array(out, pa.string())

    idx = rows.tolist()
    requests = [f"{req.method[i]} {req.path[i]} HTTP/1.1" if req.method[i] else req.path[i] for i in idx]
    local = np.floor(t[rows] + srv.clock_skew_seconds + srv.utc_offset_minutes * 60).astype(np.int64)
    stamps = pc.strftime(pa.array(local.astype("datetime64[s]")), "%d/%b/%Y:%H:%M:%S", locale="C")
    sign = "+" if srv.utc_offset_minutes >= 0 else "-"
    hh, mm = divmod(abs(srv.utc_offset_minutes), 60)
    sizes = pc.cast(pa.array(size[rows]), pa.string())
    if fmt == COMBINED:  # Apache's %b writes '-' for no body
        sizes = pc.if_else(pc.equal(pa.array(size[rows]), 0), pa.scalar("-"), sizes)
    parts: list[pa.Array | str] = [
        pa.array([req.ip[i] for i in idx], pa.string()), " - - [", stamps, f" {sign}{hh:02d}{mm:02d}] \"",
        escaped(requests), '" ', pc.cast(pa.array(status[rows]), pa.string()), " ", sizes, ' "',
        escaped([req.referer[i] for i in idx]), '" "', escaped([req.agent[i] for i in idx]), '"',
    ]  # fmt: skip
    if fmt == NGINX_TIMED:
        parts += [" ", _millis_text(request_time[rows]), " ", _millis_text(upstream[rows])]
    if not idx:
        return []
    joined = pc.binary_join_element_wise(*[pa.scalar(p) if isinstance(p, str) else p for p in parts], "")
    return list(pc.cast(joined, pa.binary()).to_pylist())


def _dirty(lines: list[bytes], dirt: LogDirt, r: np.random.Generator) -> list[bytes]:
    """Dirt in place: truncated and non-UTF-8 lines; extra lines of other formats and empty lines."""
    n = len(lines)
    if not n:
        return lines
    u = r.random((n, 4))
    out: list[bytes] = []
    for i, line in enumerate(lines):
        if u[i, 0] < dirt.invalid_utf8:
            if b"/product/" in line:
                line = line.replace(b"/product/", b"/product/caf\xe9-", 1)
            else:
                line = line.replace(b'" "', b'" "\xff\xfe', 1)
        if u[i, 1] < dirt.truncated:
            line = line[: 8 + int(u[i, 3] * (len(line) - 9))]
        out.append(line)
        if u[i, 2] < dirt.other_format:
            out.append(_other_format(r))
        elif u[i, 2] > 1 - dirt.empty:
            out.append(b"")
    return out


def _other_format(r: np.random.Generator) -> bytes:
    choice = int(r.integers(3))
    if choice == 0:
        return (
            b"2024/01/01 10:00:00 [error] 1234#1234: *5678 upstream timed out (110: Connection timed out) "
            b"while reading response header from upstream, client: 81.2.69.160, server: shop.example.com, "
            b'request: "GET /api/cart HTTP/1.1", upstream: "http://127.0.0.1:8000/api/cart"'
        )
    if choice == 1:
        record = {"time": "2024-01-01T10:00:00+00:00", "remote_addr": "81.2.69.160",
                  "request": "GET / HTTP/1.1", "status": 200}  # fmt: skip
        return json.dumps(record).encode()
    return (
        b"Jan  1 10:00:00 web-1 nginx: 81.2.69.160 - - [01/Jan/2024:10:00:00 +0000] "
        b'"GET / HTTP/1.1" 200 612 "-" "curl/8.5.0"'
    )


# ---------------------------------------------------------------------------------------------- files


def _file_names(server: Server, days: list[date], live: bool) -> Iterator[tuple[date, str]]:
    """Newest first: (day, file name) as logrotate leaves them (delaycompress: newest rotated is plain)."""
    newest = sorted(days, reverse=True)
    for age, day in enumerate(newest):
        if age == 0 and live:
            yield day, "access.log"
            continue
        rotated = age if live else age + 1
        if server.rotation == "numbered":
            name = f"access.log.{rotated}"
        else:
            name = f"access.log-{day + timedelta(days=1):%Y%m%d}"
        yield day, name if rotated == 1 else name + ".gz"


def generate_access_logs(
    config: GeneratorConfig,
    out: Path,
    log_config: LogConfig | None = None,
    world: World | None = None,
    only_days: list[int] | None = None,
) -> list[Path]:
    """Write every server's log files of the simulated period (or of its ``only_days``, 0-based: the same
    lines as in the whole period's files) under ``out/<server>/``; return them."""
    cfg = log_config or LogConfig()
    world = world or build_world(config)
    by_server: dict[str, dict[date, list[bytes]]] = {s.name: {} for s in cfg.servers}
    for d in range(config.days) if only_days is None else only_days:
        for log in day_logs(world, d, cfg):
            by_server[log.server.name][log.day] = log.lines
    written = []
    for srv in cfg.servers:
        days = by_server[srv.name]
        folder = out / srv.name
        folder.mkdir(parents=True, exist_ok=True)
        for day, name in _file_names(srv, list(days), cfg.live):
            body = b"".join(line + b"\n" for line in days[day])
            if name == "access.log" and body:
                body = body[:-1]  # still being written: the last line has no newline yet
            path = folder / name
            if name.endswith(".gz"):
                path.write_bytes(gzip.compress(body, mtime=0))  # mtime 0: same seed, same bytes
            else:
                path.write_bytes(body)
            written.append(path)
    return sorted(written)
