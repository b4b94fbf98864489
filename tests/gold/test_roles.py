"""gold_reader may read gold and set an anomaly's review status, nothing else; gold-url gives its URL."""

from __future__ import annotations

import psycopg
import pytest
from click.testing import CliRunner

from lakehouse import gold
from lakehouse.cli import main

pytestmark = pytest.mark.integration

WRITES = [
    "create table gold.mine (x int)",
    "create table public.mine (x int)",
    "create temp table mine (x int)",
    "create schema mine",
    "create view gold.mine as select 1 as x",
    "insert into gold.anomaly_reviews (anomaly_id, anomaly_type, detected_at) values ('b', 't', now())",
    "delete from gold.anomaly_reviews",
    "truncate gold.anomaly_reviews",
    "delete from gold.anomaly_review_history",
    "insert into gold.anomaly_review_history (anomaly_id, anomaly_type, to_status, changed_by, changed_at) "
    "values ('a1', 't', 'NEW', 'me', now())",
    "update gold.anomaly_reviews set anomaly_type = 'other'",
    "alter table gold.anomaly_reviews add column y int",
    "drop table gold.anomaly_reviews",
    "insert into gold.things values ('x')",
    "delete from gold.things",
    "drop view gold.things",
    "create or replace view gold.things as select 'y'::text as thing_id",
    "select * from gold_marts._export_state",
    "insert into gold_marts._export_state (table_name, mode, lake_relation, rows) values ('x', 'x', 'x', 0)",
    "create table gold_marts.mine (x int)",
    "alter view gold.things rename to mine",
    "create function gold.f() returns int language sql as 'select 1'",
]


@pytest.fixture
def review_row(writer):
    writer.execute("create table if not exists gold_marts.things_src (thing_id text)")
    writer.execute("create or replace view gold.things as select thing_id from gold_marts.things_src")
    writer.execute(
        "insert into gold.anomaly_reviews (anomaly_id, anomaly_type, detected_at) "
        "values ('a1', 'price_spike', now()) on conflict do nothing"
    )


@pytest.mark.parametrize("statement", WRITES)
def test_reader_is_refused_every_write(review_row, reader, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        reader.execute(statement)


def test_reader_reads_gold_and_sets_a_review_status_only(review_row, reader, writer):
    assert reader.execute("select count(*) from gold.things").fetchone() == (0,)
    reader.execute("update gold.anomaly_reviews set review_status = 'RESOLVED', review_note = 'ok'")
    row = writer.execute(
        "select review_status, review_note, reviewed_by, reviewed_at is not null from gold.anomaly_reviews"
    ).fetchone()
    assert row == ("RESOLVED", "ok", gold.READER, True)
    trail = reader.execute(
        "select from_status, to_status, note, changed_by from gold.anomaly_review_history "
        "where anomaly_id = 'a1'"
    ).fetchall()
    assert ("NEW", "RESOLVED", "ok", gold.READER) in trail
    with pytest.raises(psycopg.errors.CheckViolation):
        reader.execute("update gold.anomaly_reviews set review_status = 'whatever'")


def test_gold_url_prints_the_reader_by_default_in_make(fresh_gold):
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "ROLE ?= reader" in makefile and "gold-url --role $(ROLE)" in makefile
    url = CliRunner().invoke(main, ["gold-url", "--role", "reader"]).output.strip()
    assert url.startswith("postgresql://gold_reader:")
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_user").fetchone() == ("gold_reader",)
    # the embedded server listens on 127.0.0.1 only
    with psycopg.connect(fresh_gold.gold_url) as conn:
        assert conn.execute("show listen_addresses").fetchone() == ("127.0.0.1",)
