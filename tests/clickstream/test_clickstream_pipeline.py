"""Clickstream end to end on Spark + Iceberg: land tiny batches, refresh the lookups, dbt build, check marts.

Steps share one lake and run in file order:
1. a human session and a bot session with the same events (and a crawler at human pace), a duplicate,
   a malformed event and a visitor without session id -> only the human in the marts, the bots in the bot
   mart with their rule, every landed event reconciled;
2. a late event of the human session and a replayed event -> only that session is recomputed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingestion.enrich import refresh_lookups
from lakehouse.platform.sql import SparkSQL
from tests.support import rawdata
from tests.support.warehouse import reset_lake, run_dbt

pytestmark = pytest.mark.integration

COLUMNS = [
    "event_id", "user_id", "session_id", "event_time", "page_url", "product_id", "event_type",
    "device_type", "ip_address", "user_agent", "referrer", "traffic_source",
]  # fmt: skip
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SHOP = "https://shop.example.com"
START = datetime(2024, 1, 3, 10, 0, tzinfo=UTC)
# twelve steps: browse two products, add one to the cart, check out, buy
STEPS = (
    [("view", "/", None)]
    + [("view", f"/product/P{1 + i % 2}", f"P{1 + i % 2}") for i in range(8)]
    + [
        ("add_to_cart", "/product/P1", "P1"),
        ("checkout", "/checkout", None),
        ("purchase", "/checkout/confirmation", None),
    ]
)
BUILD = ["build", "--select", "+path:models/marts/clickstream", "path:tests/dbt/clickstream",
         "--indirect-selection", "cautious", "--exclude-resource-type", "unit_test"]  # fmt: skip


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def session(prefix: str, user: str, session_id: str | None, agent: str, ip: str, gap: timedelta,
            start: datetime = START) -> list[dict[str, str | None]]:  # fmt: skip
    return [
        {
            "event_id": f"{prefix}-{n:02d}",
            "user_id": user,
            "session_id": session_id,
            "event_time": _iso(start + n * gap),
            "page_url": SHOP + path,
            "product_id": product,
            "event_type": event_type,
            "device_type": "desktop",
            "ip_address": ip,
            "user_agent": agent,
            "referrer": "https://www.google.com/",
            "traffic_source": "organic",
        }
        for n, (event_type, path, product) in enumerate(STEPS)
    ]


def land_events(spark: SparkSQL, batch_id: str, rows: list[dict[str, str | None]]) -> None:
    now = datetime.now(UTC)
    values = []
    for number, row in enumerate(rows, start=1):
        business = ", ".join(rawdata.text_literal(row.get(c)) for c in COLUMNS)
        values.append(
            f"({business}, null, '{batch_id}', 'clickstream/{batch_id}.jsonl', {number}, "
            f"timestamp '{now:%Y-%m-%d %H:%M:%S}')"
        )
    spark.execute(
        f"insert into raw.clickstream_events partition (ingest_date='{now:%Y-%m-%d}', batch_id='{batch_id}') "
        f"values {', '.join(values)}"
    )


HUMAN = session("h", "C1", "s-human", CHROME, "8.8.8.8", timedelta(seconds=20))
BOT = session("b", "anon-bot", "s-bot", CHROME, "8.8.4.4", timedelta(milliseconds=100))
CRAWLER = session("g", "anon-crawler", "s-crawler", GOOGLEBOT, "8.8.4.4", timedelta(seconds=20))
NO_SESSION = [  # two visits 31 minutes apart, no session id: two sessions by inactivity
    {**HUMAN[0], "event_id": "n-1", "user_id": "anon-n", "session_id": None},
    {**HUMAN[1], "event_id": "n-2", "user_id": "anon-n", "session_id": None,
     "event_time": _iso(START + timedelta(minutes=31))},
]  # fmt: skip
MALFORMED = [{**HUMAN[0], "event_id": "bad-1", "event_time": "yesterday-ish"}]
DUPLICATE = [dict(HUMAN[3])]


def q(spark: SparkSQL, sql: str) -> list[tuple]:
    return sorted(spark.query(sql), key=repr)


def audit(spark: SparkSQL) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in spark.query(
            "select batch_id, landed_events, fact_events, bot_events, quarantined_events, duplicate_events, "
            "unreconciled_events from marts.audit_clickstream_reconciliation"
        )
    }


@pytest.fixture(scope="module")
def lake_with_clicks(lake):
    with SparkSQL(lake) as spark:
        reset_lake(spark)
        spark.execute("drop database if exists enrich cascade")
        spark.execute(
            "create table raw.clickstream_events ("
            + ", ".join(f"{c} string" for c in COLUMNS)
            + ", _extra string, "
            + rawdata.LINEAGE
            + ", ingest_date string, batch_id string) using parquet partitioned by (ingest_date, batch_id)"
        )
        rawdata.land_master_data(spark)
        yield spark


def test_bots_go_to_the_bot_mart_humans_to_the_marts(lake_with_clicks):
    spark = lake_with_clicks
    land_events(spark, "cs-a", HUMAN + BOT + CRAWLER + NO_SESSION + MALFORMED + DUPLICATE)
    counts = refresh_lookups(spark)
    assert (counts.new_user_agents, counts.new_ip_addresses) == (2, 2)
    run_dbt(*BUILD)

    sessions = q(
        spark, "select session_id, events, is_converted, reached_cart, country_id from marts.fct_sessions"
    )
    assert sessions == [
        ("s-human", 12, True, True, "US"),
        (None, 1, False, False, "US"),
        (None, 1, False, False, "US"),
    ]
    bots = q(
        spark, "select session_id, bot_rule, bot_rules, count(*) from marts.mart_bot_events group by all"
    )
    assert bots == [
        ("s-bot", "too_fast", "too_fast,no_pauses", 12),
        ("s-crawler", "known_bot_agent", "known_bot_agent", 12),
    ]
    funnel = q(spark, "select sessions, cart_sessions, purchase_sessions from marts.mart_conversion_funnel")
    assert funnel == [(3, 1, 1)]
    fact = q(
        spark,
        "select count(*), count(distinct event_id), count(product_sk), count_if(customer_sk <> '-1') "
        "from marts.fct_events",
    )
    assert fact == [(14, 14, 10, 12)]
    assert q(spark, "select event_id, failure_reasons from marts.quarantine_clickstream_events") == [
        ("bad-1", '["unreadable_event_time"]')
    ]
    assert audit(spark) == {"cs-a": (40, 14, 24, 1, 1, 0)}
    devices = q(spark, "select device_type, browser_family, os_family, sessions from marts.mart_device_usage")
    assert devices == [("desktop", "Chrome", "Windows", 3)]
    assert q(spark, "select country_id, visitors from marts.mart_visitor_countries") == [("US", 2)]


def test_late_event_reopens_only_its_own_session(lake_with_clicks):
    spark = lake_with_clicks
    before = dict(
        spark.query("select session_key, _loaded_at from marts.fct_sessions where session_id is null")
    )
    late = {
        **HUMAN[0],
        "event_id": "h-late",
        "event_time": _iso(START - timedelta(minutes=5)),
        "page_url": SHOP + "/sale",
    }
    land_events(spark, "cs-b", [late, dict(HUMAN[5])])
    refresh_lookups(spark)
    run_dbt(*BUILD)

    human = q(
        spark,
        "select events, landing_page, session_start_ts from marts.fct_sessions where session_id = 's-human'",
    )
    assert human == [(13, "/sale", datetime(2024, 1, 3, 9, 55))]
    after = dict(
        spark.query("select session_key, _loaded_at from marts.fct_sessions where session_id is null")
    )
    assert after == before  # the other sessions were not rewritten
    assert audit(spark)["cs-b"] == (2, 1, 0, 0, 1, 0)
    sequences = q(
        spark, "select event_id, event_sequence from marts.fct_events where event_id in ('h-late', 'h-00')"
    )
    assert sequences == [("h-00", 2), ("h-late", 1)]
