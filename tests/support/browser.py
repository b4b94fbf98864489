"""A real browser on the dashboard: Debian's chromium driven by Playwright (no browser download).

:func:`check_dashboard` logs in, opens the dashboard, waits until every chart has finished (rendered, empty or
failed) and reports each chart's state by its name, with the error Superset shows for a failed one, the text
it shows (for big numbers), and a screenshot of the whole page.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# what a chart's body holds once it has drawn something (ECharts canvas, SVG, a table, a big number's text)
DRAWN = "canvas, svg, table, .header-line, .big-number"


def ensure_chromium() -> Path:
    """Debian's chromium, installed with apt-get when missing (CI runs as root on Debian)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(
            f"{CHROMIUM} is missing and this user cannot apt-get install it: run "
            "`sudo apt-get install chromium` (Debian/Ubuntu) first."
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
        if res.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {(res.stderr or res.stdout)[-2000:]}")
    return CHROMIUM


@dataclass
class ChartState:
    name: str
    state: str  # rendered | empty | error | loading
    text: str = ""
    error: str = ""


@dataclass
class DashboardCheck:
    charts: dict[str, ChartState] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def errors(self) -> dict[str, str]:
        return {c.name: c.error for c in self.charts.values() if c.state == "error"}

    @property
    def unfinished(self) -> list[str]:
        return [c.name for c in self.charts.values() if c.state == "loading"]


_STATE_JS = f"""
() => Array.from(document.querySelectorAll('.chart-slice[data-test-chart-name]')).map((el) => {{
  const body = el.querySelector('.dashboard-chart') || el;
  const alert = body.querySelector('[role="alert"], .ant-alert-error');
  let state = 'loading';
  if (alert) state = 'error';
  else if (body.querySelector('[data-test="loading-indicator"]')) state = 'loading';
  else if (body.querySelector('[data-test="empty-state"]')) state = 'empty';
  else if (body.querySelector('{DRAWN}') || body.innerText.trim()) state = 'rendered';
  return {{name: el.getAttribute('data-test-chart-name'), state: state,
           text: body.innerText.trim(), error: alert ? alert.innerText.trim() : ''}};
}})
"""


def check_dashboard(
    base_url: str,
    dashboard_path: str,
    username: str,
    password: str,
    expected_charts: int,
    screenshot: Path | None = None,
    timeout: float = 120,
) -> DashboardCheck:
    from playwright.sync_api import sync_playwright

    chromium = ensure_chromium()
    started = time.monotonic()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(chromium),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2200})
            page.goto(f"{base_url}/login/", timeout=60_000)
            page.fill("input#username, input[name=username]", username)
            page.fill("input#password, input[name=password]", password)
            page.keyboard.press("Enter")
            page.wait_for_url(lambda url: "/login" not in url, timeout=60_000)
            page.goto(f"{base_url}{dashboard_path}?standalone=1", timeout=60_000)
            page.wait_for_selector(".chart-slice[data-test-chart-name]", timeout=60_000)
            deadline = time.monotonic() + timeout
            while True:
                states = [ChartState(**s) for s in page.evaluate(_STATE_JS)]
                done = len(states) >= expected_charts and all(s.state != "loading" for s in states)
                if done or time.monotonic() > deadline:
                    break
                time.sleep(1)
            if done:
                page.wait_for_timeout(1500)  # let the last animations end before the screenshot
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return DashboardCheck({s.name: s for s in states}, time.monotonic() - started)
