"""Anomaly alerts: after each detection run, the flags not alerted yet go out in ONE alert.

What "new" means: a flag of an anomaly mart (lakehouse/anomalies/registry.py: ``marts.anomalies``,
``marts.anomalies_country_revenue``, ``marts.anomalies_volume``) with no row in the lake table
``ops.anomaly_alerts`` (the alert log, Iceberg). The log is written after the alert went out, so a run
killed in between alerts again next time (at least once, never silently lost).

Where it goes: an HTML e-mail (ALERT_SMTP_* settings; STARTTLS when ALERT_SMTP_STARTTLS is true, login when
a user is set) and, in flows, a Prefect table artifact with the same rows. Without ALERT_SMTP_HOST the alert
is only logged and the run does not fail.
"""

from __future__ import annotations

import html
import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage

from lakehouse.anomalies.registry import ANOMALY_TYPES, BY_NAME
from lakehouse.platform.errors import LakehouseError, first_line
from lakehouse.platform.settings import Settings
from lakehouse.platform.sql import SparkSQL, literal

log = logging.getLogger(__name__)

ALERT_LOG = "ops.anomaly_alerts"


@dataclass
class Alert:
    """The new flags of one detection run, per anomaly type: rows of (anomaly_id, {heading: value})."""

    flags: dict[str, list[tuple[str, dict[str, object]]]] = field(default_factory=dict)
    delivered_to: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(rows) for rows in self.flags.values())

    def table(self) -> list[dict[str, str]]:
        """All flags as one list of records with formatted values (the Prefect table artifact)."""
        return [
            {"type": kind, "anomaly_id": aid, **{h: _fmt(v) for h, v in row.items()}}
            for kind, rows in self.flags.items()
            for aid, row in rows
        ]


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def ensure_alert_log(spark: SparkSQL) -> None:
    spark.execute("create database if not exists ops")
    spark.execute(
        f"create table if not exists {ALERT_LOG} (anomaly_id string, anomaly_type string, alert_id string, "
        "alerted_at timestamp, delivered_to string) using iceberg"
    )


def new_flags(spark: SparkSQL) -> Alert:
    """The flags no alert mentioned yet (all of them, most severe first; the e-mail lists ALERT_MAX_ROWS)."""
    ensure_alert_log(spark)
    alert = Alert()
    for kind in ANOMALY_TYPES:
        mart, columns = f"marts.{kind.mart}", kind.columns
        if not spark.table_exists(mart):
            continue
        cols = ", ".join(f"f.{c}" for c, _h in columns)
        rows = spark.query(
            f"select f.anomaly_id, {cols} from {mart} as f left anti join {ALERT_LOG} as a "
            "on f.anomaly_id = a.anomaly_id "
            f"order by f.{kind.severity} desc nulls last, f.anomaly_id"
        )
        if rows:
            alert.flags[kind.name] = [
                (r[0], dict(zip((h for _c, h in columns), r[1:], strict=True))) for r in rows
            ]
    return alert


def render_html(alert: Alert, max_rows: int) -> str:
    parts = [f"<h2>{alert.count} new anomal{'y' if alert.count == 1 else 'ies'}</h2>"]
    for kind, rows in alert.flags.items():
        headings = list(rows[0][1])
        parts.append(f"<h3>{html.escape(BY_NAME[kind].title)} ({len(rows)})</h3>")
        parts.append('<table border="1" cellpadding="4" cellspacing="0"><tr><th>anomaly id</th>')
        parts += [f"<th>{html.escape(h)}</th>" for h in headings]
        parts.append("</tr>")
        for aid, row in rows[:max_rows]:
            cells = "".join(f"<td>{html.escape(_fmt(row[h]))}</td>" for h in headings)
            parts.append(f"<tr><td>{html.escape(aid)}</td>{cells}</tr>")
        parts.append("</table>")
        if len(rows) > max_rows:
            parts.append(f"<p>and {len(rows) - max_rows} more: see gold.{BY_NAME[kind].gold_view}.</p>")
    parts.append("<p>Review them in the gold schema (gold.anomaly_reviews: NEW, REVIEWED, RESOLVED).</p>")
    return "\n".join(parts)


def render_text(alert: Alert, max_rows: int) -> str:
    lines = [f"{alert.count} new anomalies"]
    for kind, rows in alert.flags.items():
        lines.append(f"\n{BY_NAME[kind].title} ({len(rows)}):")
        lines += [
            f"  {aid}  " + ", ".join(f"{h} {_fmt(v)}" for h, v in row.items()) for aid, row in rows[:max_rows]
        ]
    return "\n".join(lines)


def send_email(settings: Settings, alert: Alert) -> list[str]:
    """Send the alert by SMTP; returns the recipients, or [] when no SMTP host is configured."""
    host = settings.get("ALERT_SMTP_HOST")
    recipients = [r.strip() for r in settings.get("ALERT_SMTP_RECIPIENTS").split(",") if r.strip()]
    if not host or not recipients:
        log.warning(
            "anomaly alert not mailed (set ALERT_SMTP_HOST and ALERT_SMTP_RECIPIENTS): %d new anomalies",
            alert.count,
        )
        return []
    max_rows = settings.typed.ALERT_MAX_ROWS
    msg = EmailMessage()
    msg["Subject"] = f"[lakehouse] {alert.count} new anomal{'y' if alert.count == 1 else 'ies'}"
    msg["From"] = settings.get("ALERT_SMTP_SENDER")
    msg["To"] = ", ".join(recipients)
    msg.set_content(render_text(alert, max_rows))
    msg.add_alternative(render_html(alert, max_rows), subtype="html")
    port = settings.typed.ALERT_SMTP_PORT
    try:
        with smtplib.SMTP(host, port, timeout=30) as smtp:
            if settings.typed.ALERT_SMTP_STARTTLS:
                smtp.starttls(context=ssl.create_default_context())
            if settings.get("ALERT_SMTP_USER"):
                smtp.login(settings.get("ALERT_SMTP_USER"), settings.get("ALERT_SMTP_PASSWORD"))
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("anomaly alert not sent", exc_info=True)
        raise LakehouseError(f"Anomaly alert not sent via {host}:{port}: {first_line(str(exc))}") from exc
    log.info("anomaly alert (%d flags) sent to %s", alert.count, ", ".join(recipients))
    return recipients


def record(spark: SparkSQL, alert: Alert, delivered_to: list[str]) -> None:
    """Log the flags as alerted (one INSERT per chunk, each one Iceberg commit)."""
    alert_id, now, to = uuid.uuid4().hex, datetime.now(UTC), ", ".join(delivered_to) or "log"
    values = [
        f"({literal(aid, 'string')}, {literal(kind, 'string')}, {literal(alert_id, 'string')}, "
        f"{literal(now, 'timestamp')}, {literal(to, 'string')})"
        for kind, rows in alert.flags.items()
        for aid, _row in rows
    ]
    for i in range(0, len(values), 500):
        spark.execute(f"insert into {ALERT_LOG} values {', '.join(values[i : i + 500])}")


def alert_new_anomalies(settings: Settings) -> Alert:
    """Find the new flags, mail them (or log them), and record them as alerted."""
    with SparkSQL(settings) as spark:
        alert = new_flags(spark)
        if not alert.count:
            log.info("no new anomalies")
            return alert
        alert.delivered_to = send_email(settings, alert)
        record(spark, alert, alert.delivered_to)
    return alert
