"""Access logs end to end on Spark + Iceberg: generated log files with every kind of dirt (truncated lines,
other formats, invalid UTF-8, empty lines, a skewed clock, plain and gzip, numbered and dated rotation, a live
file without its last newline) plus the pattern samples, landed through the Lander, parsed by dbt; every line
accounted for, per batch, against counts the test reads from the files itself (tests/access_logs/oracle.py).

One build per module (a few thousand lines); the tests read it.
"""

from __future__ import annotations

import base64
import gzip
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from ingestion.generate.access_logs import LogConfig, LogDirt, generate_access_logs
from ingestion.generate.config import GeneratorConfig
from ingestion.land import Lander, LandReport
from ingestion.logs import log_inputs
from ingestion.rawzone import RawZone, default_raw_uri
from lakehouse import gold
from lakehouse.platform.sql import SparkSQL
from tests.access_logs.oracle import FileCount, count_file, file_lines
from tests.access_logs.samples import SAMPLES
from tests.support.warehouse import run_dbt

pytestmark = pytest.mark.integration

BUILD = ["build", "--select", "+path:models/marts/access_logs", "path:tests/dbt/access_logs",
         "--indirect-selection", "cautious", "--exclude-resource-type", "unit_test"]  # fmt: skip
SCHEMAS = ["raw", "enrich", "staging", "intermediate", "marts"]
GOLD = {
    "mart_site_traffic_per_minute": "site_traffic_per_minute",
    "mart_endpoint_latency": "endpoint_latency",
}
CONFIG = GeneratorConfig(seed=11, days=3, products=40, customers=60, sessions_per_day=25)
LOGS = LogConfig(
    dirt=LogDirt(truncated=0.02, other_format=0.02, invalid_utf8=0.02, empty=0.01),
    health_check_seconds=900,
    scanners_per_day=4,
    incident_minutes=240,  # long enough to catch requests of a small shop
)


def _drop_lake(spark: SparkSQL, zone: RawZone) -> None:
    """Drop the schemas the access-log build writes (as tests/support/reference.py does), then raw files."""
    for schema in SCHEMAS:
        spark.execute(f"drop database if exists {schema} cascade")
    shutil.rmtree(zone.root, ignore_errors=True)


def _land(spark: SparkSQL, zone: RawZone, paths: list[str]) -> LandReport:
    lander = Lander(spark, zone, ingest_date="2024-01-05", progress=False)
    return lander.land(log_inputs(paths, include_live=True))


class Built:
    def __init__(self, spark: SparkSQL, files: list[Path], report: LandReport, relanded: LandReport):
        self.spark, self.files, self.report, self.relanded = spark, files, report, relanded
        self.batch_of = {o.file.rsplit("/", 2)[-2] + "/" + o.file.rsplit("/", 1)[-1]: o.batch_id
                         for o in report.outcomes}  # fmt: skip
        self.expected: dict[str, FileCount] = {
            self.batch_of[f"{f.parent.name}/{f.name}"]: count_file(f) for f in files
        }


@pytest.fixture(scope="module")
def built(lake, tmp_path_factory) -> Built:
    root = tmp_path_factory.mktemp("access_logs")
    files = generate_access_logs(CONFIG, root / "logs", LOGS)
    samples = root / "logs" / "edge-1" / "access.log-20260302"  # the pattern samples, one file
    samples.parent.mkdir()
    samples.write_text("".join(line + "\n" for _name, line, _fmt, _fields in SAMPLES))
    files.append(samples)
    with SparkSQL(lake) as spark:
        zone = RawZone(default_raw_uri(lake))  # the lake's own raw zone: pytest's tmp folders come and go
        _drop_lake(spark, zone)
        report = _land(spark, zone, [str(root / "logs")])
        # logrotate compresses access.log.1 into access.log.2.gz: the same lines, already landed
        rotated = root / "rotated" / "web-1"
        rotated.mkdir(parents=True)
        one = root / "logs" / "web-1" / "access.log.1"
        (rotated / "access.log.2.gz").write_bytes(gzip.compress(one.read_bytes()))
        relanded = _land(spark, zone, [str(root / "logs"), str(rotated)])
        run_dbt(*BUILD)
        run_dbt(*BUILD)  # a second build with nothing new changes nothing
        models = [m for m in gold.gold_models(lake.dbt_target_path / "manifest.json") if m.name in GOLD]
        assert sorted(m.name for m in models) == sorted(GOLD)
        gold.export_gold(lake, models=models)
        target = lake.data_dir / "dbt" / "target-access-logs-test"
        run_dbt("build", "--target", "gold", "--target-path", str(target), "--select", *GOLD.values())
        yield Built(spark, files, report, relanded)


