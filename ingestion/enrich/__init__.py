"""Lookups that SQL on Spark cannot compute: user agents parsed with ua-parser, IP addresses to countries.

The models join two small Iceberg tables, ``enrich.user_agents`` and ``enrich.ip_countries``. After
clickstream batches land and before dbt runs, :func:`refresh_lookups` reads the distinct agents and IPs of
``raw.clickstream_events`` that the tables do not hold yet (over the Thrift server), resolves them here and
appends them. Values seen before are never parsed again.
"""

from ingestion.enrich.ipcountry import country_of
from ingestion.enrich.lookups import LookupCounts, ensure_lookup_tables, refresh_lookups
from ingestion.enrich.useragents import UserAgentInfo, parse_user_agent

__all__ = [
    "LookupCounts",
    "UserAgentInfo",
    "country_of",
    "ensure_lookup_tables",
    "parse_user_agent",
    "refresh_lookups",
]
