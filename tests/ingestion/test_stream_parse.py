"""Kafka message values -> the raw contract, without services: the vectorised path, the careful path for
poison and odd messages, the lineage of a stream batch, the client settings passed through."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ingestion.conform import Lineage
from ingestion.contract import SOURCES
from ingestion.stream import (
    PartitionBuffer,
    batch_id,
    conform_stream_chunk,
    parse_messages,
)
from lakehouse.platform.settings import Settings
from lakehouse.services.kafka import bootstrap_servers, client_conf

EVENTS = SOURCES["clickstream_events"]
LINES = SOURCES["order_lines"]


def _event(n: int, **extra: object) -> bytes:
    row = {"event_id": f"e-{n}", "session_id": "s-1", "event_time": "2024-01-01T10:00:00.000Z",
           "event_type": "view", "page_url": "https://shop.example.com/", **extra}  # fmt: skip
    return json.dumps(row).encode()


def _rows(values: list[bytes | None], source=EVENTS, first: int = 0) -> list[dict]:
    offsets = list(range(first, first + len(values)))
    chunk = parse_messages(values, offsets, source)
    lineage = Lineage("b", f"kafka://t/0/{first}-{offsets[-1]}", datetime(2024, 1, 1, tzinfo=UTC))
    return conform_stream_chunk(chunk, source, lineage, 1, first_offset=first).to_pylist()


def test_clean_messages_are_read_as_strings_with_offsets_as_row_numbers():
    rows = _rows([_event(1), _event(2)], first=40)
    assert [r["event_id"] for r in rows] == ["e-1", "e-2"]
    assert [r["_row_number"] for r in rows] == [1, 2]
    assert all(r["_extra"] is None and r["user_id"] is None for r in rows)  # absent field: null
    assert rows[0]["_source_file"] == "kafka://t/0/40-41"


def test_poison_messages_land_with_their_payload_and_do_not_disturb_the_others():
    values = [_event(1), b"not json {", None, b'"a json string"', b"\xff\xfe{", _event(2)]
    rows = _rows(values)
    assert [r["event_id"] for r in rows] == ["e-1", None, None, None, None, "e-2"]
    extras = [json.loads(r["_extra"]) if r["_extra"] else None for r in rows]
    assert extras == [
        None,
        {"_kafka_value": "not json {"},
        {"_kafka_value": None},  # a tombstone (null value)
        {"_kafka_value": '"a json string"'},
        {"_kafka_value": "\\xff\\xfe{"},  # undecodable bytes kept, escaped
        None,
    ]
    assert [r["_row_number"] for r in rows] == [1, 2, 3, 4, 5, 6]


def test_numbers_keep_their_text_unknown_fields_go_to_extra_names_match_like_files():
    values = [
        b'{"invoice_no": "536365", "Stock Code": "85123A", "quantity": 6, "unit_price": 2.50,'
        b' "invoice_date": "2024-01-01 08:26:00", "promo_code": "X1", "gift": true, "tags": ["a"]}',
        b'{\n  "invoice_no": "536366",\n  "stock_code": "71053",\n  "quantity": "-1"\n}',  # pretty-printed
    ]
    rows = _rows(values, LINES)
    assert [(r["invoice_no"], r["stock_code"], r["quantity"], r["unit_price"]) for r in rows] == [
        ("536365", "85123A", "6", "2.50"),
        ("536366", "71053", "-1", None),
    ]
    assert json.loads(rows[0]["_extra"]) == {"promo_code": "X1", "gift": "true", "tags": '["a"]'}
    assert rows[1]["_extra"] is None


def test_batch_identity_is_topic_partition_and_first_offset():
    buf = PartitionBuffer("clickstream-events", 1, "clickstream_events", [7, 8, 9], [_event(1), None, b"x"])
    assert buf.batch_id == batch_id("clickstream_events", "clickstream-events", 1, 7)
    assert buf.batch_id == "clickstream_events__clickstream-events__p1__o000000000007"
    assert buf.file == "kafka://clickstream-events/1/7-9"
    same = PartitionBuffer("clickstream-events", 1, "clickstream_events", [7, 8, 9], [_event(1), None, b"x"])
    longer = PartitionBuffer("clickstream-events", 1, "clickstream_events", [7, 8], [_event(1), None])
    assert buf.checksum() == same.checksum() != longer.checksum()
    item = buf.to_input()
    assert (item.batch_id, item.file, item.checksum) == (buf.batch_id, buf.file, buf.checksum())


def test_client_settings_pass_security_through_and_let_client_conf_override():
    s = Settings({})
    assert bootstrap_servers(s) == "127.0.0.1:19092"  # the embedded broker (never started implicitly)
    s = Settings({
        "KAFKA_BOOTSTRAP_SERVERS": "k1:9093,k2:9093", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": "lake", "KAFKA_SASL_PASSWORD": "pw",
        "KAFKA_CLIENT_CONF": "ssl.ca.location=/etc/ca.pem; session.timeout.ms=10000",
    })  # fmt: skip
    conf = client_conf(s, **{"group.id": "g", "session.timeout.ms": 6000})
    assert conf == {
        "bootstrap.servers": "k1:9093,k2:9093", "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "lake", "sasl.password": "pw",
        "group.id": "g", "session.timeout.ms": "10000", "ssl.ca.location": "/etc/ca.pem",
    }  # fmt: skip
