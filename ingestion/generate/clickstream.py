"""Clickstream sessions of one day as JSON-ready dicts: funnels of humans, bursts of bots.

Human sessions browse (view), some add to cart, a few remove, some check out and purchase, with
seconds to minutes between events. Bot sessions (share ``bot_sessions``) have crawler or script user
agents, hundreds of milliseconds between events, many views, and never buy.

Learnable structure (stream ``ML``, the other draws stay as they were): a leaving customer's sessions
thin out before its leave day and stop on it (they go to other customers), and a logged-in visitor views
products of its buy-together group with share ``GROUP_SHARE``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np

from ingestion.generate import reference as ref
from ingestion.generate.world import CLICKS, GROUP_SHARE, ML, World, pick, rng

EVENT_TYPES = ("view", "add_to_cart", "remove_from_cart", "checkout", "purchase")


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _ip(r: np.random.Generator, bot: bool) -> str:
    if bot:  # data-centre ranges
        first = int(r.choice([34, 35, 52, 66, 157]))
    else:
        first = int(r.choice([31, 51, 62, 81, 86, 90, 109, 176, 212]))
    a, b, c = r.integers(0, 256, size=3)
    return f"{first}.{a}.{b}.{max(1, c)}"


def sessions(world: World, d: int) -> list[dict[str, str | None]]:
    """The events of every session started on day ``d``, in session order."""
    cfg = world.config
    r = rng(cfg.seed, CLICKS, d)
    day_start = datetime(*world.day(d).timetuple()[:3], tzinfo=UTC).timestamp()
    hour_p = np.array(ref.HOUR_WEIGHTS) / np.sum(ref.HOUR_WEIGHTS)
    catalogue = world.products_on(d)
    customers = world.customers_on(d)
    r_ml = rng(cfg.seed, ML, CLICKS, d)
    activity = world.activity(d)
    active = customers[activity[customers] > 0]
    groups = world.group_products(catalogue)
    events: list[dict[str, str | None]] = []
    ref_p = np.array([x[2] for x in ref.REFERRERS])
    ref_p = ref_p / ref_p.sum()
    for _ in range(cfg.sessions_per_day):
        bot = bool(r.random() < cfg.dirt.bot_sessions)
        customer, logged_in = -1, False
        session_id = str(uuid.UUID(bytes=r.bytes(16), version=4))
        t = day_start + float(r.choice(24, p=hour_p)) * 3600 + float(r.random()) * 3600
        if bot:
            device, agent = "desktop", str(r.choice(ref.BOT_USER_AGENTS))
            user = f"anon-{r.bytes(6).hex()}"
            referrer, source = "", "direct"
        else:
            device = str(r.choice(ref.DEVICES, p=ref.DEVICE_WEIGHTS))
            agent = str(r.choice(ref.USER_AGENTS[device]))
            logged_in = bool(r.random() < 0.6 and len(customers))
            if logged_in:
                customer = int(r.choice(customers))
                if r_ml.random() >= activity[customer] and len(active):  # leaving: someone else visits
                    customer = int(pick(r_ml, active, activity, 1)[0])
                user = str(world.customer_ids[customer])
            else:
                user = f"anon-{r.bytes(6).hex()}"
            referrer, source, _w = ref.REFERRERS[int(r.choice(len(ref.REFERRERS), p=ref_p))]
        ip = _ip(r, bot)
        common = {
            "user_id": user,
            "session_id": session_id,
            "device_type": device,
            "ip_address": ip,
            "user_agent": agent,
            "referrer": referrer,
            "traffic_source": source,
        }
        steps: list[tuple[str, str, str | None]] = []  # event_type, page_url, product_id
        if bot:
            for code in world.stock_codes[r.choice(catalogue, size=int(r.integers(30, 200)))]:
                steps.append(("view", f"{ref.SHOP_URL}/product/{code}", str(code)))
        else:
            steps.append(("view", f"{ref.SHOP_URL}/", None))
            cart: list[str] = []
            viewed = r.choice(catalogue, size=int(r.geometric(0.3)))
            own = groups.get(int(world.customer_group[customer])) if logged_in else None
            if own is not None:
                mine = np.flatnonzero(r_ml.random(len(viewed)) < GROUP_SHARE)
                viewed[mine] = pick(r_ml, own, world.product_weight, len(mine))
            for code in world.stock_codes[viewed]:
                code = str(code)
                steps.append(("view", f"{ref.SHOP_URL}/product/{code}", code))
                if r.random() < 0.25:
                    steps.append(("add_to_cart", f"{ref.SHOP_URL}/product/{code}", code))
                    cart.append(code)
            for code in list(cart):
                if r.random() < 0.15:
                    steps.append(("remove_from_cart", f"{ref.SHOP_URL}/cart", code))
                    cart.remove(code)
            if cart and r.random() < 0.6:
                steps.append(("checkout", f"{ref.SHOP_URL}/checkout", None))
                if r.random() < 0.75:
                    steps.append(("purchase", f"{ref.SHOP_URL}/checkout/confirmation", None))
        gaps = r.uniform(0.05, 0.5, size=len(steps)) if bot else r.lognormal(3.0, 0.9, size=len(steps))
        for (event_type, url, product), gap in zip(steps, gaps, strict=True):
            events.append(
                {
                    "event_id": str(uuid.UUID(bytes=r.bytes(16), version=4)),
                    **common,
                    "event_time": _iso(t),
                    "page_url": url,
                    "product_id": product,
                    "event_type": event_type,
                }
            )
            t += float(gap)
    return events
