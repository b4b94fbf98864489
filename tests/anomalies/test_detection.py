"""Anomaly detection end to end on Spark + Iceberg, then the review loop through gold and the e-mail alert.

The steps share one lake and run in file order: detect -> re-detect (idempotent) -> alert (real SMTP server)
-> a later window, reviews made in gold by the BI role, copied back -> the baselines learn from RESOLVED.
The volume monitor shares them: order-line batches landed through the ingestion API before the first
detection, one of them a tenth of the usual size and one 12.5 times it.
"""

from __future__ import annotations

import csv
import email
import json
import math
import statistics
import subprocess
import sys
from datetime import date, timedelta
from email.message import Message
from pathlib import Path

import psycopg
import pytest
import yaml

from ingestion.inputs import file_inputs
from ingestion.land import land_inputs
from lakehouse import gold
from lakehouse.anomalies import alerts, reviews
from lakehouse.anomalies.registry import ANOMALY_TYPES
from lakehouse.platform.settings import REPO_ROOT, load_settings
from tests.support.anomaly_fact import DETECTION_END, add_lines, detect, line, training_stats
from tests.support.ports import free_port

pytestmark = pytest.mark.integration

SPIKE_DAY = date(2024, 2, 26)
LATER_END = DETECTION_END + timedelta(days=7)  # the spikes' days are now in the training window
ANOMALY_MARTS = ("anomalies", "anomalies_country_revenue", "anomalies_volume", "anomaly_product_baselines")
# the volume monitor's batches: order lines of 10:00 on successive days, rows per day; the 7th a tenth of
# the usual size, the 9th 12.5 times it; the others normal (the 6th is the first with 5 earlier batches)
VOLUME_HOUR = 10
VOLUME_ROWS = (200, 204, 196, 210, 190, 200, 20, 198, 2500)
VOLUME_FIRST_DAY = date(2024, 2, 1)


def spike(product: str, day: date = SPIKE_DAY) -> dict:
    """A line 10 standard deviations above the product's mean, in a country without a revenue baseline."""
    mean, sd = training_stats(product)
    return line(f"SPIKE-{product}", product, day, math.ceil(mean + 10 * sd), country="DE")


def rows(spark, sql: str) -> list[tuple]:
    return [tuple(r) for r in spark.query(sql)]


def flags(spark) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in rows(
            spark, "select anomaly_id, status, review_note, detected_at, z_score from marts.anomalies"
        )
    }


def baseline(spark, product: str) -> tuple:
    return rows(
        spark,
        "select is_scored, not_scored_reason, observation_count, mean_quantity, stddev_quantity "
        f"from marts.anomaly_product_baselines where stock_code = '{product}'",
    )[0]


def write_volume_batches(folder: Path) -> list[Path]:
    """One order-line file per day of VOLUME_ROWS, named as the generator names an hour's batch."""
    folder.mkdir(parents=True)
    paths = []
    for d, n in enumerate(VOLUME_ROWS):
        day = VOLUME_FIRST_DAY + timedelta(days=d)
        path = folder / f"order_lines_{day.isoformat()}T{VOLUME_HOUR:02d}.csv"
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["invoice_no", "stock_code", "quantity", "invoice_date"])
            writer.writerows(
                [f"V{d}-{i}", "P1", 1, f"{day.isoformat()} {VOLUME_HOUR:02d}:00:00"] for i in range(n)
            )
        paths.append(path)
    return paths


def data_rows(path: Path) -> int:
    with path.open(newline="") as fh:
        return sum(1 for _row in csv.DictReader(fh))


@pytest.fixture(scope="module")
def volume_batches(anomaly_lake, lake, tmp_path_factory) -> list[Path]:
    """The volume monitor's batches, landed into raw through the ingestion API (their own raw zone)."""
    tmp = tmp_path_factory.mktemp("volume")
    paths = write_volume_batches(tmp / "order_lines")
    report = land_inputs(
        lake, file_inputs([str(tmp / "order_lines")]), raw_uri=str(tmp / "raw"), progress=False
    )
    assert sorted(o.batch_id for o in report.succeeded) == [p.stem for p in paths]
    return paths