def test_every_file_lands_once_as_one_batch(built: Built) -> None:
    assert built.report.failed == []
    assert len(built.report.succeeded) == len(built.files)
    names = {f.name for f in built.files}
    assert {"access.log", "access.log.1", "access.log-20240103", "access.log.2.gz"} <= names
    assert any(n.endswith(".gz") and "-2024" in n for n in names)
    # landing the same folder again, and the rotated (compressed) copy of access.log.1: nothing new
    assert built.relanded.succeeded == [] and built.relanded.failed == []
    assert len(built.relanded.skipped) == len(built.files) + 1


def test_every_line_is_landed_unchanged_with_its_number(built: Built) -> None:
    rows = built.spark.query("select batch_id, _row_number, line, line_base64 from raw.access_logs")
    landed: dict[str, dict[int, bytes]] = {}
    for batch_id, number, line, encoded in rows:
        landed.setdefault(batch_id, {})[number] = (
            base64.b64decode(encoded) if encoded is not None else line.encode("utf-8")
        )
    invalid = 0
    for f in built.files:
        batch_id = built.batch_of[f"{f.parent.name}/{f.name}"]
        lines = file_lines(f)
        assert landed[batch_id] == dict(enumerate(lines, start=1)), f
        invalid += built.expected[batch_id].invalid_utf8
    assert invalid > 0
    assert built.spark.scalar("select count(*) from raw.access_logs where line_base64 is not null") == invalid


def test_every_line_is_a_request_or_quarantined_with_its_reason(built: Built) -> None:
    spark = built.spark
    audit = {
        r[0]: r[1:]
        for r in spark.query(
            "select batch_id, landed_lines, parsed_lines, quarantined_lines, unreconciled_lines "
            "from marts.audit_access_log_reconciliation"
        )
    }
    reasons: dict[str, Counter] = {}
    for batch_id, reason, n in spark.query(
        "select _batch_id, first_reason, count(*) from marts.quarantine_access_log_lines group by 1, 2"
    ):
        reasons.setdefault(batch_id, Counter())[reason] = n
    bytes_by_batch = dict(
        spark.query("select _batch_id, sum(response_bytes) from marts.fct_http_requests group by 1")
    )
    total = Counter()
    for batch_id, exp in built.expected.items():
        quarantined = sum(exp.reasons.values())
        assert audit[batch_id] == (exp.lines, exp.parsed, quarantined, 0), batch_id
        assert reasons.get(batch_id, Counter()) == exp.reasons, batch_id
        assert bytes_by_batch.get(batch_id, 0) == exp.bytes, batch_id
        total.update(exp.reasons)
    # every kind of dirt is there (and was found)
    assert {"truncated_or_malformed", "unrecognised_format", "empty_line"} <= set(total)
    assert spark.scalar("select count(*) from marts.fct_http_requests where is_invalid_utf8") > 0


def test_clock_skew_and_time_zones_are_read_as_logged(built: Built) -> None:
    """web-3 logs in +01:00: its times are converted to UTC; web-2's skew stays (the logs cannot tell it)."""
    spark = built.spark
    for f in built.files:
        if f.parent.name != "web-3" or f.name != "access.log":
            continue
        batch_id = built.batch_of[f"web-3/{f.name}"]
        first = built.expected[batch_id].parsed_rows[0]
        ts = spark.scalar(
            "select cast(request_ts as string) from marts.fct_http_requests "
            f"where _batch_id = '{batch_id}' and line_number = {first['line_number']}"
        )
        local = datetime.strptime(first["stamp"], "%d/%b/%Y:%H:%M:%S %z")
        assert first["stamp"].endswith("+0100")
        assert ts == local.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def test_samples_parse_in_spark_as_in_the_pattern_test(built: Built) -> None:
    """The pattern samples, parsed by Spark: the same format (or none) as Python's re found."""
    batch_id = built.batch_of["edge-1/access.log-20260302"]
    got = dict(
        built.spark.query(
            "select line_number, coalesce(log_format, 'none') from staging.stg_access_logs__lines "
            f"where _batch_id = '{batch_id}'"
        )
    )
    assert got == {i: fmt or "none" for i, (_n, _line, fmt, _f) in enumerate(SAMPLES, start=1)}
    agents = dict(
        built.spark.query(
            "select line_number, user_agent from staging.stg_access_logs__lines "
            f"where _batch_id = '{batch_id}' and log_format is not null"
        )
    )
    assert agents[2] == 'Mozilla/5.0 (compatible; "Nuclei" scan\\er)'
    assert agents[5] == 'Mozilla/5.0 "quoted"'
    ipv6 = built.spark.query(
        "select remote_addr, http_method, upstream_time_s from marts.fct_http_requests "
        f"where _batch_id = '{batch_id}' and line_number = 4"
    )
    assert ipv6 == [("2001:db8:85a3::8a2e:370:7334", "POST", 0.151)]
    by_line = {
        r[0]: r[1:]
        for r in built.spark.query(
            "select line_number, upstream_time_s, endpoint_group from marts.fct_http_requests "
            f"where _batch_id = '{batch_id}'"
        )
    }
    assert by_line[6][0] == pytest.approx(3.003)  # two upstreams: the sum
    assert by_line[7][1] == "bad_request"  # a TLS hello


