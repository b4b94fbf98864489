"""The dashboards of the bundle in a real browser: the charts a dashboard places, Superset started for a
module, and the check every dashboard test makes (each chart rendered, none failed, none empty that must
not be)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from lakehouse.dashboard import BUNDLE_DIR, DASHBOARD_SLUG, Superset
from lakehouse.platform.settings import Settings, load_settings
from tests.support.browser import DashboardCheck, check_dashboard
from tests.support.ports import free_port


def charts_of(slug: str) -> set[str]:
    """The names of the charts placed on a dashboard of the bundle."""
    for path in (BUNDLE_DIR / "dashboards").glob("*.yaml"):
        dashboard = yaml.safe_load(path.read_text())
        if dashboard["slug"] == slug:
            return {
                v["meta"]["sliceName"]
                for v in dashboard["position"].values()
                if isinstance(v, dict) and v.get("type") == "CHART"
            }
    raise LookupError(slug)


@contextmanager
def running_superset(settings: Settings) -> Iterator[Superset]:
    """Superset on a free port (or LAKEHOUSE_TEST_SUPERSET_PORT, for sessions side by side) over the gold of
    ``settings``, set up and started by the real module; stopped on leaving."""
    port = os.environ.get("LAKEHOUSE_TEST_SUPERSET_PORT") or str(free_port())
    server = Superset(load_settings({**settings.values, "SUPERSET_PORT": port}))
    server.up(echo=lambda _msg: None)
    try:
        yield server
    finally:
        server.down(echo=lambda _msg: None)


def check(server: Superset, screenshot: Path | None = None, slug: str = DASHBOARD_SLUG) -> DashboardCheck:
    return check_dashboard(
        server.url,
        server.dashboard_url_of(slug).removeprefix(server.url),
        server.admin_user,
        server.admin_password(),
        expected_charts=len(charts_of(slug)),
        screenshot=screenshot,
    )


def assert_all_rendered(result: DashboardCheck, charts: set[str], never_empty: set[str]) -> None:
    assert set(result.charts) == charts, f"charts on the page: {sorted(result.charts)}"
    assert not result.unfinished, f"charts still loading after {result.seconds:.0f} s: {result.unfinished}"
    assert not result.errors, "charts in an error state:\n" + "\n".join(
        f"- {name}: {error}" for name, error in result.errors.items()
    )
    empty = sorted(name for name, chart in result.charts.items() if chart.state == "empty")
    assert not set(empty) & never_empty, f"charts without data: {empty}"