@pytest.fixture(scope="module")
def detected(anomaly_lake, volume_batches):
    spark = anomaly_lake
    add_lines(spark, [spike("P1"), spike("P2"), spike("P3")])
    add_lines(
        spark, [line("FEW-BIG", "PFEW", SPIKE_DAY, 500, "DE"), line("FLAT-BIG", "PFLAT", SPIKE_DAY, 50, "DE")]
    )
    # a day of unusual volume in FR: 30 more lines of ordinary quantity (no quantity anomaly among them)
    volume_day = SPIKE_DAY + timedelta(days=1)
    add_lines(spark, [line(f"FR-VOL-{i:03d}", "P4", volume_day, 20, "FR", hour=12) for i in range(30)])
    detect()
    return spark


def test_lines_ten_sigma_above_are_flagged_and_normal_ones_are_not(detected):
    found = flags(detected)
    assert set(found) == {"SPIKE-P1", "SPIKE-P2", "SPIKE-P3"}
    for status, note, _detected_at, z_score in found.values():
        assert status == "NEW" and note is None
        assert z_score >= 9.9
    # every other line of the detection window (ordinary quantities, the volume day's lines) was scored
    scored = rows(detected, "select stock_code, detection_line_count from marts.anomaly_product_baselines "
                            "where is_scored order by stock_code")  # fmt: skip
    assert [s for s, _n in scored] == ["P1", "P2", "P3", "P4", "P5"]
    assert dict(scored)["P4"] == 14 + 30


def test_products_that_cannot_be_scored_are_reported(detected):
    few = baseline(detected, "PFEW")
    flat = baseline(detected, "PFLAT")
    assert few[:3] == (False, "too_few_observations", 5)
    assert flat[:3] == (False, "zero_stddev", 30) and flat[4] == 0
    # their huge lines are not flagged (no baseline to judge them by), and nothing was divided by zero
    assert not {"FEW-BIG", "FLAT-BIG"} & set(flags(detected))
    assert baseline(detected, "P1")[:3] == (True, None, 2 * 53)


def test_volume_detector_flags_the_country_day(detected):
    found = rows(detected, "select country_id, invoice_date, status from marts.anomalies_country_revenue")
    assert found == [("FR", "2024-02-27", "NEW")]  # dates come back as text over Thrift
    de = rows(detected, "select is_scored, not_scored_reason from marts.anomaly_country_revenue_baselines "
                        "where country_id = 'DE'")  # fmt: skip
    assert de == [(False, "too_few_observations")]


def volume_flags(spark) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in rows(
            spark,
            "select batch_id, source, hour_of_day, hour_basis, volume_change, rows, median_rows, "
            "observation_count, threshold_rows, status, detected_at from marts.anomalies_volume",
        )
    }


def test_volume_monitor_flags_the_tenth_size_batch_and_the_spike_only(detected, volume_batches):
    counts = [data_rows(p) for p in volume_batches]  # rows of each day's file, from the files written
    small = min(range(len(counts)), key=counts.__getitem__)
    big = max(range(len(counts)), key=counts.__getitem__)
    config = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["vars"]
    window = config["volume_baseline_batches"]

    def previous(i: int) -> list[int]:  # the batches the median of batch i is taken over
        return counts[max(0, i - window) : i]

    usual = statistics.median(previous(small))
    assert counts[small] == usual / 10  # the scenario: a tenth of the usual size
    found = volume_flags(detected)
    assert set(found) == {volume_batches[small].stem, volume_batches[big].stem}  # normal batches: no flag

    source, hour, basis, change, landed, median, before, threshold, status, _at = found[
        volume_batches[small].stem
    ]
    assert (source, hour, basis, change, status) == ("order_lines", VOLUME_HOUR, "file_name", "drop", "NEW")
    assert (landed, median, before) == (counts[small], usual, len(previous(small)))
    assert threshold == pytest.approx(usual * config["volume_drop_ratio"])

    _s, _h, _b, change, landed, median, before, threshold, _st, _at = found[volume_batches[big].stem]
    usual = statistics.median(previous(big))  # the drop before it included: nothing was under review yet
    assert (change, landed, median, before) == ("spike", counts[big], usual, len(previous(big)))
    assert threshold == pytest.approx(usual * config["volume_spike_ratio"])


def test_redetection_neither_duplicates_nor_changes_flags(detected):
    before = flags(detected)
    volume_before = volume_flags(detected)
    detect()
    after = flags(detected)
    assert after == before
    total, distinct = rows(detected, "select count(*), count(distinct anomaly_id) from marts.anomalies")[0]
    assert total == distinct == 3
    # the flagged batches are left out of the baselines now (NEW): the normal ones stay unflagged
    assert volume_flags(detected) == volume_before


