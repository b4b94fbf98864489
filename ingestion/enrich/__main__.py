"""`python -m ingestion.enrich`: refresh the user-agent and IP-country lookups on the configured lake."""

from __future__ import annotations

import sys

from lakehouse.platform.errors import LakehouseError, setup_logging
from lakehouse.platform.settings import load_settings
from lakehouse.platform.sql import SparkSQL


def main() -> int:
    from ingestion.enrich.lookups import refresh_lookups

    settings = load_settings()
    setup_logging(settings.log_dir)
    try:
        with SparkSQL(settings) as spark:
            counts = refresh_lookups(spark)
    except LakehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"lookups: {counts.new_user_agents} new user agents, {counts.new_ip_addresses} new IP addresses")
    return 0


if __name__ == "__main__":
    sys.exit(main())
