"""A live shop on the shop database: one simulated interval at a time, written as an application writes.

``Simulator(url, seed)`` opens the database; ``init()`` creates the shop's starting state (catalogue, sellers,
customers, stock, campaigns) at the configured start; every ``step(interval)`` then advances a simulated clock
by one interval (default a day) in seven phases, each ONE transaction stamped with its own simulated time
(``updated_at`` of every row it writes: many rows share a timestamp), in time order:

0. customers   sign-ups; address and e-mail changes (updated in place)
1. funnel      marketing-qualified leads from landing pages; spam leads deleted; deals closed: the new seller,
               its closed_deals row and its products
2. catalogue   price changes; stock receipts for products running low; stock adjustments
3. orders      new orders (status ``created``) with their items and 1-3 payments
4. fulfilment  items removed before approval (payments adjusted), approvals (a ``sale`` movement per item),
               cancellations (a ``return`` per item when stock had left), shipping, delivery; returns
5. reviews     written after delivery (or cancellation), answered by the shop, some edited, some soft-deleted
6. campaigns   new campaigns, end dates moved, the spend of every finished day per campaign, some recent days
               restated (deleted, mostly re-inserted with new figures)

Since the phases commit in the order of their timestamps, an extraction running alongside never sees a row
committed later with an ``updated_at`` at or below one it has already passed.

Deterministic: every phase draws from ``numpy.random.default_rng([seed, step, phase])`` and a Faker seeded the
same way, and reads the database in key order; the same seed gives the same database (``fingerprint``). The
simulator's own state (seed, configuration, clock, progress, which seller offers which product) lives in
schema ``shop_sim`` of the same database, so ``step()`` resumes where the last one ended, in another process,
and a crash inside a step resumes at the phase that did not commit.

``bulk_load(n_order_items)`` adds a year of finished order history (customers, orders, items, payments) with
COPY, vectorised, for benchmarks.
"""

from __future__ import annotations

import io
import json
import logging
import time
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
from faker import Faker

from ingestion.shopdb import SCHEMA, TABLES, _ensure_schema
from ingestion.shopdb import reference as ref
from lakehouse.platform.errors import LakehouseError

log = logging.getLogger(__name__)

SIM_SCHEMA = "shop_sim"
PHASES = ("customers", "funnel", "catalogue", "orders", "fulfilment", "reviews", "campaigns")
DEFAULT_INTERVAL = timedelta(days=1)
DEFAULT_SEED = 42
BULK_STREAM = 1_000_000_007  # the random stream of bulk_load (steps use their step number)
US = np.timedelta64(1, "us")
DAY_US = 86_400_000_000


@dataclass(frozen=True)
class ShopConfig:
    """The size and pace of the shop (kept in the database with the seed: a resumed simulation keeps it)."""

    start: str = "2024-01-01"  # the simulated clock at init (UTC midnight)
    customers: int = 2000  # at init
    sellers: int = 60
    products: int = 600
    campaigns: int = 4
    signups_per_day: float = 80.0
    orders_per_day: float = 120.0
    leads_per_day: float = 10.0
    campaigns_per_week: float = 1.5


@dataclass
class Changes:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    def __str__(self) -> str:
        parts = [
            f"+{self.inserted}" if self.inserted else "",
            f"~{self.updated}" if self.updated else "",
            f"-{self.deleted}" if self.deleted else "",
        ]
        return " ".join(p for p in parts if p)


@dataclass
class IntervalReport:
    """What one interval (or the init) wrote, per table."""

    step: int  # 0 for the init, then 1, 2, ...
    started: datetime
    ended: datetime
    changes: dict[str, Changes] = field(default_factory=dict)

    def line(self) -> str:
        what = ", ".join(f"{t} {c}" for t, c in self.changes.items() if str(c)) or "no changes"
        label = "init" if self.step == 0 else f"interval {self.step}"
        return f"{label} {self.started:%Y-%m-%d %H:%M} -> {self.ended:%Y-%m-%d %H:%M}: {what}"


@dataclass(frozen=True)
class BulkReport:
    rows: dict[str, int]
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def line(self) -> str:
        per_table = ", ".join(f"{t} {n}" for t, n in self.rows.items())
        rate = self.total / self.seconds if self.seconds else 0.0
        return f"bulk load: {per_table} in {self.seconds:.1f} s ({rate:,.0f} rows/s)"


@dataclass
class _State:
    seed: int
    config: ShopConfig
    step: int  # steps completed
    phase: int  # phases of the current step completed
    clock: datetime  # start of the current step (naive UTC)
    step_seconds: float | None  # length of the current step, once started
    next_movement_id: int
    spend_through: date  # campaign spend is written for every day up to this one
    campaigns_created: int