# ---------------------------------------------------------------------------------------------- alerts


class Inbox:
    def __init__(self):
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def _html(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no HTML part in the alert")


def test_alert_mails_the_new_flags_and_only_those(detected, smtp, lake):
    controller, inbox = smtp
    settings = load_settings({
        "ALERT_SMTP_HOST": "127.0.0.1", "ALERT_SMTP_PORT": str(controller.port),
        "ALERT_SMTP_STARTTLS": "false", "ALERT_SMTP_SENDER": "lake@example.com",
        "ALERT_SMTP_RECIPIENTS": "fraud@example.com, ops@example.com",
    })  # fmt: skip
    first = alerts.alert_new_anomalies(settings)
    assert first.count == 6 and len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "fraud@example.com, ops@example.com" and "6 new anomalies" in message["Subject"]
    body = _html(message)
    assert all(f"INV-SPIKE-{p}" in body for p in ("P1", "P2", "P3")) and "FR" in body
    # the volume flags in their own section, the larger deviation first (the spike, 12.5 times the median)
    assert [aid for aid, _row in first.flags["volume"]] == [
        r[0]
        for r in rows(
            detected, "select anomaly_id from marts.anomalies_volume order by deviation_factor desc"
        )
    ]
    assert {row["batch"] for _aid, row in first.flags["volume"]} == set(volume_flags(detected))
    assert all(batch in body for batch in volume_flags(detected))
    assert "INV-FEW-BIG" not in body

    # nothing new: no mail
    assert alerts.alert_new_anomalies(settings).count == 0 and len(inbox.messages) == 1

    # a new spike: the next alert holds it and nothing alerted before
    add_lines(detected, [spike("P5", SPIKE_DAY + timedelta(days=2))])
    detect()
    second = alerts.alert_new_anomalies(settings)
    assert second.count == 1 and len(inbox.messages) == 2
    body = _html(inbox.messages[1])
    assert "INV-SPIKE-P5" in body and "INV-SPIKE-P1" not in body and "INV-SPIKE-P2" not in body


def test_alert_without_smtp_is_logged_and_does_not_fail(detected, lake, caplog):
    add_lines(detected, [spike("P4", SPIKE_DAY + timedelta(days=3))])
    detect()
    settings = load_settings({"ALERT_SMTP_HOST": ""})
    with caplog.at_level("WARNING", logger="lakehouse.anomalies.alerts"):
        alert = alerts.alert_new_anomalies(settings)
    assert alert.count == 1 and alert.delivered_to == []
    assert "not mailed" in caplog.text
    # logged as alerted: not repeated
    assert alerts.alert_new_anomalies(settings).count == 0


# ------------------------------------------------------------------------------------ the review loop


@pytest.fixture(scope="module")
def in_gold(detected, lake):
    """The anomaly marts exported to gold, their review rows published, the BI views built by dbt-postgres."""
    with psycopg.connect(lake.gold_url, autocommit=True) as conn:
        for table in ("anomaly_reviews", "anomaly_review_history"):
            conn.execute(f"drop table if exists gold.{table} cascade")
    detect(LATER_END)
    models = [m for m in gold.gold_models(lake.dbt_target_path / "manifest.json") if m.name in ANOMALY_MARTS]
    assert sorted(m.name for m in models) == sorted(ANOMALY_MARTS)
    gold.export_gold(lake, models=models)
    # every anomaly mart in gold, also those other tests exported
    with psycopg.connect(lake.gold_url) as conn:
        marts = [t.mart for t in ANOMALY_TYPES]
        present = [r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'gold_marts' "
            "and table_name = any(%s)", (marts,))]  # fmt: skip
        exported = sum(conn.execute(f"select count(*) from gold_marts.{m}").fetchone()[0] for m in present)
    assert reviews.publish_anomalies(lake) == exported > 0  # every flag is open for review, once
    assert reviews.publish_anomalies(lake) == 0
    proc = subprocess.run(
        [sys.executable, "-m", "lakehouse", "dbt", "build", "--target", "gold", "--target-path",
         str(lake.data_dir / "dbt" / "target-anomaly-test"), "--select",
         "order_line_anomalies", "country_revenue_anomalies", "volume_anomalies", "anomaly_trend",
         "product_quantity_baselines"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    return detected


def test_volume_flags_reach_gold_for_review(in_gold, lake):
    expected = {
        (batch, change, landed) for batch, (_s, _h, _b, change, landed, *_r) in volume_flags(in_gold).items()
    }
    with psycopg.connect(gold.role_url(lake, gold.READER)) as bi:
        found = bi.execute(
            "select batch_id, volume_change, rows_landed, review_status from gold.volume_anomalies"
        ).fetchall()
        types = bi.execute(
            "select count(*) from gold.anomaly_reviews "
            "where anomaly_type = 'volume' and review_status = 'NEW'"
        ).fetchone()[0]
    assert {r[:3] for r in found} == expected and {r[3] for r in found} == {"NEW"}
    assert types == len(expected) == 2


def test_flags_under_review_stay_out_of_the_baseline(in_gold):
    # the spike days are in the training window now; all flags are NEW, so the spikes are left out
    assert baseline(in_gold, "P1")[:3] == (True, None, 2 * 60)
    assert baseline(in_gold, "P2")[2] == 2 * 60


def test_reviews_made_in_gold_reach_the_lake_and_resolved_flags_widen_the_baseline(in_gold, lake):
    before_p1 = baseline(in_gold, "P1")
    before_flags = flags(in_gold)
    with psycopg.connect(gold.role_url(lake, gold.READER), autocommit=True) as bi:
        bi.execute(
            "update gold.anomaly_reviews set review_status = 'RESOLVED', review_note = 'trade fair order' "
            "where anomaly_id = 'SPIKE-P1'"
        )
        bi.execute("update gold.anomaly_reviews set review_status = 'REVIEWED' where anomaly_id = 'SPIKE-P2'")
        live = dict(bi.execute("select anomaly_id, review_status from gold.order_line_anomalies").fetchall())
        history = bi.execute(
            "select anomaly_id, from_status, to_status, changed_by "
            "from gold.anomaly_review_history order by anomaly_id"
        ).fetchall()
    assert live["SPIKE-P1"] == "RESOLVED" and live["SPIKE-P3"] == "NEW"  # BI sees its review at once
    assert history == [
        ("SPIKE-P1", "NEW", "RESOLVED", gold.READER),
        ("SPIKE-P2", "NEW", "REVIEWED", gold.READER),
    ]
    assert reviews.pull_reviews(lake) == 2
    assert reviews.pull_reviews(lake) == 0  # copied once

    detect(LATER_END)
    after = flags(in_gold)
    assert after["SPIKE-P1"][:2] == ("RESOLVED", "trade fair order")
    assert after["SPIKE-P2"][:2] == ("REVIEWED", None)
    assert after["SPIKE-P3"][0] == "NEW"
    assert all(after[k][2] == before_flags[k][2] for k in before_flags)  # detected_at kept

    # the RESOLVED spike is a normal observation now: one more, a higher mean and spread; P2 stays out
    p1 = baseline(in_gold, "P1")
    assert p1[2] == before_p1[2] + 1 and p1[3] > before_p1[3] and p1[4] > before_p1[4]
    assert baseline(in_gold, "P2")[2] == 2 * 60

    # detection again: statuses are never reset
    detect(LATER_END)
    assert {k: v[0] for k, v in flags(in_gold).items()} == {k: v[0] for k, v in after.items()}


def test_anomaly_marts_reach_the_dashboard_in_the_docs_lineage(in_gold, lake):
    manifest = json.loads((lake.data_dir / "dbt" / "target-anomaly-test" / "manifest.json").read_text())
    exposure = manifest["exposures"]["exposure.ecommerce_lakehouse.anomaly_trend_dashboard"]
    parents = set(exposure["depends_on"]["nodes"])
    assert "model.ecommerce_lakehouse.anomaly_trend" in parents
    assert "model.ecommerce_lakehouse.order_line_anomalies" in parents
    view = manifest["nodes"]["model.ecommerce_lakehouse.order_line_anomalies"]
    assert "source.ecommerce_lakehouse.gold_marts.anomalies" in view["depends_on"]["nodes"]


def test_alert_table_is_plain_text_for_the_prefect_artifact():
    from datetime import datetime

    alert = alerts.Alert(
        {"order_line_quantity": [("a1", {"invoice time": datetime(2024, 2, 26, 10), "z": 12.5})]}
    )
    assert alert.table() == [
        {"type": "order_line_quantity", "anomaly_id": "a1", "invoice time": "2024-02-26 10:00", "z": "12.50"}
    ]
    json.dumps(alert.table())  # what create_table_artifact does with it
