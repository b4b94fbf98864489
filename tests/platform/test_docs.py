"""Documentation cannot drift: the README's configuration table is the one the code prints, and `make docs`
builds one lineage graph across the lake and gold that a browser opens."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lakehouse.cli import main
from lakehouse.platform.settings import REPO_ROOT


def test_readme_configuration_table_matches_the_code():
    table = CliRunner().invoke(main, ["config"]).output.strip()
    assert table.startswith("| variable |")
    assert table in (REPO_ROOT / "README.md").read_text()


def test_readme_shows_the_two_commands():
    readme = (REPO_ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme


@pytest.mark.integration
def test_make_docs_site_shows_one_lineage_from_raw_to_the_dashboards(lake):
    """`make docs` (`python -m lakehouse docs`) builds the static site; its graph runs from the dashboard's
    exposure through the gold view and the lake mart it copies to the raw source; a real browser opens it."""
    from playwright.sync_api import sync_playwright

    from tests.support.browser import ensure_chromium

    res = subprocess.run(
        [sys.executable, "-m", "lakehouse", "docs"], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=900,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    site = Path(res.stdout.strip().splitlines()[-1].removeprefix("docs: "))
    assert site.name == "static_index.html" and site.exists()
    assert site.parent != lake.dbt_target_path  # the pipeline's manifest (what a transform builds) untouched

    manifest = json.loads((site.parent / "manifest.json").read_text())

    def parents(uid: str) -> list[str]:
        node = manifest["exposures"].get(uid) or manifest["nodes"].get(uid) or manifest["sources"][uid]
        return node.get("depends_on", {}).get("nodes", [])

    def ancestors(uid: str) -> set[str]:
        seen, todo = set(), [uid]
        while todo:
            for parent in parents(todo.pop()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    exposure = "exposure.ecommerce_lakehouse.sales_by_region_dashboard"
    view = "model.ecommerce_lakehouse.sales_by_region"
    assert view in parents(exposure)
    assert parents(view) == ["model.ecommerce_lakehouse.mart_revenue_by_geography"]
    assert {"source.ecommerce_lakehouse.raw.order_lines", "model.ecommerce_lakehouse.fct_order_lines",
            "snapshot.ecommerce_lakehouse.snap_products"} <= ancestors(exposure)  # fmt: skip

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(ensure_chromium()),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            page = browser.new_page()
            page.goto(f"{site.as_uri()}#!/exposure/{exposure}", timeout=60_000)
            page.wait_for_selector("text=Sales by region exposure", timeout=60_000)
            depends_on = page.inner_text("body").rpartition("Depends On")[2].split()
            assert {"sales_by_region", "order_lines", "countries"} <= set(depends_on), depends_on
            page.goto(f"{site.as_uri()}#!/model/{view}", timeout=60_000)
            page.wait_for_selector("text=mart_revenue_by_geography", timeout=60_000)
        finally:
            browser.close()