def test_generated_traffic_has_what_only_logs_show(built: Built) -> None:
    spark = built.spark
    groups = dict(spark.query("select endpoint_group, count(*) from marts.fct_http_requests group by 1"))
    assert {"product_page", "static", "health_check", "probe", "api_cart"} <= set(groups)
    classes = dict(spark.query("select status_class, count(*) from marts.fct_http_requests group by 1"))
    assert {"2xx", "3xx", "4xx", "5xx"} <= set(classes)
    ipv6 = spark.scalar("select count(*) from marts.fct_http_requests where remote_addr like '%:%'")
    expected_ipv6 = sum(1 for exp in built.expected.values() for row in exp.parsed_rows if ":" in row["host"])
    assert ipv6 == expected_ipv6 > 0


def _gold(lake, sql: str) -> list[tuple]:
    with psycopg.connect(lake.gold_url) as conn:
        return conn.execute(sql).fetchall()


def _percentile(values: list[float], q: float) -> float:
    """Linear interpolation between the two nearest ranks (numpy's default, Spark's percentile)."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _utc_date(stamp: str) -> str:
    return datetime.strptime(stamp, "%d/%b/%Y:%H:%M:%S %z").astimezone(UTC).strftime("%Y-%m-%d")


def test_site_traffic_in_gold_adds_up_to_the_files(built: Built, lake) -> None:
    rows = [row for exp in built.expected.values() for row in exp.parsed_rows]
    ((requests, sent, errors, minutes),) = _gold(
        lake,
        "select sum(requests), sum(response_bytes), sum(server_errors), count(distinct request_minute) "
        "from gold.site_traffic_per_minute",
    )
    assert requests == len(rows)
    assert sent == sum(r["bytes"] for r in rows)
    assert errors == sum(1 for r in rows if r["status"] >= 500) > 0
    utc = {datetime.strptime(r["stamp"], "%d/%b/%Y:%H:%M:%S %z").astimezone(UTC) for r in rows}
    assert minutes == len({t.replace(second=0) for t in utc})
    # the incident: the minutes with server errors are those of the files' 5xx lines (all on the middle day,
    # plus the one 502 of the samples)
    failing = {
        datetime.strptime(r["stamp"], "%d/%b/%Y:%H:%M:%S %z").astimezone(UTC).replace(second=0)
        for r in rows
        if r["status"] >= 500
    }
    found = _gold(
        lake, "select distinct request_minute from gold.site_traffic_per_minute where server_errors > 0"
    )
    assert {m for (m,) in found} == failing
    assert {m.date().isoformat() for m in failing} == {"2024-01-02", "2026-03-01"}


def test_p95_of_product_pages_is_the_files_own(built: Built, lake) -> None:
    by_day: dict[str, list[float]] = {}
    for exp in built.expected.values():
        for row in exp.parsed_rows:
            parts = row["request"].split(" ")
            timed = row["request_time"] is not None
            if timed and len(parts) == 3 and parts[0].isalpha() and parts[1].startswith("/product/"):
                by_day.setdefault(_utc_date(row["stamp"]), []).append(row["request_time"])
    found = {
        str(day): (n, p50, p95, p99)
        for day, n, p50, p95, p99 in _gold(
            lake,
            "select request_date, timed_requests, request_time_p50_s, request_time_p95_s, request_time_p99_s "
            "from gold.endpoint_latency where endpoint_group = 'product_page'",
        )
    }
    assert set(found) == set(by_day)
    for day, times in by_day.items():
        n, p50, p95, p99 = found[day]
        assert n == len(times)
        assert p50 == pytest.approx(_percentile(times, 0.5), abs=1e-9)
        assert p95 == pytest.approx(_percentile(times, 0.95), abs=1e-9)
        assert p99 == pytest.approx(_percentile(times, 0.99), abs=1e-9)