# ---------- small vectorised helpers
def _hex_ids(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` random 32-hex-digit ids (the Olist key format)."""
    h = rng.bytes(16 * n).hex()
    return [h[32 * i : 32 * i + 32] for i in range(n)]


def _prob(rate_per_day: float | np.ndarray, days: float | np.ndarray) -> Any:
    """Probability that an event of this rate happens within ``days``."""
    return 1.0 - np.exp(-np.asarray(rate_per_day) * np.maximum(days, 0.0))


def _between(rng: np.random.Generator, lo: np.ndarray, hi: np.datetime64) -> np.ndarray:
    """Times uniform in (lo, hi] (microseconds, datetime64[us])."""
    lo = lo.astype("datetime64[us]")
    span = (hi - lo).astype(np.int64)
    return lo + np.maximum((span * (1.0 - rng.random(len(lo)))).astype(np.int64), np.minimum(span, 1)) * US


def _days(a: np.ndarray | np.datetime64, b: np.ndarray | np.datetime64) -> Any:
    return (np.asarray(b, "datetime64[us]") - np.asarray(a, "datetime64[us]")).astype(np.int64) / DAY_US


def _ts(values: Sequence[Any]) -> np.ndarray:
    """Timestamps from the database (aware, UTC) as datetime64[us]; None becomes NaT."""
    return np.array([v.replace(tzinfo=None) if v is not None else None for v in values], "datetime64[us]")


def _py(values: np.ndarray) -> list[Any]:
    """datetime64 values as Python datetimes (NaT: None), for the driver."""
    return list(values.astype("datetime64[us]").tolist())


def _weights(pairs: Sequence[tuple[Any, ...]], column: int = 1) -> np.ndarray:
    w = np.array([p[column] for p in pairs], dtype=float)
    return w / w.sum()


def _popularity(ids: Sequence[str]) -> np.ndarray:
    """A product's share of demand, skewed (few best-sellers), fixed by its id."""
    u = np.array([int(i[:8], 16) for i in ids], dtype=float) / 2**32
    return 0.03 + (1.0 - u) ** 4


def _hash_pct(ids: Sequence[str]) -> np.ndarray:
    """A fixed number 0..99 per id (decisions that must not depend on when they are asked)."""
    return np.array([int(i[8:16], 16) % 100 for i in ids])


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


STATE_CODES = [s[0] for s in ref.STATES]
CUSTOMER_STATE_P = _weights(ref.STATES, 1)
SELLER_STATE_P = _weights(ref.STATES, 2)
CATEGORY_P = _weights(ref.CATEGORIES, 1)
PAYMENT_P = _weights(ref.PAYMENT_TYPES)
ORIGIN_P = _weights(ref.LEAD_ORIGINS)
SEGMENT_P = _weights(ref.BUSINESS_SEGMENTS)
LEAD_TYPE_P = _weights(ref.LEAD_TYPES)


class _Phase:
    """One transaction of the application: its random streams, its simulated time, its writes."""

    def __init__(
        self, sim: Simulator, conn: psycopg.Connection[Any], step: int, phase: int, t0: datetime, t1: datetime
    ) -> None:
        seed = sim.state.seed
        self.sim = sim
        self.conn = conn
        self.rng = np.random.default_rng([seed, step, phase])
        self.fake = Faker("pt_BR")
        self.fake.seed_instance(seed * 1_000_003 + step * 17 + phase)
        self.t0 = np.datetime64(t0, "us")
        self.t1 = np.datetime64(t1, "us")
        self.days = _days(self.t0, self.t1)  # the interval's length: rates are per day
        # the phase's own time: its share of the interval, the last phase ends at t1
        self.now = self.t0 + ((self.t1 - self.t0) * (phase + 1)) // len(PHASES)
        self.now_py: datetime = self.now.tolist()
        self.changes: dict[str, Changes] = {}

    def _count(self, table: str) -> Changes:
        return self.changes.setdefault(table, Changes())

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """COPY ``rows`` into shop.<table>; ``updated_at`` (the phase's time) is added to every row."""
        if not rows:
            return
        cols = ", ".join([*columns, "updated_at"])
        with self.conn.cursor().copy(f"copy {SCHEMA}.{table} ({cols}) from stdin") as copy:
            for row in rows:
                copy.write_row([*row, self.now_py])
        self._count(table).inserted += len(rows)

    def update(
        self, table: str, columns: Sequence[str], keys: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """``rows`` are the new values of ``columns`` then the key; ``updated_at`` set to the phase's time."""
        if not rows:
            return
        sets = ", ".join(f"{c} = %s" for c in columns)
        where = " and ".join(f"{k} = %s" for k in keys)
        sql = f"update {SCHEMA}.{table} set {sets}, updated_at = %s where {where}"
        n = len(columns)
        with self.conn.cursor() as cur:
            cur.executemany(sql, [[*row[:n], self.now_py, *row[n:]] for row in rows])
        self._count(table).updated += len(rows)

    def delete(self, table: str, keys: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        where = " and ".join(f"{k} = %s" for k in keys)
        with self.conn.cursor() as cur:
            cur.executemany(f"delete from {SCHEMA}.{table} where {where}", rows)
        self._count(table).deleted += len(rows)

    def sample_keys(self, table: str, key: str, n: int) -> list[str]:
        """About ``n`` distinct random keys of a table keyed by random hex ids (an index lookup each)."""
        if n <= 0:
            return []
        found = self.rows(
            f"select distinct coalesce((select {key} from {SCHEMA}.{table} where {key} >= p order by {key} "
            f"limit 1), (select min({key}) from {SCHEMA}.{table})) as k from unnest(%s::text[]) p order by k",
            (_hex_ids(self.rng, n),),
        )
        return [r[0] for r in found if r[0] is not None]

    def movement_ids(self, n: int) -> list[int]:
        first = self.sim.state.next_movement_id
        self.sim.state.next_movement_id += n
        return list(range(first, first + n))

    # ---------- things the phases create
    def places(self, n: int, state_p: np.ndarray) -> tuple[list[str], list[str], list[str]]:
        """(zip prefix, city, state) of ``n`` addresses."""
        states = self.rng.choice(len(ref.STATES), size=n, p=state_p)
        zips, cities = [], []
        u = self.rng.random((n, 2))
        for i, s in enumerate(states):
            _code, _c, _s, (lo, hi), names = ref.STATES[s]
            zips.append(f"{lo + int(u[i, 0] * (hi - lo + 1)):05d}")
            cities.append(names[int(u[i, 1] * len(names))])
        return zips, cities, [STATE_CODES[s] for s in states]

    def new_customers(self, created_at: np.ndarray) -> list[str]:
        n = len(created_at)
        ids = _hex_ids(self.rng, n)
        persons = _hex_ids(self.rng, n)
        names = [self.fake.name() for _ in range(n)]
        domains = [self.fake.free_email_domain() for _ in range(n)]
        zips, cities, states = self.places(n, CUSTOMER_STATE_P)
        numbers = self.rng.integers(1, 999, size=n)
        rows = []
        for i in range(n):
            parts = _ascii(names[i]).replace(".", "").split()
            email = f"{parts[0]}.{parts[-1]}{numbers[i]}@{domains[i]}"
            rows.append((ids[i], persons[i], names[i], email, zips[i], cities[i], states[i]))
        created = _py(created_at)
        self.insert(
            "customers",
            [
                "customer_id",
                "customer_unique_id",
                "customer_name",
                "email",
                "zip_code_prefix",
                "city",
                "state",
                "created_at",
            ],
            [(*r, c) for r, c in zip(rows, created, strict=True)],
        )
        return ids

    def new_sellers(self, created_at: np.ndarray) -> list[str]:
        n = len(created_at)
        ids = _hex_ids(self.rng, n)
        zips, cities, states = self.places(n, SELLER_STATE_P)
        rows = [
            (ids[i], self.fake.company(), zips[i], cities[i], states[i], c)
            for i, c in enumerate(_py(created_at))
        ]
        self.insert(
            "sellers", ["seller_id", "seller_name", "zip_code_prefix", "city", "state", "created_at"], rows
        )
        return ids

    def new_products(self, sellers: Sequence[str], created_at: np.ndarray) -> list[str]:
        """One new product per entry of ``sellers`` (the seller offering it)."""
        n = len(sellers)
        rng = self.rng
        ids = _hex_ids(rng, n)
        cats = rng.choice(len(ref.CATEGORIES), size=n, p=CATEGORY_P)
        median_price = np.array([ref.CATEGORIES[c][2] for c in cats], dtype=float)
        median_weight = np.array([ref.CATEGORIES[c][3] for c in cats], dtype=float)
        price_cents = np.maximum(np.round(median_price * rng.lognormal(0, 0.6, n) * 100), 490).astype(int)
        weight = np.clip(np.round(median_weight * rng.lognormal(0, 0.7, n)), 50, 30000).astype(int)
        side = np.cbrt(weight * rng.uniform(2.0, 8.0, n))  # cm, from a density
        length = np.clip(np.round(side * rng.uniform(1.0, 1.8, n)), 16, 105).astype(int)
        height = np.clip(np.round(side * rng.uniform(0.3, 1.0, n)), 2, 105).astype(int)
        width = np.clip(np.round(side * rng.uniform(0.7, 1.3, n)), 11, 118).astype(int)
        nouns = rng.random(n)
        colors = rng.integers(0, len(ref.COLORS), n)
        models = rng.integers(100, 9999, n)
        rows = []
        for i, c in enumerate(_py(created_at)):
            cat = ref.CATEGORIES[cats[i]]
            name = f"{cat[4][int(nouns[i] * len(cat[4]))]} {ref.COLORS[colors[i]]} {models[i]}"
            rows.append(
                (
                    ids[i],
                    cat[0],
                    name,
                    int(weight[i]),
                    int(length[i]),
                    int(height[i]),
                    int(width[i]),
                    price_cents[i] / 100,
                    c,
                )
            )
        self.insert(
            "products",
            [
                "product_id",
                "category",
                "product_name",
                "weight_g",
                "length_cm",
                "height_cm",
                "width_cm",
                "list_price",
                "created_at",
            ],
            rows,
        )
        with self.conn.cursor() as cur:
            cur.executemany(
                f"insert into {SIM_SCHEMA}.offers values (%s, %s)", list(zip(ids, sellers, strict=True))
            )
        return ids

    def movements(self, rows: Sequence[tuple[str, str, int, datetime | None, str | None]]) -> None:
        """(product_id, type, quantity, occurred_at, order_id) as inventory movements."""
        ids = self.movement_ids(len(rows))
        self.insert(
            "inventory_movements",
            ["movement_id", "product_id", "movement_type", "quantity", "occurred_at", "order_id"],
            [(i, *r) for i, r in zip(ids, rows, strict=True)],
        )


class Simulator:
    """The live shop on the database at ``url`` (schema ``shop``, made by ``ensure_database``).

    ``seed``/``config``: for a new simulation (``init``); a database already simulated keeps its own, and
    asking for another seed is an error (``init(reset=True)`` starts over)."""

    def __init__(self, url: str, seed: int | None = None, config: ShopConfig | None = None) -> None:
        if seed is not None and seed < 0:
            raise LakehouseError(f"seed must be 0 or more, not {seed}")
        self.url = url
        self._seed = seed
        self._config = config
        self.conn = psycopg.connect(url, autocommit=True, options="-c timezone=UTC")
        self._state: _State | None = None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------- state
    @property
    def state(self) -> _State:
        if self._state is None:
            self._state = self._read_state()
            if self._state is None:
                raise LakehouseError(
                    "The shop database is not initialised: run `python -m ingestion shop init`."
                )
        return self._state

    def _read_state(self) -> _State | None:
        if self.conn.execute("select to_regclass(%s)", (f"{SIM_SCHEMA}.state",)).fetchone() == (None,):
            return None
        row = self.conn.execute(
            f"select seed, config, step, phase, clock, step_seconds, next_movement_id, spend_through, "
            f"campaigns_created from {SIM_SCHEMA}.state"
        ).fetchone()
        if row is None:
            return None
        state = _State(row[0], ShopConfig(**row[1]), *row[2:])
        if self._seed is not None and self._seed != state.seed:
            raise LakehouseError(
                f"The shop database was simulated with seed {state.seed}, not {self._seed}: "
                "start over with `python -m ingestion shop init --reset --seed N`."
            )
        return state

    def _write_state(self, conn: psycopg.Connection[Any]) -> None:
        s = self.state
        conn.execute(
            f"update {SIM_SCHEMA}.state set step = %s, phase = %s, clock = %s, step_seconds = %s, "
            "next_movement_id = %s, spend_through = %s, campaigns_created = %s",
            (
                s.step,
                s.phase,
                s.clock,
                s.step_seconds,
                s.next_movement_id,
                s.spend_through,
                s.campaigns_created,
            ),
        )

    @property
    def initialised(self) -> bool:
        return self._read_state() is not None

    @property
    def clock(self) -> datetime:
        return self.state.clock

    # ---------- init
    def init(self, reset: bool = False) -> IntervalReport | None:
        """Create the shop's starting state at the configured start; None when it already exists.
        ``reset``: drop schemas ``shop`` and ``shop_sim`` first (every row is lost)."""
        if reset:
            with self.conn.transaction():
                self.conn.execute(f"drop schema if exists {SCHEMA} cascade")
                self.conn.execute(f"drop schema if exists {SIM_SCHEMA} cascade")
            self._state = None
        _ensure_schema(self.conn)
        if self._read_state() is not None:
            return None
        seed = DEFAULT_SEED if self._seed is None else self._seed
        config = self._config or ShopConfig()
        start = datetime.fromisoformat(config.start).replace(tzinfo=None)
        with self.conn.transaction():
            self.conn.execute(f"create schema if not exists {SIM_SCHEMA}")
            self.conn.execute(f"""
                create table {SIM_SCHEMA}.state (
                    id int primary key default 1 check (id = 1),
                    seed bigint not null, config jsonb not null, step int not null, phase int not null,
                    clock timestamp not null, step_seconds double precision, next_movement_id bigint not null,
                    spend_through date not null, campaigns_created int not null)""")
            self.conn.execute(
                f"create table {SIM_SCHEMA}.offers (product_id text primary key, seller_id text not null)"
            )
            self.conn.execute(
                f"insert into {SIM_SCHEMA}.state (seed, config, step, phase, clock, next_movement_id, "
                "spend_through, campaigns_created) values (%s, %s, 0, 0, %s, 1, %s, 0)",
                (seed, json.dumps(asdict(config)), start, start.date() - timedelta(days=1)),
            )
            self._state = None
            tx = _Phase(self, self.conn, 0, len(PHASES) - 1, start - timedelta(days=1), start)
            self._init_world(tx, config)
            self._write_state(self.conn)
        return IntervalReport(0, start, start, tx.changes)

    def _init_world(self, tx: _Phase, cfg: ShopConfig) -> None:
        rng = tx.rng
        back = lambda n, days: tx.now - (rng.random(n) * days * DAY_US).astype(np.int64) * US  # noqa: E731
        sellers = tx.new_sellers(back(cfg.sellers, 720))
        rank = np.arange(1, len(sellers) + 1, dtype=float) ** -0.8
        offered_by = rng.choice(len(sellers), size=cfg.products, p=rank / rank.sum())
        products = tx.new_products([sellers[i] for i in offered_by], back(cfg.products, 540))
        tx.new_customers(back(cfg.customers, 720))
        qty = rng.integers(10, 80, size=len(products))
        tx.movements([(p, "receipt", int(q), tx.now_py, None) for p, q in zip(products, qty, strict=True)])
        today = tx.now.astype("datetime64[D]").astype(date)
        for _ in range(cfg.campaigns):
            self._new_campaign(tx, today - timedelta(days=int(rng.integers(0, 10))))

    # ---------- steps
    def run(self, intervals: int, interval: timedelta | None = None) -> Iterator[IntervalReport]:
        for _ in range(intervals):
            yield self.step(interval)

    def step(self, interval: timedelta | None = None) -> IntervalReport:
        """Advance the clock by ``interval`` (default a day; a step interrupted by a crash resumes with its
        own interval at the phase that did not commit)."""
        if not self.initialised:
            self.init()
        s = self.state
        if s.step_seconds is None:
            length = interval or DEFAULT_INTERVAL
            if length < timedelta(minutes=1):
                raise LakehouseError(f"An interval must be a minute or more, not {length}.")
            s.step_seconds = length.total_seconds()
        t0 = s.clock
        t1 = t0 + timedelta(seconds=s.step_seconds)
        report = IntervalReport(s.step + 1, t0, t1)
        for phase in range(s.phase, len(PHASES)):
            try:
                with self.conn.transaction():
                    tx = _Phase(self, self.conn, s.step + 1, phase, t0, t1)
                    getattr(self, f"_{PHASES[phase]}")(tx)
                    s.phase = phase + 1
                    if s.phase == len(PHASES):
                        s.step, s.phase, s.clock, s.step_seconds = s.step + 1, 0, t1, None
                    self._write_state(self.conn)
            except BaseException:
                self._state = None  # the database's state is the truth: read it again
                raise
            for table, c in tx.changes.items():
                total = report.changes.setdefault(table, Changes())
                total.inserted += c.inserted
                total.updated += c.updated
                total.deleted += c.deleted
        report.changes = {t: report.changes[t] for t in TABLES if t in report.changes}
        return report

    # phase 0
    def _customers(self, tx: _Phase) -> None:
        rng, cfg = tx.rng, self.state.config
        (n_customers,) = tx.rows(f"select count(*) from {SCHEMA}.customers")[0]
        moving = tx.sample_keys(
            "customers", "customer_id", int(rng.binomial(n_customers, _prob(0.002, tx.days)))
        )
        zips, cities, states = tx.places(len(moving), CUSTOMER_STATE_P)
        tx.update(
            "customers",
            ["zip_code_prefix", "city", "state"],
            ["customer_id"],
            list(zip(zips, cities, states, moving, strict=True)),
        )
        new_email = tx.sample_keys(
            "customers", "customer_id", int(rng.binomial(n_customers, _prob(0.001, tx.days)))
        )
        new_email = sorted(set(new_email) - set(moving))
        if new_email:
            names = dict(
                tx.rows(
                    f"select customer_id, customer_name from {SCHEMA}.customers where customer_id = any(%s)",
                    (new_email,),
                )
            )
            emails = []
            for cid in new_email:
                parts = _ascii(names[cid] or "cliente").replace(".", "").split()
                emails.append(f"{parts[0]}{int(rng.integers(1, 9999))}@{tx.fake.free_email_domain()}")
            tx.update("customers", ["email"], ["customer_id"], list(zip(emails, new_email, strict=True)))
        n_new = int(rng.poisson(cfg.signups_per_day * tx.days))
        tx.new_customers(np.sort(_between(rng, np.full(n_new, tx.t0), tx.now)))

    # phase 1
    def _funnel(self, tx: _Phase) -> None:
        rng, cfg = tx.rng, self.state.config
        today = tx.now.astype("datetime64[D]")
        open_leads = tx.rows(
            f"select l.mql_id, l.first_contact_date from {SCHEMA}.leads l where l.first_contact_date >= %s "
            f"and not exists (select 1 from {SCHEMA}.closed_deals d where d.mql_id = l.mql_id) "
            "order by l.mql_id",
            ((today - np.timedelta64(180, "D")).astype(date),),
        )
        ids = [r[0] for r in open_leads]
        age = (today - np.array([r[1] for r in open_leads], "datetime64[D]")).astype(float)
        u = rng.random(len(ids))
        spam = (age <= 3) & (u < _prob(0.01, tx.days))
        close = ~spam & (rng.random(len(ids)) < _prob(0.006 * np.exp(-age / 30.0), tx.days))
        tx.delete("leads", ["mql_id"], [(ids[i],) for i in np.flatnonzero(spam)])
        won = [ids[i] for i in np.flatnonzero(close)]
        # sellers move now and then
        (n_sellers,) = tx.rows(f"select count(*) from {SCHEMA}.sellers")[0]
        moving = tx.sample_keys("sellers", "seller_id", int(rng.binomial(n_sellers, _prob(0.0005, tx.days))))
        zips, cities, states = tx.places(len(moving), SELLER_STATE_P)
        tx.update(
            "sellers",
            ["zip_code_prefix", "city", "state"],
            ["seller_id"],
            list(zip(zips, cities, states, moving, strict=True)),
        )
        if won:
            won_at = np.sort(_between(rng, np.full(len(won), tx.t0), tx.now))
            sellers = tx.new_sellers(won_at)
            segments = rng.choice(len(ref.BUSINESS_SEGMENTS), size=len(won), p=SEGMENT_P)
            types = rng.choice(len(ref.LEAD_TYPES), size=len(won), p=LEAD_TYPE_P)
            revenue = np.where(
                rng.random(len(won)) < 0.7, 0.0, np.round(rng.lognormal(10.5, 1.2, len(won)), -2)
            )
            tx.insert(
                "closed_deals",
                [
                    "mql_id",
                    "seller_id",
                    "won_date",
                    "business_segment",
                    "lead_type",
                    "declared_monthly_revenue",
                ],
                [
                    (
                        won[i],
                        sellers[i],
                        won_at[i].astype("datetime64[D]").astype(date),
                        ref.BUSINESS_SEGMENTS[segments[i]][0],
                        ref.LEAD_TYPES[types[i]][0],
                        float(revenue[i]),
                    )
                    for i in range(len(won))
                ],
            )
            n_products = rng.integers(3, 13, size=len(won))
            offered_by = np.repeat(np.arange(len(won)), n_products)
            tx.new_products([sellers[i] for i in offered_by], _between(rng, won_at[offered_by], tx.now))
        n_new = int(rng.poisson(cfg.leads_per_day * tx.days))
        contact = _between(rng, np.full(n_new, tx.t0), tx.now).astype("datetime64[D]")
        pages = self._landing_pages()
        origins = rng.choice(len(ref.LEAD_ORIGINS), size=n_new, p=ORIGIN_P)
        page = rng.integers(0, len(pages), size=n_new)
        tx.insert(
            "leads",
            ["mql_id", "first_contact_date", "landing_page_id", "origin"],
            [
                (m, contact[i].astype(date), pages[page[i]], ref.LEAD_ORIGINS[origins[i]][0] or None)
                for i, m in enumerate(_hex_ids(rng, n_new))
            ],
        )

    def _landing_pages(self) -> list[str]:
        return _hex_ids(np.random.default_rng([self.state.seed, BULK_STREAM + 1]), ref.LANDING_PAGES)

    # phase 2
    def _catalogue(self, tx: _Phase) -> None:
        rng = tx.rng
        products = tx.rows(f"select product_id, list_price from {SCHEMA}.products order by product_id")
        ids = [r[0] for r in products]
        n = len(ids)
        change = np.flatnonzero(rng.random(n) < _prob(0.01, tx.days))
        factor = rng.uniform(0.85, 1.2, len(change))
        tx.update(
            "products",
            ["list_price"],
            ["product_id"],
            [
                (max(0.99, round(float(products[i][1]) * float(f), 2)), ids[i])
                for i, f in zip(change, factor, strict=True)
            ],
        )
        on_hand, available = self._stock(tx, ids)
        # a product running low is reordered; the goods arrive within days (meanwhile it may sell out)
        restock = (available < 4) & (rng.random(n) < _prob(0.35, tx.days))
        qty = rng.integers(20, 120, size=n)
        adjust = rng.random(n) < _prob(0.003, tx.days)
        delta = np.maximum(rng.choice([-3, -2, -1, 1, 2], size=n, p=[0.2, 0.3, 0.3, 0.1, 0.1]), -on_hand)
        at = _py(_between(rng, np.full(n, tx.t0), tx.now))
        rows: list[tuple[str, str, int, datetime | None, str | None]] = []
        for i in range(n):
            if restock[i]:
                rows.append((ids[i], "receipt", int(qty[i]), at[i], None))
            if adjust[i] and delta[i] != 0:
                rows.append((ids[i], "adjustment", int(delta[i]), at[i], None))
        tx.movements(rows)

    def _stock(self, tx: _Phase, ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Units on hand per product (movements) and available (less the items of orders not yet approved)."""
        moved = dict(
            tx.rows(f"select product_id, sum(quantity) from {SCHEMA}.inventory_movements group by 1")
        )
        pending = dict(
            tx.rows(
                f"select i.product_id, count(*) from {SCHEMA}.order_items i join {SCHEMA}.orders o "
                "on o.order_id = i.order_id where o.status = 'created' group by 1"
            )
        )
        on_hand = np.array([int(moved.get(p, 0)) for p in ids])
        return on_hand, on_hand - np.array([int(pending.get(p, 0)) for p in ids])

    # phase 3
    def _orders(self, tx: _Phase) -> None:
        rng, cfg = tx.rng, self.state.config
        weekday = tx.t0.astype("datetime64[D]").astype(date).weekday()
        n = int(rng.poisson(cfg.orders_per_day * tx.days * ref.WEEKDAY_FACTORS[weekday]))
        if n == 0:
            return
        new = tx.rows(
            f"select customer_id from {SCHEMA}.customers where created_at > %s order by customer_id",
            (tx.t0.tolist(),),
        )
        from_new = (rng.random(n) < 0.5) & bool(new)
        known = tx.sample_keys("customers", "customer_id", int((~from_new).sum()))
        customers = [
            new[int(rng.integers(len(new)))][0] if f or not known else known[int(rng.integers(len(known)))]
            for f in from_new
        ]
        info = {
            r[0]: r[1:]
            for r in tx.rows(
                f"select customer_id, created_at, state from {SCHEMA}.customers where customer_id = any(%s)",
                (customers,),
            )
        }
        signed_up = _ts([info[c][0] for c in customers])
        purchased = _between(rng, np.maximum(signed_up, tx.t0), tx.now)
        # the lines: a first product by popularity among those in stock, then the same one again or another
        products = tx.rows(
            f"select p.product_id, p.list_price, p.weight_g, o.seller_id from {SCHEMA}.products p "
            f"join {SIM_SCHEMA}.offers o on o.product_id = p.product_id order by p.product_id"
        )
        pids = [r[0] for r in products]
        _on_hand, available = self._stock(tx, pids)
        weight = _popularity(pids) * (available > 0)
        if weight.sum() == 0:
            return
        k = rng.choice(len(ref.ITEMS_PER_ORDER_P), size=n, p=ref.ITEMS_PER_ORDER_P) + 1
        order_of_line = np.repeat(np.arange(n), k)
        drawn = rng.choice(len(pids), size=len(order_of_line), p=weight / weight.sum())
        first = np.r_[True, order_of_line[1:] != order_of_line[:-1]]
        same = ~first & (rng.random(len(drawn)) < 0.7)
        for i in np.flatnonzero(same):  # sequential: a repeat repeats the (possibly repeated) line before
            drawn[i] = drawn[i - 1]
        # no line beyond the stock available: the n-th unit of a product in this phase needs n available
        order = np.argsort(drawn, kind="stable")
        rank = np.empty(len(drawn), dtype=int)
        starts = np.r_[0, np.flatnonzero(np.diff(drawn[order])) + 1]
        counts = np.diff(np.r_[starts, len(drawn)])
        rank[order] = np.arange(len(drawn)) - np.repeat(starts, counts)
        keep = rank < available[drawn]
        order_of_line, drawn = order_of_line[keep], drawn[keep]
        orders = np.unique(order_of_line)
        if len(orders) == 0:
            return
        order_ids = _hex_ids(rng, n)
        seller_state = dict(tx.rows(f"select seller_id, state from {SCHEMA}.sellers"))
        list_cents = np.array([round(float(products[i][1]) * 100) for i in drawn])
        discount = np.where(rng.random(len(drawn)) < 0.2, rng.uniform(0.0, 0.15, len(drawn)), 0.0)
        price = np.round(list_cents * (1 - discount)).astype(int)
        grams = np.array([products[i][2] for i in drawn], dtype=float)
        far = np.array(
            [
                seller_state.get(products[d][3]) != info[customers[o]][1]
                for d, o in zip(drawn, order_of_line, strict=True)
            ]
        )
        freight = np.round(
            (900 + grams * 0.25) * np.where(far, 1.5, 1.0) * rng.uniform(0.8, 1.25, len(drawn))
        )
        freight = freight.astype(int)
        at = np.arange(len(drawn))
        opens = np.r_[True, order_of_line[1:] != order_of_line[:-1]]
        line_no = at - np.maximum.accumulate(np.where(opens, at, 0))  # 0, 1, ... within each order
        estimate = purchased.astype("datetime64[D]") + rng.integers(8, 30, size=n)
        bought = _py(purchased)
        shipping_limit = _py(purchased + 6 * DAY_US * US)
        tx.insert(
            "orders",
            ["order_id", "customer_id", "status", "purchased_at", "estimated_delivery_date"],
            [(order_ids[o], customers[o], "created", bought[o], estimate[o].astype(date)) for o in orders],
        )
        tx.insert(
            "order_items",
            [
                "order_id",
                "order_item_id",
                "product_id",
                "seller_id",
                "shipping_limit_at",
                "price",
                "freight_value",
            ],
            [
                (
                    order_ids[o],
                    int(line_no[i]) + 1,
                    pids[drawn[i]],
                    products[drawn[i]][3],
                    shipping_limit[o],
                    price[i] / 100,
                    freight[i] / 100,
                )
                for i, o in enumerate(order_of_line)
            ],
        )
        totals = np.bincount(order_of_line, weights=price + freight, minlength=n).astype(int)
        self._payments(tx, [(order_ids[o], int(totals[o])) for o in orders])

    def _payments(self, tx: _Phase, orders: Sequence[tuple[str, int]]) -> None:
        """1-3 payments per (order, total in cents): the main one, sometimes vouchers besides."""
        rng = tx.rng
        n = len(orders)
        main = rng.choice(len(ref.PAYMENT_TYPES), size=n, p=PAYMENT_P)
        extra = rng.choice(3, size=n, p=[0.95, 0.04, 0.01])
        shares = rng.uniform(0.05, 0.3, size=(n, 2))
        instalments = rng.choice(len(ref.INSTALLMENTS_P), size=n, p=ref.INSTALLMENTS_P) + 1
        rows = []
        for i, (order_id, total) in enumerate(orders):
            vouchers = [int(total * shares[i, j]) for j in range(extra[i])]
            kind = ref.PAYMENT_TYPES[main[i]][0]
            parts = instalments[i] if kind == "credit_card" else 1
            rows.append((order_id, 1, kind, int(parts), (total - sum(vouchers)) / 100))
            rows += [(order_id, j + 2, "voucher", 1, v / 100) for j, v in enumerate(vouchers)]
        tx.insert(
            "order_payments",
            ["order_id", "payment_sequential", "payment_type", "payment_installments", "payment_value"],
            rows,
        )

    # phase 4
    def _fulfilment(self, tx: _Phase) -> None:
        rng = tx.rng
        open_orders = tx.rows(
            f"select o.order_id, o.status, o.purchased_at, o.approved_at, o.shipped_at, p.payment_type, "
            f"(select count(*) from {SCHEMA}.order_items i where i.order_id = o.order_id) "
            f"from {SCHEMA}.orders o left join {SCHEMA}.order_payments p "
            "on p.order_id = o.order_id and p.payment_sequential = 1 "
            "where o.status in ('created', 'approved', 'shipped') order by o.order_id"
        )
        ids = [r[0] for r in open_orders]
        n = len(ids)
        status = np.array([r[1] for r in open_orders], dtype=object)
        n_items = np.array([r[6] for r in open_orders], dtype=int)
        self._remove_lines(
            tx,
            [
                ids[i]
                for i in np.flatnonzero(
                    (status == "created") & (n_items > 1) & (rng.random(n) < _prob(0.15, tx.days))
                )
            ],
        )
        # the last event of each order; each stage may follow the one before within the same phase
        last_at = _ts([r[4] or r[3] or r[2] for r in open_orders])
        new_at = {
            c: np.full(n, np.datetime64("NaT"), "datetime64[us]")
            for c in ("approved_at", "shipped_at", "delivered_at", "canceled_at")
        }
        was = status.copy()
        boleto = np.array([r[5] == "boleto" for r in open_orders], dtype=bool)
        stages = (
            ("created", "approved", "approved_at", np.where(boleto, 0.7, 3.0), np.where(boleto, 0.03, 0.01)),
            ("approved", "shipped", "shipped_at", np.full(n, 0.45), np.full(n, 0.005)),
            ("shipped", "delivered", "delivered_at", np.full(n, 1 / 6), np.zeros(n)),
        )
        for before, after, column, advance, cancel in stages:
            at_stage = status == before
            lo = np.maximum(last_at, tx.t0)
            window = _days(lo, tx.now)
            u = rng.random(n)
            happens = at_stage & (u < _prob(advance + cancel, window))
            moves_on = rng.random(n) * (advance + cancel) < advance
            when = _between(rng, lo, tx.now)
            go, stop = happens & moves_on, happens & ~moves_on
            status[go], new_at[column][go], last_at[go] = after, when[go], when[go]
            status[stop], new_at["canceled_at"][stop] = "canceled", when[stop]
        changed = np.flatnonzero(status != was)
        cols = {c: _py(v) for c, v in new_at.items()}
        tx.update(
            "orders",
            ["status", "approved_at", "shipped_at", "delivered_at", "canceled_at"],
            ["order_id"],
            [
                (
                    status[i],
                    cols["approved_at"][i] or open_orders[i][3],
                    cols["shipped_at"][i] or open_orders[i][4],
                    cols["delivered_at"][i],
                    cols["canceled_at"][i],
                    ids[i],
                )
                for i in changed
            ],
        )
        # stock: a sale per item when approved, back (return) when an approved order is canceled
        approved_now = ~np.isnat(new_at["approved_at"])
        restocked = (status == "canceled") & ((was != "created") | approved_now)
        touched = [ids[i] for i in np.flatnonzero(approved_now | restocked)]
        lines: dict[str, list[str]] = {}
        for order_id, product_id in tx.rows(
            f"select order_id, product_id from {SCHEMA}.order_items where order_id = any(%s) "
            "order by order_id, order_item_id",
            (touched,),
        ):
            lines.setdefault(order_id, []).append(product_id)
        moves: list[tuple[str, str, int, datetime | None, str | None]] = []
        for i in np.flatnonzero(approved_now | restocked):
            if approved_now[i]:
                moves += [(p, "sale", -1, cols["approved_at"][i], ids[i]) for p in lines.get(ids[i], [])]
            if restocked[i]:
                moves += [(p, "return", 1, cols["canceled_at"][i], ids[i]) for p in lines.get(ids[i], [])]
        # now and then a delivered item comes back
        returns = tx.rows(
            f"select o.order_id, o.delivered_at, (select i.product_id from {SCHEMA}.order_items i "
            "where i.order_id = o.order_id order by i.order_item_id limit 1) "
            f"from {SCHEMA}.orders o where o.status = 'delivered' and o.delivered_at > %s and not exists "
            f"(select 1 from {SCHEMA}.inventory_movements m where m.order_id = o.order_id "
            "and m.movement_type = 'return') order by o.order_id",
            ((tx.t0 - 30 * DAY_US * US).tolist(),),
        )
        back = rng.random(len(returns)) < _prob(0.002, tx.days)
        returned = _py(_between(rng, np.maximum(_ts([r[1] for r in returns]), tx.t0), tx.now))
        moves += [(returns[i][2], "return", 1, returned[i], returns[i][0]) for i in np.flatnonzero(back)]
        tx.movements(moves)

    def _remove_lines(self, tx: _Phase, orders: list[str]) -> None:
        """The customer removes an order's last line before approval; its payments shrink in proportion."""
        if not orders:
            return
        last = tx.rows(
            "select distinct on (order_id) order_id, order_item_id, price, freight_value "
            f"from {SCHEMA}.order_items "
            "where order_id = any(%s) order by order_id, order_item_id desc",
            (orders,),
        )
        tx.delete("order_items", ["order_id", "order_item_id"], [(r[0], r[1]) for r in last])
        removed = {r[0]: round((r[2] + r[3]) * 100) for r in last}
        payments: dict[str, list[tuple[int, int]]] = {}
        for order_id, seq, value in tx.rows(
            f"select order_id, payment_sequential, payment_value from {SCHEMA}.order_payments "
            "where order_id = any(%s) order by order_id, payment_sequential",
            (orders,),
        ):
            payments.setdefault(order_id, []).append((seq, round(value * 100)))
        rows = []
        for order_id, pays in payments.items():
            total = sum(v for _s, v in pays)
            new_total = max(total - removed.get(order_id, 0), 0)
            values = [v * new_total // total if total else 0 for _s, v in pays]
            values[0] += new_total - sum(values)
            rows += [(v / 100, order_id, s) for (s, _v), v in zip(pays, values, strict=True)]
        tx.update("order_payments", ["payment_value"], ["order_id", "payment_sequential"], rows)

    # phase 5
    def _reviews(self, tx: _Phase) -> None:
        rng = tx.rng
        # the shop answers, customers change their minds, some reviews are removed (soft delete)
        recent = tx.rows(
            f"select review_id, created_at, answered_at, review_score from {SCHEMA}.order_reviews "
            "where deleted_at is null and created_at > %s order by review_id",
            ((tx.t0 - 60 * DAY_US * US).tolist(),),
        )
        ids = [r[0] for r in recent]
        created = _ts([r[1] for r in recent]) if recent else np.array([], "datetime64[us]")
        unanswered = np.array([r[2] is None for r in recent], dtype=bool)
        window = _days(np.maximum(created, tx.t0), tx.now)
        answer = unanswered & (rng.random(len(ids)) < _prob(1.2, window))
        answered_at = _py(_between(rng, np.maximum(created, tx.t0), tx.now)) if recent else []
        tx.update(
            "order_reviews",
            ["answered_at"],
            ["review_id"],
            [(answered_at[i], ids[i]) for i in np.flatnonzero(answer)],
        )
        young = created > tx.t0 - 30 * DAY_US * US
        edit = young & ~answer & (rng.random(len(ids)) < _prob(0.01, tx.days))
        scores = np.clip(
            np.array([r[3] for r in recent], dtype=int) + rng.choice([-2, -1, 1, 2], len(ids)), 1, 5
        )
        tx.update(
            "order_reviews",
            ["review_score", "comment_title", "comment_message"],
            ["review_id"],
            [
                (int(scores[i]), *self._comment(tx, int(scores[i]), always=True), ids[i])
                for i in np.flatnonzero(edit)
            ],
        )
        delete = ~answer & ~edit & (rng.random(len(ids)) < _prob(0.002, tx.days))
        deleted_at = _py(_between(rng, np.maximum(created, tx.t0), tx.now)) if recent else []
        tx.update(
            "order_reviews",
            ["deleted_at"],
            ["review_id"],
            [(deleted_at[i], ids[i]) for i in np.flatnonzero(delete)],
        )
        # new reviews: most delivered orders and some canceled ones get one, within days
        ended = tx.rows(
            "select o.order_id, o.status, coalesce(o.delivered_at, o.canceled_at), "
            "o.estimated_delivery_date "
            f"from {SCHEMA}.orders o where ((o.status = 'delivered' and o.delivered_at > %(since)s) "
            "or (o.status = 'canceled' and o.canceled_at > %(since)s)) "
            f"and not exists (select 1 from {SCHEMA}.order_reviews r where r.order_id = o.order_id) "
            "order by o.order_id",
            {"since": (tx.t0 - 20 * DAY_US * US).tolist()},
        )
        if not ended:
            return
        order_ids = [r[0] for r in ended]
        canceled = np.array([r[1] == "canceled" for r in ended], dtype=bool)
        ended_at = _ts([r[2] for r in ended])
        late = np.array([r[2].date() > r[3] for r in ended], dtype=bool)
        eligible = _hash_pct(order_ids) < np.where(canceled, 30, 90)
        lo = np.maximum(ended_at, tx.t0)
        write = eligible & (rng.random(len(ended)) < _prob(0.8, _days(lo, tx.now)))
        when = _py(_between(rng, lo, tx.now))
        review_ids = _hex_ids(rng, len(ended))
        u = rng.random(len(ended))
        rows = []
        for i in np.flatnonzero(write):
            p = (
                ref.REVIEW_SCORES_CANCELED
                if canceled[i]
                else (ref.REVIEW_SCORES_LATE if late[i] else ref.REVIEW_SCORES_ON_TIME)
            )
            score = int(np.searchsorted(np.cumsum(p), u[i] * sum(p), side="right")) + 1
            rows.append(
                (review_ids[i], order_ids[i], min(score, 5), *self._comment(tx, min(score, 5)), when[i])
            )
        tx.insert(
            "order_reviews",
            ["review_id", "order_id", "review_score", "comment_title", "comment_message", "created_at"],
            rows,
        )

    @staticmethod
    def _comment(tx: _Phase, score: int, always: bool = False) -> tuple[str | None, str | None]:
        """(title, message) of a review: Olist's are mostly empty, low scores say more."""
        u = tx.rng.random(4)
        titles, messages = ref.REVIEW_TITLES[score], ref.REVIEW_MESSAGES[score]
        title = titles[int(u[0] * len(titles))] if u[1] < 0.12 or always else None
        says = 0.42 + (0.3 if score <= 2 else 0.0)
        message = messages[int(u[2] * len(messages))] if u[3] < says or always else None
        return title, message

    # phase 6
    def _campaigns(self, tx: _Phase) -> None:
        rng, s = tx.rng, self.state
        today = tx.now.astype("datetime64[D]").astype(date)
        # the spend of every day finished by now, per campaign running that day
        days = [s.spend_through + timedelta(days=d + 1) for d in range((today - s.spend_through).days - 1)]
        running = tx.rows(
            f"select campaign_id, channel, start_date, end_date, daily_budget from {SCHEMA}.campaigns "
            "where end_date >= %s order by campaign_id",
            (today - timedelta(days=7 + len(days)),),
        )
        channel = {c[0]: c for c in ref.CHANNELS}
        # restated days: recent spend rows deleted, most of them written again with new figures
        recent = tx.rows(
            f"select campaign_id, spend_date from {SCHEMA}.campaign_spend where spend_date > %s "
            "order by campaign_id, spend_date",
            (today - timedelta(days=7),),
        )
        restate = rng.random(len(recent)) < _prob(0.03, tx.days)
        again = rng.random(len(recent)) < 0.7
        tx.delete(
            "campaign_spend", ["campaign_id", "spend_date"], [recent[i] for i in np.flatnonzero(restate)]
        )
        info = {r[0]: r for r in running}
        spend_rows = [(r[0], r[1]) for i, r in enumerate(recent) if restate[i] and again[i] and r[0] in info]
        spend_rows += [(r[0], d) for d in days for r in running if r[2] <= d <= r[3]]
        rows = []
        for campaign_id, day in spend_rows:
            _c, _code, _b, cpm, ctr = channel[info[campaign_id][1]]
            spend = round(float(info[campaign_id][4]) * float(rng.uniform(0.6, 1.05)), 2)
            impressions = int(spend / cpm * 1000 * rng.uniform(0.8, 1.2))
            clicks = int(rng.binomial(impressions, min(1.0, ctr * rng.uniform(0.7, 1.3))))
            rows.append((campaign_id, day, spend, impressions, clicks))
        tx.insert("campaign_spend", ["campaign_id", "spend_date", "spend", "impressions", "clicks"], rows)
        if days:
            s.spend_through = days[-1]
        # the marketers at work: a running campaign's budget changed, extended, or stopped early
        live = [r for r in running if r[3] >= today]
        change = rng.random(len(live)) < _prob(0.04, tx.days)
        kind = rng.random(len(live))
        extend = rng.integers(7, 22, size=len(live))
        budget = rng.uniform(0.6, 1.6, size=len(live))
        edits: list[tuple[Any, ...]] = []
        for i in np.flatnonzero(change):
            campaign_id, _channel, start, end, daily = live[i]
            if kind[i] < 0.5:
                edits.append((end, round(float(daily) * float(budget[i]), 2), campaign_id))
            else:
                end = end + timedelta(days=int(extend[i])) if kind[i] < 0.8 else max(today, start)
                edits.append((end, daily, campaign_id))
        tx.update("campaigns", ["end_date", "daily_budget"], ["campaign_id"], edits)
        for _ in range(int(rng.poisson(s.config.campaigns_per_week / 7 * tx.days))):
            self._new_campaign(tx, today + timedelta(days=int(rng.integers(1, 8))))

    def _new_campaign(self, tx: _Phase, start: date) -> None:
        rng, s = tx.rng, self.state
        name, code, budget, _cpm, _ctr = ref.CHANNELS[int(rng.integers(len(ref.CHANNELS)))]
        s.campaigns_created += 1
        theme = ref.CAMPAIGN_THEMES[int(rng.integers(len(ref.CAMPAIGN_THEMES)))]
        tx.insert(
            "campaigns",
            [
                "campaign_id",
                "campaign_name",
                "channel",
                "campaign_code",
                "start_date",
                "end_date",
                "daily_budget",
            ],
            [
                (
                    _hex_ids(rng, 1)[0],
                    f"{theme} {start:%Y} - {name}",
                    name,
                    f"{code}-{start:%y%m}-{s.campaigns_created:03d}",
                    start,
                    start + timedelta(days=int(rng.integers(7, 46))),
                    round(budget * float(rng.lognormal(0, 0.5)), 2),
                )
            ],
        )

    # ---------- bulk history
    def bulk_load(self, n_order_items: int, days: int = 365) -> BulkReport:
        """Add ``n_order_items`` order lines of finished history (delivered, some canceled) over the ``days``
        before the clock, with their orders, payments and one new customer per order, by COPY in one
        transaction. Every row's ``updated_at`` is its order's last change (before the clock): load before
        the first extraction. No stock movements or reviews for this history."""
        started = time.perf_counter()
        s = self.state
        rng = np.random.default_rng([s.seed, BULK_STREAM, s.step, n_order_items])
        fake = Faker("pt_BR")
        fake.seed_instance(s.seed)
        products = self.conn.execute(
            f"select p.product_id, p.list_price, p.weight_g, o.seller_id from {SCHEMA}.products p "
            f"join {SIM_SCHEMA}.offers o on o.product_id = p.product_id order by p.product_id"
        ).fetchall()
        if not products:
            raise LakehouseError("No products to sell: run `python -m ingestion shop init` first.")
        # orders and their line counts, cut to exactly n_order_items lines
        k = rng.choice(len(ref.ITEMS_PER_ORDER_P), size=n_order_items, p=ref.ITEMS_PER_ORDER_P) + 1
        n = int(np.searchsorted(np.cumsum(k), n_order_items)) + 1
        k = k[:n]
        k[-1] -= int(k.sum()) - n_order_items
        clock = np.datetime64(s.clock, "us")
        purchased = clock - ((35 + rng.random(n) * (days - 35)) * DAY_US).astype(np.int64) * US
        hours = lambda lo, hi: (rng.uniform(lo, hi, n) * 3_600_000_000).astype(np.int64) * US  # noqa: E731
        approved = purchased + hours(0.1, 30)
        shipped = approved + hours(12, 96)
        delivered = shipped + (rng.exponential(7, n) * DAY_US).astype(np.int64) * US + hours(2, 24)
        delivered = np.minimum(delivered, clock - np.int64(DAY_US) * US)
        canceled = rng.random(n) < 0.01
        estimate = purchased.astype("datetime64[D]") + rng.integers(8, 30, size=n)
        last_change = np.where(canceled, approved, delivered)
        nat = np.datetime64("NaT", "us")
        order_ids = np.array(_hex_ids(rng, n))
        customer_ids = np.array(_hex_ids(rng, n))
        # customers: names from a pool (Faker per row would dominate the load)
        first = np.array([fake.first_name() for _ in range(300)])
        last = np.array([fake.last_name() for _ in range(300)])
        fi, li = rng.integers(0, 300, n), rng.integers(0, 300, n)
        names = np.char.add(np.char.add(first[fi], " "), last[li])
        ascii_first = np.array([_ascii(x) for x in first])
        ascii_last = np.array([_ascii(x).replace(" ", "") for x in last])
        emails = np.char.add(
            np.char.add(np.char.add(ascii_first[fi], "."), ascii_last[li]),
            np.char.add(rng.integers(1, 9999, n).astype(str), "@example.com.br"),
        )
        states = rng.choice(len(ref.STATES), size=n, p=CUSTOMER_STATE_P)
        lo = np.array([ref.STATES[i][3][0] for i in range(len(ref.STATES))])
        hi = np.array([ref.STATES[i][3][1] for i in range(len(ref.STATES))])
        zips = np.char.zfill(
            (lo[states] + (rng.random(n) * (hi - lo + 1)[states]).astype(int)).astype(str), 5
        )
        capital = np.array([ref.STATES[i][4][0] for i in range(len(ref.STATES))])
        state_codes = np.array(STATE_CODES)[states]
        signed_up = purchased - hours(0.1, 2000)
        # lines
        order_of_line = np.repeat(np.arange(n), k)
        pids = np.array([p[0] for p in products])
        sellers = np.array([p[3] for p in products])
        w = _popularity(list(pids))
        drawn = rng.choice(len(pids), size=n_order_items, p=w / w.sum())
        starts = np.r_[0, np.cumsum(k)[:-1]]
        line_no = np.arange(n_order_items) - np.repeat(starts, k) + 1
        list_cents = np.round(np.array([float(p[1]) for p in products]) * 100)[drawn]
        price = np.round(
            list_cents * np.where(rng.random(n_order_items) < 0.2, rng.uniform(0.85, 1.0, n_order_items), 1.0)
        )
        grams = np.array([p[2] for p in products], dtype=float)[drawn]
        freight = np.round((900 + grams * 0.25) * rng.uniform(0.8, 1.9, n_order_items))
        totals = np.bincount(order_of_line, weights=price + freight, minlength=n).astype(np.int64)
        # payments: the main one, a voucher besides for 5%
        kinds = np.array([p[0] for p in ref.PAYMENT_TYPES])[
            rng.choice(len(ref.PAYMENT_TYPES), n, p=PAYMENT_P)
        ]
        parts = np.where(
            kinds == "credit_card", rng.choice(len(ref.INSTALLMENTS_P), n, p=ref.INSTALLMENTS_P) + 1, 1
        )
        voucher = np.where(rng.random(n) < 0.05, (totals * rng.uniform(0.05, 0.3, n)).astype(np.int64), 0)
        has_voucher = voucher > 0
        rows = {
            "customers": (
                [
                    "customer_id",
                    "customer_unique_id",
                    "customer_name",
                    "email",
                    "zip_code_prefix",
                    "city",
                    "state",
                    "created_at",
                    "updated_at",
                ],
                [
                    customer_ids,
                    np.array(_hex_ids(rng, n)),
                    names,
                    emails,
                    zips,
                    capital[states],
                    state_codes,
                    signed_up,
                    signed_up,
                ],
            ),
            "orders": (
                [
                    "order_id",
                    "customer_id",
                    "status",
                    "purchased_at",
                    "approved_at",
                    "shipped_at",
                    "delivered_at",
                    "canceled_at",
                    "estimated_delivery_date",
                    "updated_at",
                ],
                [
                    order_ids,
                    customer_ids,
                    np.where(canceled, "canceled", "delivered"),
                    purchased,
                    approved,
                    np.where(canceled, nat, shipped),
                    np.where(canceled, nat, delivered),
                    np.where(canceled, approved, nat),
                    estimate,
                    last_change,
                ],
            ),
            "order_items": (
                [
                    "order_id",
                    "order_item_id",
                    "product_id",
                    "seller_id",
                    "shipping_limit_at",
                    "price",
                    "freight_value",
                    "updated_at",
                ],
                [
                    order_ids[order_of_line],
                    line_no,
                    pids[drawn],
                    sellers[drawn],
                    (purchased + 6 * DAY_US * US)[order_of_line],
                    price / 100,
                    freight / 100,
                    purchased[order_of_line],
                ],
            ),
            "order_payments": (
                [
                    "order_id",
                    "payment_sequential",
                    "payment_type",
                    "payment_installments",
                    "payment_value",
                    "updated_at",
                ],
                [
                    np.r_[order_ids, order_ids[has_voucher]],
                    np.r_[np.ones(n, int), np.full(has_voucher.sum(), 2)],
                    np.r_[kinds, np.full(has_voucher.sum(), "voucher")],
                    np.r_[parts, np.ones(has_voucher.sum(), int)],
                    np.r_[(totals - voucher) / 100, voucher[has_voucher] / 100],
                    np.r_[purchased, purchased[has_voucher]],
                ],
            ),
        }
        counts = {}
        with self.conn.transaction(), _indexes_rebuilt(self.conn, list(rows)):
            for table, (columns, values) in rows.items():
                counts[table] = _copy_csv(self.conn, table, columns, values)
        return BulkReport(counts, time.perf_counter() - started)

    # ---------- what is in the database
    def fingerprint(self) -> dict[str, tuple[int, str]]:
        """(rows, md5 of every row in key order) per table of schema shop."""
        return fingerprint(self.conn)


@contextmanager
def _indexes_rebuilt(conn: psycopg.Connection[Any], tables: list[str]) -> Iterator[None]:
    """Drop the tables' primary keys and indexes, and build them again after the block (in the caller's
    transaction): a bulk load into tables keyed by random ids is several times faster than with the index
    maintained row by row."""
    constraints = conn.execute(
        "select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint "
        "where contype = 'p' and conrelid = any(%s::regclass[]) order by 1",
        ([f"{SCHEMA}.{t}" for t in tables],),
    ).fetchall()
    indexes = conn.execute(
        "select indexdef, schemaname || '.' || indexname from pg_indexes where schemaname = %s "
        "and tablename = any(%s) and indexname not in (select conname from pg_constraint) order by 2",
        (SCHEMA, tables),
    ).fetchall()
    for _definition, name in indexes:
        conn.execute(f"drop index {name}")
    for table, name, _definition in constraints:
        conn.execute(f"alter table {table} drop constraint {name}")
    yield
    for table, name, definition in constraints:
        conn.execute(f"alter table {table} add constraint {name} {definition}")
    for definition, _name in indexes:
        conn.execute(definition)


def _copy_csv(conn: psycopg.Connection[Any], table: str, columns: list[str], values: list[np.ndarray]) -> int:
    """COPY columns of equal length into shop.<table> as CSV (NaT and NaN as empty, i.e. NULL)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    arrays = []
    for v in values:
        v = np.asarray(v)
        if v.dtype.kind == "M":
            arrays.append(pa.array(v.astype("datetime64[us]"), mask=np.isnat(v)))
        else:
            arrays.append(pa.array(v))
    table_data = pa.Table.from_arrays(arrays, names=columns)
    n = table_data.num_rows
    sql = f"copy {SCHEMA}.{table} ({', '.join(columns)}) from stdin (format csv)"
    with conn.cursor().copy(sql) as copy:
        for batch in table_data.to_batches(max_chunksize=200_000):
            buf = io.BytesIO()
            pacsv.write_csv(batch, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
            copy.write(buf.getvalue())
    return n


def fingerprint(conn: psycopg.Connection[Any]) -> dict[str, tuple[int, str]]:
    """(rows, md5 of every row's text in key order) per table of schema shop: equal iff the data is equal."""
    result = {}
    for table, key in TABLES.items():
        order = ", ".join(key)
        n, digest = conn.execute(
            f"select count(*), coalesce(md5(string_agg(t::text, '|' order by {order})), '') "
            f"from {SCHEMA}.{table} t"
        ).fetchone() or (0, "")
        result[table] = (n, digest)
    return result
